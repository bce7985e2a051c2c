"""Legacy layered schedules (`layers:`): each layer expanded with the same wall-clock rules as
rotations, later layers taking precedence where they have someone on call, rendered as the
legacy `pagerduty.Schedule` with its layers.

Hand-computed from the 2027 Berlin transition: CET (UTC+1) -> CEST (UTC+2) on Sun 2027-03-28.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import yaml
from pydantic import ValidationError

from irctl.diff import rotation_changes
from irctl.plan import record_program
from learning.oncall_calendar import all_shifts, build_calendar
from oncall.coverage import coverage
from oncall.rotation import on_call_at, shifts
from orgconfig.load import load_config
from orgconfig.model import Layer, Override, Restriction, Schedule
from tests.conftest import PROD

WEEKDAYS = [
    Restriction(type="weekly", start_day=day, start_time="09:00", duration=timedelta(hours=8))
    for day in ("mon", "tue", "wed", "thu", "fri")
]


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)  # type: ignore[misc]


def two_layers(*, top_first: bool = False) -> Schedule:
    """Bottom: Ann and Bob, weekly turns around the clock from Mon 2027-03-22 09:00 Berlin.
    Top: Cy on weekdays 09:00-17:00 Berlin."""
    bottom = Layer(name="Around the clock", participants=["ann", "bob"], turn=timedelta(weeks=1),
                   first_handoff=date(2027, 3, 22), handoff_time="09:00")  # fmt: skip
    top = Layer(name="Office hours", participants=["cy"], turn=timedelta(weeks=1),
                first_handoff=date(2027, 3, 22), restrictions=WEEKDAYS)  # fmt: skip
    layers = [top, bottom] if top_first else [bottom, top]
    return Schedule(id="s", name="S", time_zone="Europe/Berlin", layers=layers)


def test_top_layer_takes_over_office_hours_across_the_dst_change() -> None:
    found = [(s.start, s.end, s.person_id)
             for s in shifts(two_layers(), utc(2027, 3, 26), utc(2027, 3, 30))]  # fmt: skip
    assert found == [
        (utc(2027, 3, 26, 0), utc(2027, 3, 26, 8), "ann"),  # Fri, before 09:00 CET
        (utc(2027, 3, 26, 8), utc(2027, 3, 26, 16), "cy"),  # Fri 09:00-17:00 CET
        # The weekend (with the change to summer time), until Monday's 09:00 CEST hand-off.
        (utc(2027, 3, 26, 16), utc(2027, 3, 29, 7), "ann"),
        (utc(2027, 3, 29, 7), utc(2027, 3, 29, 15), "cy"),  # Mon 09:00-17:00 CEST
        (utc(2027, 3, 29, 15), utc(2027, 3, 30, 0), "bob"),  # Bob's turn began at 07:00Z
    ]


def test_layer_order_decides_who_wins() -> None:
    # With the around-the-clock layer on top, the office-hours layer is never on call.
    found = {s.person_id for s in shifts(two_layers(top_first=True), utc(2027, 3, 1),
                                          utc(2027, 5, 1))}  # fmt: skip
    assert found == {"ann", "bob"}


def test_an_override_on_a_layered_schedule_covers_its_whole_window() -> None:
    # Like PagerDuty's override layer: on top of every layer.
    override = Override(schedule="s", person="dee", start=datetime(2027, 3, 29, 8),
                        end=datetime(2027, 3, 29, 20))  # fmt: skip
    assert on_call_at(two_layers(), utc(2027, 3, 29, 12), [override]) == "dee"
    assert on_call_at(two_layers(), utc(2027, 3, 29, 19), [override]) == "bob"
    # Also where no layer has anyone on call (a legacy override is a layer of its own).
    office = two_layers().model_copy(update={"layers": two_layers().layers[1:]})
    assert on_call_at(office, utc(2027, 3, 29, 17)) is None
    assert on_call_at(office, utc(2027, 3, 29, 17), [override]) == "dee"


def test_layers_are_not_mixed_with_rotations() -> None:
    raw: dict[str, Any] = {
        "id": "s", "name": "S", "layers": [{"participants": ["ann"], "turn": "1w",
                                            "first_handoff": "2027-03-22"}],
        "rotation": {"participants": ["ann"], "turn": "1w", "first_handoff": "2027-03-22"},
    }  # fmt: skip
    with pytest.raises(ValidationError, match=r"`layers` .* cannot be combined with `rotation`"):
        Schedule.model_validate(raw)


@pytest.fixture(scope="module")
def layered_org(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The example org with its backup schedule as a two-layer legacy schedule."""
    data = yaml.safe_load(PROD.read_text())
    backup = next(s for s in data["schedules"] if s["id"] == "platform-backup")
    del backup["rotation"]
    backup["layers"] = [
        {"name": "Manager", "participants": ["jordan-lee"], "turn": "1w",
         "first_handoff": "2026-01-05", "handoff_time": "09:00"},
        {"name": "Office hours", "participants": ["morgan-chen"], "turn": "1d",
         "first_handoff": "2026-01-05", "handoff_time": "09:00",
         "restrictions": [{"type": "weekly", "start_day": d, "start_time": "09:00",
                           "duration": "8h"} for d in ("mon", "tue", "wed", "thu", "fri")]},
    ]  # fmt: skip
    path = tmp_path_factory.mktemp("layers") / "modulo.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    return path


