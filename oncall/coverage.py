"""Coverage check: is somebody reachable at every minute, and is nobody in two tiers at once?

PagerDuty accepts a schedule with holes and a ladder where the same person is both primary
and backup; both mean a page that reaches nobody new. This check expands every schedule over a
window and reports, per escalation policy:
- any moment tier 1 reaches nobody;
- any tier that points at a schedule with gaps;
- any moment one person sits in two tiers (the escalation would page the same person again).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from oncall.rotation import Shift, shifts
from orgconfig.model import EscalationPolicy, OrgConfig
from orgconfig.units import format_duration

Interval = tuple[datetime, datetime]


@dataclass(frozen=True)
class TierCoverage:
    number: int
    after: timedelta
    shifts: list[Shift]  # persons targeted directly appear as one shift over the whole window


@dataclass
class PolicyCoverage:
    policy_id: str
    tiers: list[TierCoverage]
    problems: list[str] = field(default_factory=list)


def gaps(intervals: list[Interval], start: datetime, end: datetime) -> list[Interval]:
    """The parts of [start, end) that no interval covers."""
    holes = []
    cursor = start
    for lo, hi in sorted(intervals):
        if lo > cursor:
            holes.append((cursor, min(lo, end)))
        cursor = max(cursor, hi)
        if cursor >= end:
            break
    if cursor < end:
        holes.append((cursor, end))
    return [(lo, hi) for lo, hi in holes if lo < hi]


def _when(interval: Interval) -> str:
    lo, hi = interval
    return f"{lo:%a %Y-%m-%d %H:%M} to {hi:%a %Y-%m-%d %H:%M} UTC ({format_duration(hi - lo)})"


def _describe_gaps(holes: list[Interval], limit: int = 3) -> str:
    shown = "; ".join(_when(h) for h in holes[:limit])
    more = f" and {len(holes) - limit} more" if len(holes) > limit else ""
    return f"{shown}{more}"


def policy_coverage(
    org: OrgConfig, policy: EscalationPolicy, start: datetime, end: datetime
) -> PolicyCoverage:
    report = PolicyCoverage(policy.id, [])
    for number, tier in enumerate(policy.tiers, start=1):
        tier_shifts: list[Shift] = []
        for target in tier.targets:
            if target.schedule:
                schedule = org.schedule(target.schedule)
                found = shifts(schedule, start, end)
                holes = gaps([(s.start, s.end) for s in found], start, end)
                if holes:
                    report.problems.append(
                        f"policy {policy.id}, tier {number}: schedule {schedule.id} has gaps: "
                        f"nobody is on call {_describe_gaps(holes)}"
                    )
                tier_shifts.extend(found)
            elif target.person:
                tier_shifts.append(Shift(start, end, target.person, ""))
        tier_shifts.sort()
        report.tiers.append(TierCoverage(number, tier.after, tier_shifts))
    if report.tiers:
        first = report.tiers[0]
        holes = gaps([(s.start, s.end) for s in first.shifts], start, end)
        if holes:
            report.problems.insert(
                0,
                f"policy {policy.id}: tier 1 reaches nobody {_describe_gaps(holes)}",
            )
    report.problems.extend(_double_booked(policy.id, report.tiers))
    return report


def _double_booked(policy_id: str, tiers: list[TierCoverage]) -> list[str]:
    problems = []
    for i, upper in enumerate(tiers):
        for lower in tiers[i + 1 :]:
            for a in upper.shifts:
                for b in lower.shifts:
                    if a.person_id != b.person_id:
                        continue
                    lo, hi = max(a.start, b.start), min(a.end, b.end)
                    if lo < hi:
                        problems.append(
                            f"policy {policy_id}: {a.person_id} is in tier {upper.number} and "
                            f"tier {lower.number} at the same time, {_when((lo, hi))}: escalating "
                            "would page the same person again"
                        )
    return problems


def coverage(org: OrgConfig, start: datetime, weeks: int = 12) -> list[PolicyCoverage]:
    end = start + timedelta(weeks=weeks)
    return [policy_coverage(org, p, start, end) for p in org.escalation_policies]
