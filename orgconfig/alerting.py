"""Alert thresholds, Alertmanager timings and per-service alert signals, as people write them.

Thresholds default to the example org's values (issue 3): page when a
service is down for 2 min, errors above 10 %, latency above 5 s, any sustained database
connection or payment failures; warn on errors above 5 %, latency above 3 s, CPU or memory
above 80 %, disk free under 20 %. The 99.9 % availability target drives the multi-window
multi-burn-rate `ErrorBudgetBurn` alerts.

Every service gets the standard signals with selectors that follow what exists in a
kube-prometheus cluster (`probe_success{service}`, the app's `http_requests_total{code}` and
`http_request_duration_seconds` histogram, cAdvisor and kube-state-metrics per workload,
kubelet volume stats per PVC); a signal can be turned off, get its own selector, or have its
value expression replaced. See `alerts.catalog` for the records and docs/metrics-contract.md.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import timedelta
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    ValidationInfo,
    field_validator,
    model_validator,
)

from orgconfig.units import Duration, Percent, TimeOfDay, TimeZone, format_duration

# A PromQL label-matcher list without braces: `service="api", env="prod"`.
_MATCHER = r'\s*[a-zA-Z_][a-zA-Z0-9_]*\s*(=|!=|=~|!~)\s*"(?:[^"\\]|\\.)*"\s*'
SELECTOR_RE = re.compile(rf"^(?:{_MATCHER}(?:,{_MATCHER})*)?,?\s*$")
SELECTOR_HELP = 'PromQL label matchers without braces, e.g. service="api", env="prod"'


def _selector_syntax(value: str) -> str:
    if not SELECTOR_RE.match(value):
        raise ValueError(f"{value!r} is not {SELECTOR_HELP}")
    return value


Selector = Annotated[str, AfterValidator(_selector_syntax)]
NAME_PATTERN = r"^[a-z][a-z0-9]*(-[a-z0-9]+)*$"
K8S_NAME = r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$"
DEFAULT_WORKLOAD_NAMESPACE = "default"
MAX_PAGE_GROUP_WAIT = timedelta(seconds=10)


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


def _whole_seconds(value: timedelta, what: str) -> timedelta:
    if value.total_seconds() % 1:
        raise ValueError(f"{what} must be whole seconds")
    return value


class Thresholds(_Strict):
    """When an alert fires. Percentages are fractions once loaded ("10%" -> 0.1)."""

    down_for: Duration = Field(timedelta(minutes=2), description="Page when down this long.")
    error_rate_critical: Percent = Field(0.10, description="Page above this share of 5xx.")
    error_rate_warning: Percent = Field(0.05, description="Warn above this share of 5xx.")
    error_rate_for: Duration = Field(timedelta(minutes=5), description="...for this long.")
    latency_critical: Duration = Field(timedelta(seconds=5), description="Page above this p99.")
    latency_warning: Duration = Field(timedelta(seconds=3), description="Warn above this p99.")
    latency_for: Duration = Field(timedelta(minutes=5), description="...for this long.")
    cpu_warning: Percent = Field(0.80, description="Warn above this CPU utilisation.")
    memory_warning: Percent = Field(0.80, description="Warn above this memory utilisation.")
    disk_free_warning: Percent = Field(0.20, description="Warn below this free disk space.")
    saturation_for: Duration = Field(
        timedelta(minutes=10), description="CPU, memory and disk must hold this long."
    )
    database_connection_failures_per_minute: float = Field(
        1.0, ge=0, description="Page above this many failed database connections a minute."
    )
    payment_failure_ratio: Percent = Field(
        0.05, description="Page above this share of failed payment attempts."
    )
    failures_for: Duration = Field(
        timedelta(minutes=2), description="Database and payment failures must hold this long."
    )
    # The SRE Workbook's multiwindow alerts need no `for`: the short window already
    # confirms the burn is still going on, and a `for` only delays the page.
    error_budget_critical_for: Duration = Field(
        timedelta(0), description="ErrorBudgetBurn pages once a fast burn holds this long."
    )
    error_budget_warning_for: Duration = Field(
        timedelta(0), description="ErrorBudgetBurn warns once a slow burn holds this long."
    )
    no_data_for: Duration = Field(
        timedelta(minutes=10),
        description="SignalMissing fires when a paging signal has had no series this long.",
    )
    availability_target: Percent = Field(
        0.999, description="Availability SLO over 30 days; drives ErrorBudgetBurn."
    )
    rate_window: Duration = Field(
        timedelta(minutes=5), description="Range of rate() for error rate, latency, CPU."
    )

    @field_validator("availability_target")
    @classmethod
    def _target_below_one(cls, value: float) -> float:
        if not 0.9 <= value < 1:
            raise ValueError(
                f"availability_target {value * 100:g}% must be at least 90% and below 100% "
                "(a 100% target leaves no error budget to burn)"
            )
        return value

    @model_validator(mode="after")
    def _warning_below_critical(self) -> Thresholds:
        problems = []
        if self.error_rate_warning >= self.error_rate_critical:
            problems.append(
                f"error_rate_warning ({self.error_rate_warning * 100:g}%) must be below "
                f"error_rate_critical ({self.error_rate_critical * 100:g}%)"
            )
        if self.latency_warning >= self.latency_critical:
            problems.append(
                f"latency_warning ({format_duration(self.latency_warning)}) must be below "
                f"latency_critical ({format_duration(self.latency_critical)})"
            )
        if self.latency_critical <= timedelta(0):
            problems.append("latency thresholds must be above 0s")
        if problems:
            raise ValueError("; ".join(problems))
        return self


class Timings(_Strict):
    """Alertmanager grouping timers for one kind of notification."""

    group_wait: Duration = Field(description="Wait this long to batch the first notification.")
    group_interval: Duration = Field(description="Wait this long before notifying of changes.")
    repeat_interval: Duration = Field(description="Re-send a still-firing alert this often.")

    @model_validator(mode="after")
    def _alertmanager_limits(self) -> Timings:
        for name in ("group_wait", "group_interval", "repeat_interval"):
            _whole_seconds(getattr(self, name), name)
        if self.group_interval <= timedelta(0) or self.repeat_interval <= timedelta(0):
            raise ValueError(
                "group_interval and repeat_interval must be above 0s (Alertmanager 0.25 "
                "rejects 0); group_wait may be 0s"
            )
        return self


def _timings(wait: int, interval: int, repeat: int) -> Timings:
    return Timings(
        group_wait=timedelta(seconds=wait),
        group_interval=timedelta(seconds=interval),
        repeat_interval=timedelta(seconds=repeat),
    )


class AlertmanagerTimings(_Strict):
    page: Timings = Field(
        default_factory=lambda: _timings(10, 300, 4 * 3600),
        description="Critical alerts to PagerDuty: short group_wait, a page goes out at once.",
    )
    warning: Timings = Field(
        default_factory=lambda: _timings(30, 300, 12 * 3600),
        description="Warnings to Slack.",
    )
    heartbeat: Timings = Field(
        default_factory=lambda: _timings(0, 60, 60),
        description="Watchdog to the dead man's switch: repeat often, it expects a ping.",
    )
    default: Timings = Field(
        default_factory=lambda: _timings(30, 300, 4 * 3600),
        description="The root route: unknown services and anything else.",
    )


def _known(values: Iterable[str], info: ValidationInfo, kind: str) -> None:
    """Raise naming every value that is not a known `kind` id (from the validation context)."""
    known = (info.context or {}).get("ids", {}).get(kind)
    unknown = [v for v in values if known is not None and v not in known]
    if unknown:
        raise ValueError(
            f"unknown {kind} id(s) {', '.join(map(repr, unknown))} "
            f"(known: {', '.join(sorted(known or ())) or 'none are defined'})"
        )


CHANNEL_PATTERN = r"^[#@]?[a-z0-9._-]+$"


class Slack(_Strict):
    """Slack channels. An app's incoming webhook posts only to the channel it was installed
    for (the `channel` field is ignored), so every channel has its own webhook URL secret."""

    channel: str = Field("#alerts", pattern=CHANNEL_PATTERN, description="Warnings go here.")
    unrouted_channel: str = Field(
        "#alerts-unrouted",
        pattern=CHANNEL_PATTERN,
        description="Alerts for services this config does not know (the default receiver).",
    )
    team_channels: dict[str, Annotated[str, Field(pattern=CHANNEL_PATTERN)]] = Field(
        default_factory=dict,
        description="Team id -> channel for the warnings of that team's services.",
    )

    @field_validator("team_channels")
    @classmethod
    def _known_teams(cls, channels: dict[str, str], info: ValidationInfo) -> dict[str, str]:
        _known(channels, info, "team")
        return channels

    def channels(self) -> list[str]:
        """Every channel that needs a webhook URL, the default channel first."""
        found = [self.channel, self.unrouted_channel, *self.team_channels.values()]
        return list(dict.fromkeys(found))


Weekday = Literal["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"]


MuteSeverity = Literal["critical", "warning"]
MUTE_SEVERITIES: tuple[MuteSeverity, ...] = ("critical", "warning")


class TimeRange(_Strict):
    start: TimeOfDay
    end: TimeOfDay

    @model_validator(mode="after")
    def _ordered(self) -> TimeRange:
        if self.end <= self.start:
            raise ValueError(
                f"end {self.end} must be after start {self.start} (split ranges at midnight)"
            )
        return self


class MaintenanceWindow(_Strict):
    """A recurring window in which the listed services' notifications are muted."""

    name: str = Field(pattern=NAME_PATTERN, max_length=63)
    services: list[str] = Field(
        default_factory=list, description="Service ids to mute; empty = every service."
    )
    weekdays: list[Weekday] = Field(default_factory=list, description="Empty = every day.")
    times: list[TimeRange] = Field(default_factory=list, description="Empty = the whole day.")
    time_zone: TimeZone = "UTC"
    severities: list[MuteSeverity] = Field(
        default_factory=lambda: list(MUTE_SEVERITIES),
        description="Which notifications to mute; pages are muted too unless you narrow this.",
        min_length=1,
    )

    @field_validator("services")
    @classmethod
    def _known_services(cls, services: list[str], info: ValidationInfo) -> list[str]:
        _known(services, info, "service")
        return services


