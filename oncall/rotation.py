"""Rotations: who is on call when, computed the way PagerDuty computes a schedule layer.

A layer has a `rotation_virtual_start` (the moment participant 0's turn begins) and a turn
length in seconds; participant `floor((t - start) / turn) mod n` is on call at `t`, inside the
layer's restrictions (evaluated in the schedule's local time zone).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

from orgconfig.model import DAYS_OF_WEEK, Restriction, Schedule


@dataclass(frozen=True, order=True)
class Shift:
    start: datetime  # UTC, inclusive
    end: datetime  # UTC, exclusive
    person_id: str
    schedule_id: str


def first_handoff_utc(schedule: Schedule) -> datetime:
    """The rotation's virtual start in UTC (PagerDuty wants `Z` timestamps, see FACTS.md)."""
    rotation = schedule.rotation
    hours, minutes = (int(x) for x in rotation.handoff_time.split(":"))
    local = datetime.combine(rotation.first_handoff, time(hours, minutes), ZoneInfo(schedule.zone))
    return local.astimezone(UTC)


def iso_z(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _turns(schedule: Schedule, start: datetime, end: datetime) -> Iterator[Shift]:
    origin = first_handoff_utc(schedule)
    turn = schedule.rotation.turn
    people = schedule.rotation.participants
    start = max(start, origin)
    if start >= end:
        return
    index = int((start - origin) / turn)
    while True:
        turn_start = origin + index * turn
        if turn_start >= end:
            return
        turn_end = turn_start + turn
        yield Shift(
            max(turn_start, start), min(turn_end, end), people[index % len(people)], schedule.id
        )
        index += 1


def _restriction_windows(
    restriction: Restriction, zone: ZoneInfo, start: datetime, end: datetime
) -> Iterator[tuple[datetime, datetime]]:
    """The restriction's open windows overlapping [start, end), in UTC."""
    hours, minutes = (int(x) for x in restriction.start_time.split(":"))
    first_day = start.astimezone(zone).date() - timedelta(days=8)
    last_day = end.astimezone(zone).date() + timedelta(days=1)
    day = first_day
    while day <= last_day:
        if restriction.type == "daily" or DAYS_OF_WEEK[day.weekday()] == restriction.start_day:
            opens = datetime.combine(day, time(hours, minutes), zone).astimezone(UTC)
            closes = opens + restriction.duration
            if closes > start and opens < end:
                yield max(opens, start), min(closes, end)
        day += timedelta(days=1)


def _merge(windows: list[tuple[datetime, datetime]]) -> list[tuple[datetime, datetime]]:
    merged: list[tuple[datetime, datetime]] = []
    for opens, closes in sorted(windows):
        if merged and opens <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], closes))
        else:
            merged.append((opens, closes))
    return merged


def shifts(schedule: Schedule, start: datetime, end: datetime) -> list[Shift]:
    """Every shift of `schedule` overlapping [start, end), clipped to it, in time order."""
    if start.tzinfo is None or end.tzinfo is None:
        raise ValueError("start and end must be timezone-aware")
    turns = list(_turns(schedule, start.astimezone(UTC), end.astimezone(UTC)))
    if not schedule.restrictions:
        return turns
    zone = ZoneInfo(schedule.zone)
    windows = _merge(
        [w for r in schedule.restrictions for w in _restriction_windows(r, zone, start, end)]
    )
    out = []
    for shift in turns:
        for opens, closes in windows:
            lo, hi = max(opens, shift.start), min(closes, shift.end)
            if lo < hi:
                out.append(Shift(lo, hi, shift.person_id, shift.schedule_id))
    return out


def on_call_at(schedule: Schedule, moment: datetime) -> str | None:
    found = shifts(schedule, moment, moment + timedelta(seconds=1))
    return found[0].person_id if found else None
