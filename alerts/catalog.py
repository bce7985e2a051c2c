"""The alert registry: every alert is one declarative record (`AlertSpec` in `REGISTRY`).

A record says which signal of a service it reads, where its series come from (`source`),
its levels (severity, threshold, `for`, a static summary), the comparison, the value
expression template, how the value is shown, the generator of its promtool test series
(`series`, from `alerts.series`) and its runbook text. Rules
(`alerts.rules`), promtool tests (`alerts.promtool`), the runbook pages, the catalog table
and the metric contract (`alerts.docs`) are all generated from these records in one loop
each, as the monitoring mixins do with their alert records.

Selectors (``S``) by source, each overridable per service and per signal:

- ``app``: ``service="<id>"`` (the service's own metrics and its probes);
- ``workload``: ``namespace="<ns>", pod=~"<pod regex>"`` (cAdvisor, kube-state-metrics);
- ``volume``: ``namespace="<ns>", persistentvolumeclaim=~"<pvc regex>"`` (kubelet).

Every result is aggregated to one series per service, so an alert's labels are exactly
``alertname``, ``severity`` and ``service`` (plus ``signal`` on SignalMissing): the labels
routing and inhibition match on are always present.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Literal

from alerts import series
from alerts.series import LATENCY_QUANTILE, Input, number
from orgconfig.alerting import (
    AlertingSettings,
    Signal,
    Thresholds,
    default_pod_regex,
    default_pvc_regex,
)
from orgconfig.model import OrgConfig, Service
from orgconfig.units import format_duration

Severity = Literal["critical", "warning"]
ValueFormat = Literal["percent", "duration", "number", "raw"]
Source = Literal["app", "workload", "volume"]
# How a signal's value behaves from the first sample on (see `alerts.promtool`):
# gauge: exact at once; ratio: exact from the second sample (rates cancel out);
# rate: ramps up until the rate window is full (Prometheus 2.x extrapolation from zero).
Shape = Literal["gauge", "ratio", "rate", "down", "none"]

WATCHDOG_SERVICE = "prometheus"
SIGNAL_MISSING = "SignalMissing"
FIVE_XX = 'code=~"5.."'
CONTAINERS = 'container!=""'  # cAdvisor also reports the pod's cgroup with container=""
# SRE Workbook, multiwindow multi-burn-rate alerts for a 30-day SLO.
BURN_WINDOWS: dict[Severity, tuple[tuple[float, str, str], ...]] = {
    "critical": ((14.4, "1h", "5m"), (6.0, "6h", "30m")),
    "warning": ((3.0, "1d", "2h"), (1.0, "3d", "6h")),
}
ERROR_RATIO = "service:http_request_error_ratio:rate"  # + window: a recording rule per window

_EQUALITY = re.compile(r'^\s*([a-zA-Z_][a-zA-Z0-9_]*)\s*=\s*"((?:[^"\\]|\\.)*)"\s*$')
_REGEX = re.compile(r'^\s*([a-zA-Z_][a-zA-Z0-9_]*)\s*=~\s*"([^"\\]*)"\s*$')


def fill(template: str, **values: str) -> str:
    """`{key}` replaced for the given keys only; Go template braces stay as they are."""
    return re.sub(r"\{(\w+)\}", lambda m: values.get(m.group(1), m.group(0)), template)


def percent(value: float) -> str:
    return f"{round(value * 100, 8):g}%"


def metric(name: str, selector: str, *extra: str) -> str:
    matchers = ", ".join(m.strip() for m in (selector, *extra) if m.strip())
    return f"{name}{{{matchers}}}"


# --------------------------------------------------------------------------- records


@dataclass(frozen=True)
class LevelSpec:
    severity: Severity
    threshold: Callable[[Thresholds], float]
    for_: Callable[[Thresholds], timedelta]
    summary: str  # static; {name} = service name, {threshold} = the formatted threshold


@dataclass(frozen=True)
class Runbook:
    fires_when: str  # markdown; names the config keys, never who is paged
    check: tuple[str, ...]
    do: tuple[str, ...]


@dataclass(frozen=True)
class Context:
    """What a record's expression template may use."""

    selector: str
    window: str
    thresholds: Thresholds
    service: Service


