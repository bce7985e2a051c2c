"""`irctl diff` tells reviewers about time off and overrides in words, and what they change."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from tests.conftest import PROD
from tests.deploy.test_diff import git

IRCTL = str(Path(sys.executable).parent / "irctl")

EXPECTED = """\
## What this change does to `prod`

### On-call rotations (next 8 weeks)

**Platform primary** (`platform-primary`): Overrides change who is on call (see Time off and \
overrides).

| From (Europe/Berlin) | Until | On call before | On call after |
|---|---|---|---|
| Tue 2026-12-08 00:00 | Fri 2026-12-11 00:00 | Alex Rivera | Sam Okafor |

People affected: Alex Rivera, Sam Okafor.

### Time off and overrides

- Time off added: Alex Rivera is away from Tue 2026-12-08 00:00 to Fri 2026-12-11 00:00 \
(Europe/Berlin): Conference.
- Override added: Sam Okafor covers **Platform primary** from Tue 2026-12-08 00:00 to Fri \
2026-12-11 00:00 (Europe/Berlin): Sam covers Alex.
"""

ADDED = """
time_off:
  - {person: alex-rivera, from: 2026-12-08, to: 2026-12-11, note: Conference}
overrides:
  - {schedule: platform-primary, person: sam-okafor, from: 2026-12-08, to: 2026-12-11,
     note: Sam covers Alex}
"""


def diff(repo: Path) -> str:
    result = subprocess.run(
        [IRCTL, "diff", "--config", str(repo / "prod.yaml"), "--base", "HEAD",
         "--from", "2026-12-01"],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    return result.stdout


def test_time_off_and_override_are_described_and_removal_too(tmp_path: Path) -> None:
    git(tmp_path, "init", "-q")
    (tmp_path / "prod.yaml").write_text(PROD.read_text())
    git(tmp_path, "add", "prod.yaml")
    git(tmp_path, "commit", "-qm", "base")
    (tmp_path / "prod.yaml").write_text(PROD.read_text() + ADDED)

    assert diff(tmp_path) == EXPECTED

    git(tmp_path, "commit", "-qam", "time off")
    (tmp_path / "prod.yaml").write_text(PROD.read_text())
    removed = diff(tmp_path)
    assert "- Time off removed: Alex Rivera is away from Tue 2026-12-08 00:00" in removed
    assert "- Override removed: Sam Okafor covers **Platform primary**" in removed
    assert "| Tue 2026-12-08 00:00 | Fri 2026-12-11 00:00 | Sam Okafor | Alex Rivera |" in removed
