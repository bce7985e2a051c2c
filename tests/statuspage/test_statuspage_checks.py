"""Synthetic checks against real local servers, and the thresholds they drive."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Coroutine, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from live_service import ServerThread, free_port, make_config, start_service
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse
from starlette.routing import Route

from statuspage.checks import CheckResult, CheckState, run_http, run_tcp
from statuspage.config import HttpCheck, TcpCheck


async def _ok(request: Request) -> PlainTextResponse:
    return PlainTextResponse("all good")


async def _slow(request: Request) -> PlainTextResponse:
    await asyncio.sleep(0.3)
    return PlainTextResponse("all good")


async def _broken(request: Request) -> PlainTextResponse:
    return PlainTextResponse("nope", status_code=503)


@pytest.fixture(scope="module")
def target() -> Iterator[str]:
    app = Starlette(routes=[Route("/ok", _ok), Route("/slow", _slow), Route("/broken", _broken)])
    with ServerThread(app) as url:
        yield url


def _complete(coroutine: Coroutine[Any, Any, CheckResult]) -> CheckResult:
    # Not asyncio.run: it leaves the main thread without an event loop, which breaks later
    # tests in the same process that ask for one (the Pulumi mocks in tests/deploy).
    loop = asyncio.new_event_loop()
    try:
        return loop.run_until_complete(coroutine)
    finally:
        loop.close()


def _http(url: str, **kw: object) -> HttpCheck:
    return HttpCheck.model_validate({"id": "c", "type": "http", "url": url, **kw})


async def _run(check: HttpCheck) -> CheckResult:
    async with httpx.AsyncClient() as client:
        return await run_http(check, client)


def test_http_check_outcomes(target: str) -> None:
    assert _complete(_run(_http(f"{target}/ok", body_contains="good"))).ok
    slow = _complete(_run(_http(f"{target}/slow", degraded_latency="100ms")))
    assert slow.ok and slow.slow
    broken = _complete(_run(_http(f"{target}/broken")))
    assert not broken.ok and broken.error == "status 503"
    mismatch = _complete(_run(_http(f"{target}/ok", body_contains="healthy")))
    assert not mismatch.ok and mismatch.error == "body did not match"
    timeout = _complete(_run(_http(f"{target}/slow", timeout="100ms")))
    assert not timeout.ok


def test_tcp_check_connects_or_fails(target: str) -> None:
    port = int(target.rsplit(":", 1)[1])
    up = TcpCheck(id="t", type="tcp", host="127.0.0.1", port=port)
    down = TcpCheck(id="t", type="tcp", host="127.0.0.1", port=free_port())
    assert _complete(run_tcp(up)).ok
    assert not _complete(run_tcp(down)).ok


def test_consecutive_failures_step_to_partial_then_major_and_recover() -> None:
    state = CheckState(failures_before_partial_outage=2, failures_before_major_outage=3)
    fail, ok, slow = CheckResult(False, 1), CheckResult(True, 0.1), CheckResult(True, 2, slow=True)
    assert [state.record(r) for r in (fail, fail, fail, ok, slow, ok)] == [
        "operational",
        "partial_outage",
        "major_outage",
        "operational",
        "degraded_performance",
        "operational",
    ]


def test_failing_check_moves_the_component_and_exports_metrics(tmp_path: Path) -> None:
    dead = free_port()
    config = make_config(
        components=[
            {
                "id": "db",
                "name": "Customer database",
                "services": ["postgres"],
                "checks": [
                    {
                        "id": "db-tcp",
                        "type": "tcp",
                        "host": "127.0.0.1",
                        "port": dead,
                        "interval": "1s",
                        "timeout": "1s",
                        "failures_before_partial_outage": 1,
                        "failures_before_major_outage": 2,
                    }
                ],
            }
        ]
    )
    for live in start_service(config, f"sqlite:///{tmp_path / 's.db'}")():
        deadline = time.monotonic() + 10
        while live.component("db")["status"] != "major_outage":
            assert time.monotonic() < deadline, live.component("db")
            time.sleep(0.2)
        metrics = live.client.get("/metrics").text
        assert 'probe_success{check="db-tcp",component="db",service="postgres"} 0.0' in metrics
        assert 'probe_duration_seconds{check="db-tcp",component="db",service="postgres"}' in metrics
        html = live.client.get("/").text
        assert "uptime over the last 90 days" in html
        assert "0% uptime" in html


def test_probe_series_leave_metrics_when_this_replica_stops_checking(
    target: str, tmp_path: Path
) -> None:
    """A replica that lost the checks lock must not keep exporting its last probe_success:
    a stale 1 would hold max(probe_success) up while the new leader sees the outage."""
    host, port = target.removeprefix("http://").split(":")
    check = {"id": "web-tcp", "type": "tcp", "host": host, "port": int(port), "interval": "1s"}
    config = make_config(
        components=[
            {"id": "db", "name": "Customer database", "services": ["web-db"], "checks": [check]}
        ]
    )
    run = start_service(config, f"sqlite:///{tmp_path / 's.db'}", leader_seconds=0.1)
    for live in run():
        series = 'probe_success{check="web-tcp",component="db",service="web-db"} 1.0'
        deadline = time.monotonic() + 10
        while series not in live.client.get("/metrics").text:
            assert time.monotonic() < deadline, "the check never reported"
            time.sleep(0.1)
        # Another replica takes the lock (PostgreSQL's advisory lock; SQLite has one
        # replica, so the loss is simulated where the service asks whether it still leads).
        live.service.leadership.still_held = lambda: False  # type: ignore[method-assign]
        live.service.leadership.try_acquire = lambda: False  # type: ignore[method-assign]
        deadline = time.monotonic() + 10
        while live.service.runs_checks:
            assert time.monotonic() < deadline, "the replica kept running checks"
            time.sleep(0.1)
        metrics = live.client.get("/metrics").text
        assert "probe_success{" not in metrics
        assert "probe_duration_seconds{" not in metrics
        assert 'statuspage_component_status{component="db"' in metrics  # the rest stays
