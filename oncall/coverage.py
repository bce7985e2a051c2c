"""Coverage by tier: is someone reachable at every minute, and is nobody paged twice?

At every minute a tier is covered when any of its targets has someone on call who is not on
time off; overrides replace whoever a schedule has on call. Over the window the check fails,
naming the minutes (local and UTC), when:
- tier 1 reaches nobody;
- one person sits in two tiers at once (escalating would page the same person again);
- a person on time off is on call (in a schedule, or as a direct tier target) with no
  override covering them.
A later tier that reaches nobody at times is a warning: a business-hours manager tier is a
legitimate choice. All of it is interval arithmetic over the shifts, never a loop per minute.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from oncall.rotation import Shift, on_call, to_utc
from orgconfig.model import EscalationPolicy, OrgConfig
from orgconfig.units import format_duration

Interval = tuple[datetime, datetime]
DEFAULT_WINDOW = timedelta(days=366)  # a year from today crosses both DST changes


@dataclass(frozen=True)
class TierCoverage:
    number: int
    after: timedelta
    shifts: list[Shift]  # who the tier reaches; a person targeted directly is one long shift


@dataclass
class PolicyCoverage:
    policy_id: str
    tiers: list[TierCoverage]
    problems: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)


def merge(intervals: Iterable[Interval]) -> list[Interval]:
    merged: list[Interval] = []
    for lo, hi in sorted(intervals):
        if merged and lo <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], hi))
        elif lo < hi:
            merged.append((lo, hi))
    return merged


def gaps(intervals: list[Interval], start: datetime, end: datetime) -> list[Interval]:
    """The parts of [start, end) that no interval covers."""
    holes = []
    cursor = start
    for lo, hi in merge(intervals):
        if lo > cursor:
            holes.append((cursor, min(lo, end)))
        cursor = max(cursor, hi)
        if cursor >= end:
            break
    if cursor < end:
        holes.append((cursor, end))
    return [(lo, hi) for lo, hi in holes if lo < hi]


def intersect(a: list[Interval], b: list[Interval]) -> list[Interval]:
    """Overlaps of two merged, sorted interval lists (a linear sweep)."""
    out, i, j = [], 0, 0
    while i < len(a) and j < len(b):
        lo, hi = max(a[i][0], b[j][0]), min(a[i][1], b[j][1])
        if lo < hi:
            out.append((lo, hi))
        if a[i][1] < b[j][1]:
            i += 1
        else:
            j += 1
    return out


def subtract(a: list[Interval], b: list[Interval]) -> list[Interval]:
    """The parts of merged list `a` outside merged list `b`."""
    if not b:
        return a
    out = []
    for lo, hi in a:
        inside = [(max(lo, x), min(hi, y)) for x, y in b if x < hi and y > lo]
        out.extend(gaps(inside, lo, hi))
    return out


def when(interval: Interval, zone: str) -> str:
    """`Sun 2027-03-28 23:00 to Mon 00:00 Europe/Berlin (21:00 to 22:00 UTC, 1h)`."""
    lo, hi = interval
    tz = ZoneInfo(zone)
    llo, lhi = lo.astimezone(tz), hi.astimezone(tz)
    ulo, uhi = lo.astimezone(UTC), hi.astimezone(UTC)
    local_end = f"{lhi:%H:%M}" if lhi.date() == llo.date() else f"{lhi:%a %Y-%m-%d %H:%M}"
    utc_end = f"{uhi:%H:%M}" if uhi.date() == ulo.date() else f"{uhi:%a %Y-%m-%d %H:%M}"
    local = f"{llo:%a %Y-%m-%d %H:%M} to {local_end} {zone}"
    if zone == "UTC":
        return f"{local} ({format_duration(hi - lo)})"
    return f"{local} ({ulo:%a %Y-%m-%d %H:%M} to {utc_end} UTC, {format_duration(hi - lo)})"


def describe(holes: list[Interval], zone: str, limit: int = 3) -> str:
    shown = "; ".join(when(h, zone) for h in holes[:limit])
    more = f"; and {len(holes) - limit} more" if len(holes) > limit else ""
    return f"{shown}{more}"


def time_off_by_person(org: OrgConfig) -> dict[str, list[Interval]]:
    away: dict[str, list[Interval]] = defaultdict(list)
    for entry in org.time_off:
        away[entry.person].append(
            (to_utc(entry.start, org.org.time_zone), to_utc(entry.end, org.org.time_zone))
        )
    return {person: merge(windows) for person, windows in away.items()}


def _by_person(found: Iterable[Shift]) -> dict[str, list[Interval]]:
    out: dict[str, list[Interval]] = defaultdict(list)
    for shift in found:
        out[shift.person_id].append((shift.start, shift.end))
    return {person: merge(windows) for person, windows in out.items()}


def policy_coverage(
    org: OrgConfig,
    policy: EscalationPolicy,
    start: datetime,
    end: datetime,
    schedule_shifts: dict[str, list[Shift]] | None = None,
) -> PolicyCoverage:
    zone = org.org.time_zone
    schedule_shifts = schedule_shifts if schedule_shifts is not None else {}
    away = time_off_by_person(org)
    report = PolicyCoverage(policy.id, [])
    reachable: list[dict[str, list[Interval]]] = []
    for number, tier in enumerate(policy.tiers, start=1):
        tier_shifts: list[Shift] = []
        for target in tier.targets:
            if target.schedule:
                if target.schedule not in schedule_shifts:
                    schedule = org.schedule(target.schedule)
                    schedule_shifts[target.schedule] = on_call(schedule, org.overrides, start, end)
                tier_shifts.extend(schedule_shifts[target.schedule])
            elif target.person:
                tier_shifts.append(Shift(start, end, target.person, ""))
                clash = intersect([(start, end)], away.get(target.person, []))
                if clash:
                    report.problems.append(
                        f"policy {policy.id}, tier {number} pages {target.person} directly, "
                        f"who is on time off {describe(clash, zone)}: target a schedule (for "
                        "example a manager rotation) so an override can cover the time off"
                    )
        tier_shifts.sort()
        report.tiers.append(TierCoverage(number, tier.after, tier_shifts))
        people = {
            person: subtract(windows, away.get(person, []))
            for person, windows in _by_person(tier_shifts).items()
        }
        reachable.append(people)
        holes = gaps([w for windows in people.values() for w in windows], start, end)
        if holes and number == 1:
            report.problems.insert(
                0, f"policy {policy.id}: tier 1 reaches nobody {describe(holes, zone)}"
            )
        elif holes:
            report.warnings.append(
                f"policy {policy.id}: tier {number} reaches nobody {describe(holes, zone)}"
            )
    for i, upper in enumerate(reachable):
        for j in range(i + 1, len(reachable)):
            for person in sorted(set(upper) & set(reachable[j])):
                both = intersect(upper[person], reachable[j][person])
                if both:
                    report.problems.append(
                        f"policy {policy.id}: {person} is in tier {i + 1} and tier {j + 1} at "
                        f"the same time, {describe(both, zone)}: escalating would page the "
                        "same person again"
                    )
    return report


def time_off_conflicts(
    org: OrgConfig, schedule_shifts: dict[str, list[Shift]], start: datetime, end: datetime
) -> list[str]:
    """People a schedule has on call during their own time off, with no override."""
    away = time_off_by_person(org)
    problems = []
    for schedule in org.schedules:
        if schedule.id not in schedule_shifts:
            schedule_shifts[schedule.id] = on_call(schedule, org.overrides, start, end)
        for person, windows in sorted(_by_person(schedule_shifts[schedule.id]).items()):
            clash = intersect(windows, away.get(person, []))
            if clash:
                problems.append(
                    f"{person} is on time off but on call for schedule {schedule.id} "
                    f"{describe(clash, schedule.zone)}: add an override (overrides: schedule "
                    f"{schedule.id}, person, from, to) so someone covers it"
                )
    return problems


def coverage(
    org: OrgConfig, start: datetime, window: timedelta = DEFAULT_WINDOW
) -> list[PolicyCoverage]:
    """Coverage of every escalation policy over [start, start + window); time-off conflicts
    are reported on the first policy's report (they concern the org, not one policy)."""
    end = start + window
    cache: dict[str, list[Shift]] = {}
    reports = [policy_coverage(org, p, start, end, cache) for p in org.escalation_policies]
    if reports:
        reports[0].problems.extend(time_off_conflicts(org, cache, start, end))
    return reports