@dataclass(frozen=True)
class AlertSpec:
    name: str
    signal: str  # the `ServiceAlerts` field that turns it on or off and overrides it
    source: Source
    op: Literal[">", "<"]
    levels: tuple[LevelSpec, ...]
    value: Callable[[Context], str]  # the value expression (a threshold is compared to it)
    description: str  # Go template; {name}, {window}; `{{ $value }}` formatted by value_format
    value_format: ValueFormat
    shape: Shape
    metrics: tuple[str, ...]  # series it reads (the metric contract), the guarded one first
    series: Input  # promtool test series that make `value` read a given number
    runbook: Runbook

    def pages(self) -> bool:
        return any(level.severity == "critical" for level in self.levels)


def _fmt(kind: ValueFormat) -> Callable[[float], str]:
    if kind == "percent":
        return percent
    if kind == "duration":
        return lambda seconds: format_duration(timedelta(seconds=seconds))
    return number


def _error_ratio(c: Context) -> str:
    return (
        f"sum(rate({metric('http_requests_total', c.selector, FIVE_XX)}[{c.window}])) / "
        f"sum(rate({metric('http_requests_total', c.selector)}[{c.window}]))"
    )


def _latency(c: Context) -> str:
    bucket = metric("http_request_duration_seconds_bucket", c.selector)
    return f"histogram_quantile({LATENCY_QUANTILE}, sum by (le) (rate({bucket}[{c.window}])))"


def _limits(c: Context, resource: str) -> str:
    matcher = f'resource="{resource}"'
    return f"sum({metric('kube_pod_container_resource_limits', c.selector, matcher)})"


def _cpu(c: Context) -> str:
    usage = metric("container_cpu_usage_seconds_total", c.selector, CONTAINERS)
    return f"sum(rate({usage}[{c.window}])) / {_limits(c, 'cpu')}"


def _memory(c: Context) -> str:
    working_set = metric("container_memory_working_set_bytes", c.selector, CONTAINERS)
    return f"sum({working_set}) / {_limits(c, 'memory')}"


def _disk(c: Context) -> str:
    return (
        f"min({metric('kubelet_volume_stats_available_bytes', c.selector)} / "
        f"{metric('kubelet_volume_stats_capacity_bytes', c.selector)})"
    )


def _failure_ratio(failed: str, attempted: str) -> Callable[[Context], str]:
    def value(c: Context) -> str:
        return (
            f"sum(rate({metric(failed, c.selector)}[{c.window}])) / "
            f"sum(rate({metric(attempted, c.selector)}[{c.window}]))"
        )

    return value


def _per_minute(counter: str) -> Callable[[Context], str]:
    return lambda c: f"sum(rate({metric(counter, c.selector)}[{c.window}])) * 60"


def _burn_value(c: Context) -> str:
    return metric(f"{ERROR_RATIO}5m", f'service="{c.service.id}"')