def _multiples(value: timedelta, step: timedelta) -> str:
    """The whole multiples of `step` either side of `value`, as a hint: "1m or 2m"."""
    below = value // step * step
    near = [d for d in (below, below + step) if d > timedelta(0)]
    return " or ".join(format_duration(d) for d in near)


def interval_problems(thresholds: Thresholds, every: timedelta) -> list[str]:
    """Durations that rules evaluated every `every` cannot honour.

    Prometheus checks a rule only at its group's evaluations, so a `for` between two of them
    really waits until the next one; and rate() needs two samples inside its window.
    """
    problems = []
    step = format_duration(every)
    for name in type(thresholds).model_fields:
        value = getattr(thresholds, name)
        if not (name.endswith("_for") or name == "rate_window") or not value % every:
            continue
        problems.append(
            f"{name} ({format_duration(value)}) must be a whole multiple of evaluation_interval "
            f"({step}), e.g. {_multiples(value, every)}: rules only evaluate every {step}"
        )
    if thresholds.rate_window < 2 * every:
        problems.append(
            f"rate_window ({format_duration(thresholds.rate_window)}) must be at least twice "
            f"evaluation_interval ({step}), i.e. at least {format_duration(2 * every)}, so "
            "rate() sees two samples (scrape at least as often as rules evaluate)"
        )
    return problems


