"""Response metrics against the targets: pure functions over incident records.

Definitions (also in ``irctl metrics --help`` and the runbook):

* Only paging incidents count: high urgency, not on a test or drill service of the org
  config (``learning.scope``). Incidents on test and drill services are reported as page
  success instead (each one is a page that arrived); low-urgency incidents are counted in a
  note.
* MTTA: trigger to the FIRST acknowledgement, over incidents that were acknowledged. A
  paging incident that was never acknowledged (resolved without it, or open longer than the
  target) FAILS the MTTA check whatever the mean says: an unanswered page is a missed
  target, never averaged away.
* MTTR: trigger to resolution, over resolved incidents.
* Time to detect: the alert's ``startsAt`` to the PagerDuty trigger, from the postmortems'
  front matter (``impact_started_at`` to ``triggered_at``); shown, no target.
* Time to first public update: trigger to the first status page update of an incident on
  the service's status page component; target under 15 minutes.
* Incidents never acknowledged and incidents still open are counted and shown, never
  dropped silently.
* Median and p90 use the nearest-rank method: p90 is the smallest value that at least
  90 % of the values are less than or equal to.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING

from learning.incidents import IncidentRecord
from learning.records import PageTestRecord
from learning.scope import IncidentScope

if TYPE_CHECKING:
    from learning.drill_reports import DrillReport


@dataclass(frozen=True)
class Targets:
    mtta: timedelta = timedelta(minutes=5)
    mttr: timedelta = timedelta(minutes=30)
    availability: float = 0.999
    page_success: float = 1.0
    first_public_update: timedelta = timedelta(minutes=15)


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
    incident_ids: frozenset[str] = frozenset()  # incidents the records name

    @property
    def rate(self) -> float | None:
        return self.delivered / self.recorded if self.recorded else None


def page_success(
    records: Iterable[PageTestRecord], since: datetime, until: datetime
) -> PageSuccess:
    window = [r for r in records if since <= r.at < until]
    failed = tuple(r for r in window if not r.delivered)
    return PageSuccess(
        recorded=len(window),
        delivered=len(window) - len(failed),
        failures=failed,
        incident_ids=frozenset(r.incident_id for r in window if r.incident_id),
    )


def with_test_pages(
    results: PageSuccess | None, test_incidents: Sequence[IncidentRecord]
) -> PageSuccess | None:
    """Incidents on test and drill services are pages that arrived: count each once (a
    record that already names the incident is not counted again)."""
    if not test_incidents:
        return results
    base = results or PageSuccess(0, 0, ())
    extra = [i for i in test_incidents if i.id not in base.incident_ids]
    return PageSuccess(
        base.recorded + len(extra),
        base.delivered + len(extra),
        base.failures,
        base.incident_ids | {i.id for i in extra},
    )


def with_drill_pages(
    results: PageSuccess | None, reports: Sequence[DrillReport]
) -> PageSuccess | None:
    """Each drill report's live page counts once (not again when the page-test record file
    already names its incident); an undelivered drill page is a failure."""
    extra = [r for r in reports if not (r.incident_id and results and r.incident_id in
                                         results.incident_ids)]  # fmt: skip
    if not extra:
        return results
    base = results or PageSuccess(0, 0, ())
    delivered = sum(1 for r in extra if r.page_delivered)
    return PageSuccess(
        base.recorded + len(extra),
        base.delivered + delivered,
        base.failures,
        base.incident_ids | {r.incident_id for r in extra if r.incident_id},
    )


@dataclass(frozen=True)
class Check:
    name: str
    value: str
    target: str
    status: str  # "pass" | "fail" | "no data" | "info" (shown, no target)
    note: str = ""


@dataclass(frozen=True)
class WeekFigures:
    week_start: date  # Monday, UTC
    incidents: int
    mtta_mean: timedelta | None
    mttr_mean: timedelta | None
    never_acknowledged: int = 0


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
        return all(c.status in ("pass", "info") for c in self.checks)


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


def _monday(day: date) -> date:
    return day - timedelta(days=day.weekday())


def weekly(
    records: Sequence[IncidentRecord], since: datetime | None = None, until: datetime | None = None
) -> list[WeekFigures]:
    """One entry per week from the week of ``since`` to the week of ``until``, empty weeks
    included, so a quiet week shows as zero incidents rather than vanishing from the axis."""
    weeks: dict[date, list[IncidentRecord]] = {}
    for record in records:
        weeks.setdefault(_monday(record.triggered_at.date()), []).append(record)
    if since is not None and until is not None:
        monday = _monday(since.date())
        last = _monday((until - timedelta(microseconds=1)).date())
        while monday <= last:
            weeks.setdefault(monday, [])
            monday += timedelta(days=7)
    result = []
    for start in sorted(weeks):
        figures = response_figures(weeks[start], str(start))
        result.append(
            WeekFigures(
                start,
                figures.incidents,
                figures.mtta.mean,
                figures.mttr.mean,
                figures.never_acknowledged,
            )
        )
    return result


def missed_acknowledgements(
    records: Sequence[IncidentRecord], until: datetime, target: timedelta
) -> list[IncidentRecord]:
    """Paging incidents nobody acknowledged: resolved without it, or open past the target."""
    return [
        r
        for r in records
        if r.first_acknowledged_at is None and (not r.is_open or until - r.triggered_at >= target)
    ]


def build_report(
    records: Sequence[IncidentRecord],
    since: datetime,
    until: datetime,
    *,
    availability: Availability | None = None,
    page_results: PageSuccess | None = None,
    targets: Targets | None = None,
    notes: Sequence[str] = (),
    scope: IncidentScope | None = None,
    detection: Sequence[timedelta] | None = None,
    public_updates: Mapping[str, timedelta] | None = None,
    drills: Sequence[DrillReport] = (),
) -> MetricsReport:
    """The report over PAGING incidents (see the module docstring); ``detection`` holds times
    to detect from postmortems, ``public_updates`` trigger-to-first-status-page-update per
    incident id (None: not measured)."""
    targets = targets or Targets()
    all_records = records
    records, tests, low = (scope or IncidentScope(frozenset())).split(all_records)
    notes = list(notes)
    if tests:
        notes.append(
            f"{len(tests)} incident(s) on test or drill services counted as page success, "
            "not in MTTA/MTTR."
        )
    if low:
        notes.append(f"{len(low)} low-urgency incident(s) paged nobody: not in MTTA/MTTR.")
    page_results = with_drill_pages(with_test_pages(page_results, tests), drills)
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

    missed = missed_acknowledgements(records, until, targets.mtta)
    mtta = duration_check(
        "MTTA (mean)",
        overall.mtta,
        targets.mtta,
        f"{overall.never_acknowledged} of {overall.incidents} never acknowledged",
    )
    if missed:
        mtta = Check(
            mtta.name,
            mtta.value,
            mtta.target,
            "fail",
            f"{len(missed)} of {overall.incidents} paging incidents never acknowledged "
            "(each is a missed target)",
        )
    checks = [
        mtta,
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
    if detection:
        stats = duration_stats(detection)
        checks.append(
            Check(
                "Time to detect (mean)",
                format_duration(stats.mean),
                "-",
                "info",
                f"alert startsAt to page, from {stats.count} postmortem(s); p90 "
                f"{format_duration(stats.p90)}",
            )
        )
    if public_updates is not None:
        stats = duration_stats(public_updates.values())
        goal = f"< {format_duration(targets.first_public_update)}"
        without = sum(1 for r in records if r.id not in public_updates)
        note = f"{stats.count} of {len(records)} paging incidents had a status page update"
        if stats.mean is None:
            checks.append(Check("First public update (mean)", "-", goal, "no data", note))
        else:
            late = sum(1 for v in public_updates.values() if v >= targets.first_public_update)
            status = "pass" if stats.mean < targets.first_public_update and not late else "fail"
            note += f"; {late} later than the target" if late else ""
            checks.append(
                Check(
                    "First public update (mean)",
                    format_duration(stats.mean),
                    goal,
                    status,
                    note + (f"; {without} without one" if without else ""),
                )
            )
    if drills:
        items = [c for d in drills for c in d.criteria]
        met = sum(1 for c in items if c.met)
        missed_items = [f"{d.scenario}: {item}" for d in drills for item in d.missed]
        checks.append(
            Check(
                "Drill criteria met",
                f"{met} of {len(items)}",
                "all",
                "pass" if not missed_items else "fail",
                f"{len(drills)} drill(s)"
                + (f"; missed: {'; '.join(missed_items)}" if missed_items else ""),
            )
        )
        firsts = [d.first_public_update for d in drills if d.first_public_update is not None]
        if firsts:
            stats = duration_stats(firsts)
            mean = stats.mean or timedelta(0)
            checks.append(
                Check(
                    "First public update in drills (mean)",
                    format_duration(mean),
                    f"< {format_duration(targets.first_public_update)}",
                    "pass" if mean < targets.first_public_update else "fail",
                    f"{len(firsts)} of {len(drills)} drill(s) posted one",
                )
            )
    return MetricsReport(
        since=since,
        until=until,
        overall=overall,
        services=services,
        weeks=weekly(records, since, until),
        checks=checks,
        availability=availability,
        page_success=page_results,
        notes=notes,
    )
