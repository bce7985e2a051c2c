"""`irctl oncall coverage`: passes on prod, fails naming the gap on a planted one."""

from __future__ import annotations

import subprocess
import sys
from datetime import UTC, datetime

from oncall.coverage import coverage
from orgconfig.load import load_config
from tests.conftest import PROD, ROOT

START = datetime(2026, 11, 30, tzinfo=UTC)


def run_coverage(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "irctl", "oncall", "coverage", "--start", "2026-11-30", *args],
        capture_output=True,
        text=True,
        cwd=ROOT,
        check=False,
        env={"COLUMNS": "200", "PATH": "/usr/bin:/bin"},
    )


def test_prod_is_covered() -> None:
    reports = coverage(load_config(PROD), START, weeks=12)
    assert [r.problems for r in reports] == [[]]
    tier1 = reports[0].tiers[0]
    assert {s.person_id for s in tier1.shifts} == {"alex-rivera", "sam-okafor"}


def test_cli_passes_on_prod_and_prints_the_table() -> None:
    result = run_coverage("--weeks", "4")
    assert result.returncode == 0, result.stderr
    assert "coverage OK" in result.stdout
    assert "Alex Rivera (DevOps Team Lead)" in result.stdout
    assert "Sam Okafor (Senior SRE)" in result.stdout


def test_planted_gap_in_primary_fails_naming_it(prod_data, write_config) -> None:
    prod_data["schedules"][0]["restrictions"] = [
        {"type": "weekly", "start_day": "mon", "start_time": "09:00", "duration": "5d"}
    ]
    result = run_coverage("--config", str(write_config(prod_data)), "--weeks", "2")
    assert result.returncode == 1
    message = " ".join(result.stderr.split())
    assert "policy platform: tier 1 reaches nobody" in message
    # Friday 09:00 + 5 days closes Saturday 09:00 Berlin; Monday 09:00 Berlin reopens.
    assert "Sat 2026-12-05 08:00 to Mon 2026-12-07 08:00 UTC (2d)" in message
    assert "schedule platform-primary has gaps" in result.stderr


def test_same_person_in_two_tiers_fails(prod_data, write_config) -> None:
    prod_data["escalation_policies"][0]["tiers"][2]["targets"] = [{"person": "jordan-lee"}]
    result = run_coverage("--config", str(write_config(prod_data)), "--weeks", "1")
    assert result.returncode == 1
    assert "jordan-lee is in tier 2 and tier 3 at the same time" in " ".join(result.stderr.split())