class AlertingSettings(_Strict):
    evaluation_interval: Duration = Field(
        timedelta(minutes=1),
        description="How often Prometheus evaluates the alert rules (the rule groups' "
        "`interval` when not 1m). Every *_for and rate_window must be a whole multiple of it; "
        "scrape the alerted metrics at least this often.",
    )
    paging_evaluation_interval: Duration = Field(
        timedelta(seconds=15),
        description="How often the paging (critical) rules evaluate: their own rule groups "
        "run this often (or at evaluation_interval when that is shorter), so a page leaves "
        "soon after `for` even where the global interval is 30s or 1m.",
    )
    thresholds: Thresholds = Field(default_factory=Thresholds)
    timings: AlertmanagerTimings = Field(default_factory=AlertmanagerTimings)
    slack: Slack = Field(default_factory=Slack)
    maintenance: list[MaintenanceWindow] = Field(default_factory=list)
    runbook_base_url: str = Field(
        "https://github.com/modulo/incident-response/blob/main/docs/runbooks/",
        pattern=r"^https?://\S+/$",
        description="Where docs/runbooks/ is browsable; runbook_url = this + <AlertName>.md.",
    )
    catch_all_service: str | None = Field(
        None,
        description="Service id whose PagerDuty service is paged by criticals for services "
        "this config does not know (or that carry no service label).",
    )
    workload_namespace: str = Field(
        DEFAULT_WORKLOAD_NAMESPACE,
        pattern=K8S_NAME,
        description="Default Kubernetes namespace of the services' workloads.",
    )
    rule_labels: dict[str, str] = Field(
        default_factory=lambda: {"role": "alert-rules", "prometheus": "k8s"},
        description="Labels on the PrometheusRule that the Prometheus ruleSelector matches.",
    )

    @field_validator("maintenance")
    @classmethod
    def _unique_names(cls, windows: list[MaintenanceWindow]) -> list[MaintenanceWindow]:
        names = [w.name for w in windows]
        twice = sorted({n for n in names if names.count(n) > 1})
        if twice:
            raise ValueError(f"duplicate maintenance window name(s): {', '.join(twice)}")
        return windows

    @field_validator("catch_all_service")
    @classmethod
    def _known_catch_all(cls, value: str | None, info: ValidationInfo) -> str | None:
        _known([value] if value else [], info, "service")
        return value

    @field_validator("evaluation_interval")
    @classmethod
    def _positive_interval(cls, value: timedelta) -> timedelta:
        if value <= timedelta(0):
            raise ValueError(f"evaluation_interval {format_duration(value)} must be above 0s")
        return value

    def paging_interval(self) -> timedelta:
        return min(self.paging_evaluation_interval, self.evaluation_interval)

    @model_validator(mode="after")
    def _durations_fit_the_interval(self) -> AlertingSettings:
        problems = interval_problems(self.thresholds, self.evaluation_interval)
        paging = self.paging_interval()
        if paging <= timedelta(0) or self.evaluation_interval % paging:
            problems.append(
                f"paging_evaluation_interval ({format_duration(paging)}) must be above 0s and "
                f"divide evaluation_interval ({format_duration(self.evaluation_interval)})"
            )
        if self.timings.page.group_wait > MAX_PAGE_GROUP_WAIT:
            problems.append(
                f"timings.page.group_wait ({format_duration(self.timings.page.group_wait)}) "
                f"must be at most {format_duration(MAX_PAGE_GROUP_WAIT)}: a page must leave "
                "within `for` + 30s"
            )
        if problems:
            raise ValueError("; ".join(problems))
        return self


