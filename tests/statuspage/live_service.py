"""The real service on a real socket (uvicorn in a thread), and Alertmanager payloads."""

from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn
import yaml
from sqlalchemy import delete, update

from statuspage import schema
from statuspage.app import build_app
from statuspage.config import StatusPageConfig, parse_config
from statuspage.service import StatusService

TOKEN = "test-token-0123456789"
CONFIG: dict[str, Any] = {
    "page": {
        "id": "acme",
        "name": "Acme Status",
        "url": "https://status.acme.example",
        "time_zone": "Europe/Berlin",
    },
    "groups": [
        {
            "id": "core",
            "name": "Core platform",
            "components": [
                {"id": "api", "name": "Public API", "services": ["api-gateway", "orders"]},
                {"id": "web", "name": "Web app", "services": ["web"]},
            ],
        }
    ],
    "components": [{"id": "db", "name": "Customer database", "services": ["postgres"]}],
}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def make_config(**overrides: Any) -> StatusPageConfig:
    return parse_config({**CONFIG, **overrides}, "test")


@dataclass
class Live:
    url: str
    service: StatusService
    client: httpx.Client

    def post(
        self, path: str, body: Any = None, token: str | None = TOKEN, **kw: Any
    ) -> httpx.Response:
        headers = {"authorization": f"Bearer {token}"} if token else {}
        return self.client.post(path, json=body, headers=headers, **kw)

    def put(self, path: str, body: Any, token: str = TOKEN) -> httpx.Response:
        return self.client.put(path, json=body, headers={"authorization": f"Bearer {token}"})

    def delete(self, path: str, token: str = TOKEN) -> httpx.Response:
        return self.client.delete(path, headers={"authorization": f"Bearer {token}"})

    def summary(self) -> dict[str, Any]:
        return dict(self.client.get("/api/v2/summary.json").json())

    def component(self, component_id: str) -> dict[str, Any]:
        return next(c for c in self.summary()["components"] if c["id"] == component_id)

    def incidents(self) -> list[dict[str, Any]]:
        return list(self.client.get("/api/v2/incidents.json").json()["incidents"])

    def reset(self) -> None:
        """Back to an empty page, so one server can serve many tests."""
        with self.service.store.engine.begin() as conn:
            for table in (
                schema.alert,
                schema.incident,
                schema.incident_update,
                schema.uptime_day,
                schema.subscriber,
                schema.notification,
                schema.outbox,
            ):
                conn.execute(delete(table))
            conn.execute(
                update(schema.component_state).values(
                    check_status="operational", override_status=None, override_reason=None
                )
            )
        self.service.refresh(force=True)


class ServerThread:
    """uvicorn on a free loopback port, lifespan included, in a background thread."""

    def __init__(self, app: Any) -> None:
        self.port = free_port()
        config = uvicorn.Config(
            app, host="127.0.0.1", port=self.port, lifespan="on", log_level="warning"
        )
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    def __enter__(self) -> str:
        self.thread.start()
        deadline = time.monotonic() + 15
        while not self.server.started:
            if time.monotonic() > deadline or not self.thread.is_alive():
                raise RuntimeError("the status page server did not start")
            time.sleep(0.02)
        return f"http://127.0.0.1:{self.port}"

    def __exit__(self, *exc: object) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=15)


def start_service(
    config: StatusPageConfig, database_url: str, **kwargs: Any
) -> Callable[[], Iterator[Live]]:
    def run() -> Iterator[Live]:
        kwargs.setdefault("poll_seconds", 0.2)
        service = StatusService(config, database_url, TOKEN, **kwargs)
        with ServerThread(build_app(service)) as url, httpx.Client(base_url=url, timeout=10) as c:
            yield Live(url, service, c)

    return run


