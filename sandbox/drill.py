"""`irctl drill SCENARIO` against a running sandbox: inject, narrate, watch, remove."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from orgconfig.model import OrgConfig
from sandbox.observe import LoopEvent, LoopObserver, mentions
from sandbox.run import running_state
from sandbox.scenarios import Scenario, for_duration, narrate
from sandbox.selftest import control
from sandbox.wiring import Addresses

Say = Callable[[str], None]


@dataclass
class DrillResult:
    scenario: Scenario
    service: str
    latency_seconds: float | None
    resolved: bool

    @property
    def ok(self) -> bool:
        return self.latency_seconds is not None and self.resolved


def run_drill(
    org: OrgConfig,
    sc: Scenario,
    run_dir: Path,
    say: Say,
    *,
    service: str | None = None,
    escalation_seconds: float = 20.0,
    grace_seconds: float = 60.0,
) -> DrillResult:
    state = running_state(run_dir)
    addresses = Addresses(**state["addresses"])
    service_id = service or sc.service
    if service_id not in state["services"]:
        raise KeyError(f"the sandbox has no service {service_id!r}: {', '.join(state['services'])}")
    key = state["routing_keys"][service_id]
    observer = LoopObserver(addresses, state["routing_keys"])
    observer.poll()  # what happened before this drill is not part of it
    seen_pages, seen_slack = len(observer.pages), len(observer.slack)

    for line in narrate(org, sc, service_id, clock_speed=60.0):
        say(line)
    say("")
    control(addresses.demo, service_id, sc.fault)
    injected = datetime.now(UTC)
    say(f"{injected:%H:%M:%S} injected: {sc.title} ({sc.fault})")
    wait = for_duration(org, sc).total_seconds() + grace_seconds
    notified: datetime | None = None
    resolved = False
    deadline = time.monotonic() + wait
    removed_at: float | None = None
    try:
        while time.monotonic() < deadline:
            for event in observer.poll():
                _show(event, say)
            if notified is None:
                notified = _notified(observer, sc, key, service_id, seen_pages, seen_slack)
                if notified is not None:
                    took = (notified - injected).total_seconds()
                    say(f"-> detected and notified {took:.1f} s after the fault "
                        f"(rule `for` {for_duration(org, sc).total_seconds():.0f} s)")  # fmt: skip
                    # Let the escalation ladder run for a while before the "fix" goes out.
                    deadline = time.monotonic() + (escalation_seconds if sc.pages else 3)
            time.sleep(0.5)
        if notified is None:
            say(f"!! nothing arrived within {wait:.0f} s: check the Prometheus alerts page")
    finally:
        control(addresses.demo, service_id, sc.fault, remove=True)
        removed_at = time.monotonic()
        say(f"{datetime.now(UTC):%H:%M:%S} fault removed; waiting for everything to resolve")
    deadline = removed_at + 240
    while time.monotonic() < deadline and notified is not None:
        for event in observer.poll():
            _show(event, say)
        resolved = _resolved(observer, sc, key, service_id, seen_pages, seen_slack)
        if resolved:
            say(f"-> resolved {time.monotonic() - removed_at:.1f} s after the fault was removed")
            break
        time.sleep(0.5)
    observer.close()
    latency = (notified - injected).total_seconds() if notified else None
    return DrillResult(sc, service_id, latency, resolved)


def _show(event: LoopEvent, say: Say) -> None:
    say(f"{event.at.astimezone(UTC):%H:%M:%S} {event.text}")


def _notified(
    observer: LoopObserver, sc: Scenario, key: str, service: str, pages: int, slack: int
) -> datetime | None:
    if sc.pages:
        for event in observer.pages[pages:]:
            if (
                event["routing_key"] == key
                and event["event_action"] == "trigger"
                and mentions(event["body"], sc.alert)
            ):
                return datetime.fromisoformat(event["received_at_wall"])
        return None
    for message in observer.slack[slack:]:
        if not message["resolved"] and mentions(message, sc.alert, service):
            return datetime.fromisoformat(message["received_at"])
    return None


def _resolved(
    observer: LoopObserver, sc: Scenario, key: str, service: str, pages: int, slack: int
) -> bool:
    if sc.pages:
        return any(
            e["routing_key"] == key
            and e["event_action"] == "resolve"
            and mentions(e["body"], sc.alert)
            for e in observer.pages[pages:]
        )
    return any(m["resolved"] and mentions(m, sc.alert, service) for m in observer.slack[slack:])