REGISTRY: tuple[AlertSpec, ...] = (
    AlertSpec(
        name="ServiceDown",
        signal="down",
        source="app",
        op="<",
        levels=(LevelSpec("critical", lambda t: 1.0, lambda t: t.down_for, "{name} is down."),),
        value=lambda c: f"max({metric('probe_success', c.selector)})",
        description="Every probe of {name} ({id}) has failed for more than {for}; "
        "probe_success is {{ $value }}.",
        value_format="raw",
        shape="down",
        metrics=("probe_success",),
        series=series.probes,
        runbook=Runbook(
            'every synthetic probe of the service fails (`max(probe_success{service="<id>"}) '
            "< 1`) for `down_for`. The probes come from the status page's checks or a "
            "blackbox exporter `Probe`; both carry the `service` label.",
            (
                "Is it really down for users? Open the public URL yourself, and the status page.",
                "Is only the probe broken? If *all* services went down at once, suspect the "
                "prober, DNS or the network between them, not the service.",
                "What changed? Recent deploys (`kubectl rollout history`), config merges, "
                "certificate expiry, DNS changes.",
                "Pods and nodes: `kubectl get pods -n <namespace> -o wide`, restarts, "
                "`OOMKilled`, pending pods, failing readiness probes; the ingress logs.",
            ),
            (
                "A bad deploy: roll back first (`kubectl rollout undo deploy/<service>`), "
                "debug after.",
                "Crash-looping pods: read `kubectl logs --previous`; scale out healthy replicas.",
                "Dependency down (database, payment provider): follow that alert's runbook.",
                "Declare an incident if users are affected for more than 5 minutes; keep the "
                "status page updated.",
            ),
        ),
    ),
    AlertSpec(
        name="HighErrorRate",
        signal="error_rate",
        source="app",
        op=">",
        levels=(
            LevelSpec(
                "critical",
                lambda t: t.error_rate_critical,
                lambda t: t.error_rate_for,
                "{name} is failing more than {threshold} of requests.",
            ),
            LevelSpec(
                "warning",
                lambda t: t.error_rate_warning,
                lambda t: t.error_rate_for,
                "{name} is failing more than {threshold} of requests.",
            ),
        ),
        value=_error_ratio,
        description="{{ $value | humanizePercentage }} of requests to {name} failed with a "
        "5xx status over the last {window}.",
        value_format="percent",
        shape="ratio",
        metrics=("http_requests_total",),
        series=series.requests,
        runbook=Runbook(
            "the 5xx share of `http_requests_total` over `rate_window` stays above "
            "`error_rate_critical` (page) or `error_rate_warning` (Slack) for "
            "`error_rate_for`. The critical inhibits the warning of the same service.",
            (
                "Which endpoints fail? `sum by (handler, code) (rate(http_requests_total"
                '{service="<id>",code=~"5.."}[5m]))`.',
                "Did it start with a deploy or a config change?",
                "Is a dependency failing? Look for `DatabaseConnectionFailures` or "
                "`PaymentProcessingFailures` firing at the same time.",
                "Read the application logs for the top error.",
            ),
            (
                "Roll back a bad deploy; switch off the feature flag that started it.",
                "Shed load (rate limits, scale out) when errors come from saturation.",
                "At critical level, open an incident and update the status page.",
            ),
        ),
    ),
    AlertSpec(
        name="HighLatency",
        signal="latency",
        source="app",
        op=">",
        levels=(
            LevelSpec(
                "critical",
                lambda t: t.latency_critical.total_seconds(),
                lambda t: t.latency_for,
                "{name} answers slower than {threshold} (99th percentile).",
            ),
            LevelSpec(
                "warning",
                lambda t: t.latency_warning.total_seconds(),
                lambda t: t.latency_for,
                "{name} answers slower than {threshold} (99th percentile).",
            ),
        ),
        value=_latency,
        description="The 99th percentile response time of {name} is "
        "{{ $value | humanizeDuration }} over the last {window}.",
        value_format="duration",
        shape="ratio",
        metrics=("http_request_duration_seconds_bucket",),
        series=series.latency,
        runbook=Runbook(
            "the 99th percentile of `http_request_duration_seconds` over `rate_window` stays "
            "above `latency_critical` (page) or `latency_warning` (Slack) for `latency_for`.",
            (
                "All endpoints or one? `histogram_quantile(0.99, sum by (le, handler) "
                '(rate(http_request_duration_seconds_bucket{service="<id>"}[5m])))`.',
                "Saturation: CPU throttling, memory pressure, connection pool exhaustion.",
                "Slow dependencies: database query times, lock waits, the payment provider.",
                "Traffic: a spike or a single abusive client.",
            ),
            (
                "Scale out when saturated.",
                "Kill or throttle the runaway query or client; roll back a slow deploy.",
            ),
        ),
    ),
    AlertSpec(
        name="DatabaseConnectionFailures",
        signal="database_connection_failures",
        source="app",
        op=">",
        levels=(
            LevelSpec(
                "critical",
                lambda t: t.database_connection_failures_per_minute,
                lambda t: t.failures_for,
                "{name} has more than {threshold} failed database connections a minute.",
            ),
        ),
        value=_per_minute("database_connection_failures_total"),
        description="{name} has {{ $value | humanize }} failed database connections a minute "
        "(average over {window}).",
        value_format="number",
        shape="rate",
        metrics=("database_connection_failures_total",),
        series=series.per_minute("database_connection_failures_total"),
        runbook=Runbook(
            "`database_connection_failures_total` grows faster than "
            "`database_connection_failures_per_minute` on average over `rate_window`, for "
            "`failures_for`.",
            (
                "Is the database up and accepting connections? `pg_isready`; the primary's "
                "logs; a failover in progress?",
                "Connection limits: `pg_stat_activity` against `max_connections`; a leak in a "
                "new deploy; the pooler's limits.",
                "Credentials and TLS: a rotated password or an expired certificate.",
                "Network: DNS of the database host, network policies.",
            ),
            (
                "Restart a leaking client deployment; raise the pool limit only as a stopgap.",
                "If the primary is down, follow the database failover procedure.",
                "Roll back a credential rotation that did not reach every client.",
            ),
        ),
    ),
    AlertSpec(
        name="PaymentProcessingFailures",
        signal="payment_failures",
        source="app",
        op=">",
        levels=(
            LevelSpec(
                "critical",
                lambda t: t.payment_failure_ratio,
                lambda t: t.failures_for,
                "{name} fails more than {threshold} of payment attempts.",
            ),
        ),
        value=_failure_ratio("payment_failures_total", "payment_attempts_total"),
        description="{{ $value | humanizePercentage }} of payment attempts of {name} failed "
        "over the last {window}.",
        value_format="percent",
        shape="ratio",
        metrics=("payment_attempts_total", "payment_failures_total"),
        series=series.payments,
        runbook=Runbook(
            "failed payments (`payment_failures_total`) are more than `payment_failure_ratio` "
            "of attempted payments (`payment_attempts_total`) over `rate_window`, for "
            "`failures_for`. A ratio, so a quiet night and a busy sale are judged alike.",
            (
                "The payment provider's status page and its error codes in our logs (declines "
                "are normal; timeouts, 5xx and authentication errors are not).",
                "A deploy of checkout or a rotated provider API key.",
                "Is it one card network, country or currency?",
            ),
            (
                "Provider outage: switch to the fallback provider if configured; queue retries.",
                "Our bug: roll back; never retry charges blindly (double charging).",
                "Keep a list of affected orders for support and finance.",
            ),
        ),
    ),
    AlertSpec(
        name="HighCPUUsage",
        signal="cpu",
        source="workload",
        op=">",
        levels=(
            LevelSpec(
                "warning",
                lambda t: t.cpu_warning,
                lambda t: t.saturation_for,
                "{name} uses more than {threshold} of its CPU limit.",
            ),
        ),
        value=_cpu,
        description="The containers of {name} use {{ $value | humanizePercentage }} of their "
        "CPU limits (average over {window}).",
        value_format="percent",
        shape="rate",  # a rate over a constant limit ramps up like a rate
        metrics=("container_cpu_usage_seconds_total", "kube_pod_container_resource_limits"),
        series=series.cpu,
        runbook=Runbook(
            "the service's containers (cAdvisor `container_cpu_usage_seconds_total`) use more "
            "than `cpu_warning` of their CPU limits (kube-state-metrics "
            '`kube_pod_container_resource_limits{resource="cpu"}`) over `rate_window`, for '
            "`saturation_for`.",
            (
                "Which pod? `container_cpu_usage_seconds_total` by `pod`.",
                "Load (more traffic) or a regression (same traffic, more CPU per request)?",
                "Throttling: `container_cpu_cfs_throttled_periods_total`.",
            ),
            (
                "Scale out for genuine load; roll back a regression.",
                "Raise CPU limits that throttle a latency-sensitive service.",
            ),
        ),
    ),
    AlertSpec(
        name="HighMemoryUsage",
        signal="memory",
        source="workload",
        op=">",
        levels=(
            LevelSpec(
                "warning",
                lambda t: t.memory_warning,
                lambda t: t.saturation_for,
                "{name} uses more than {threshold} of its memory limit.",
            ),
        ),
        value=_memory,
        description="The containers of {name} use {{ $value | humanizePercentage }} of their "
        "memory limits.",
        value_format="percent",
        shape="gauge",
        metrics=("container_memory_working_set_bytes", "kube_pod_container_resource_limits"),
        series=series.memory,
        runbook=Runbook(
            "the working set of the service's containers (`container_memory_working_set_bytes`, "
            "what the OOM killer looks at) is above `memory_warning` of their memory limits for "
            "`saturation_for`.",
            (
                "Which pod grows? A leak shows as a steady climb since the last restart.",
                "Recent deploys or traffic changes (bigger payloads, caches without limits).",
            ),
            (
                "Restart the leaking pod to buy time (rolling), then find the leak.",
                "Set or lower cache sizes; raise the limit for genuine growth.",
            ),
        ),
    ),
    AlertSpec(
        name="DiskSpaceLow",
        signal="disk",
        source="volume",
        op="<",
        levels=(
            LevelSpec(
                "warning",
                lambda t: t.disk_free_warning,
                lambda t: t.saturation_for,
                "A volume of {name} has less than {threshold} free space.",
            ),
        ),
        value=_disk,
        description="The fullest volume of {name} has {{ $value | humanizePercentage }} free "
        "space.",
        value_format="percent",
        shape="gauge",
        metrics=("kubelet_volume_stats_available_bytes", "kubelet_volume_stats_capacity_bytes"),
        series=series.disk,
        runbook=Runbook(
            "the fullest PersistentVolumeClaim of the service (kubelet "
            "`kubelet_volume_stats_available_bytes / kubelet_volume_stats_capacity_bytes`) has "
            "less than `disk_free_warning` free for `saturation_for`.",
            (
                "Which claim? `kubelet_volume_stats_available_bytes` by `persistentvolumeclaim`.",
                "What grows? Logs, database WAL, dumps.",
                "How fast? `predict_linear(kubelet_volume_stats_available_bytes[6h], 86400)`.",
            ),
            (
                "Delete or rotate what is safe to delete; never delete database files.",
                "Expand the PVC (its StorageClass must allow volume expansion).",
            ),
        ),
    ),
    AlertSpec(
        name="ErrorBudgetBurn",
        signal="error_budget",
        source="app",
        op=">",
        levels=(
            LevelSpec(
                "critical",
                lambda t: BURN_WINDOWS["critical"][-1][0] * (1 - t.availability_target),
                lambda t: t.error_budget_critical_for,
                "{name} burns its {target} availability error budget too fast ({burn}).",
            ),
            LevelSpec(
                "warning",
                lambda t: BURN_WINDOWS["warning"][-1][0] * (1 - t.availability_target),
                lambda t: t.error_budget_warning_for,
                "{name} burns its {target} availability error budget too fast ({burn}).",
            ),
        ),
        value=_burn_value,
        description="{{ $value | humanizePercentage }} of requests to {name} are failing; at "
        "this rate the 30-day error budget of {budget} ({target} target) runs out early.",
        value_format="percent",
        shape="ratio",
        metrics=("http_requests_total",),
        series=series.requests,
        runbook=Runbook(
            "the error ratio burns the 30-day error budget of `availability_target` too fast in "
            "a long and a short window at once (SRE Workbook multiwindow, multi-burn-rate): "
            "page at 14.4x over 1h and 5m or 6x over 6h and 30m; Slack at 3x over 1d and 2h or "
            "1x over 3d and 6h. The ratios come from recording rules "
            "`service:http_request_error_ratio:rate<window>` (as Sloth and Pyrra do), so a 3-day "
            "window is not recomputed from raw counters by every rule. No `for` by default: the "
            "short window already proves the burn is still going on.",
            (
                "Is `HighErrorRate` firing too? Then follow that runbook.",
                "If not, errors are low but steady: which endpoint or client?",
                "How much budget is left this month?",
            ),
            (
                "Critical: treat as an incident; stop the bleeding (roll back, fail over).",
                "Warning: open a ticket; freeze risky deploys until the burn stops.",
            ),
        ),
    ),
)
SIGNAL_MISSING_RUNBOOK = Runbook(
    "a paging alert's value expression has returned no series at all for `no_data_for` "
    "(label `signal` names the alert). A rule over a series that does not exist never fires, "
    "so without this guard a renamed metric, a relabelled `service` label (e.g. "
    "`exported_service` when a ServiceMonitor lacks `honorLabels: true`) or a stopped scrape "
    "would silence the page for good. Severity warning: it reaches the team's Slack channel; "
    "ServiceDown of the same service inhibits it (a dead process exports nothing).",
    (
        "Which series? The rule's expression is in the alert; run it in Prometheus and drop "
        "matchers until something comes back.",
        "Is the target scraped? Prometheus `/targets`: is it up, and does it carry the labels "
        "the rule selects (`service`, `namespace`, `pod`)?",
        "Did a deploy rename a metric or a label? Compare with docs/metrics-contract.md.",
        "Is Prometheus allowed to discover the namespace (kube-prometheus RBAC)?",
    ),
    (
        "Restore the series (fix the exporter, the ServiceMonitor/Probe, or the RBAC), or "
        "point the signal's `selector`/`expr` in the org config at the series that exists.",
        "Until the data is back, watch the service by hand: this alert means it cannot page.",
    ),
)
WATCHDOG_RUNBOOK = Runbook(
    "always (`vector(1)`): it is the dead man's switch. It is routed first to the `heartbeat` "
    "receiver, which pings an external heartbeat service every minute; that service pages the "
    "`catch-all` PagerDuty service (`alerting.catch_all_service`) when the pings stop. Prod "
    "must have a heartbeat URL: the policy pack refuses an Alertmanager config without one, "
    "and `irctl validate` warns when `Pulumi.prod.yaml` sets no `heartbeatUrl` secret.",
    (
        "Is Prometheus up and evaluating rules? Its `/rules` page, "
        "`prometheus_rule_evaluation_failures_total`, `prometheus_notifications_dropped_total`.",
        "Is Alertmanager up and reachable from Prometheus? `/-/ready`, its logs, the "
        "`alertmanager-<name>` Secret in the Alertmanager's namespace.",
        "Can Alertmanager reach the internet (egress network policy, proxy, DNS)?",
    ),
    (
        "Restore the pipeline first: while it is broken, no alert pages anybody. Watch the "
        "dashboards by hand and tell the on-call team.",
        "Never silence Watchdog: silencing it is indistinguishable from a dead pipeline.",
    ),
)
ALERT_NAMES = (*(spec.name for spec in REGISTRY), SIGNAL_MISSING, "Watchdog")
BY_NAME = {spec.name: spec for spec in REGISTRY}


