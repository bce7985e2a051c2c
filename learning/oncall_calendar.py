"""The on-call calendar: every shift per person, and the drill cadence, as iCalendar.

Shifts come from the same rotation expansion that builds the PagerDuty schedules
(`oncall.rotation.shifts`), so the calendar and PagerDuty agree on who is on call.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from icalendar import Calendar, Event, vCalAddress, vText

from oncall.rotation import Shift, shifts
from orgconfig.model import OrgConfig

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
PRODID = "-//incident-response-as-code//irctl calendar//EN"


@dataclass(frozen=True)
class DrillCadence:
    """Drills on the first ``weekday`` of every ``every_months``-th month (from January)."""

    every_months: int = 3
    weekday: str = "wed"
    start_time: time = time(14, 0)
    duration: timedelta = timedelta(minutes=90)

    def __post_init__(self) -> None:
        if not 1 <= self.every_months <= 12:
            raise ValueError(f"drill cadence must be 1..12 months, got {self.every_months}")
        if self.weekday not in WEEKDAYS:
            raise ValueError(f"weekday must be one of {', '.join(WEEKDAYS)}, got {self.weekday!r}")


def drill_starts(cadence: DrillCadence, start: datetime, end: datetime) -> list[datetime]:
    """Drill start times (UTC) in [start, end)."""
    found = []
    year, month = start.year, 1
    while date(year, month, 1) <= end.date():
        if (month - 1) % cadence.every_months == 0:
            first = date(year, month, 1)
            offset = (WEEKDAYS.index(cadence.weekday) - first.weekday()) % 7
            moment = datetime.combine(first + timedelta(days=offset), cadence.start_time, UTC)
            if start <= moment < end:
                found.append(moment)
        month += 1
        if month > 12:
            year, month = year + 1, 1
    return found


def services_paged_by(org: OrgConfig) -> dict[str, list[str]]:
    """Schedule id -> names of the services whose escalation policy pages that schedule."""
    paged: dict[str, list[str]] = {}
    for policy in org.escalation_policies:
        service_names = [s.name for s in org.services if s.escalation_policy == policy.id]
        for tier in policy.tiers:
            for target in tier.targets:
                if target.schedule:
                    names = paged.setdefault(target.schedule, [])
                    names.extend(n for n in service_names if n not in names)
    return paged


def all_shifts(org: OrgConfig, start: datetime, end: datetime) -> list[Shift]:
    return sorted(s for schedule in org.schedules for s in shifts(schedule, start, end))


def _stamp(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")


def build_calendar(
    org: OrgConfig,
    shift_list: Iterable[Shift],
    drills: Sequence[datetime],
    *,
    generated_at: datetime,
    drill_duration: timedelta = timedelta(minutes=90),
    name: str | None = None,
) -> Calendar:
    people = {p.id: p for p in org.people}
    schedules = {s.id: s for s in org.schedules}
    paged = services_paged_by(org)
    calendar = Calendar()
    calendar.add("prodid", PRODID)
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    calendar.add("x-wr-calname", name or f"{org.org.name} on-call")
    for shift in shift_list:
        person = people[shift.person_id]
        schedule = schedules[shift.schedule_id]
        event = Event()
        event.add("uid", f"{shift.schedule_id}-{shift.person_id}-{_stamp(shift.start)}@irctl")
        event.add("dtstamp", generated_at)
        event.add("dtstart", shift.start)
        event.add("dtend", shift.end)
        event.add("summary", f"On call: {person.name} ({schedule.name})")
        services = ", ".join(paged.get(schedule.id, [])) or "no service pages this schedule"
        event.add(
            "description",
            f"{person.name} is on call for {schedule.name}.\n"
            f"Pages for: {services}.\n"
            "Before the shift: check your PagerDuty notification rules and read "
            "docs/incident-response-runbook.md.",
        )
        event.add("categories", ["on-call"])
        attendee = vCalAddress(f"mailto:{person.email}")
        attendee.params["cn"] = vText(person.name)
        event.add("attendee", attendee)
        event.add("transp", "TRANSPARENT")
        calendar.add_component(event)
    for start in drills:
        event = Event()
        event.add("uid", f"drill-{_stamp(start)}@irctl")
        event.add("dtstamp", generated_at)
        event.add("dtstart", start)
        event.add("dtend", start + drill_duration)
        event.add("summary", "Incident response drill")
        event.add(
            "description",
            "Quarterly drill: a tabletop scenario from docs/drills/ and a live test page "
            "(irctl drill --live). Everyone on a rotation joins.",
        )
        event.add("categories", ["drill"])
        calendar.add_component(event)
    return calendar
