"""Coverage by tier over a year: follow-the-sun passes, holes, double booking and time off fail.

Every expected minute below is worked out by hand from the org in the test (times in UTC
unless marked; Europe/Berlin is UTC+1 in winter).
"""

from __future__ import annotations

import copy
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from oncall.coverage import coverage
from orgconfig.load import load_config
from tests.conftest import PROD, ROOT

START = datetime(2026, 11, 30, tzinfo=UTC)
REGION_PEOPLE = {
    "APAC": ["mei-tan", "arjun-rao"],
    "EMEA": ["alex-rivera", "sam-okafor"],
    "AMER": ["ana-diaz", "joe-park"],
}


def run_coverage(*args: str, start: str = "2026-11-30") -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "irctl", "oncall", "coverage", "--start", start, *args],
        capture_output=True,
        text=True,
        cwd=ROOT,
        check=False,
        env={"COLUMNS": "200", "PATH": "/usr/bin:/bin"},
    )


def follow_the_sun(prod: dict[str, Any], amer_end: str = "00:00") -> dict[str, Any]:
    """The example org with a three-region follow-the-sun primary: 8-hour regional shifts
    in UTC (APAC 00-08, EMEA 08-16, AMER 16-24), people keeping a region for a week."""
    data = copy.deepcopy(prod)
    for person in ("mei-tan", "arjun-rao", "ana-diaz", "joe-park"):
        first, last = person.split("-")
        data["people"].append(
            {
                "id": person,
                "name": f"{first.title()} {last.title()}",
                "email": f"{person.replace('-', '.')}@modulo.example.com",
                "role": "SRE",
            }
        )
    hours = {"APAC": ("00:00", "08:00"), "EMEA": ("08:00", "16:00"), "AMER": ("16:00", amer_end)}
    data["schedules"][0] = {
        "id": "platform-primary",
        "name": "Platform primary (follow the sun)",
        "team": "platform",
        "time_zone": "UTC",
        "follow_the_sun": {
            "first_handoff": "2026-11-30",
            "turn": "1w",
            "regions": [
                {"name": name, "participants": people, "start_time": lo, "end_time": hi}
                for (name, people), (lo, hi) in zip(
                    REGION_PEOPLE.items(), hours.values(), strict=True
                )
            ],
        },
    }
    return data


def test_prod_is_covered_for_a_year() -> None:
    reports = coverage(load_config(PROD), START)
    assert [r.problems for r in reports] == [[]]
    tier1 = reports[0].tiers[0]
    assert {s.person_id for s in tier1.shifts} == {"alex-rivera", "sam-okafor"}
    assert tier1.shifts[-1].end == datetime(2027, 12, 1, tzinfo=UTC)  # 366 days


def test_three_region_follow_the_sun_passes_coverage_and_validate(
    prod_data, write_config, tmp_path: Path
) -> None:
    config = write_config(follow_the_sun(prod_data))
    result = run_coverage("--config", str(config))
    assert result.returncode == 0, result.stderr
    assert "coverage OK: every minute of the next 12 months reaches tier 1" in result.stdout
    validate = subprocess.run(
        [sys.executable, "-m", "irctl", "validate", "--config", str(config), "-o", str(tmp_path)],
        capture_output=True,
        text=True,
        cwd=ROOT,
        check=False,
    )
    assert validate.returncode == 0, validate.stdout + validate.stderr
    assert "on-call coverage" in validate.stdout


def test_three_regional_schedules_in_one_tier_are_judged_together(prod_data) -> None:
    data = follow_the_sun(prod_data)
    template = data["schedules"][0]["follow_the_sun"]
    data["schedules"][0:1] = [
        {
            "id": f"platform-{region['name'].lower()}",
            "name": f"Platform {region['name']}",
            "time_zone": "UTC",
            "rotation": {
                "participants": region["participants"],
                "turn": "1w",
                "first_handoff": "2026-11-30",
                "handoff_time": region["start_time"],
            },
            "restrictions": [
                {"type": "daily", "start_time": region["start_time"], "duration": "8h"}
            ],
        }
        for region in template["regions"]
    ]
    data["escalation_policies"][0]["tiers"][0]["targets"] = [
        {"schedule": "platform-apac"},
        {"schedule": "platform-emea"},
        {"schedule": "platform-amer"},
    ]
    from orgconfig.model import OrgConfig

    org = OrgConfig.model_validate(data)
    assert [r.problems for r in coverage(org, START)] == [[]]


