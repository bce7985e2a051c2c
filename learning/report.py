"""Showing a metrics report: a terminal table, JSON, Markdown, and the weekly chart."""

from __future__ import annotations

import io
import json
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table

from learning.metrics import (
    DurationStats,
    MetricsReport,
    ResponseFigures,
    Targets,
    format_duration,
    format_percent,
)

STATUS_WORDS = {"pass": "PASS", "fail": "FAIL", "no data": "NO DATA", "info": "INFO"}


def _seconds(value: timedelta | None) -> float | None:
    return None if value is None else round(value.total_seconds(), 3)


def _stats_json(stats: DurationStats) -> dict[str, Any]:
    return {
        "count": stats.count,
        "mean_seconds": _seconds(stats.mean),
        "median_seconds": _seconds(stats.median),
        "p90_seconds": _seconds(stats.p90),
    }


def _figures_json(figures: ResponseFigures) -> dict[str, Any]:
    return {
        "scope": figures.scope,
        "service_id": figures.service_id,
        "incidents": figures.incidents,
        "never_acknowledged": figures.never_acknowledged,
        "still_open": figures.still_open,
        "mtta": _stats_json(figures.mtta),
        "mttr": _stats_json(figures.mttr),
    }


def to_json(report: MetricsReport) -> str:
    data: dict[str, Any] = {
        "since": report.since.isoformat(),
        "until": report.until.isoformat(),
        "passed": report.passed,
        "checks": [
            {
                "name": c.name,
                "value": c.value,
                "target": c.target,
                "status": c.status,
                "note": c.note,
            }
            for c in report.checks
        ],
        "overall": _figures_json(report.overall),
        "services": [_figures_json(f) for f in report.services],
        "availability": None,
        "page_success": None,
        "weeks": [
            {
                "week_start": w.week_start.isoformat(),
                "incidents": w.incidents,
                "mtta_mean_seconds": _seconds(w.mtta_mean),
                "mttr_mean_seconds": _seconds(w.mttr_mean),
                "never_acknowledged": w.never_acknowledged,
            }
            for w in report.weeks
        ],
        "notes": report.notes,
    }
    if report.availability is not None:
        data["availability"] = {
            "source": report.availability.source,
            "overall": report.availability.overall,
            "per_service": report.availability.per_service,
            "no_data": list(report.availability.no_data),
        }
    if report.page_success is not None:
        data["page_success"] = {
            "recorded": report.page_success.recorded,
            "delivered": report.page_success.delivered,
            "rate": report.page_success.rate,
        }
    return json.dumps(data, indent=2)


def _rows(report: MetricsReport) -> list[list[str]]:
    rows = []
    for figures in [*report.services, report.overall]:
        rows.append(
            [
                figures.scope,
                str(figures.incidents),
                format_duration(figures.mtta.mean),
                format_duration(figures.mtta.median),
                format_duration(figures.mtta.p90),
                format_duration(figures.mttr.mean),
                format_duration(figures.mttr.median),
                format_duration(figures.mttr.p90),
                str(figures.never_acknowledged),
                str(figures.still_open),
            ]
        )
    return rows


HEADERS = [
    "Service", "Incidents", "MTTA mean", "MTTA median", "MTTA p90", "MTTR mean",
    "MTTR median", "MTTR p90", "Never acked", "Still open",
]  # fmt: skip


def to_markdown(report: MetricsReport) -> str:
    lines = [
        f"# Incident response metrics, {report.since:%Y-%m-%d} to {report.until:%Y-%m-%d}",
        "",
        "| Target | Value | Goal | Result | Note |",
        "|---|---|---|---|---|",
    ]
    for check in report.checks:
        lines.append(
            f"| {check.name} | {check.value} | {check.target} | "
            f"**{STATUS_WORDS[check.status]}** | {check.note} |"
        )
    lines += ["", "| " + " | ".join(HEADERS) + " |", "|" + "---|" * len(HEADERS)]
    lines += ["| " + " | ".join(row) + " |" for row in _rows(report)]
    if report.availability and report.availability.per_service:
        lines += ["", "| Service | Availability |", "|---|---|"]
        lines += [
            f"| {name} | {format_percent(value)} |"
            for name, value in sorted(report.availability.per_service.items())
        ]
    if report.page_success and report.page_success.failures:
        lines += ["", "Failed test pages:", ""]
        lines += [
            f"- {r.at:%Y-%m-%d %H:%M} UTC {r.kind} for {r.service}: {r.error or 'not delivered'}"
            for r in report.page_success.failures
        ]
    lines += ["", *[f"Note: {n}" for n in report.notes]]
    return "\n".join(lines).rstrip() + "\n"


def to_table(report: MetricsReport, width: int = 140) -> str:
    buffer = io.StringIO()
    console = Console(file=buffer, width=width, force_terminal=False, color_system=None)
    console.print(
        f"Incident response metrics, {report.since:%Y-%m-%d %H:%M} to "
        f"{report.until:%Y-%m-%d %H:%M} UTC"
    )
    checks = Table("Target", "Value", "Goal", "Result", "Note")
    for check in report.checks:
        checks.add_row(
            check.name, check.value, check.target, STATUS_WORDS[check.status], check.note
        )
    console.print(checks)
    figures = Table(*HEADERS)
    for row in _rows(report):
        figures.add_row(*row)
    console.print(figures)
    if report.availability and report.availability.per_service:
        availability = Table("Service", "Availability")
        for name, value in sorted(report.availability.per_service.items()):
            availability.add_row(name, format_percent(value))
        console.print(availability)
    if report.page_success and report.page_success.failures:
        console.print("Failed test pages:")
        for r in report.page_success.failures:
            console.print(
                f"  {r.at:%Y-%m-%d %H:%M} UTC {r.kind} for {r.service}: "
                f"{r.error or 'not delivered'}"
            )
    for note in report.notes:
        console.print(f"Note: {note}")
    return buffer.getvalue()


