"""Who is on call when: every schedule expanded the way PagerDuty expands a shift-based schedule.

One engine for `oncall show`, coverage, `diff`, the calendar and the PagerDuty `Schedulev2`
resource. Each rotation becomes RFC 5545 events (a first occurrence, a wall-clock length and one
RRULE) in the schedule's time zone, expanded with python-dateutil's `rrule`:

- recurrences are evaluated in local wall-clock time, so a 09:00 Berlin hand-off stays 09:00
  Berlin across DST (08:00 UTC in winter, 07:00 UTC in summer), as PagerDuty's shift-based
  schedules do (terraform-provider-pagerduty `website/docs/r/schedulev2.html.markdown`;
  PagerDuty/api-schema `reference/REST/openapiv3.json`, `/v3/schedules`; docs/oncall.md);
- each occurrence is one shift; with the rotating-member strategy member
  `(k // shifts_per_member) % len(members)` covers occurrence `k`, counted from the first;
- a rotation without restrictions is one event one `turn` long; a rotation with restrictions
  is one event per restriction window, and a member keeps the windows of one turn.

Overrides from the config replace whoever a schedule has on call, like PagerDuty's override
layer; time off is judged by the coverage check (PagerDuty does not know about it).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from functools import cache
from zoneinfo import ZoneInfo

from dateutil.rrule import rrulestr

from orgconfig.model import DAYS_OF_WEEK, OrgConfig, Override, Restriction, Rotation, Schedule

RRULE_DAYS = ("MO", "TU", "WE", "TH", "FR", "SA", "SU")
OVERRIDE = -1  # Shift.rotation of a shift that comes from an override


@dataclass(frozen=True, order=True)
class Shift:
    start: datetime  # UTC, inclusive
    end: datetime  # UTC, exclusive
    person_id: str
    schedule_id: str
    rotation: int = field(default=0, compare=False)  # index in all_rotations(), OVERRIDE
    occurrence: datetime | None = field(default=None, compare=False)  # local start, unclipped


@dataclass(frozen=True)
class ShiftEvent:
    """One PagerDuty event of a rotation: `rrule` from `start` (local), each `length` long."""

    schedule_id: str
    rotation: int
    name: str
    zone: str
    start: datetime  # naive, local wall-clock time of the first occurrence
    length: timedelta  # wall-clock length of one occurrence
    rrule: str  # e.g. "FREQ=WEEKLY;INTERVAL=2" (RFC 5545, without the "RRULE:" prefix)
    shifts_per_member: int
    members: tuple[str, ...]

    def localize(self, naive: datetime) -> datetime:
        return naive.replace(tzinfo=ZoneInfo(self.zone))

    def utc(self, naive: datetime) -> datetime:
        return self.localize(naive).astimezone(UTC)


def _handoff(rotation: Rotation) -> datetime:
    hours, minutes = (int(x) for x in rotation.handoff_time.split(":"))
    return datetime.combine(rotation.first_handoff, time(hours, minutes))


def _cadence(turn: timedelta) -> str:
    """The RRULE of back-to-back turns (no restrictions)."""
    seconds = int(turn.total_seconds())
    for unit, size in (("WEEKLY", 604800), ("DAILY", 86400), ("HOURLY", 3600), ("MINUTELY", 60)):
        if seconds % size == 0:
            return f"FREQ={unit}" + (f";INTERVAL={seconds // size}" if seconds > size else "")
    raise ValueError(f"turn {turn} is not a whole number of minutes")


def _first_window(restriction: Restriction, handoff: datetime) -> datetime:
    """The first restriction window opening at or after the first hand-off (local time)."""
    hours, minutes = (int(x) for x in restriction.start_time.split(":"))
    day = handoff.date()
    while True:
        opens = datetime.combine(day, time(hours, minutes))
        weekday_ok = restriction.type == "daily" or DAYS_OF_WEEK[day.weekday()] == (
            restriction.start_day
        )
        if weekday_ok and opens >= handoff:
            return opens
        day += timedelta(days=1)


def rotation_events(schedule: Schedule) -> list[ShiftEvent]:
    """Every rotation of `schedule` as the events PagerDuty gets (the model has checked that
    each rotation can be expressed this way: see `Rotation` in orgconfig/model.py)."""
    events = []
    for index, rotation in enumerate(schedule.all_rotations()):
        name = rotation.name or schedule.name
        members = tuple(rotation.participants)
        handoff = _handoff(rotation)
        if not rotation.restrictions:
            events.append(
                ShiftEvent(
                    schedule.id,
                    index,
                    name,
                    schedule.zone,
                    handoff,
                    rotation.turn,
                    _cadence(rotation.turn),
                    rotation.shifts_per_member,
                    members,
                )
            )
            continue
        for number, restriction in enumerate(rotation.restrictions, start=1):
            period = timedelta(days=1 if restriction.type == "daily" else 7)
            rule = "FREQ=DAILY"
            if restriction.type == "weekly":
                day = DAYS_OF_WEEK.index(restriction.start_day or "mon")
                rule = f"FREQ=WEEKLY;BYDAY={RRULE_DAYS[day]}"
            label = name if len(rotation.restrictions) == 1 else f"{name} ({number})"
            events.append(
                ShiftEvent(
                    schedule.id,
                    index,
                    label,
                    schedule.zone,
                    _first_window(restriction, handoff),
                    restriction.duration,
                    rule,
                    int(rotation.turn / period) * rotation.shifts_per_member,
                    members,
                )
            )
    return events


@cache
def _occurrences(rule: str, start: datetime, until: date) -> tuple[datetime, ...]:
    """Occurrences from the first up to `until` (cached: events and their rules are immutable)."""
    expanded = rrulestr(f"RRULE:{rule}", dtstart=start)
    return tuple(expanded.between(start, datetime.combine(until, time()), inc=True))


def event_shifts(event: ShiftEvent, start: datetime, end: datetime) -> list[Shift]:
    """The event's shifts overlapping [start, end) (UTC), clipped to it."""
    out = []
    until = end.astimezone(ZoneInfo(event.zone)).date() + timedelta(days=2)
    occurrences = _occurrences(event.rrule, event.start, until)
    count = len(event.members) * event.shifts_per_member
    for k, occurrence in enumerate(occurrences):
        lo, hi = event.utc(occurrence), event.utc(occurrence + event.length)
        if lo >= end:
            break
        if hi <= start:
            continue
        member = event.members[(k % count) // event.shifts_per_member]
        out.append(
            Shift(
                max(lo, start),
                min(hi, end),
                member,
                event.schedule_id,
                event.rotation,
                occurrence,
            )
        )
    return out


def shifts(schedule: Schedule, start: datetime, end: datetime) -> list[Shift]:
    """Every shift the schedule's rotations have in [start, end), clipped, in time order
    (overrides not applied: see `on_call`)."""
    if start.tzinfo is None or end.tzinfo is None:
        raise ValueError("start and end must be timezone-aware")
    start, end = start.astimezone(UTC), end.astimezone(UTC)
    return sorted(s for e in rotation_events(schedule) for s in event_shifts(e, start, end))


def override_window(override: Override, zone: str) -> tuple[datetime, datetime]:
    """An override's [from, to) in UTC; naive times are in the schedule's zone."""
    return to_utc(override.start, zone), to_utc(override.end, zone)


def to_utc(moment: datetime, zone: str) -> datetime:
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=ZoneInfo(zone))
    return moment.astimezone(UTC)