class Signal(_Strict):
    """One alert signal of a service: on by default, with the catalog's default expression."""

    enabled: bool = True
    selector: Selector | None = Field(
        None, description=f"Overrides the service's selector for this signal: {SELECTOR_HELP}."
    )
    expr: str | None = Field(
        None,
        min_length=1,
        description="Replaces the default value expression (PromQL); the threshold comparison "
        'is added to it, e.g. max(probe_duration_seconds{job="web"}).',
    )


class OptInSignal(Signal):
    """A signal only some services have (database, payments): off unless turned on."""

    enabled: bool = False


def default_pod_regex(deployment: str) -> str:
    """Pods of a Deployment (`<name>-<replicaset hash>-<suffix>`) or StatefulSet (`<name>-0`)."""
    return f"{deployment}-([a-z0-9]+-)?[a-z0-9]+"


def default_pvc_regex(deployment: str) -> str:
    """A PVC named after the workload, or a StatefulSet claim `data-<name>-0`."""
    return f"(data-)?{deployment}(-[a-z0-9]+)*"


def _regex_syntax(value: str) -> str:
    try:
        re.compile(value)
    except re.error as exc:
        raise ValueError(f"{value!r} is not a regular expression ({exc})") from None
    if '"' in value or "\\" in value:
        raise ValueError(f"{value!r}: write the regex without quotes or backslashes")
    return value


