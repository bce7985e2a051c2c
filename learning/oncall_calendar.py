"""The on-call calendar: each person's shifts, overrides, time off and drills, as iCalendar.

Shifts come from the engine that builds the PagerDuty schedules (`oncall.rotation`): every
rotation event becomes, per member, one recurring VEVENT with the event's own RRULE in the
schedule's time zone (`DTSTART;TZID=Europe/Berlin`, nominal `DURATION`), an `UNTIL` at the
member's last shift in the window and an `EXDATE` for every occurrence another member covers.
So a calendar and PagerDuty hand over at the same local time, across DST.

UIDs come from the config, never from the day the file is written: `<schedule>-<event>-<person>`
for rotations, `override-<schedule>-<person>-<start>` and `timeoff-<person>-<start>`, so
re-importing or re-subscribing updates events instead of duplicating them.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from dateutil.rrule import rrulestr
from icalendar import Calendar, Event, vCalAddress, vRecur, vText

from oncall.rotation import (
    OVERRIDE,
    Shift,
    ShiftEvent,
    on_call,
    override_window,
    rotation_events,
    to_utc,
)
from orgconfig.model import OrgConfig, Person

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
    """Everyone's shifts in [start, end), overrides applied."""
    return sorted(s for sch in org.schedules for s in on_call(sch, org.overrides, start, end))


