"""Shared fixtures of the status page tests."""

from __future__ import annotations

import os
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator

import httpx
import postgres_server
import psycopg
import pytest
import yaml
from live_service import CONFIG, TOKEN, Live, free_port, make_config, require, start_service


@pytest.fixture(scope="session")
def shared_live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Live]:
    path = tmp_path_factory.mktemp("statuspage") / "status.db"
    yield from start_service(make_config(), f"sqlite:///{path}")()


@pytest.fixture
def live(shared_live: Live) -> Live:
    """The real service, on a real socket, with an empty page."""
    shared_live.reset()
    return shared_live


@pytest.fixture(scope="session")
def pg_server() -> Iterator[str]:
    require("PostgreSQL 15 (/usr/lib/postgresql/15/bin)", postgres_server.available())
    with postgres_server.postgres(free_port()) as url:
        yield url


@pytest.fixture
def pg_url(pg_server: str) -> str:
    """A fresh, empty database on the shared server."""
    name = f"t_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(pg_server, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    return pg_server.rsplit("/", 1)[0] + f"/{name}"


@pytest.fixture(scope="session")
def granian_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """`statuspage serve --server granian` as an operator runs it (RSGI)."""
    tmp = tmp_path_factory.mktemp("granian")
    config = tmp / "statuspage.yaml"
    config.write_text(yaml.safe_dump(CONFIG))
    port = free_port()
    env = {
        **os.environ,
        "STATUSPAGE_DATABASE_URL": f"sqlite:///{tmp / 'status.db'}",
        "STATUSPAGE_API_TOKEN": TOKEN,
    }
    command = [sys.executable, "-m", "statuspage", "serve", "--config", str(config)]
    command += ["--host", "127.0.0.1", "--port", str(port), "--server", "granian"]
    process = subprocess.Popen(
        command, env=env, cwd=tmp, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 20
        while True:
            assert process.poll() is None, process.stdout.read() if process.stdout else ""
            try:
                if httpx.get(f"{base}/healthz").text == "ok\n":
                    break
            except httpx.HTTPError:
                pass
            assert time.monotonic() < deadline, "granian did not become healthy"
            time.sleep(0.1)
        yield base
    finally:
        process.terminate()
        process.wait(timeout=15)