# --------------------------------------------------------------------------- built alerts


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
    labels: dict[str, str] = field(default_factory=dict)  # test series labels
    window: timedelta = timedelta(minutes=5)
    value_expr: str = ""
    extra_labels: dict[str, str] = field(default_factory=dict)  # rule labels besides the two


def selector_labels(selector: str) -> dict[str, str] | None:
    """Labels a test series needs to match `selector`; None if a matcher cannot be met by
    a label value we can derive (only `=` and simple `=~` regexes can)."""
    labels: dict[str, str] = {}
    for part in filter(str.strip, _split_matchers(selector)):
        if match := _EQUALITY.match(part):
            labels[match.group(1)] = match.group(2).replace('\\"', '"').replace("\\\\", "\\")
        elif (regex := _REGEX.match(part)) and (example := regex_example(regex.group(2))):
            labels[regex.group(1)] = example
        else:
            return None
    return labels


def regex_example(regex: str) -> str | None:
    """A string the (RE2, fully anchored) regex matches, for simple name patterns."""
    candidate = re.sub(r"\([^()]*\)[?*]", "", regex)
    candidate = re.sub(r"\[[^\]]*\][*?]|\.\*", "", candidate)
    candidate = re.sub(r"\[[^\]]*\]\+|\.\+", "0", candidate)
    try:
        return candidate if re.fullmatch(regex, candidate) else None
    except re.error:
        return None


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