def test_regional_shift_an_hour_short_fails_naming_the_hour(prod_data, write_config) -> None:
    result = run_coverage("--config", str(write_config(follow_the_sun(prod_data, "23:00"))))
    assert result.returncode == 1
    message = " ".join(result.stderr.split())
    assert (
        "policy platform: tier 1 reaches nobody Tue 2026-12-01 00:00 to 01:00 Europe/Berlin "
        "(Mon 2026-11-30 23:00 to Tue 2026-12-01 00:00 UTC, 1h); Wed 2026-12-02 00:00 to 01:00"
    ) in message
    assert "and 363 more" in message  # 366 nightly holes in the 366-day window


def test_local_hours_drift_apart_when_only_one_region_changes_clocks(prod_data) -> None:
    """Singapore 08-16 (00-08 UTC), London 08-16, New York 11-19 local: in winter they meet;
    from New York's change on 14 March the Americas end at 23:00 UTC and nobody covers until
    Singapore starts at 00:00 UTC."""
    data = follow_the_sun(prod_data)
    zones = {
        "APAC": ("Asia/Singapore", "08:00"),
        "EMEA": ("Europe/London", "08:00"),
        "AMER": ("America/New_York", "11:00"),
    }
    data["schedules"][0:1] = [
        {
            "id": f"platform-{name.lower()}",
            "name": name,
            "time_zone": zone,
            "rotation": {
                "participants": REGION_PEOPLE[name],
                "turn": "1w",
                "first_handoff": "2027-01-04",
                "handoff_time": opens,
            },
            "restrictions": [{"type": "daily", "start_time": opens, "duration": "8h"}],
        }
        for name, (zone, opens) in zones.items()
    ]
    data["escalation_policies"][0]["tiers"][0]["targets"] = [
        {"schedule": f"platform-{n.lower()}"} for n in zones
    ]
    from orgconfig.model import OrgConfig

    (report,) = coverage(OrgConfig.model_validate(data), datetime(2027, 1, 4, 1, tzinfo=UTC))
    assert report.problems[0].startswith(
        "policy platform: tier 1 reaches nobody Mon 2027-03-15 00:00 to 01:00 Europe/Berlin "
        "(Sun 2027-03-14 23:00 to Mon 2027-03-15 00:00 UTC, 1h)"
    )


def test_time_off_without_override_fails_and_the_override_fixes_it(prod_data, write_config) -> None:
    # Alex has the primary turn 7-21 Dec 2026 (two-week turns from 5 Jan 2026).
    prod_data["time_off"] = [
        {"person": "alex-rivera", "from": "2026-12-08", "to": "2026-12-11", "note": "Conference"}
    ]
    result = run_coverage("--config", str(write_config(prod_data)))
    assert result.returncode == 1
    message = " ".join(result.stderr.split())
    assert (
        "alex-rivera is on time off but on call for schedule platform-primary Tue 2026-12-08 "
        "00:00 to Fri 2026-12-11 00:00 Europe/Berlin (Mon 2026-12-07 23:00 to Thu 2026-12-10 "
        "23:00 UTC, 3d): add an override"
    ) in message
    assert "tier 1 reaches nobody Tue 2026-12-08 00:00 to Fri 2026-12-11 00:00" in message

    prod_data["overrides"] = [
        {
            "schedule": "platform-primary",
            "person": "sam-okafor",
            "from": "2026-12-08",
            "to": "2026-12-11",
            "note": "Sam covers Alex's conference",
        }
    ]
    result = run_coverage("--config", str(write_config(prod_data)))
    assert result.returncode == 0, result.stderr


def test_same_person_in_two_tiers_fails(prod_data, write_config) -> None:
    prod_data["escalation_policies"][0]["tiers"][2]["targets"] = [{"person": "jordan-lee"}]
    result = run_coverage("--config", str(write_config(prod_data)), "--weeks", "1")
    assert result.returncode == 1
    assert "jordan-lee is in tier 2 and tier 3 at the same time" in " ".join(result.stderr.split())


def test_direct_target_on_time_off_fails_and_later_tier_holes_only_warn(
    prod_data, write_config
) -> None:
    prod_data["time_off"] = [{"person": "casey-novak", "from": "2026-12-24", "to": "2026-12-27"}]
    prod_data["schedules"][1]["restrictions"] = [
        {"type": "weekly", "start_day": "mon", "start_time": "09:00", "duration": "5d"}
    ]
    result = run_coverage("--config", str(write_config(prod_data)), "--weeks", "5")
    assert result.returncode == 1
    message = " ".join(result.stderr.split())
    assert "policy platform, tier 4 pages casey-novak directly, who is on time off" in message
    assert (
        "warning: policy platform: tier 2 reaches nobody Mon 2026-11-30 01:00 to 09:00 "
        "Europe/Berlin (Mon 2026-11-30 00:00 to 08:00 UTC, 8h); Sat 2026-12-05 09:00 to Mon "
        "2026-12-07 09:00 Europe/Berlin"
    ) in message
