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

from bisect import bisect_left
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, time, timedelta
from functools import cache
from zoneinfo import ZoneInfo

from dateutil.rrule import rrulestr

from orgconfig.model import DAYS_OF_WEEK, Override, Restriction, Rotation, Schedule

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
    event: int = field(default=0, compare=False)  # index in rotation_events(schedule)


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
    number: int = 0  # index in rotation_events(schedule)

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


def _restriction_rule(restriction: Restriction) -> str:
    """The RRULE of a restriction's windows: every day, or weekly on its start day."""
    if restriction.type == "daily":
        return "FREQ=DAILY"
    return f"FREQ=WEEKLY;BYDAY={RRULE_DAYS[DAYS_OF_WEEK.index(restriction.start_day or 'mon')]}"


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
            rule = _restriction_rule(restriction)
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
    return [replace(e, number=n) for n, e in enumerate(events)]


@cache
def _occurrences(rule: str, start: datetime, until: date) -> tuple[datetime, ...]:
    """Occurrences from the first up to `until` (cached: events and their rules are immutable)."""
    expanded = rrulestr(f"RRULE:{rule}", dtstart=start)
    return tuple(expanded.between(start, datetime.combine(until, time()), inc=True))


def event_shifts(event: ShiftEvent, start: datetime, end: datetime) -> list[Shift]:
    """The event's shifts overlapping [start, end) (UTC), clipped to it."""
    out = []
    zone = ZoneInfo(event.zone)
    until = end.astimezone(zone).date() + timedelta(days=2)
    occurrences = _occurrences(event.rrule, event.start, until)
    count = len(event.members) * event.shifts_per_member
    # Skip, by bisection, the occurrences that end a day or more before the window.
    earliest = start.astimezone(zone).replace(tzinfo=None) - event.length - timedelta(days=1)
    first = bisect_left(occurrences, earliest)
    for k in range(first, len(occurrences)):
        occurrence = occurrences[k]
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
                event.number,
            )
        )
    return out


def shifts(schedule: Schedule, start: datetime, end: datetime) -> list[Shift]:
    """Every shift the schedule's rotations have in [start, end), clipped, in time order
    (overrides not applied: see `on_call`)."""
    if start.tzinfo is None or end.tzinfo is None:
        raise ValueError("start and end must be timezone-aware")
    start, end = start.astimezone(UTC), end.astimezone(UTC)
    if schedule.layers:
        return layered_shifts(schedule, start, end)
    return sorted(s for e in rotation_events(schedule) for s in event_shifts(e, start, end))


def layer_turns(schedule: Schedule, index: int) -> ShiftEvent:
    """A legacy layer's back-to-back turns as one event (same wall-clock rules as rotations)."""
    layer = schedule.layers[index]
    hours, minutes = (int(x) for x in layer.handoff_time.split(":"))
    handoff = datetime.combine(layer.first_handoff, time(hours, minutes))
    name = layer.name or f"Layer {index + 1}"
    members = tuple(layer.participants)
    return ShiftEvent(schedule.id, index, name, schedule.zone, handoff, layer.turn,
                      _cadence(layer.turn), 1, members, index)  # fmt: skip


def _restriction_windows(
    schedule: Schedule, turns: ShiftEvent, restrictions: Sequence[Restriction],
    start: datetime, end: datetime,
) -> list[tuple[datetime, datetime]]:  # fmt: skip
    """The UTC windows in [start, end) in which a restricted layer is on call."""
    windows = []
    for restriction in restrictions:
        rule = _restriction_rule(restriction)
        # A window open at the first hand-off counts from the hand-off: start a week earlier.
        opens = _first_window(restriction, turns.start - timedelta(days=7))
        event = ShiftEvent(schedule.id, turns.rotation, "", schedule.zone, opens,
                           restriction.duration, rule, 1, ("",))  # fmt: skip
        windows += [(w.start, w.end) for w in event_shifts(event, start, end)]
    return sorted(windows)