Regex = Annotated[str, AfterValidator(_regex_syntax)]


class Workload(_Strict):
    """Where a service runs in Kubernetes: its CPU, memory and disk alerts select cAdvisor,
    kube-state-metrics and kubelet series by these names (see docs/metrics-contract.md)."""

    namespace: str | None = Field(
        None, pattern=K8S_NAME, description="Default: alerting.workload_namespace."
    )
    deployment: str | None = Field(
        None, pattern=K8S_NAME, description="Deployment or StatefulSet name; default the id."
    )
    pod: Regex | None = Field(
        None, description="Regex of its pod names; default <deployment>-([a-z0-9]+-)?[a-z0-9]+."
    )
    pvc: Regex | None = Field(
        None, description="Regex of its PersistentVolumeClaims; default (data-)?<deployment>(-…)*."
    )


StatusPageMode = Literal["publish", "draft", "off"]


class ServiceAlerts(_Strict):
    """Which alert signals a service has; each can be turned off or overridden."""

    enabled: bool = Field(True, description="False: no alert rules for this service at all.")
    status_page: StatusPageMode = Field(
        "off",
        description="What its critical alerts do to its status page component: publish an "
        "incident, open a draft a responder publishes with `irctl status`, or nothing. "
        "Warnings never reach the status page.",
    )
    selector: Selector | None = Field(
        None,
        description=f"Matchers for this service's metrics ({SELECTOR_HELP}); "
        'default service="<service id>".',
    )
    down: Signal = Field(default_factory=Signal, description="ServiceDown: probe_success.")
    error_rate: Signal = Field(
        default_factory=Signal, description="HighErrorRate: http_requests_total 5xx share."
    )
    latency: Signal = Field(
        default_factory=Signal, description="HighLatency: http_request_duration_seconds p99."
    )
    cpu: Signal = Field(
        default_factory=Signal, description="HighCPUUsage: cAdvisor CPU against its limits."
    )
    memory: Signal = Field(
        default_factory=Signal, description="HighMemoryUsage: working set against its limits."
    )
    disk: Signal = Field(
        default_factory=Signal, description="DiskSpaceLow: kubelet volume stats of its PVCs."
    )
    error_budget: Signal = Field(
        default_factory=Signal, description="ErrorBudgetBurn: multi-window burn rate."
    )
    database_connection_failures: OptInSignal = Field(
        default_factory=OptInSignal,
        description="DatabaseConnectionFailures: database_connection_failures_total.",
    )
    payment_failures: OptInSignal = Field(
        default_factory=OptInSignal,
        description="PaymentProcessingFailures: payment_failures_total over "
        "payment_attempts_total.",
    )

    @model_validator(mode="after")
    def _budget_needs_requests(self) -> ServiceAlerts:
        if self.error_budget.enabled and self.error_budget.expr is not None:
            raise ValueError(
                "error_budget.expr cannot be overridden (the burn-rate alert combines four "
                "windows of http_requests_total); set error_budget.selector, or disable it"
            )
        return self


def alerting_problems(service: Any) -> list[str]:
    """Checks between a service's alerts and its other fields (`service` is a `Service`)."""
    problems = []
    if service.alerts.enabled and service.auto_resolve_timeout is not None:
        problems.append(
            "auto_resolve_timeout must be null while Alertmanager pages this service "
            "(alerts.enabled): PagerDuty would resolve the incident while the alert still "
            "fires, and Alertmanager would open a new one at its next repeat"
        )
    if service.alerts.status_page != "off" and not service.status_page_component:
        problems.append(
            f"alerts.status_page {service.alerts.status_page!r} needs a status_page_component"
        )
    return problems
