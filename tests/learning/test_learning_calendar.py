"""`irctl calendar`: subscribable on-call shifts per person and the quarterly drills.

Org below, all UTC: primary rotation Alice, Bob in one-week turns from Mon 2 Nov 2026
09:00; backup is Carol alone. For 9 Nov 00:00 .. 23 Nov 00:00 the primary shifts are
Alice 9 Nov 00:00-09:00 (the tail of her turn), Bob 9 Nov 09:00 - 16 Nov 09:00, Alice
16 Nov 09:00 - 23 Nov 00:00. Drills: first Wednesday of Jan/Apr/Jul/Oct at 14:00.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import typer
from icalendar import Calendar
from typer.testing import CliRunner

from irctl.learning import calendar_command
from learning.oncall_calendar import DrillCadence, drill_starts

ORG = """
org: {name: Example, time_zone: UTC}
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
  # The prod stack's pageTestService must exist (irctl loads the org for that stack).
  - {id: page-test, name: Paging self-test, team: platform, escalation_policy: platform,
     alerts: {enabled: false}}
"""


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


def test_calendar_has_each_shift_per_person(tmp_path: Path) -> None:
    code, output = run(tmp_path, "--since", "2026-11-09", "--days", "14")

    assert code == 0, output
    assert "6 shifts and 0 drills from 2026-11-09 to 2026-11-23" in output
    cal = tmp_path / "cal"
    assert events(cal / "alice.ics") == [
        ("On call: Alice Ng (Platform primary)", utc(9), utc(9, 9)),
        ("On call: Alice Ng (Platform primary)", utc(16, 9), utc(23)),
    ]
    assert events(cal / "bob.ics") == [
        ("On call: Bob Diaz (Platform primary)", utc(9, 9), utc(16, 9)),
    ]
    assert events(cal / "carol.ics") == [
        ("On call: Carol Wu (Platform backup)", utc(9), utc(9, 9)),
        ("On call: Carol Wu (Platform backup)", utc(9, 9), utc(16, 9)),
        ("On call: Carol Wu (Platform backup)", utc(16, 9), utc(23)),
    ]
    assert len(events(cal / "oncall.ics")) == 6
    calendar = Calendar.from_ical((cal / "bob.ics").read_bytes())
    [shift] = calendar.events
    assert "Pages for: Public API, Payments, Paging self-test." in str(shift["description"])
    assert str(shift["attendee"]) == "mailto:bob@example.com"
    assert str(calendar["x-wr-calname"]) == "Bob Diaz on call"


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