def default_selector(service: Service, settings: AlertingSettings, source: Source) -> str:
    """The selector of a source for a service, before any per-signal override."""
    if source == "app":
        return service.alerts.selector or f'service="{service.id}"'
    workload = service.workload
    namespace = workload.namespace or settings.workload_namespace
    deployment = workload.deployment or service.id
    if source == "workload":
        return f'namespace="{namespace}", pod=~"{workload.pod or default_pod_regex(deployment)}"'
    return (
        f'namespace="{namespace}", '
        f'persistentvolumeclaim=~"{workload.pvc or default_pvc_regex(deployment)}"'
    )


def _burn_levels(spec: AlertSpec, service: Service, t: Thresholds) -> list[Level]:
    budget = 1 - t.availability_target
    levels = []
    for level in spec.levels:
        pairs = BURN_WINDOWS[level.severity]
        clauses = [
            f"(\n  {_ratio(service, long)} > {number(rate * budget)}\nand\n"
            f"  {_ratio(service, short)} > {number(rate * budget)}\n)"
            for rate, long, short in pairs
        ]
        burn = " or ".join(
            f"{number(rate)}x over {long} and {short}" for rate, long, short in pairs
        )
        levels.append(
            Level(
                level.severity,
                # A constant error ratio fires the level at its lowest burn rate.
                round(level.threshold(t), 10),
                level.for_(t),
                "\nor\n".join(clauses) + "\n",
                fill(
                    level.summary,
                    name=service.name,
                    target=percent(t.availability_target),
                    burn=burn,
                ),
            )
        )
    return levels


