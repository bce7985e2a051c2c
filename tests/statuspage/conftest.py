"""Shared fixtures of the status page tests."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import postgres_server
import psycopg
import pytest
from live_service import Live, free_port, make_config, require, served, start_service


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


@pytest.fixture(params=["sqlite", "postgres"])
def empty_database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """An empty database on each backend the service supports."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'old.db'}"
    return str(request.getfixturevalue("pg_url"))


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
    with served(tmp_path_factory.mktemp("granian"), "granian") as base:
        yield base
