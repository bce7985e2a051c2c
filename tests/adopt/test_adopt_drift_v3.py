"""Drift after adoption: the schedules `pulumi up` created are shift-based (v3). `irctl drift`
compares their events and overrides with Git, so a member added in PagerDuty or an override
made through the API at 3 a.m. shows up in words with exit 3."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml

from oncall.desired import schedule_spec
from orgconfig.load import load_config
from sandbox.pagerduty import FakePagerDutyServer
from sandbox.pagerduty_account import account_from_data
from tests.adopt.conftest import TOKEN, override_year, run_drift, seeded, use_project

PEOPLE = {"ann-berg": "PU1", "bo-chan": "PU2", "cy-dunn": "PU3"}
GIT: dict[str, Any] = {
    "org": {"name": "X", "time_zone": "Europe/Berlin"},
    "people": [
        {"id": "ann-berg", "name": "Ann Berg", "email": "ann@x.example", "role": "SRE"},
        {"id": "bo-chan", "name": "Bo Chan", "email": "bo@x.example", "role": "SRE"},
        {"id": "cy-dunn", "name": "Cy Dunn", "email": "cy@x.example", "role": "Lead"},
    ],
    "schedules": [
        {"id": "ops", "name": "Ops", "rotations": [
            {"name": "Weekdays", "participants": ["ann-berg", "bo-chan"], "turn": "1w",
             "first_handoff": "2026-01-05",
             "restrictions": [{"type": "weekly", "start_day": "mon", "start_time": "09:00",
                               "duration": "5d"}]},
            {"name": "Weekends", "participants": ["cy-dunn"], "turn": "1w",
             "first_handoff": "2026-01-10",
             "restrictions": [{"type": "weekly", "start_day": "sat", "start_time": "09:00",
                               "duration": "2d"}]},
        ]},
    ],
    "escalation_policies": [
        {"id": "ops", "name": "Ops", "loop_after": "30m",
         "tiers": [{"after": "0m", "targets": [{"schedule": "ops"}]}]},
    ],
    "services": [{"id": "api", "name": "Api", "escalation_policy": "ops"}],
}  # fmt: skip


def managed_account(git_file: Path) -> dict[str, Any]:
    """The account after `pulumi up`: the schedule as the program declares it (Schedulev2
    events from oncall.desired), the policy and service pointing at it."""
    spec = schedule_spec(load_config(git_file).schedule("ops"))
    rotations = [
        {"id": f"PR{r}", "type": "rotation", "events": [
            {"id": f"PE{r}{e}", "type": "event", "name": event.name,
             "start_time": {"date_time": event.start_time, "time_zone": "Europe/Berlin"},
             "end_time": {"date_time": event.end_time, "time_zone": "Europe/Berlin"},
             "effective_since": event.effective_since, "effective_until": None,
             "recurrence": list(event.recurrences),
             "assignment_strategy": {
                 "type": "rotating_member_assignment_strategy",
                 "shifts_per_member": event.shifts_per_member,
                 "members": [{"type": "user_member", "user_id": PEOPLE[m]} for m in event.members],
             }}
            for e, event in enumerate(rotation.events)
        ]}
        for r, rotation in enumerate(spec.rotations)
    ]  # fmt: skip
    return {
        "users": [
            {"id": PEOPLE[p["id"]], "name": p["name"], "email": p["email"], "job_title": p["role"]}
            for p in GIT["people"]
        ],
        "v3_schedules": [
            {"id": "PV3OPS", "name": "Ops", "time_zone": "Europe/Berlin", "rotations": rotations}
        ],
        "escalation_policies": [
            {
                "id": "PP1",
                "name": "Ops",
                "num_loops": 0,
                "rules": [
                    {
                        "escalation_delay_in_minutes": 30,
                        "targets": [{"type": "schedule_reference", "id": "PV3OPS"}],
                    }
                ],
            }
        ],
        "services": [{"id": "PV1", "name": "Api", "escalation_policy": "PP1"}],
    }


@pytest.fixture
def managed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[tuple[FakePagerDutyServer, Path]]:
    use_project(monkeypatch, tmp_path / "project", "api")
    git_file = tmp_path / "x.yaml"
    git_file.write_text(yaml.safe_dump(GIT, sort_keys=False))
    with FakePagerDutyServer(seeded(account_from_data(managed_account(git_file)))) as server:
        yield server, git_file


def drift(server: FakePagerDutyServer, git_file: Path) -> tuple[int, list[str]]:
    code, output = run_drift(server.url, git_file, "--format", "json")
    assert code in (0, 3), output
    return code, [d["sentence"] for d in json.loads(output)["differences"]]


def test_the_schedule_pulumi_created_matches_git(
    managed: tuple[FakePagerDutyServer, Path],
) -> None:
    assert drift(*managed) == (0, [])


def test_a_member_added_in_pagerduty_and_a_3am_override_show_up(
    managed: tuple[FakePagerDutyServer, Path],
) -> None:
    server, git_file = managed
    assert server.fake.account is not None
    weekend = server.fake.account.v3_schedules["PV3OPS"]["rotations"][1]["events"][0]
    weekend["assignment_strategy"]["members"].append({"type": "user_member", "user_id": "PU1"})
    year = override_year()
    created = httpx.post(
        f"{server.url}/v3/schedules/PV3OPS/overrides",
        headers={"Authorization": f"Token token={TOKEN}"},
        json={"overrides": [{
            "type": "override_shift", "rotation_id": "PR0",
            "start_time": f"{year}-12-24T08:00:00Z", "end_time": f"{year}-12-25T08:00:00Z",
            "overridden_member": {"type": "user_member", "user_id": "PU1"},
            "overriding_member": {"type": "user_member", "user_id": "PU2"},
        }]},
    )  # fmt: skip
    assert created.status_code == 201, created.text
    code, found = drift(server, git_file)
    assert code == 3
    assert found == [
        "Ops: Ann Berg was added in PagerDuty (not in Git)",
        f"Ops: override for Bo Chan {year}-12-24 09:00 to 12-25 09:00 exists only in PagerDuty",
    ]


def test_a_swapped_rotation_order_in_pagerduty(
    managed: tuple[FakePagerDutyServer, Path],
) -> None:
    server, git_file = managed
    assert server.fake.account is not None
    rotations = server.fake.account.v3_schedules["PV3OPS"]["rotations"]
    weekday = rotations[0]["events"][0]
    # Someone swaps the weekday order in the UI: Bo first, then Ann.
    weekday["assignment_strategy"]["members"].reverse()
    code, found = drift(server, git_file)
    assert code == 3
    assert found == [
        "Ops: rotation order is Bo Chan, Ann Berg in PagerDuty, Ann Berg, Bo Chan in Git"
    ]


def test_a_moved_hand_off_shows_who_is_on_call_when(
    managed: tuple[FakePagerDutyServer, Path],
) -> None:
    server, git_file = managed
    assert server.fake.account is not None
    weekend = server.fake.account.v3_schedules["PV3OPS"]["rotations"][1]["events"][0]
    # The weekend shift now starts Saturday 12:00 instead of 09:00 (and ends 3 h later).
    for key in ("start_time", "end_time"):
        weekend[key]["date_time"] = weekend[key]["date_time"].replace("T08:00", "T11:00")
    code, found = drift(server, git_file)
    assert code == 3
    day = r"\d{4}-\d{2}-\d{2}"
    saturday = (
        rf"Ops: nobody on call Sat ({day}) 09:00 to Sat \1 12:00 in PagerDuty, Cy Dunn in Git"
    )
    monday = (
        rf"Ops: Ann Berg, Cy Dunn on call Mon ({day}) 09:00 to Mon \1 12:00 in PagerDuty, "
        "Ann Berg in Git"
    )
    # The first three windows always hold a whole Saturday and a whole Monday one.
    assert any(re.fullmatch(saturday, s) for s in found)
    assert any(re.fullmatch(monday, s) for s in found)
    assert re.fullmatch(r"Ops: and \d+ more such windows in the next 12 weeks", found[-1])