@contextmanager
def serve_process(
    workdir: Path, name: str, env: dict[str, str], server: str = "uvicorn"
) -> Iterator[tuple[subprocess.Popen[str], str]]:
    """`python -m statuspage serve` as an operator runs it, with CONFIG and `env` on top of
    ours; yields the process and its base URL once /healthz says ok, stops it afterwards."""
    config = workdir / "statuspage.yaml"
    config.write_text(yaml.safe_dump(CONFIG))
    port = free_port()
    command = [sys.executable, "-m", "statuspage", "serve", "--config", str(config)]
    command += ["--host", "127.0.0.1", "--port", str(port), "--server", server]
    log_path = workdir / f"{name}.log"
    with log_path.open("w") as log:
        process = subprocess.Popen(
            command, env={**os.environ, **env}, cwd=workdir, stdout=log,
            stderr=subprocess.STDOUT, text=True,
        )  # fmt: skip
        base = f"http://127.0.0.1:{port}"
        try:
            deadline = time.monotonic() + 30
            while True:
                assert process.poll() is None, log_path.read_text()
                with contextlib.suppress(httpx.HTTPError):
                    if httpx.get(f"{base}/healthz").text == "ok\n":
                        break
                assert time.monotonic() < deadline, f"{name} did not become healthy"
                time.sleep(0.1)
            yield process, base
        finally:
            if process.poll() is None:
                process.terminate()
                process.wait(timeout=15)


def open_incident(
    live: Live, name: str, components: list[str], impact: str = "major", body: str = "Looking."
) -> dict[str, Any]:
    """A responder opens an incident (investigating) through the API; returns its document."""
    created = live.post(
        "/api/v1/incidents",
        {"name": name, "status": "investigating", "body": body, "impact": impact,
         "components": components},
    )  # fmt: skip
    assert created.status_code == 201, created.text
    return dict(created.json())


def alert(
    status: str = "firing",
    *,
    service: str = "orders",
    severity: str = "critical",
    starts_at: datetime | None = None,
    fingerprint: str = "f1",
    annotations: dict[str, str] | None = None,
    **labels: str,
) -> dict[str, Any]:
    starts = starts_at or datetime(2026, 1, 1, 10, 0, tzinfo=UTC)
    ends = starts + timedelta(minutes=5) if status == "resolved" else None
    return {
        "status": status,
        "labels": {"alertname": "OrdersDown", "service": service, "severity": severity, **labels},
        "annotations": annotations
        if annotations is not None
        else {
            "summary": "orders-api 5xx ratio 40% on pod orders-7f9c",
            "statuspage_title": "Orders are failing",
        },
        "startsAt": starts.isoformat().replace("+00:00", "Z"),
        "endsAt": ends.isoformat().replace("+00:00", "Z") if ends else "0001-01-01T00:00:00Z",
        "fingerprint": fingerprint,
        "generatorURL": "http://prometheus/graph",
    }


def notification(*alerts: dict[str, Any], status: str | None = None) -> dict[str, Any]:
    firing = any(a["status"] == "firing" for a in alerts)
    return {
        "version": "4",
        "groupKey": '{}:{alertname="OrdersDown"}',
        "truncatedAlerts": 0,
        "status": status or ("firing" if firing else "resolved"),
        "receiver": "statuspage",
        "groupLabels": {"alertname": "OrdersDown"},
        "commonLabels": {},
        "commonAnnotations": {},
        "externalURL": "http://alertmanager:9093",
        "alerts": list(alerts),
    }


def require(what: str, present: bool) -> None:
    """Missing tools skip locally but fail in CI, so CI can never pass by skipping."""
    if present:
        return
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(f"{what} is required when CI=true")
    pytest.skip(f"{what} is not installed")


@contextmanager
def served(tmp: Path, server: str = "granian") -> Iterator[str]:
    """`python -m statuspage serve` as an operator runs it, on SQLite in `tmp`; yields the
    base URL once /healthz says ok."""
    env = {
        "STATUSPAGE_DATABASE_URL": f"sqlite:///{tmp / 'status.db'}",
        "STATUSPAGE_API_TOKEN": TOKEN,
    }
    with serve_process(tmp, server, env, server) as (_, base):
        yield base