@dataclass(frozen=True)
class ChartWeek:
    """One week of the chart, as drawn: every label is text, not only colour."""

    label: str  # "w/c 02 Nov"
    incidents: int
    never_acknowledged: int
    mtta_minutes: float | None
    mttr_minutes: float | None
    mtta_text: str  # what is written on the MTTA bar
    mtta_missed: bool


def chart_weeks(report: MetricsReport, targets: Targets | None = None) -> list[ChartWeek]:
    """The chart's data: every week of the window (quiet weeks say "0 incidents"), and a week
    with a never-acknowledged page is a MISS on the MTTA panel, never a zero-height bar."""
    targets = targets or Targets()
    weeks = []
    for week in report.weeks:
        mtta = None if week.mtta_mean is None else week.mtta_mean.total_seconds() / 60
        mttr = None if week.mttr_mean is None else week.mttr_mean.total_seconds() / 60
        missed = week.never_acknowledged > 0 or (
            mtta is not None and mtta >= targets.mtta.total_seconds() / 60
        )
        if week.never_acknowledged:
            text = f"{week.never_acknowledged} never acked"
        elif mtta is None:
            text = "0 incidents" if week.incidents == 0 else "no data"
        else:
            text = f"{mtta:.1f}"
        weeks.append(
            ChartWeek(
                f"w/c {week.week_start:%d %b}",
                week.incidents,
                week.never_acknowledged,
                mtta,
                mttr,
                text,
                missed,
            )
        )
    return weeks


def write_chart(report: MetricsReport, path: Path, targets: Targets | None = None) -> None:
    """Three panels by week: paging incidents (count, never-acknowledged ones hatched), mean
    MTTA and mean MTTR in minutes against their dashed targets.

    A missed week is drawn in a warning colour AND hatched, and labelled, so the chart does
    not rely on colour alone. A week whose page was never acknowledged gets a full-height
    hatched MTTA bar labelled "N never acked".
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    targets = targets or Targets()
    weeks = chart_weeks(report, targets)
    labels = [w.label for w in weeks] or ["no weeks"]
    positions = list(range(len(weeks)))
    figure, (ax_count, ax_ack, ax_res) = plt.subplots(
        3, 1, figsize=(max(6, 1.1 * len(labels) + 3), 9)
    )
    acked = [w.incidents - w.never_acknowledged for w in weeks]
    ax_count.bar(positions, acked, color="#2e86c1", label="paging incidents")
    never = ax_count.bar(
        positions,
        [w.never_acknowledged for w in weeks],
        bottom=acked,
        color="#c0392b",
        hatch="xx",
        label="never acknowledged (hatched)",
    )
    for bar, week in zip(never, weeks, strict=True):
        ax_count.annotate(
            str(week.incidents),
            (bar.get_x() + bar.get_width() / 2, week.incidents),
            ha="center",
            va="bottom",
            fontsize=8,
        )
    ax_count.set_ylim(0, max([1, *(w.incidents for w in weeks)]) * 1.3)
    ax_count.set_ylabel("incidents")
    for axis, values, target, label in (
        (ax_ack, [w.mtta_minutes for w in weeks], targets.mtta, "MTTA"),
        (ax_res, [w.mttr_minutes for w in weeks], targets.mttr, "MTTR"),
    ):
        goal = target.total_seconds() / 60
        top = max([goal, *(v for v in values if v is not None)]) * 1.25
        heights = []
        missed = []
        texts = []
        for week, value in zip(weeks, values, strict=True):
            never_acked = label == "MTTA" and week.never_acknowledged > 0
            heights.append(top / 1.1 if never_acked else (value or 0.0))
            missed.append(never_acked or (value is not None and value >= goal))
            if label == "MTTA":
                texts.append(week.mtta_text)
            elif value is None:
                texts.append("0 incidents" if week.incidents == 0 else "still open")
            else:
                texts.append(f"{value:.1f}")
        bars = axis.bar(
            positions,
            heights,
            color=["#c0392b" if m else "#2e86c1" for m in missed],
            label=f"weekly mean {label} (hatched: target missed)",
        )
        for bar, miss, text in zip(bars, missed, texts, strict=True):
            if miss:
                bar.set_hatch("//")
            axis.annotate(
                text,
                (bar.get_x() + bar.get_width() / 2, bar.get_height()),
                ha="center",
                va="bottom",
                fontsize=8,
            )
        axis.axhline(goal, color="black", linestyle="--", label=f"target: under {goal:g} min")
        axis.set_ylim(0, top)
        axis.set_ylabel(f"{label} (minutes)")
        axis.grid(axis="y", alpha=0.3)
    for axis in (ax_count, ax_ack, ax_res):
        axis.set_xticks(positions, labels[: len(positions)])
        axis.legend(loc="upper right", fontsize=8)
    figure.suptitle(
        f"Paging incidents by week, {report.since:%Y-%m-%d} to {report.until:%Y-%m-%d} (UTC)"
    )
    figure.tight_layout()
    figure.savefig(path, dpi=100)
    plt.close(figure)