def _cut(shift: Shift, covers: Sequence[tuple[datetime, datetime]]) -> list[Shift]:
    """The parts of `shift` outside every [lo, hi) of `covers` (sorted by lo)."""
    pieces = [shift]
    for lo, hi in covers[: bisect_left(covers, (shift.end,))]:
        if hi > shift.start:
            pieces = [part for piece in pieces for part in _outside(piece, lo, hi)]
    return pieces


def layered_shifts(schedule: Schedule, start: datetime, end: datetime) -> list[Shift]:
    """A legacy layered schedule's final schedule in [start, end) (UTC), in time order.

    Each layer's turns run back to back from its hand-off in the schedule's zone; its
    restrictions only mask when it is on call. Layers are overlaid in order: a later layer
    replaces the earlier ones wherever it has someone on call, as PagerDuty's layers do.
    `Shift.rotation` is the layer's index.
    """
    result: list[Shift] = []
    for index, layer in enumerate(schedule.layers):
        turns = layer_turns(schedule, index)
        # occurrence=None: the calendar's RRULE events describe rotations, not layers.
        mine = [replace(s, occurrence=None) for s in event_shifts(turns, start, end)]
        if layer.restrictions:
            windows = _restriction_windows(schedule, turns, layer.restrictions, start, end)
            mine = [
                replace(s, start=max(s.start, lo), end=min(s.end, hi))
                for s in mine
                for lo, hi in windows[: bisect_left(windows, (s.end,))]
                if hi > s.start
            ]
        covers = sorted((s.start, s.end) for s in mine)
        result = [part for s in result for part in _cut(s, covers)] + mine
    return sorted(result)


def override_window(override: Override, zone: str) -> tuple[datetime, datetime]:
    """An override's [from, to) in UTC; naive times are in the schedule's zone."""
    return to_utc(override.start, zone), to_utc(override.end, zone)


def to_utc(moment: datetime, zone: str) -> datetime:
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=ZoneInfo(zone))
    return moment.astimezone(UTC)


def replaced(shift_list: list[Shift], override: Override, zone: str) -> list[Shift]:
    """The parts of the shifts inside the override's window: what the override replaces."""
    lo, hi = override_window(override, zone)
    return [
        replace(s, start=max(s.start, lo), end=min(s.end, hi))
        for s in shift_list
        if s.start < hi and s.end > lo
    ]


def _outside(shift: Shift, lo: datetime, hi: datetime) -> list[Shift]:
    pieces = [(shift.start, min(shift.end, lo)), (max(shift.start, hi), shift.end)]
    return [replace(shift, start=a, end=b) for a, b in pieces if a < b]


def on_call(
    schedule: Schedule, overrides: Sequence[Override], start: datetime, end: datetime
) -> list[Shift]:
    """Who the schedule has on call in [start, end) once overrides replace the rotations.

    Like a PagerDuty v3 override, an override replaces the member of each shift it overlaps
    (later overrides win); where no rotation has anyone on call it adds nobody: coverage
    gaps are closed with rotations, not overrides. On a legacy layered schedule an override
    is PagerDuty's override layer: on call for its whole window.
    """
    result = shifts(schedule, start, end)
    for override in (o for o in overrides if o.schedule == schedule.id):
        lo, hi = override_window(override, schedule.zone)
        kept = [part for s in result for part in _outside(s, lo, hi)]
        taken = [
            Shift(s.start, s.end, override.person, schedule.id, OVERRIDE)
            for s in replaced(result, override, schedule.zone)
        ]
        if schedule.layers and max(lo, start) < min(hi, end):
            # A legacy override is a layer on top of all others: on call for its whole window.
            taken = [Shift(max(lo, start), min(hi, end), override.person, schedule.id, OVERRIDE)]
        result = sorted(kept + taken)
    return result


def on_call_at(
    schedule: Schedule, moment: datetime, overrides: Sequence[Override] = ()
) -> str | None:
    found = on_call(schedule, overrides, moment, moment + timedelta(seconds=1))
    return found[0].person_id if found else None


def iso_z(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
