"""`irctl incident timeline ID` merges PagerDuty's log, the status page's updates, the alerts'
start times and deploys into one timeline, and `postmortem new` puts it in the draft.

PagerDuty is the local double; the status page and Prometheus answer with their public API
shapes (Statuspage v2 ``incidents.json`` as statuspage/render.py writes it, Prometheus
``query_range``) from a small local app; deploys come from a real Git repository.
"""

from __future__ import annotations

import os
import subprocess
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import typer
from modulo_pagerduty import modulo_pagerduty
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route
from typer.testing import CliRunner

from irctl.learning import incident_app, postmortem_app
from sandbox.pagerduty import FakePagerDutyServer
from sandbox.servers import ThreadedServer
from tests.conftest import PROD

TOKEN = "timeline-token"


def ts(hour: int, minute: int, second: int = 0) -> float:
    return datetime(2026, 11, 3, hour, minute, second, tzinfo=UTC).timestamp()


STATUSPAGE = {
    "incidents": [
        {"id": "sp1", "name": "API errors", "created_at": "2026-11-03T10:09:00Z",
         "components": [{"id": "api", "name": "Public API"}],
         "incident_updates": [
             {"status": "investigating", "body": "We see errors on the API.",
              "created_at": "2026-11-03T10:09:00Z", "affected_components": []},
             {"status": "resolved", "body": "Fixed.", "created_at": "2026-11-03T10:45:00Z",
              "affected_components": []}]},
        {"id": "sp2", "name": "Web slow", "created_at": "2026-11-03T10:05:00Z",
         "components": [{"id": "web", "name": "Web"}],
         "incident_updates": [{"status": "investigating", "body": "Web is slow.",
                               "created_at": "2026-11-03T10:05:00Z"}]},
    ]
}  # fmt: skip
seen_queries: list[dict[str, str]] = []


async def incidents(request: Request) -> JSONResponse:
    return JSONResponse(STATUSPAGE)


async def query_range(request: Request) -> JSONResponse:
    seen_queries.append(dict(request.query_params))
    return JSONResponse(
        {"status": "success", "data": {"resultType": "matrix", "result": [
            {"metric": {"__name__": "ALERTS", "alertname": "ServiceDown", "alertstate": "pending",
                        "service": "api", "severity": "critical"},
             "values": [[ts(9, 56), "1"], [ts(9, 56, 15), "1"]]},
            {"metric": {"__name__": "ALERTS", "alertname": "ServiceDown", "alertstate": "firing",
                        "service": "api", "severity": "critical"},
             "values": [[ts(9, 58), "1"], [ts(10, 30), "1"]]},
        ]}}
    )  # fmt: skip


@pytest.fixture
def sources() -> Iterator[str]:
    app = Starlette(routes=[Route("/api/v2/incidents.json", incidents),
                            Route("/api/v1/query_range", query_range)])  # fmt: skip
    with ThreadedServer(app, "timeline-sources") as server:
        yield server.url


@pytest.fixture
def pagerduty() -> Iterator[FakePagerDutyServer]:
    with modulo_pagerduty(TOKEN, datetime(2026, 11, 20, tzinfo=UTC), "PAPI001") as running:
        running.fake.seed_incident(
            {"service_id": "PAPI001", "title": "Public API down",
             "created_at": "2026-11-03T10:00:00Z",
             "timeline": [{"at": "2026-11-03T10:03:00Z", "action": "acknowledge",
                           "by": "Sam Okafor"},
                          {"at": "2026-11-03T10:40:00Z", "action": "resolve",
                           "by": "Sam Okafor"}]}
        )  # fmt: skip
        yield running


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    """A Git repository whose `main` has one deploy before the page and one long before."""
    path = tmp_path / "repo"
    path.mkdir()

    def git(*args: str, when: str | None = None) -> None:
        env = {**os.environ, "GIT_AUTHOR_NAME": "Alex Rivera", "GIT_AUTHOR_EMAIL": "a@x",
               "GIT_COMMITTER_NAME": "Alex Rivera", "GIT_COMMITTER_EMAIL": "a@x"}  # fmt: skip
        if when:
            env |= {"GIT_AUTHOR_DATE": when, "GIT_COMMITTER_DATE": when}
        subprocess.run(["git", "-C", str(path), *args], check=True, env=env,
                       capture_output=True)  # fmt: skip

    git("init", "-q", "-b", "main")
    git("commit", "-q", "--allow-empty", "-m", "Old change", when="2026-10-01T12:00:00Z")
    git("commit", "-q", "--allow-empty", "-m", "Raise API pool size", when="2026-11-03T09:55:00Z")
    return path


