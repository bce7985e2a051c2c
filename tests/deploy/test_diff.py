"""`irctl diff` in a real git repository: the Markdown a reviewer reads on the pull request."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import PROD

IRCTL = str(Path(sys.executable).parent / "irctl")

SWAP_AND_TIER_3_AT_20 = """\
## What this change does to `prod`

### On-call rotations (next 8 weeks)

{rotation}

| From (Europe/Berlin) | Until | On call before | On call after |
|---|---|---|---|
| Tue 2026-12-01 00:00 | Mon 2026-12-07 09:00 | Sam Okafor | Alex Rivera |
| Mon 2026-12-07 09:00 | Mon 2026-12-21 09:00 | Alex Rivera | Sam Okafor |
| Mon 2026-12-21 09:00 | Mon 2027-01-04 09:00 | Sam Okafor | Alex Rivera |
| Mon 2027-01-04 09:00 | Mon 2027-01-18 09:00 | Alex Rivera | Sam Okafor |
| Mon 2027-01-18 09:00 | Tue 2027-01-26 00:00 | Sam Okafor | Alex Rivera |

People affected: Alex Rivera, Sam Okafor.

### Escalation

**Platform escalation** (`platform`):

| Tier | Who | Paged after (before) | Paged after (after) |
|---|---|---|---|
| 3 | Morgan Chen | 30m | 20m |

Tier 3 (Morgan Chen) is paged 10m earlier: 20m after an incident is triggered instead of 30m.
""".format(
    rotation="**Platform primary** (`platform-primary`): Rotation order: Alex Rivera, Sam Okafor "
    "→ Sam Okafor, Alex Rivera."
)


def git(repo: Path, *args: str) -> None:
    subprocess.run(
        ["git", "-c", "user.email=ci@example.com", "-c", "user.name=ci", *args],
        cwd=repo,
        check=True,
        capture_output=True,
    )


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    """A repository whose last commit holds today's prod config."""
    git(tmp_path, "init", "-q")
    (tmp_path / "prod.yaml").write_text(PROD.read_text())
    git(tmp_path, "add", "prod.yaml")
    git(tmp_path, "commit", "-qm", "base")
    return tmp_path


def diff(repo: Path, *extra: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [IRCTL, "diff", "--config", str(repo / "prod.yaml"), "--base", "HEAD", *extra],
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_swapping_two_people_and_moving_tier_3_to_20_minutes(repo: Path) -> None:
    config = repo / "prod.yaml"
    text = config.read_text()
    swapped = text.replace(
        "participants: [alex-rivera, sam-okafor]", "participants: [sam-okafor, alex-rivera]"
    ).replace(
        "      - after: 30m\n        targets: [{person: morgan-chen}]",
        "      - after: 20m\n        targets: [{person: morgan-chen}]",
    )
    assert swapped.count("sam-okafor, alex-rivera") == 1 and "after: 20m" in swapped
    config.write_text(swapped)
    result = diff(repo, "--from", "2026-12-01")
    assert result.returncode == 0, result.stderr
    assert result.stdout == SWAP_AND_TIER_3_AT_20


def test_nothing_is_printed_when_nothing_changes(repo: Path) -> None:
    config = repo / "prod.yaml"
    config.write_text(config.read_text().replace("# Modulo's", "# A comment only. Modulo's"))
    result = diff(repo, "--from", "2026-12-01")
    assert (result.returncode, result.stdout) == (0, "")


def test_services_receivers_and_status_page_components(repo: Path) -> None:
    config = repo / "prod.yaml"
    text = config.read_text()
    text = text.replace(
        "    status_page_component: payments\n", "    status_page_component: database\n"
    )
    start = text.index("        - id: payments\n")
    text = text[:start] + text[text.index("        - id: database\n") :]
    start = text.index("  - id: page-test")
    end = text.index("  - id: ", start + 1)  # the page-test service's block only
    text = text[:start] + text[end:]
    config.write_text(text.replace("test_services: [page-test]", "test_services: []"))
    result = diff(repo, "--from", "2026-12-01")
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert "- Removed **Paging self-test** (`page-test`): it no longer pages anyone." in out
    assert "- **Payments** (`payments`): status page component payments → database." in out
    assert "| `page-test` | critical | pagerduty-page-test | — |" in out
    assert "- Removed **Payments** (`payments`) from Platform." in out
    assert "### On-call rotations" not in out


def test_an_unknown_base_is_a_clear_error(repo: Path) -> None:
    result = subprocess.run(
        [IRCTL, "diff", "--config", str(repo / "prod.yaml"), "--base", "no-such-branch"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 2
    assert "'no-such-branch' is not a commit, branch or tag" in " ".join(result.stderr.split())
