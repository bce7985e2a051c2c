"""Response metrics against the targets: pure functions over incident records.

Definitions (also in ``irctl metrics --help`` and the runbook):

* MTTA: trigger to the FIRST acknowledgement, over incidents that were acknowledged.
* MTTR: trigger to resolution, over resolved incidents.
* Incidents never acknowledged and incidents still open are counted and shown, never
  dropped silently.
* Median and p90 use the nearest-rank method: p90 is the smallest value that at least
  90 % of the values are less than or equal to.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from learning.incidents import IncidentRecord
from learning.records import PageTestRecord


@dataclass(frozen=True)
class Targets:
    mtta: timedelta = timedelta(minutes=5)
    mttr: timedelta = timedelta(minutes=30)
    availability: float = 0.999
    page_success: float = 1.0


@dataclass(frozen=True)
class DurationStats:
    count: int
    mean: timedelta | None
    median: timedelta | None
    p90: timedelta | None


def nearest_rank(values: Sequence[float], percent: float) -> float:
    ordered = sorted(values)
    rank = max(1, math.ceil(percent / 100 * len(ordered)))
    return ordered[rank - 1]


def duration_stats(values: Iterable[timedelta]) -> DurationStats:
    seconds = [v.total_seconds() for v in values]
    if not seconds:
        return DurationStats(0, None, None, None)
    return DurationStats(
        count=len(seconds),
        mean=timedelta(seconds=statistics.fmean(seconds)),
        median=timedelta(seconds=nearest_rank(seconds, 50)),
        p90=timedelta(seconds=nearest_rank(seconds, 90)),
    )


@dataclass(frozen=True)
class ResponseFigures:
    scope: str  # service name, or "all services"
    service_id: str | None
    incidents: int
    never_acknowledged: int
    still_open: int
    mtta: DurationStats
    mttr: DurationStats


def response_figures(
    records: Sequence[IncidentRecord], scope: str, service_id: str | None = None
) -> ResponseFigures:
    return ResponseFigures(
        scope=scope,
        service_id=service_id,
        incidents=len(records),
        never_acknowledged=sum(1 for r in records if r.first_acknowledged_at is None),
        still_open=sum(1 for r in records if r.is_open),
        mtta=duration_stats(t for r in records if (t := r.time_to_acknowledge) is not None),
        mttr=duration_stats(t for r in records if (t := r.time_to_resolve) is not None),
    )


@dataclass(frozen=True)
class Availability:
    """Fraction of successful probes per service over the window, and overall."""

    source: str  # e.g. "prometheus avg_over_time(probe_success[...])"
    per_service: dict[str, float]
    overall: float | None
    no_data: tuple[str, ...] = ()  # services the source knows but has no samples for


@dataclass(frozen=True)
class PageSuccess:
    recorded: int
    delivered: int
    failures: tuple[PageTestRecord, ...]

    @property
    def rate(self) -> float | None:
        return self.delivered / self.recorded if self.recorded else None


def page_success(
    records: Iterable[PageTestRecord], since: datetime, until: datetime
) -> PageSuccess:
    window = [r for r in records if since <= r.at < until]
    failed = tuple(r for r in window if not r.delivered)
    return PageSuccess(recorded=len(window), delivered=len(window) - len(failed), failures=failed)


@dataclass(frozen=True)
class Check:
    name: str
    value: str
    target: str
    status: str  # "pass" | "fail" | "no data"
    note: str = ""


@dataclass(frozen=True)
class WeekFigures:
    week_start: date  # Monday, UTC
    incidents: int
    mtta_mean: timedelta | None
    mttr_mean: timedelta | None


@dataclass(frozen=True)
class MetricsReport:
    since: datetime
    until: datetime
    overall: ResponseFigures
    services: list[ResponseFigures]
    weeks: list[WeekFigures]
    checks: list[Check]
    availability: Availability | None = None
    page_success: PageSuccess | None = None
    notes: list[str] = field(default_factory=list)

    @property
    def passed(self) -> bool:
        return all(c.status == "pass" for c in self.checks)


def format_duration(value: timedelta | None) -> str:
    if value is None:
        return "-"
    total = round(value.total_seconds())
    hours, rest = divmod(total, 3600)
    minutes, seconds = divmod(rest, 60)
    if hours:
        return f"{hours}h{minutes:02d}m{seconds:02d}s"
    return f"{minutes}m{seconds:02d}s"


def format_percent(value: float | None, digits: int = 3) -> str:
    return "-" if value is None else f"{value * 100:.{digits}f} %"


def weekly(records: Sequence[IncidentRecord]) -> list[WeekFigures]:
    weeks: dict[date, list[IncidentRecord]] = {}
    for record in records:
        day = record.triggered_at.date()
        weeks.setdefault(day - timedelta(days=day.weekday()), []).append(record)
    result = []
    for start in sorted(weeks):
        figures = response_figures(weeks[start], str(start))
        result.append(WeekFigures(start, figures.incidents, figures.mtta.mean, figures.mttr.mean))
    return result


def build_report(
    records: Sequence[IncidentRecord],
    since: datetime,
    until: datetime,
    *,
    availability: Availability | None = None,
    page_results: PageSuccess | None = None,
    targets: Targets | None = None,
    notes: Sequence[str] = (),
) -> MetricsReport:
    targets = targets or Targets()
    overall = response_figures(records, "all services")
    by_service: dict[str, list[IncidentRecord]] = {}
    names: dict[str, str] = {}
    for record in records:
        by_service.setdefault(record.service_id, []).append(record)
        names[record.service_id] = record.service_name
    services = [
        response_figures(by_service[sid], names[sid], sid)
        for sid in sorted(by_service, key=lambda s: names[s].lower())
    ]

    def duration_check(name: str, stats: DurationStats, target: timedelta, note: str) -> Check:
        if stats.mean is None:
            return Check(name, "-", f"< {format_duration(target)}", "no data", note)
        status = "pass" if stats.mean < target else "fail"
        return Check(
            name, format_duration(stats.mean), f"< {format_duration(target)}", status, note
        )

    checks = [
        duration_check(
            "MTTA (mean)",
            overall.mtta,
            targets.mtta,
            f"{overall.never_acknowledged} of {overall.incidents} never acknowledged",
        ),
        duration_check(
            "MTTR (mean)",
            overall.mttr,
            targets.mttr,
            f"{overall.still_open} of {overall.incidents} still open",
        ),
    ]
    target_availability = f">= {format_percent(targets.availability, 1)}"
    if availability is None or availability.overall is None:
        checks.append(
            Check(
                "Availability",
                "-",
                target_availability,
                "no data",
                "no source given (--prometheus-url or --statuspage-url)",
            )
        )
    else:
        worst = min(availability.per_service.items(), key=lambda kv: kv[1], default=None)
        note = f"lowest: {worst[0]} {format_percent(worst[1])}" if worst else ""
        # Every service must meet the target, not just the average of them.
        lowest = worst[1] if worst else availability.overall
        status = "pass" if lowest >= targets.availability else "fail"
        checks.append(
            Check(
                "Availability",
                format_percent(availability.overall),
                target_availability,
                status,
                note,
            )
        )
    target_pages = f"= {format_percent(targets.page_success, 0)}"
    if page_results is None or page_results.rate is None:
        checks.append(
            Check("Page success", "-", target_pages, "no data", "no page tests or drills recorded")
        )
    else:
        status = "pass" if page_results.rate >= targets.page_success else "fail"
        checks.append(
            Check(
                "Page success",
                format_percent(page_results.rate, 1),
                target_pages,
                status,
                f"{page_results.delivered} of {page_results.recorded} test pages delivered",
            )
        )
    return MetricsReport(
        since=since,
        until=until,
        overall=overall,
        services=services,
        weeks=weekly(records),
        checks=checks,
        availability=availability,
        page_success=page_results,
        notes=list(notes),
    )