def _ratio(service: Service, window: str) -> str:
    return metric(f"{ERROR_RATIO}{window}", f'service="{service.id}"')


def burn_windows() -> list[str]:
    """Every window a burn-rate alert reads, shortest first."""
    windows = {
        w for pairs in BURN_WINDOWS.values() for _, long, short in pairs for w in (long, short)
    }
    units = {"m": 1, "h": 60, "d": 1440}
    return sorted(windows, key=lambda w: int(w[:-1]) * units[w[-1]])


def recording_rules(service: Service, settings: AlertingSettings) -> list[dict[str, object]]:
    """The error ratio of a service per burn-rate window (recorded once, read by its rules)."""
    signal = service.alerts.error_budget
    if not (service.alerts.enabled and signal.enabled):
        return []
    selector = signal.selector or default_selector(service, settings, "app")
    return [
        {
            "record": f"{ERROR_RATIO}{window}",
            "expr": _error_ratio(Context(selector, window, settings.thresholds, service)),
            "labels": {"service": service.id},
        }
        for window in burn_windows()
    ]


def build(spec: AlertSpec, service: Service, settings: AlertingSettings) -> ServiceAlert | None:
    """One record applied to one service; None when the service has the signal off."""
    signal: Signal = getattr(service.alerts, spec.signal)
    if not signal.enabled:
        return None
    t = settings.thresholds
    selector = signal.selector or default_selector(service, settings, spec.source)
    window = format_duration(t.rate_window)
    context = Context(selector, window, t, service)
    value = f"({signal.expr})" if signal.expr else spec.value(context)
    if spec.name == "ErrorBudgetBurn":
        levels = _burn_levels(spec, service, t)
    else:
        show = _fmt(spec.value_format)
        levels = [
            Level(
                level.severity,
                level.threshold(t),
                level.for_(t),
                f"{value} {spec.op} {number(level.threshold(t))}",
                fill(level.summary, name=service.name, threshold=show(level.threshold(t))),
            )
            for level in spec.levels
        ]
    labels = selector_labels(selector)
    budget = 1 - t.availability_target
    description = fill(
        spec.description,
        name=service.name,
        id=service.id,
        window=window,
        budget=percent(budget),
        target=percent(t.availability_target),
        **{"for": format_duration(levels[0].for_)},
    )
    return ServiceAlert(
        alert=spec.name,
        service=service.id,
        service_name=service.name,
        op=spec.op,
        levels=tuple(levels),
        description=description,
        value_format=spec.value_format,
        shape="none" if signal.expr or labels is None else spec.shape,
        labels=labels or {},
        window=t.rate_window,
        value_expr=value,
    )