def _stamp(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")


def _attend(event: Event, person: Person) -> None:
    attendee = vCalAddress(f"mailto:{person.email}")
    attendee.params["cn"] = vText(person.name)
    event.add("attendee", attendee)


def _rotation_event(
    org: OrgConfig, event: ShiftEvent, person: Person, own: list[datetime], stamp: datetime
) -> Event:
    """One member's shifts of one rotation event: the event's RRULE, minus others' turns."""
    zone = ZoneInfo(event.zone)
    schedule = org.schedule(event.schedule_id)
    first, last = own[0], own[-1]
    mine = set(own)
    others = [
        o
        for o in rrulestr(f"RRULE:{event.rrule}", dtstart=event.start).between(
            first, last, inc=True
        )
        if o not in mine
    ]
    rule = vRecur.from_ical(event.rrule)
    rule["UNTIL"] = last.replace(tzinfo=zone).astimezone(UTC)  # UTC, as RFC 5545 asks
    vevent = Event()
    vevent.add("uid", f"{event.schedule_id}-{event.number}-{person.id}@irctl")
    vevent.add("dtstamp", stamp)
    vevent.add("dtstart", first.replace(tzinfo=zone))
    vevent.add("duration", event.length)
    vevent.add("rrule", rule)
    if others:
        vevent.add("exdate", [o.replace(tzinfo=zone) for o in others])
    label = schedule.name if event.name == schedule.name else f"{schedule.name}, {event.name}"
    vevent.add("summary", f"On call: {person.name} ({label})")
    services = ", ".join(services_paged_by(org).get(schedule.id, [])) or (
        "no service pages this schedule"
    )
    vevent.add(
        "description",
        f"{person.name} is on call for {schedule.name}.\n"
        f"Pages for: {services}.\n"
        f"Hand-offs as in PagerDuty: RRULE:{event.rrule} in {event.zone}; overrides in this "
        "calendar replace parts of these shifts.\n"
        "Before the shift: check your PagerDuty notification rules and read "
        "docs/incident-response-runbook.md.",
    )
    vevent.add("categories", ["on-call"])
    _attend(vevent, person)
    vevent.add("transp", "TRANSPARENT")
    return vevent


def _layer_events(org: OrgConfig, shift_list: list[Shift], stamp: datetime) -> list[Event]:
    """Shifts of legacy layered schedules (docs/oncall.md): one event per piece of the final
    schedule, since a layer's turns are cut by the layers above it (no single RRULE)."""
    out = []
    for shift in shift_list:
        schedule = org.schedule(shift.schedule_id)
        if not schedule.layers or shift.rotation == OVERRIDE:
            continue
        zone = ZoneInfo(schedule.zone)
        person = org.person(shift.person_id)
        layer = schedule.layers[shift.rotation].name or f"Layer {shift.rotation + 1}"
        vevent = Event()
        vevent.add("uid", f"{schedule.id}-layer-{person.id}-{_stamp(shift.start)}@irctl")
        vevent.add("dtstamp", stamp)
        vevent.add("dtstart", shift.start.astimezone(zone))
        vevent.add("dtend", shift.end.astimezone(zone))
        vevent.add("summary", f"On call: {person.name} ({schedule.name}, {layer})")
        vevent.add("description", f"{person.name} is on call for {schedule.name} ({layer}).")
        vevent.add("categories", ["on-call"])
        _attend(vevent, person)
        vevent.add("transp", "TRANSPARENT")
        out.append(vevent)
    return out


def _override_events(org: OrgConfig, shift_list: list[Shift], stamp: datetime) -> list[Event]:
    found: dict[str, Event] = {}
    for shift in (s for s in shift_list if s.rotation == OVERRIDE):
        schedule = org.schedule(shift.schedule_id)
        for override in org.overrides:
            lo, hi = override_window(override, schedule.zone)
            if override.schedule != schedule.id or override.person != shift.person_id:
                continue
            if not lo <= shift.start < hi:
                continue
            uid = f"override-{schedule.id}-{override.person}-{_stamp(lo)}@irctl"
            if uid in found:
                continue
            zone = ZoneInfo(schedule.zone)
            person = org.person(override.person)
            vevent = Event()
            vevent.add("uid", uid)
            vevent.add("dtstamp", stamp)
            vevent.add("dtstart", lo.astimezone(zone))
            vevent.add("dtend", hi.astimezone(zone))
            vevent.add("summary", f"Override: {person.name} covers {schedule.name}")
            note = f" ({override.note})" if override.note else ""
            vevent.add(
                "description",
                f"{person.name} is on call for {schedule.name} instead of the rotation{note}.",
            )
            vevent.add("categories", ["on-call", "override"])
            _attend(vevent, person)
            found[uid] = vevent
    return list(found.values())


def _time_off_events(org: OrgConfig, people: set[str], stamp: datetime) -> list[Event]:
    zone = org.org.time_zone
    out = []
    for entry in (e for e in org.time_off if e.person in people):
        lo, hi = to_utc(entry.start, zone), to_utc(entry.end, zone)
        person = org.person(entry.person)
        vevent = Event()
        vevent.add("uid", f"timeoff-{entry.person}-{_stamp(lo)}@irctl")
        vevent.add("dtstamp", stamp)
        vevent.add("dtstart", lo.astimezone(ZoneInfo(zone)))
        vevent.add("dtend", hi.astimezone(ZoneInfo(zone)))
        vevent.add("summary", f"Time off: {person.name}")
        if entry.note:
            vevent.add("description", entry.note)
        vevent.add("categories", ["time-off"])
        vevent.add("transp", "OPAQUE")
        out.append(vevent)
    return out


def build_calendar(
    org: OrgConfig,
    shift_list: Iterable[Shift],
    drills: Sequence[datetime],
    *,
    generated_at: datetime,
    drill_duration: timedelta = timedelta(minutes=90),
    name: str | None = None,
) -> Calendar:
    shift_list = list(shift_list)
    people = {p.id: p for p in org.people}
    events = {s.id: rotation_events(s) for s in org.schedules}
    calendar = Calendar()
    calendar.add("prodid", PRODID)
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    calendar.add("x-wr-calname", name or f"{org.org.name} on-call")
    turns: dict[tuple[str, int, str], set[datetime]] = defaultdict(set)
    for shift in shift_list:
        if shift.rotation != OVERRIDE and shift.occurrence is not None:
            turns[(shift.schedule_id, shift.event, shift.person_id)].add(shift.occurrence)
    for (schedule_id, number, person_id), occurrences in sorted(turns.items()):
        calendar.add_component(
            _rotation_event(
                org,
                events[schedule_id][number],
                people[person_id],
                sorted(occurrences),
                generated_at,
            )
        )
    for vevent in _layer_events(org, shift_list, generated_at):
        calendar.add_component(vevent)
    for vevent in _override_events(org, shift_list, generated_at):
        calendar.add_component(vevent)
    for vevent in _time_off_events(org, {s.person_id for s in shift_list}, generated_at):
        calendar.add_component(vevent)
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
    calendar.add_missing_timezones()
    return calendar
