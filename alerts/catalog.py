"""The alert catalog: which alerts each service gets, from typed thresholds and signals.

Alerts are data (as in the monitoring mixins). `service_alerts(org)` returns one
`ServiceAlert` per alert name and service, with one `Level` per severity; `alerts.rules`
turns them into Prometheus rule groups and `alerts.promtool` into promtool unit tests, so
both always follow the same thresholds.

Default value expressions (``S`` is the signal's selector, default ``service="<id>"``):

============================ ===========================================================
ServiceDown                  ``max(probe_success{S})`` < 1 (every probe failing)
HighErrorRate                ``sum(rate(http_requests_total{S,code=~"5.."}[W]))
                             / sum(rate(http_requests_total{S}[W]))``
HighLatency                  ``histogram_quantile(0.99, sum by (le)
                             (rate(http_request_duration_seconds_bucket{S}[W])))``
HighCPUUsage                 ``1 - sum(rate(node_cpu_seconds_total{S,mode="idle"}[W]))
                             / sum(rate(node_cpu_seconds_total{S}[W]))``
HighMemoryUsage              ``1 - sum(node_memory_MemAvailable_bytes{S})
                             / sum(node_memory_MemTotal_bytes{S})``
DiskSpaceLow                 ``min(node_filesystem_avail_bytes{S,FS}
                             / node_filesystem_size_bytes{S,FS})`` (FS skips tmpfs/overlay)
DatabaseConnectionFailures   ``sum(rate(database_connection_failures_total{S}[W])) * 60``
PaymentProcessingFailures    ``sum(rate(payment_failures_total{S}[W])) * 60``
ErrorBudgetBurn              the error ratio over 1h and 5m, 6h and 30m (page), 1d and
                             2h, 3d and 6h (warning) against burn rates 14.4, 6, 3, 1
Watchdog                     ``vector(1)``
============================ ===========================================================

Every result is aggregated to one series per service, so an alert's labels are exactly
``alertname``, ``severity`` and ``service`` (what routing and inhibition match on).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Literal, TypeVar

from orgconfig.alerting import AlertingSettings, ServiceAlerts, Signal
from orgconfig.model import OrgConfig, Service
from orgconfig.units import format_duration

_T = TypeVar("_T")
Severity = Literal["critical", "warning"]
ValueFormat = Literal["percent", "duration", "number", "raw"]
# How a signal's value behaves from the first sample on (see `alerts.promtool`):
# gauge: exact at once; ratio: exact from the second sample (rates cancel out);
# rate: ramps up until the rate window is full (Prometheus 2.x extrapolation from zero).
Shape = Literal["gauge", "ratio", "rate", "down", "none"]

ALERT_NAMES = (
    "ServiceDown",
    "HighErrorRate",
    "HighLatency",
    "DatabaseConnectionFailures",
    "PaymentProcessingFailures",
    "HighCPUUsage",
    "HighMemoryUsage",
    "DiskSpaceLow",
    "ErrorBudgetBurn",
    "Watchdog",
)
WATCHDOG_SERVICE = "prometheus"
LATENCY_QUANTILE = 0.99
FILESYSTEMS = 'fstype!~"tmpfs|overlay|squashfs"'
FIVE_XX = 'code=~"5.."'
IDLE = 'mode="idle"'
# SRE Workbook, multiwindow multi-burn-rate alerts for a 30-day SLO.
BURN_WINDOWS: dict[Severity, tuple[tuple[float, str, str], ...]] = {
    "critical": ((14.4, "1h", "5m"), (6.0, "6h", "30m")),
    "warning": ((3.0, "1d", "2h"), (1.0, "3d", "6h")),
}

_EQUALITY = re.compile(r'^\s*([a-zA-Z_][a-zA-Z0-9_]*)\s*=\s*"((?:[^"\\]|\\.)*)"\s*$')


@dataclass(frozen=True)
class Level:
    severity: Severity
    threshold: float
    for_: timedelta
    expr: str  # the full rule expression
    summary: str  # a static sentence


@dataclass(frozen=True)
class ServiceAlert:
    """One alert name for one service, with a rule per severity."""

    alert: str
    service: str
    service_name: str
    op: Literal[">", "<"]
    levels: tuple[Level, ...]
    description: str  # Go template; `{{ $value }}` formatted by `value_format`
    value_format: ValueFormat
    shape: Shape  # "none": no generated promtool test (overridden expression or selector)
    labels: dict[str, str] = field(default_factory=dict)  # test series labels (equality)
    window: timedelta = timedelta(minutes=5)


def number(value: float) -> str:
    """A float as PromQL and YAML read it, without binary noise (0.1, not 0.1000000001)."""
    return f"{round(value, 10):.10g}"


def percent(value: float) -> str:
    return f"{round(value * 100, 8):g}%"


def selector_labels(selector: str) -> dict[str, str] | None:
    """Labels a test series needs to match `selector`; None if it is not all `=` matchers."""
    labels: dict[str, str] = {}
    for part in filter(str.strip, _split_matchers(selector)):
        match = _EQUALITY.match(part)
        if not match:
            return None
        labels[match.group(1)] = match.group(2).replace('\\"', '"').replace("\\\\", "\\")
    return labels


def _split_matchers(selector: str) -> list[str]:
    parts, current, quoted, escaped = [], "", False, False
    for char in selector:
        if char == "," and not quoted:
            parts.append(current)
            current = ""
            continue
        current += char
        if escaped:
            escaped = False
        elif char == "\\":
            escaped = True
        elif char == '"':
            quoted = not quoted
    parts.append(current)
    return parts


def _levels(critical: _T, warning: _T) -> tuple[tuple[Severity, _T], ...]:
    return (("critical", critical), ("warning", warning))


def _metric(name: str, selector: str, *extra: str) -> str:
    matchers = ", ".join(m.strip() for m in (selector, *extra) if m.strip())
    return f"{name}{{{matchers}}}"


class _Builder:
    """Builds one service's alerts; holds what every alert of the service shares."""

    def __init__(self, service: Service, settings: AlertingSettings) -> None:
        self.service = service
        self.settings = settings
        self.t = settings.thresholds
        self.signals: ServiceAlerts = service.alerts
        self.default_selector = self.signals.selector or f'service="{service.id}"'
        self.window = format_duration(self.t.rate_window)

    def selector(self, signal: Signal) -> str:
        return signal.selector or self.default_selector

    def alert(
        self,
        name: str,
        signal: Signal,
        default_expr: str,
        op: Literal[">", "<"],
        levels: list[tuple[Severity, float, timedelta, str]],
        description: str,
        value_format: ValueFormat,
        shape: Shape,
    ) -> ServiceAlert:
        value_expr = f"({signal.expr})" if signal.expr else default_expr
        labels = selector_labels(self.selector(signal))
        if signal.expr or labels is None:
            shape = "none"
        return ServiceAlert(
            alert=name,
            service=self.service.id,
            service_name=self.service.name,
            op=op,
            levels=tuple(
                Level(severity, threshold, for_, f"{value_expr} {op} {number(threshold)}", summary)
                for severity, threshold, for_, summary in levels
            ),
            description=description,
            value_format=value_format,
            shape=shape,
            labels=labels or {},
            window=self.t.rate_window,
        )

    def build(self) -> list[ServiceAlert]:
        if not self.signals.enabled:
            return []
        s, t, name, w = self.signals, self.t, self.service.name, self.window
        built: list[ServiceAlert] = []
        if s.down.enabled:
            down_for = format_duration(t.down_for)
            built.append(
                self.alert(
                    "ServiceDown",
                    s.down,
                    f"max({_metric('probe_success', self.selector(s.down))})",
                    "<",
                    [("critical", 1, t.down_for, f"{name} is down.")],
                    f"Every probe of {name} ({self.service.id}) has failed for more than "
                    f"{down_for}; probe_success is {{{{ $value }}}}.",
                    "raw",
                    "down",
                )
            )
        if s.error_rate.enabled:
            sel = self.selector(s.error_rate)
            expr = (
                f"sum(rate({_metric('http_requests_total', sel, FIVE_XX)}[{w}])) / "
                f"sum(rate({_metric('http_requests_total', sel)}[{w}]))"
            )
            built.append(
                self.alert(
                    "HighErrorRate",
                    s.error_rate,
                    expr,
                    ">",
                    [
                        (
                            severity,
                            value,
                            t.error_rate_for,
                            f"{name} is failing more than {percent(value)} of requests.",
                        )
                        for severity, value in _levels(t.error_rate_critical, t.error_rate_warning)
                    ],
                    f"{{{{ $value | humanizePercentage }}}} of requests to {name} failed with a "
                    f"5xx status over the last {w}.",
                    "percent",
                    "ratio",
                )
            )
        if s.latency.enabled:
            sel = self.selector(s.latency)
            bucket = _metric("http_request_duration_seconds_bucket", sel)
            expr = f"histogram_quantile({LATENCY_QUANTILE}, sum by (le) (rate({bucket}[{w}])))"
            built.append(
                self.alert(
                    "HighLatency",
                    s.latency,
                    expr,
                    ">",
                    [
                        (
                            severity,
                            value.total_seconds(),
                            t.latency_for,
                            f"{name} answers slower than {format_duration(value)} "
                            "(99th percentile).",
                        )
                        for severity, value in _levels(t.latency_critical, t.latency_warning)
                    ],
                    f"The 99th percentile response time of {name} is "
                    f"{{{{ $value | humanizeDuration }}}} over the last {w}.",
                    "duration",
                    "ratio",
                )
            )
        for signal, alert_name, metric, per_minute, what in (
            (
                s.database_connection_failures,
                "DatabaseConnectionFailures",
                "database_connection_failures_total",
                t.database_connection_failures_per_minute,
                "failed database connections",
            ),
            (
                s.payment_failures,
                "PaymentProcessingFailures",
                "payment_failures_total",
                t.payment_failures_per_minute,
                "failed payments",
            ),
        ):
            if signal.enabled:
                expr = f"sum(rate({_metric(metric, self.selector(signal))}[{w}])) * 60"
                built.append(
                    self.alert(
                        alert_name,
                        signal,
                        expr,
                        ">",
                        [
                            (
                                "critical",
                                per_minute,
                                t.failures_for,
                                f"{name} has more than {number(per_minute)} {what} a minute.",
                            )
                        ],
                        f"{name} has {{{{ $value | humanize }}}} {what} a minute "
                        f"(average over {w}).",
                        "number",
                        "rate",
                    )
                )
        if s.cpu.enabled:
            sel = self.selector(s.cpu)
            cpu = "node_cpu_seconds_total"
            expr = (
                f"1 - sum(rate({_metric(cpu, sel, IDLE)}[{w}])) / "
                f"sum(rate({_metric(cpu, sel)}[{w}]))"
            )
            built.append(
                self.alert(
                    "HighCPUUsage",
                    s.cpu,
                    expr,
                    ">",
                    [
                        (
                            "warning",
                            t.cpu_warning,
                            t.saturation_for,
                            f"{name} uses more than {percent(t.cpu_warning)} of its CPU.",
                        )
                    ],
                    f"The hosts of {name} are {{{{ $value | humanizePercentage }}}} busy "
                    f"(average over {w}).",
                    "percent",
                    "ratio",
                )
            )
        if s.memory.enabled:
            sel = self.selector(s.memory)
            expr = (
                f"1 - sum({_metric('node_memory_MemAvailable_bytes', sel)}) / "
                f"sum({_metric('node_memory_MemTotal_bytes', sel)})"
            )
            built.append(
                self.alert(
                    "HighMemoryUsage",
                    s.memory,
                    expr,
                    ">",
                    [
                        (
                            "warning",
                            t.memory_warning,
                            t.saturation_for,
                            f"{name} uses more than {percent(t.memory_warning)} of its memory.",
                        )
                    ],
                    f"The hosts of {name} use {{{{ $value | humanizePercentage }}}} of their "
                    "memory.",
                    "percent",
                    "gauge",
                )
            )
        if s.disk.enabled:
            sel = self.selector(s.disk)
            expr = (
                f"min({_metric('node_filesystem_avail_bytes', sel, FILESYSTEMS)} / "
                f"{_metric('node_filesystem_size_bytes', sel, FILESYSTEMS)})"
            )
            built.append(
                self.alert(
                    "DiskSpaceLow",
                    s.disk,
                    expr,
                    "<",
                    [
                        (
                            "warning",
                            t.disk_free_warning,
                            t.saturation_for,
                            f"A disk of {name} has less than {percent(t.disk_free_warning)} "
                            "free space.",
                        )
                    ],
                    f"The fullest filesystem of {name} has {{{{ $value | humanizePercentage }}}} "
                    "free space.",
                    "percent",
                    "gauge",
                )
            )
        if s.error_budget.enabled:
            built.append(self.error_budget())
        return built

    def error_budget(self) -> ServiceAlert:
        signal = self.signals.error_budget
        sel = self.selector(signal)
        budget = 1 - self.t.availability_target
        target = percent(self.t.availability_target)

        def ratio(window: str) -> str:
            errors = _metric("http_requests_total", sel, FIVE_XX)
            return (
                f"sum(rate({errors}[{window}])) / "
                f"sum(rate({_metric('http_requests_total', sel)}[{window}]))"
            )

        hold: dict[Severity, timedelta] = {
            "critical": self.t.error_budget_critical_for,
            "warning": self.t.error_budget_warning_for,
        }
        levels = []
        for severity, pairs in BURN_WINDOWS.items():
            clauses = [
                f"(\n  {ratio(long)} > {number(rate * budget)}\nand\n"
                f"  {ratio(short)} > {number(rate * budget)}\n)"
                for rate, long, short in pairs
            ]
            described = " or ".join(
                f"{number(rate)}x over {long} and {short}" for rate, long, short in pairs
            )
            levels.append(
                Level(
                    severity,
                    # A constant error ratio fires the level at its lowest burn rate.
                    round(min(rate for rate, _, _ in pairs) * budget, 10),
                    hold[severity],
                    "\nor\n".join(clauses) + "\n",
                    f"{self.service.name} burns its {target} availability error budget "
                    f"too fast ({described}).",
                )
            )
        labels = selector_labels(sel)
        return ServiceAlert(
            alert="ErrorBudgetBurn",
            service=self.service.id,
            service_name=self.service.name,
            op=">",
            levels=tuple(levels),
            description=f"{{{{ $value | humanizePercentage }}}} of requests to "
            f"{self.service.name} are failing; at this rate the 30-day error budget of "
            f"{percent(budget)} ({target} target) runs out early.",
            value_format="percent",
            shape="ratio" if labels is not None else "none",
            labels=labels or {},
            window=self.t.rate_window,
        )


def service_alerts(org: OrgConfig) -> list[ServiceAlert]:
    """Every alert of every service, in config order (services, then the catalog's order)."""
    order = {name: index for index, name in enumerate(ALERT_NAMES)}
    built = []
    for service in org.services:
        alerts = _Builder(service, org.alerting).build()
        built.extend(sorted(alerts, key=lambda a: order[a.alert]))
    return built


def runbook_url(settings: AlertingSettings, alert: str) -> str:
    return f"{settings.runbook_base_url}{alert}.md"
