"""`irctl calendar`: recurring on-call events with PagerDuty's RRULEs, stable UIDs, drills.

Org below, Europe/Berlin: primary rotation Alice, Bob in one-week turns from Mon 2 Nov 2026
09:00 (PagerDuty event: weekly from 2026-11-02 09:00, `FREQ=WEEKLY`); backup is Carol alone.
From 9 Nov the primary turns are Bob 9 Nov, Alice 16 Nov, Bob 23 Nov, ... every Monday 09:00
Berlin: 08:00 UTC in winter, 07:00 UTC from 29 Mar 2027 (CEST). Drills: first Wednesday of
Jan/Apr/Jul/Oct at 14:00 UTC.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import typer
from dateutil.rrule import rrulestr
from icalendar import Calendar
from typer.testing import CliRunner

from irctl.learning import calendar_command
from learning.oncall_calendar import DrillCadence, drill_starts
from oncall.rotation import OVERRIDE, on_call
from orgconfig.load import load_config

ORG = """
org: {name: Example, time_zone: Europe/Berlin}
people:
  - {id: alice, name: Alice Ng, email: alice@example.com, role: SRE}
  - {id: bob, name: Bob Diaz, email: bob@example.com, role: SRE}
  - {id: carol, name: Carol Wu, email: carol@example.com, role: Manager}
teams:
  - id: platform
    name: Platform
    members: [{person: alice}, {person: bob}, {person: carol, role: manager}]
schedules:
  - id: primary
    name: Platform primary
    team: platform
    rotation: {participants: [alice, bob], turn: 1w, first_handoff: 2026-11-02,
               handoff_time: "09:00"}
  - id: backup
    name: Platform backup
    team: platform
    rotation: {participants: [carol], turn: 1w, first_handoff: 2026-11-02,
               handoff_time: "09:00"}
escalation_policies:
  - id: platform
    name: Platform escalation
    team: platform
    tiers:
      - {after: 0m, targets: [{schedule: primary}]}
      - {after: 15m, targets: [{schedule: backup}]}
services:
  - {id: api, name: Public API, team: platform, escalation_policy: platform}
  - {id: payments, name: Payments, team: platform, escalation_policy: platform}
time_off:
  - {person: alice, from: 2026-12-14, to: 2026-12-21, note: Holiday}
overrides:
  - {schedule: primary, person: bob, from: 2026-12-14 09:00, to: 2026-12-21 09:00}
"""


BERLIN = ZoneInfo("Europe/Berlin")


def utc(day: int, hour: int = 0, month: int = 11) -> datetime:
    return datetime(2026, month, day, hour, tzinfo=UTC)


def run(tmp_path: Path, *args: str) -> tuple[int, str]:
    config = tmp_path / "org.yaml"
    config.write_text(ORG)
    app = typer.Typer()
    app.command("calendar")(calendar_command)

    @app.command("other")
    def other() -> None:
        pass

    result = CliRunner().invoke(
        app, ["calendar", "--config", str(config), "--out-dir", str(tmp_path / "cal"), *args]
    )
    return result.exit_code, result.output


def events(path: Path) -> list[tuple[str, object, object]]:
    calendar = Calendar.from_ical(path.read_bytes())
    return [(str(e["summary"]), e.start, e.end) for e in calendar.events]


def vevents(path: Path) -> dict[str, Any]:
    return {str(e["uid"]): e for e in Calendar.from_ical(path.read_bytes()).events}


def expand(event: Any) -> list[datetime]:
    """The event's occurrences as a calendar client computes them: RRULE minus EXDATE."""
    rule = rrulestr(event["rrule"].to_ical().decode(), dtstart=event["dtstart"].dt)
    excluded = {d.dt for group in _exdates(event) for d in group.dts}
    return [o for o in rule if o not in excluded]


def _exdates(event: Any) -> list[Any]:
    found = event.get("exdate", [])
    return found if isinstance(found, list) else [found]


def test_rotations_are_recurring_events_with_pagerdutys_rrule_in_the_zone(tmp_path: Path) -> None:
    code, output = run(tmp_path, "--since", "2026-11-09", "--days", "180")

    assert code == 0, output
    bob = vevents(tmp_path / "cal" / "bob.ics")["primary-0-bob@irctl"]
    assert bob["dtstart"].params["TZID"] == "Europe/Berlin"
    assert bob["dtstart"].dt == datetime(2026, 11, 9, 9, 0, tzinfo=BERLIN)
    assert bob["duration"].dt == timedelta(days=7)  # nominal: ends at 09:00 local, DST or not
    rule = bob["rrule"]
    assert (rule["FREQ"], rule.get("INTERVAL")) == (["WEEKLY"], None)  # PagerDuty's RRULE
    shifts = expand(bob)
    assert {(s.weekday(), s.hour, s.minute) for s in shifts} == {(0, 9, 0)}  # Mondays 09:00
    assert shifts[:3] == [datetime(2026, 11, d, 9, tzinfo=BERLIN) for d in (9, 23)] + [
        datetime(2026, 12, 7, 9, tzinfo=BERLIN)
    ]
    across_dst = [s for s in shifts if date(2027, 3, 10) < s.date() < date(2027, 4, 10)]
    assert [s.astimezone(UTC).hour for s in across_dst] == [8, 7]  # 15 Mar CET, 29 Mar CEST
    assert "Pages for: Public API, Payments." in str(bob["description"])
    assert str(bob["attendee"]) == "mailto:bob@example.com"
    calendar = Calendar.from_ical((tmp_path / "cal" / "bob.ics").read_bytes())
    assert str(calendar["x-wr-calname"]) == "Bob Diaz on call"
    assert [str(tz["tzid"]) for tz in calendar.walk("VTIMEZONE")] == ["Europe/Berlin"]