def _subtract(shift_list: list[Shift], windows: list[tuple[datetime, datetime]]) -> list[Shift]:
    out: list[Shift] = []
    for shift in shift_list:
        pieces = [(shift.start, shift.end)]
        for lo, hi in windows:
            pieces = [
                part
                for a, b in pieces
                for part in ((a, min(b, lo)), (max(a, hi), b))
                if part[0] < part[1]
            ]
        out.extend(
            Shift(a, b, shift.person_id, shift.schedule_id, shift.rotation, shift.occurrence)
            for a, b in pieces
        )
    return out


def on_call(
    schedule: Schedule, overrides: Sequence[Override], start: datetime, end: datetime
) -> list[Shift]:
    """Who the schedule has on call in [start, end) once overrides replace the rotations."""
    base = shifts(schedule, start, end)
    mine = [o for o in overrides if o.schedule == schedule.id]
    if not mine:
        return base
    start, end = start.astimezone(UTC), end.astimezone(UTC)
    windows = [override_window(o, schedule.zone) for o in mine]
    covering = [
        Shift(max(lo, start), min(hi, end), o.person, schedule.id, OVERRIDE)
        for o, (lo, hi) in zip(mine, windows, strict=True)
        if lo < end and hi > start
    ]
    return sorted(_subtract(base, windows) + covering)


def org_on_call(org: OrgConfig, schedule: Schedule, start: datetime, end: datetime) -> list[Shift]:
    return on_call(schedule, org.overrides, start, end)


def on_call_at(
    schedule: Schedule, moment: datetime, overrides: Sequence[Override] = ()
) -> str | None:
    found = on_call(schedule, overrides, moment, moment + timedelta(seconds=1))
    return found[0].person_id if found else None


def iso_z(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def iso_local(event: ShiftEvent, naive: datetime) -> str:
    """A local wall-clock time with its UTC offset, e.g. 2026-01-05T09:00:00+01:00."""
    return event.localize(naive).isoformat(timespec="seconds")