def signal_missing(alert: ServiceAlert, settings: AlertingSettings) -> ServiceAlert:
    """The no-data guard of a paging alert: its value expression returns nothing at all (a
    missing series, a renamed label, a scrape that stopped), so the alert could never fire."""
    for_ = settings.thresholds.no_data_for
    return ServiceAlert(
        alert=SIGNAL_MISSING,
        service=alert.service,
        service_name=alert.service_name,
        op=">",
        levels=(
            Level(
                "warning",
                0.0,
                for_,
                f"absent({alert.value_expr})",
                f"{alert.alert} of {alert.service_name} has no data: it cannot page.",
            ),
        ),
        description=f"{alert.alert} of {alert.service_name} ({alert.service}) has read no "
        f"series for {format_duration(for_)}; until the data is back it cannot fire.",
        value_format="raw",
        shape="none" if alert.shape == "none" else "gauge",
        labels=alert.labels,
        window=alert.window,
        value_expr=alert.value_expr,
        extra_labels={"signal": alert.alert},
    )


def service_alerts(org: OrgConfig) -> list[ServiceAlert]:
    """Every alert of every service, in config order (services, then the registry's order),
    each paging alert followed by its no-data guard."""
    built: list[ServiceAlert] = []
    for service in org.services:
        if not service.alerts.enabled:
            continue
        guards = []
        for spec in REGISTRY:
            alert = build(spec, service, org.alerting)
            if alert is None:
                continue
            built.append(alert)
            if spec.pages():
                guards.append(signal_missing(alert, org.alerting))
        built.extend(guards)
    return built


def runbook_url(settings: AlertingSettings, alert: str) -> str:
    return f"{settings.runbook_base_url}{alert}.md"
