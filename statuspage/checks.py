"""Synthetic HTTP and TCP checks, and the rule that turns their results into a status."""

from __future__ import annotations

import asyncio
import contextlib
import time
from dataclasses import dataclass, field

import httpx

from statuspage.config import Component, HttpCheck, TcpCheck
from statuspage.state import ComponentStatus, worst


@dataclass(frozen=True)
class CheckResult:
    ok: bool
    duration_seconds: float
    slow: bool = False
    error: str | None = None


async def run_http(check: HttpCheck, client: httpx.AsyncClient) -> CheckResult:
    started = time.perf_counter()
    try:
        response = await client.request(
            check.method, check.url, timeout=check.timeout.total_seconds()
        )
    except httpx.HTTPError as exc:
        return CheckResult(False, time.perf_counter() - started, error=type(exc).__name__)
    duration = time.perf_counter() - started
    if response.status_code != check.expected_status:
        return CheckResult(False, duration, error=f"status {response.status_code}")
    if check.body_contains is not None and check.body_contains not in response.text:
        return CheckResult(False, duration, error="body did not match")
    slow = check.degraded_latency is not None and duration > check.degraded_latency.total_seconds()
    return CheckResult(True, duration, slow=slow)


async def run_tcp(check: TcpCheck) -> CheckResult:
    started = time.perf_counter()
    try:
        _, writer = await asyncio.wait_for(
            asyncio.open_connection(check.host, check.port), check.timeout.total_seconds()
        )
    except (OSError, TimeoutError) as exc:
        return CheckResult(False, time.perf_counter() - started, error=type(exc).__name__)
    duration = time.perf_counter() - started
    writer.close()
    with contextlib.suppress(OSError):
        await writer.wait_closed()
    return CheckResult(True, duration)


@dataclass
class CheckState:
    """Consecutive failures of one check, and the status they amount to."""

    failures_before_partial_outage: int
    failures_before_major_outage: int
    consecutive_failures: int = 0
    status: ComponentStatus = "operational"

    def record(self, result: CheckResult) -> ComponentStatus:
        if result.ok:
            self.consecutive_failures = 0
            self.status = "degraded_performance" if result.slow else "operational"
        else:
            self.consecutive_failures += 1
            if self.consecutive_failures >= self.failures_before_major_outage:
                self.status = "major_outage"
            elif self.consecutive_failures >= self.failures_before_partial_outage:
                self.status = "partial_outage"
        return self.status


@dataclass
class ComponentChecks:
    component: Component
    states: dict[str, CheckState] = field(default_factory=dict)

    def __post_init__(self) -> None:
        for check in self.component.checks:
            self.states[check.id] = CheckState(
                check.failures_before_partial_outage, check.failures_before_major_outage
            )

    def record(self, check_id: str, result: CheckResult) -> ComponentStatus:
        self.states[check_id].record(result)
        return worst(*(s.status for s in self.states.values()))