def test_plan_has_a_legacy_schedule_with_its_layers_and_schedulev2_for_the_others(
    layered_org: Path,
) -> None:
    plan = record_program("prod", layered_org)
    (legacy,) = plan.of_type("pagerduty:index/schedule:Schedule")
    assert legacy.name == "platform-backup"
    assert legacy.inputs["timeZone"] == "Europe/Berlin"
    layers = legacy.inputs["layers"]
    assert [(la["name"], la["users"], la["rotationTurnLengthSeconds"]) for la in layers] == [
        ("Manager", ["user-jordan.lee"], 604800),
        ("Office hours", ["user-morgan.chen"], 86400),
    ]
    # Hand-offs in the schedule's local time, with its offset (PagerDuty's own form).
    assert layers[0]["start"] == layers[0]["rotationVirtualStart"] == "2026-01-05T09:00:00+01:00"
    assert "restrictions" not in layers[0] or not layers[0]["restrictions"]
    assert layers[1]["restrictions"][0] == {
        "type": "weekly_restriction",
        "startTimeOfDay": "09:00:00",
        "durationSeconds": 28800,
        "startDayOfWeek": 1,
    }
    v2 = [r.name for r in plan.of_type("pagerduty:index/schedulev2:Schedulev2")]
    assert "platform-backup" not in v2 and "platform-primary" in v2
    # The escalation policy targets the legacy schedule like any other.
    policy = next(r for r in plan.of_type("pagerduty:index/escalationPolicy:EscalationPolicy")
                  if r.name == "platform")  # fmt: skip
    assert policy.inputs["rules"][1]["targets"][0]["id"] == "platform-backup-id"


def test_coverage_sees_the_final_layered_schedule(layered_org: Path) -> None:
    org = load_config(layered_org)
    reports = coverage(org, utc(2027, 1, 4), timedelta(days=120))
    # Morgan Chen is tier 3 and now also on the backup schedule (tier 2) in office hours.
    problems = " ".join(p for r in reports for p in r.problems)
    assert (
        "morgan-chen is in tier 2 and tier 3 at the same time, Mon 2027-01-04 09:00 to "
        "17:00 Europe/Berlin" in problems
    )


def test_diff_says_what_changes_in_a_layer_and_who_is_on_call(layered_org: Path) -> None:
    before = load_config(layered_org)
    backup = before.schedule("platform-backup")
    office = backup.layers[1].model_copy(update={"participants": ["casey-novak"]})
    after = before.model_copy(
        update={"schedules": [
            s.model_copy(update={"layers": [s.layers[0], office]}) if s.id == backup.id else s
            for s in before.schedules
        ]}
    )  # fmt: skip
    text = "\n".join(rotation_changes(before, after, utc(2027, 1, 4), utc(2027, 1, 11)))
    assert "Layer Office hours: Rotation order: Morgan Chen → Casey Novak." in text
    # Who is on call: the office-hours layer over the manager's, Monday 09:00-17:00 Berlin.
    assert "| Mon 2027-01-04 09:00 | Mon 2027-01-04 17:00 | Morgan Chen | Casey Novak |" in text


def test_calendar_lists_the_final_layered_schedule(layered_org: Path) -> None:
    org = load_config(layered_org)
    start, end = utc(2027, 1, 4), utc(2027, 1, 6)
    calendar = build_calendar(org, all_shifts(org, start, end), [], generated_at=start)
    backup = sorted(
        (str(e["dtstart"].dt), str(e["dtend"].dt), str(e["summary"]))
        for e in calendar.walk("VEVENT")
        if "Platform backup" in str(e["summary"])
    )
    assert backup == [
        ("2027-01-04 01:00:00+01:00", "2027-01-04 09:00:00+01:00",
         "On call: Jordan Lee (Platform backup, Manager)"),
        ("2027-01-04 09:00:00+01:00", "2027-01-04 17:00:00+01:00",
         "On call: Morgan Chen (Platform backup, Office hours)"),
        ("2027-01-04 17:00:00+01:00", "2027-01-05 09:00:00+01:00",
         "On call: Jordan Lee (Platform backup, Manager)"),
        ("2027-01-05 09:00:00+01:00", "2027-01-05 17:00:00+01:00",
         "On call: Morgan Chen (Platform backup, Office hours)"),
        ("2027-01-05 17:00:00+01:00", "2027-01-06 01:00:00+01:00",
         "On call: Jordan Lee (Platform backup, Manager)"),
    ]  # fmt: skip


def test_a_daily_layer_restriction_of_a_whole_day_is_refused() -> None:
    # The provider refuses it; without restrictions the layer is on call around the clock.
    with pytest.raises(ValidationError, match="shorter than 1d"):
        Layer(participants=["ann"], turn=timedelta(days=1), first_handoff=date(2027, 1, 4),
              restrictions=[Restriction(type="daily", start_time="00:00",
                                        duration=timedelta(days=1))])  # fmt: skip
