"""`irctl sandbox --self-test`: every scenario at once, headless, with assertions.

All scenarios are injected together (their default services are chosen so they don't share
an alert), then each is checked as it progresses:

* critical: a trigger reaches the local PagerDuty with that service's routing key and the
  alert's name; the status page shows the component out of operation with exactly one
  unresolved incident for it;
* warning: a Slack message names the alert; PagerDuty never hears of it;
* after the fault is removed (as soon as the scenario was detected): PagerDuty gets the
  resolve, Slack the resolved message, and at the end every status page component is
  operational and every incident resolved.

The detection-to-page latency is measured from the injection to the moment the local
PagerDuty (or Slack, for warnings) received the notification, by the wall clock.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx

from orgconfig.model import OrgConfig
from sandbox.demo_app import Faults
from sandbox.observe import REST_TOKEN, LoopObserver, mentions
from sandbox.run import Sandbox, SandboxOptions
from sandbox.scenarios import SCENARIOS, Scenario, burst, for_duration

Say = Callable[[str], None]


@dataclass
class Outcome:
    scenario: Scenario
    injected_at: datetime | None = None
    notified_at: datetime | None = None
    status_page_ok: bool = False
    removed_at: datetime | None = None
    resolved_at: datetime | None = None
    failures: list[str] = field(default_factory=list)

    @property
    def latency_seconds(self) -> float | None:
        if self.injected_at is None or self.notified_at is None:
            return None
        return (self.notified_at - self.injected_at).total_seconds()

    @property
    def passed(self) -> bool:
        return not self.failures


@dataclass
class SelfTest:
    outcomes: list[Outcome]
    # Checks that belong to no scenario: name -> failure (None when it passed).
    checks: dict[str, str | None] = field(default_factory=dict)
    elapsed_seconds: float | None = None


def control(demo_url: str, service: str, fault: dict[str, object], *, remove: bool = False) -> None:
    """Inject a fault into a service of the demo app, or with `remove` take exactly that
    fault away again (other faults of the same service stay)."""
    if remove:
        healthy = asdict(Faults())
        fault = {name: healthy[name] for name in fault}
    answer = httpx.put(f"{demo_url}/_control/{service}", json=fault, timeout=5)
    answer.raise_for_status()


# ServiceDown inhibits the other alerts of its service: when a fault also fails the health
# check (the database refusing connections does), the page of that outage may be ServiceDown.
INHIBITING = "ServiceDown"


def _page_for(observer: LoopObserver, key: str, sc: Scenario, action: str) -> datetime | None:
    for event in observer.pages:
        if (
            event["routing_key"] == key
            and event["event_action"] == action
            and (mentions(event["body"], sc.alert) or mentions(event["body"], INHIBITING))
        ):
            return datetime.fromisoformat(event["received_at_wall"])
    return None


def _resolve_for(observer: LoopObserver, key: str, after: datetime) -> datetime | None:
    """Paging groups by service (one incident per service outage): the service's incident is
    resolved once all its alerts are, whichever alert the resolve names."""
    for event in observer.pages:
        at = datetime.fromisoformat(event["received_at_wall"])
        if event["routing_key"] == key and event["event_action"] == "resolve" and at >= after:
            return at
    return None


def _slack_for(observer: LoopObserver, sc: Scenario, resolved: bool) -> datetime | None:
    for message in observer.slack:
        if message["resolved"] == resolved and mentions(message, sc.alert, sc.service):
            return datetime.fromisoformat(message["received_at"])
    return None


def _status_page_shows(observer: LoopObserver, org: OrgConfig, sc: Scenario) -> bool:
    component = org.service(sc.service).status_page_component
    if component is None or observer.status is None:
        return component is None
    if observer.status.components.get(component, "operational") == "operational":
        return False
    open_for_component = [
        i
        for i in observer.status.unresolved
        if component in [c["id"] for c in i.get("components", [])]
    ]
    return len(open_for_component) == 1


def run_self_test(
    org: OrgConfig,
    run_dir: Path,
    say: Say = print,
    *,
    deadline_seconds: float = 170.0,
    scenarios: tuple[Scenario, ...] = SCENARIOS,
) -> SelfTest:
    started = time.monotonic()
    outcomes = [Outcome(sc) for sc in scenarios]
    result = SelfTest(outcomes)
    sandbox = Sandbox(org, SandboxOptions(run_dir=run_dir))
    try:
        addresses = sandbox.start()
        say(f"sandbox up in {time.monotonic() - started:.1f} s; injecting {len(outcomes)} faults")
        observer = LoopObserver(addresses, sandbox.keys)
        _wait_for_baseline(observer, addresses.prometheus, say)
        for outcome in outcomes:
            control(addresses.demo, outcome.scenario.service, outcome.scenario.fault)
            outcome.injected_at = datetime.now(UTC)
        _follow(org, sandbox, observer, outcomes, started + deadline_seconds, say)
        _final_checks(org, observer, outcomes, started + deadline_seconds + 10, say)
        result.checks.update(_outage_checks(org, sandbox, observer, outcomes))
        observer.close()
        beats = httpx.get(f"{addresses.slack}/_sink/messages", timeout=5).json()["heartbeats"]
        result.checks["Watchdog reached the dead man's switch"] = (
            None if beats else "no heartbeat arrived: the Watchdog route is broken"
        )
    finally:
        sandbox.stop()
    return result


def _wait_for_baseline(observer: LoopObserver, prometheus: str, say: Say) -> None:
    """Every target scraped at least twice and the status page all green before faults go in."""
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        observer.poll()
        targets = httpx.get(f"{prometheus}/api/v1/targets", timeout=5).json()["data"]
        healthy = all(t["health"] == "up" for t in targets["activeTargets"])
        green = observer.status is not None and all(
            s == "operational" for s in observer.status.components.values()
        )
        if healthy and green:
            time.sleep(2)
            return
        time.sleep(0.5)
    say("warning: the baseline was not all green after 30 s; injecting anyway")


def _follow(
    org: OrgConfig,
    sandbox: Sandbox,
    observer: LoopObserver,
    outcomes: list[Outcome],
    deadline: float,
    say: Say,
) -> None:
    demo = sandbox.addresses.demo if sandbox.addresses else ""
    while time.monotonic() < deadline:
        sandbox.supervisor.check_alive()
        observer.poll()
        for o in outcomes:
            sc = o.scenario
            key = sandbox.keys[sc.service]
            if o.notified_at is None:
                o.notified_at = (
                    _page_for(observer, key, sc, "trigger")
                    if sc.pages
                    else _slack_for(observer, sc, resolved=False)
                )
                if o.notified_at is not None:
                    where = "PagerDuty" if sc.pages else "Slack"
                    say(f"  {sc.name}: {sc.alert} reached {where} after {o.latency_seconds:.1f} s")
            if sc.pages and not o.status_page_ok:
                o.status_page_ok = _status_page_shows(observer, org, sc)
            ready = o.notified_at is not None and (o.status_page_ok or not sc.pages)
            hold = burst(org, sc)
            if hold is not None and o.injected_at is not None:
                ready = datetime.now(UTC) >= o.injected_at + timedelta(seconds=hold)
            if ready and o.removed_at is None:
                control(demo, sc.service, sc.fault, remove=True)
                o.removed_at = datetime.now(UTC)
            if o.removed_at is not None and o.notified_at is not None and o.resolved_at is None:
                o.resolved_at = (
                    _resolve_for(observer, key, o.removed_at)
                    if sc.pages
                    else _slack_for(observer, sc, resolved=True)
                )
                if o.resolved_at is not None:
                    took = (o.resolved_at - o.removed_at).total_seconds()
                    say(f"  {sc.name}: resolved {took:.1f} s after the fault was removed")
        if all(o.resolved_at is not None for o in outcomes):
            return
        time.sleep(0.5)


def _final_checks(
    org: OrgConfig, observer: LoopObserver, outcomes: list[Outcome], deadline: float, say: Say
) -> None:
    # The status page resolves its incidents from the same resolved notifications; give it
    # a few polls to catch up before judging.
    while time.monotonic() < deadline:
        observer.poll()
        status = observer.status
        if (
            status
            and not status.unresolved
            and all(s == "operational" for s in status.components.values())
        ):
            break
        time.sleep(0.5)
    status = observer.status
    for o in outcomes:
        sc = o.scenario
        if o.notified_at is None:
            where = "PagerDuty (routing key of " + sc.service + ")" if sc.pages else "Slack"
            o.failures.append(f"{sc.alert} never reached {where}")
        if sc.pages and not o.status_page_ok:
            o.failures.append("the status page never showed the outage with exactly one incident")
        if not sc.pages:
            paged = [
                p for p in observer.pages if mentions(p["body"], sc.alert) and
                p["routing_key"] == observer_key(observer, sc.service)
            ]  # fmt: skip
            if paged:
                o.failures.append(f"the warning {sc.alert} reached PagerDuty")
        if o.notified_at is not None and o.resolved_at is None:
            o.failures.append("did not resolve after the fault was removed")
    if status is None:
        for o in outcomes:
            o.failures.append("the status page never answered")
        return
    still = [cid for cid, s in status.components.items() if s != "operational"]
    if still or status.unresolved:
        problem = (
            f"status page not back to normal: components {still or 'operational'}, "
            f"{len(status.unresolved)} unresolved incident(s)"
        )
        for o in outcomes:
            if o.scenario.pages:
                o.failures.append(problem)


def incidents_per_service(pagerduty_url: str, service_ids: list[str]) -> dict[str, int]:
    """How many incidents the local PagerDuty opened for each service during the run."""
    answer = httpx.get(
        f"{pagerduty_url}/incidents",
        params={"service_ids[]": service_ids, "date_range": "all", "limit": 100},
        headers={"Authorization": f"Token token={REST_TOKEN}", "From": "sandbox@example.com"},
        timeout=5,
    )
    answer.raise_for_status()
    counts = dict.fromkeys(service_ids, 0)
    for incident in answer.json()["incidents"]:
        counts[incident["service"]["id"]] += 1
    return counts


def _outage_checks(
    org: OrgConfig, sandbox: Sandbox, observer: LoopObserver, outcomes: list[Outcome]
) -> dict[str, str | None]:
    """One PagerDuty incident per service outage (all its pages grouped), and warnings that
    never reached the public page."""
    paged = sorted({o.scenario.service for o in outcomes if o.scenario.pages})
    counts = incidents_per_service(sandbox.addresses.pagerduty if sandbox.addresses else "", paged)
    wrong = {sid: n for sid, n in counts.items() if n != 1}
    checks: dict[str, str | None] = {
        f"one PagerDuty incident per outage ({', '.join(paged)})": (
            None if not wrong else f"incidents per service: {wrong} (expected 1 each)"
        )
    }
    critical_alerts = {o.scenario.alert for o in outcomes if o.scenario.pages}
    warnings = sorted(
        {o.scenario.alert for o in outcomes if not o.scenario.pages} - critical_alerts
    )
    published = [
        incident["name"]
        for incident in (observer.status.incidents if observer.status else [])
        if any(mentions(incident, alert) for alert in warnings)
    ]
    checks[f"warnings never reached the public page ({', '.join(warnings)})"] = (
        None if not published else f"status page incidents for warnings: {published}"
    )
    return checks


def observer_key(observer: LoopObserver, service: str) -> str | None:
    return next((k for k, s in observer.service_of_key.items() if s == service), None)


def report(org: OrgConfig, result: SelfTest, say: Say) -> int:
    """Print one line per scenario and check, then the summary line; returns the failures."""
    say("")
    say(f"{'scenario':<19} {'service':<10} {'alert':<37} {'for':>4} {'to page':>8}  result")
    for o in result.outcomes:
        sc = o.scenario
        hold = f"{for_duration(org, sc).total_seconds():.0f}s"
        latency = f"{o.latency_seconds:.1f}s" if o.latency_seconds is not None else "-"
        verdict = "ok" if o.passed else "FAILED: " + "; ".join(o.failures)
        say(f"{sc.name:<19} {sc.service:<10} {sc.alert + '/' + sc.severity:<37} {hold:>4} "
            f"{latency:>8}  {verdict}")  # fmt: skip
    for name, failure in result.checks.items():
        say(f"{name:<82}  {'ok' if failure is None else 'FAILED: ' + failure}")
    failed = sum(not o.passed for o in result.outcomes)
    failed += sum(failure is not None for failure in result.checks.values())
    total = len(result.outcomes) + len(result.checks)
    if result.elapsed_seconds is not None:
        say(f"self-test took {result.elapsed_seconds:.0f} s")
    say(f"{total - failed} passed, {failed} failed")
    return failed