def test_uids_stay_the_same_between_runs_on_different_days(tmp_path: Path) -> None:
    first, second = tmp_path / "a", tmp_path / "b"
    first.mkdir()
    second.mkdir()
    assert run(first, "--since", "2026-11-09", "--days", "90")[0] == 0
    assert run(second, "--since", "2026-11-10", "--days", "90")[0] == 0
    before = vevents(first / "cal" / "oncall.ics")
    after = vevents(second / "cal" / "oncall.ics")
    assert set(before) == set(after)
    assert "primary-0-alice@irctl" in before
    for uid in before:
        if "rrule" in before[uid]:
            assert before[uid]["rrule"]["FREQ"] == after[uid]["rrule"]["FREQ"]


def test_overrides_and_time_off_are_in_the_calendar(tmp_path: Path) -> None:
    code, output = run(tmp_path, "--since", "2026-12-01", "--days", "60")

    assert code == 0, output
    everyone = vevents(tmp_path / "cal" / "oncall.ics")
    override = everyone["override-primary-bob-20261214T080000Z@irctl"]
    assert str(override["summary"]) == "Override: Bob Diaz covers Platform primary"
    assert (override.start, override.end) == (
        datetime(2026, 12, 14, 9, tzinfo=BERLIN),
        datetime(2026, 12, 21, 9, tzinfo=BERLIN),
    )
    away = everyone["timeoff-alice-20261213T230000Z@irctl"]
    assert (str(away["summary"]), str(away["description"])) == ("Time off: Alice Ng", "Holiday")
    assert "override-primary-bob-20261214T080000Z@irctl" in vevents(tmp_path / "cal" / "bob.ics")
    # Alice's 14 Dec turn is overridden as a whole: her recurring event skips it.
    alice = vevents(tmp_path / "cal" / "alice.ics")["primary-0-alice@irctl"]
    assert datetime(2026, 12, 14, 9, tzinfo=BERLIN) not in expand(alice)
    assert datetime(2026, 12, 28, 9, tzinfo=BERLIN) in expand(alice)


def test_calendar_includes_quarterly_drills_for_everyone(tmp_path: Path) -> None:
    code, output = run(tmp_path, "--since", "2026-12-28", "--days", "120")

    assert code == 0, output
    drills = [e for e in events(tmp_path / "cal" / "alice.ics") if "drill" in e[0]]
    assert drills == [
        ("Incident response drill", utc(6, 14, month=1).replace(year=2027),
         utc(6, 15, month=1).replace(year=2027, minute=30)),
        ("Incident response drill", utc(7, 14, month=4).replace(year=2027),
         utc(7, 15, month=4).replace(year=2027, minute=30)),
    ]  # fmt: skip


def test_drill_cadence_can_be_monthly_on_another_day() -> None:
    starts = drill_starts(DrillCadence(every_months=1, weekday="mon"), utc(1), utc(1, month=12))
    assert starts == [utc(2, 14)]


def test_bad_cadence_is_refused(tmp_path: Path) -> None:
    code, output = run(tmp_path, "--drill-every", "0")
    assert code == 2
    assert "drill cadence must be 1..12 months" in output


def test_calendar_and_engine_agree_on_every_turn_for_a_year(tmp_path: Path) -> None:
    """Each member's recurring event, expanded as a calendar client does, gives exactly the
    turns the schedule engine (and so PagerDuty's event) assigns them."""
    code, output = run(tmp_path, "--since", "2027-01-01", "--days", "365")
    assert code == 0, output
    org = load_config(tmp_path / "org.yaml")
    start = datetime(2027, 1, 1, tzinfo=BERLIN)
    end = start + timedelta(days=365)
    everyone = vevents(tmp_path / "cal" / "oncall.ics")
    for schedule in org.schedules:
        engine: dict[str, set[datetime]] = {}
        for shift in on_call(schedule, org.overrides, start, end):
            if shift.rotation != OVERRIDE and shift.occurrence is not None:
                local = shift.occurrence.replace(tzinfo=BERLIN)
                engine.setdefault(shift.person_id, set()).add(local)
        for person, turns in engine.items():
            calendar_turns = set(expand(everyone[f"{schedule.id}-0-{person}@irctl"]))
            assert calendar_turns == turns, (schedule.id, person)