def app() -> typer.Typer:
    root = typer.Typer()
    root.add_typer(incident_app, name="incident")
    root.add_typer(postmortem_app, name="postmortem")
    return root


def common(pagerduty: FakePagerDutyServer, sources: str, repo: Path) -> list[str]:
    return ["--config", str(PROD), "--api-url", pagerduty.url, "--token", TOKEN,
            "--statuspage-url", sources, "--prometheus-url", sources,
            "--repo", str(repo)]  # fmt: skip


def test_timeline_merges_every_source_in_time_order(
    pagerduty: FakePagerDutyServer, sources: str, repo: Path
) -> None:
    incident = next(iter(pagerduty.fake.incidents))
    seen_queries.clear()

    result = CliRunner().invoke(
        app(), ["incident", "timeline", incident, *common(pagerduty, sources, repo),
                "--format", "markdown"],
    )  # fmt: skip

    assert result.exit_code == 0, result.output
    rows = [line for line in result.stdout.splitlines() if line.startswith("| 2026")]
    sha = subprocess.run(["git", "-C", str(repo), "rev-parse", "--short", "main"],
                         capture_output=True, text=True, check=True).stdout.strip()  # fmt: skip
    assert [r.split(" | ")[:3] for r in rows] == [
        ["| 2026-11-03 09:55:00", "Deploy", f"main: {sha} Raise API pool size"],
        ["| 2026-11-03 09:56:00", "Alertmanager", "ServiceDown critical condition true (pending)"],
        ["| 2026-11-03 09:58:00", "Alertmanager", "ServiceDown critical startsAt (firing)"],
        ["| 2026-11-03 10:00:00", "PagerDuty", "trigger: Triggered through the API."],
        ["| 2026-11-03 10:00:00", "PagerDuty", "assign: Assigned to Sam Okafor."],
        ["| 2026-11-03 10:00:00", "PagerDuty", "notify: Notified Sam Okafor by SMS."],
        ["| 2026-11-03 10:03:00", "PagerDuty", "acknowledge: Acknowledged by Sam Okafor."],
        ["| 2026-11-03 10:09:00", "Status page", "investigating: We see errors on the API."],
        ["| 2026-11-03 10:40:00", "PagerDuty", "resolve: Resolved by Sam Okafor."],
        ["| 2026-11-03 10:45:00", "Status page", "resolved: Fixed."],
    ]
    # The query asks for this service's alerts from two hours before the page.
    assert seen_queries[0]["query"] == 'ALERTS{service="api"}'
    assert float(seen_queries[0]["start"]) == ts(8, 0)
    assert "Web is slow" not in result.stdout  # another component
    assert "Old change" not in result.stdout  # long before


def test_the_postmortem_draft_carries_the_merged_timeline(
    pagerduty: FakePagerDutyServer, sources: str, repo: Path, tmp_path: Path
) -> None:
    incident = next(iter(pagerduty.fake.incidents))
    out = tmp_path / "pm"

    result = CliRunner().invoke(
        app(), ["postmortem", "new", incident, *common(pagerduty, sources, repo),
                "--out-dir", str(out)],
    )  # fmt: skip

    assert result.exit_code == 0, result.output
    text = (out / "2026-11-03-public-api-down.md").read_text()
    assert (
        "| 2026-11-03 09:58:00 | Alertmanager | ServiceDown critical startsAt (firing) | - |"
        in (text)
    )
    assert (
        "| 2026-11-03 10:09:00 | Status page | investigating: We see errors on the API. | - |"
        in (text)
    )


def test_missing_sources_are_named_not_silently_skipped(
    pagerduty: FakePagerDutyServer, tmp_path: Path
) -> None:
    incident = next(iter(pagerduty.fake.incidents))

    result: Any = CliRunner().invoke(
        app(), ["incident", "timeline", incident, "--config", str(PROD), "--api-url",
                pagerduty.url, "--token", TOKEN, "--repo", str(tmp_path)],
    )  # fmt: skip

    assert result.exit_code == 0, result.output
    assert "note: no status page updates: pass --statuspage-url" in result.output
    assert "note: no alert start times: pass --prometheus-url" in result.output
    assert "note: deploys unavailable: git log main in" in result.output
