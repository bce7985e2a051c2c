"""Downtime from incidents, per component and UTC day: what the 90-day bars add to the
synthetic checks, so an alert-driven outage colours its day even when no check failed, and
components without checks show days instead of "no data".

The weights follow Atlassian Statuspage's uptime showcase, which counts a major outage as
down and a partial outage at 30 % (help.statuspage.io/help/uptime-calendar; the same rule
as Instatus documents at instatus.com/help/status-page/uptime-colors). An incident's impact
maps to the component status it stands for: critical = major outage, major = partial
outage; minor (degraded performance) and maintenance count as up.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from itertools import pairwise

from statuspage.state import Incident, UptimeDay

DOWNTIME_WEIGHT = {"critical": 1.0, "major": 0.3}
DAY = timedelta(days=1)


@dataclass(frozen=True)
class Outage:
    start: datetime
    end: datetime
    weight: float


def outages(incidents: Iterable[Incident], component_id: str, now: datetime) -> list[Outage]:
    """The weighted outage intervals of one component (open incidents last until now)."""
    found = []
    for inc in incidents:
        weight = DOWNTIME_WEIGHT.get(inc.impact, 0.0)
        if inc.kind != "incident" or not weight or component_id not in inc.components:
            continue
        start = inc.started_at or inc.created_at
        end = inc.resolved_at or now
        if end > start:
            found.append(Outage(start, end, weight))
    return found


def downtime_seconds(found: list[Outage], start: datetime, end: datetime) -> float:
    """Weighted seconds of downtime within [start, end); overlapping outages count once,
    at the heaviest weight."""
    edges = sorted({start, end} | {t for o in found for t in (o.start, o.end) if start < t < end})
    total = 0.0
    for left, right in pairwise(edges):
        weight = max((o.weight for o in found if o.start <= left and o.end >= right), default=0)
        total += weight * (right - left).total_seconds()
    return total


def day_fraction(
    day: date,
    checks: UptimeDay | None,
    found: list[Outage],
    now: datetime,
    tracked_since: datetime,
) -> float | None:
    """The share of one UTC day the component was up: the worse of what its checks counted
    and what its incidents say. None when neither knows anything about that day."""
    start = datetime.combine(day, time(), UTC)
    end = min(start + DAY, now)
    check_fraction = checks.fraction if checks is not None else None
    if end <= start or end <= tracked_since:
        return check_fraction
    begin = max(start, tracked_since)
    down = downtime_seconds(found, begin, end)
    incident_fraction = 1 - down / (end - begin).total_seconds()
    if check_fraction is None:
        return incident_fraction
    return min(check_fraction, incident_fraction)
