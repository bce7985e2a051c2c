"""Drill scenarios: a fault to inject into the demo app and what the loop should do about it.

Each scenario has a default service, chosen so that every scenario can run at the same time
without two of them fighting over one alert (`irctl sandbox --self-test` does exactly that).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, Literal

from oncall.escalation import rules
from oncall.rotation import on_call_at
from orgconfig.model import OrgConfig
from orgconfig.units import format_duration

Severity = Literal["critical", "warning"]


@dataclass(frozen=True)
class Scenario:
    name: str
    title: str
    service: str
    fault: dict[str, Any] = field(hash=False)
    alert: str
    severity: Severity
    cause: str  # what a responder would find
    # For alerts on a rate over `rate_window`: a burst this long keeps the condition true for
    # the whole `for` duration (the window still holds the burst), so the self-test removes
    # the fault after the burst and the alert clears one window later instead of one window
    # after the page.
    burst_seconds: float | None = None

    @property
    def pages(self) -> bool:
        return self.severity == "critical"


SCENARIOS: tuple[Scenario, ...] = (
    Scenario("down", "The public API stops answering", "api", {"down": True}, "ServiceDown",
             "critical", "the process is gone: health checks and scrapes fail"),
    Scenario("error-spike", "Half of the web front end's requests fail", "web",
             {"error_fraction": 0.5}, "HighErrorRate", "critical",
             "a bad deploy answers 500 to every other request", burst_seconds=30),
    Scenario("slow", "Payments answer in 6 seconds", "payments", {"latency_seconds": 6.0},
             "HighLatency", "critical", "a slow dependency holds every request for 6 s",
             burst_seconds=5),
    Scenario("database", "The database refuses connections", "database",
             {"database_down": True}, "DatabaseConnectionFailures", "critical",
             "the connection pool cannot reach PostgreSQL", burst_seconds=5),
    Scenario("payments", "Payments fail to process", "payments", {"payments_failing": True},
             "PaymentProcessingFailures", "critical",
             "the payment provider rejects every charge", burst_seconds=5),
    Scenario("cpu", "The web front end's hosts run hot", "web", {"cpu_fraction": 0.95},
             "HighCPUUsage", "warning", "CPU at 95 %: a runaway job or not enough replicas"),
    Scenario("disk", "The database's disk fills up", "database", {"disk_free_fraction": 0.1},
             "DiskSpaceLow", "warning", "10 % free space left: logs or WAL are piling up"),
    Scenario("memory", "Payments use most of their memory", "payments",
             {"memory_fraction": 0.9}, "HighMemoryUsage", "warning",
             "90 % of memory in use: a leak, or a cache that grew"),
    Scenario("error-rate-warning", "A few of the paging self-test's requests fail", "page-test",
             {"error_fraction": 0.08}, "HighErrorRate", "warning",
             "8 % of requests fail: above the 5 % warning, below the 10 % page"),
    Scenario("latency-warning", "The paging self-test answers in 4 seconds", "page-test",
             {"latency_seconds": 4.0}, "HighLatency", "warning",
             "4 s responses: above the 3 s warning, below the 5 s page", burst_seconds=5),
    # Only web's HighLatency reads the histogram, so this runs beside every other scenario.
    Scenario("no-data", "The web front end stops exporting its latency histogram", "web",
             {"missing_metrics": ["http_request_duration_seconds"]}, "SignalMissing",
             "warning", "a deploy renamed the histogram: HighLatency could never page"),
)  # fmt: skip

ALIASES = {
    "errors": "error-spike",
    "error": "error-spike",
    "latency": "slow",
    "db": "database",
    "database-connection-failures": "database",
    "payment-failures": "payments",
    "cpu-pressure": "cpu",
    "disk-pressure": "disk",
    "warning-error-rate": "error-rate-warning",
    "warning-latency": "latency-warning",
    "missing-series": "no-data",
    "signal-missing": "no-data",
}


def scenario(name: str) -> Scenario:
    wanted = ALIASES.get(name, name)
    for candidate in SCENARIOS:
        if candidate.name == wanted:
            return candidate
    known = ", ".join(s.name for s in SCENARIOS)
    raise KeyError(f"unknown scenario {name!r}; known: {known}")


def for_duration(org: OrgConfig, sc: Scenario) -> timedelta:
    """How long the scenario's condition must hold before its alert fires (the rule's `for`)."""
    t = org.alerting.thresholds
    return {
        "ServiceDown": t.down_for,
        "HighErrorRate": t.error_rate_for,
        "HighLatency": t.latency_for,
        "DatabaseConnectionFailures": t.failures_for,
        "PaymentProcessingFailures": t.failures_for,
        "HighCPUUsage": t.saturation_for,
        "HighMemoryUsage": t.saturation_for,
        "DiskSpaceLow": t.saturation_for,
        "SignalMissing": t.no_data_for,
    }[sc.alert]


def burst(org: OrgConfig, sc: Scenario) -> float | None:
    """The burst length to use with this config, or None to hold the fault until detected.

    A burst only works while the rate window outlasts the `for` duration with room to spare.
    """
    if sc.burst_seconds is None:
        return None
    window = org.alerting.thresholds.rate_window
    if window < for_duration(org, sc) + timedelta(seconds=sc.burst_seconds + 30):
        return None
    return sc.burst_seconds


def _who(org: OrgConfig, kind: str, ref: str) -> str:
    if kind == "person":
        return f"{org.person(ref).name} ({ref})"
    now = on_call_at(org.schedule(ref), datetime.now(UTC))
    return f"schedule {ref} (on call now: {org.person(now).name if now else 'nobody'})"


def narrate(org: OrgConfig, sc: Scenario, service_id: str, clock_speed: float = 1.0) -> list[str]:
    """What should happen, step by step and tier by tier, in the words of a drill guide."""
    service = org.service(service_id)
    t = org.alerting.timings
    hold = format_duration(for_duration(org, sc))
    lines = [
        f"Fault: {sc.title} ({service.name}, service {service.id}): {sc.cause}.",
        f"1. Prometheus sees the signal on the next scrape; {sc.alert} is pending and must "
        f"hold for {hold} (the rule's `for`).",
    ]
    if not sc.pages:
        lines += [
            f"2. {sc.alert} fires with severity=warning. Alertmanager sends it to Slack after "
            f"group_wait {format_duration(t.warning.group_wait)}; nobody is paged.",
            "3. The status page does not open an incident for a warning.",
            "4. When the fault is removed the alert resolves and Slack gets a resolved message.",
        ]
        return lines
    lines.append(
        f"2. {sc.alert} fires with severity=critical. Alertmanager pages {service.name}'s "
        f"PagerDuty service with its routing key after group_wait "
        f"{format_duration(t.page.group_wait)}."
    )
    if service.status_page_component:
        lines.append(
            f"3. The same notification reaches the status page: component "
            f"{service.status_page_component} goes to an outage and one incident opens."
        )
    else:
        lines.append("3. This service drives no status page component: the page stays green.")
    policy = org.policy(service.escalation_policy)
    lines.append(f"4. PagerDuty escalates through {policy.name} until someone acknowledges:")
    for index, (tier, rule) in enumerate(zip(policy.tiers, rules(policy), strict=True), 1):
        who = ", ".join(_who(org, target.kind, target.ref) for target in tier.targets)
        when = "at once" if index == 1 else f"after {format_duration(tier.after)}"
        real = ""
        if index > 1 and clock_speed > 1:
            real = f" (~{tier.after.total_seconds() / clock_speed:.0f} s on the sandbox clock)"
        lines.append(f"   L{index} {when}{real}: {who} (rule delay {rule.delay_minutes} min)")
    lines.append(
        "5. When the fault is removed the alert resolves: PagerDuty gets a resolve event and "
        "the status page incident is resolved."
    )
    return lines
