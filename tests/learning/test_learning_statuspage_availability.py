"""Availability from the status page's uptime API: a real status page service with crafted
check history, and `irctl metrics --statuspage-url` against it.

The page (tests/statuspage/live_service.py): component api lists services api-gateway and
orders, web lists web, db lists postgres. Crafted check counts (UTC days, 2026):

| component | 15 Aug    | 2 Nov     | 3 Nov     | 10 Nov    |
|-----------|-----------|-----------|-----------|-----------|
| api       | 1440/1440 | 1440/1440 | 1440/1438 |           |
| web       |           | 2880/2880 |           |           |
| db        |           |           |           | 1440/1380 |

November (1-30 Nov): api 2878/2880 = 1439/1440 = 99.931 % (for api-gateway and orders),
web 100 %, db 1380/1440 = 23/24 = 95.833 % -> postgres misses 99.9 %: FAIL.
Overall is the mean over components: (1439 + 1440 + 1380) / 1440 / 3 = 4259/4320 = 98.588 %.

1-5 Nov: api 1439/1440, web 1, db has no results (reported, not counted):
lowest api-gateway 99.931 % -> PASS; overall (1439/1440 + 1) / 2 = 2879/2880 = 99.965 %.

1 Aug - 30 Nov is 122 days, more than one request allows (92): two requests, and api
sums to (1440 + 1440 + 1438) / (3 * 1440) = 4318/4320 = 2159/2160.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest
from sqlalchemy import insert
from typer.testing import CliRunner

from learning import availability
from sandbox.pagerduty import FakePagerDutyServer
from statuspage import schema
from tests.learning.test_learning_metrics import TOKEN, cli_app, crafted_fake
from tests.statuspage.live_service import Live, make_config, start_service

ROWS = [
    ("api", "2026-08-15", 1440, 1440),
    ("api", "2026-11-02", 1440, 1440),
    ("api", "2026-11-03", 1440, 1438),
    ("web", "2026-11-02", 2880, 2880),
    ("db", "2026-11-10", 1440, 1380),
]
NOVEMBER = (datetime(2026, 11, 1, tzinfo=UTC), datetime(2026, 12, 1, tzinfo=UTC))


@pytest.fixture(scope="module")
def statuspage(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Live]:
    path = tmp_path_factory.mktemp("statuspage") / "status.db"
    for live in start_service(make_config(), f"sqlite:///{path}")():
        with live.service.store.engine.begin() as conn:
            conn.execute(
                insert(schema.uptime_day),
                [
                    {"component_id": c, "day": d, "checks_total": total, "checks_ok": ok}
                    for c, d, total, ok in ROWS
                ],
            )
        yield live


def test_each_service_gets_its_components_measured_uptime(statuspage: Live) -> None:
    found = availability.from_statuspage(statuspage.url, *NOVEMBER)

    assert found.per_service == pytest.approx(
        {"api-gateway": 1439 / 1440, "orders": 1439 / 1440, "web": 1.0, "postgres": 23 / 24}
    )
    assert found.overall == pytest.approx(4259 / 4320)
    assert found.no_data == ()
    assert "UTC days 2026-11-01 to 2026-11-30" in found.source


def test_a_window_longer_than_one_request_is_read_in_parts(statuspage: Live) -> None:
    requests: list[httpx.Request] = []
    with httpx.Client(event_hooks={"request": [requests.append]}) as client:
        found = availability.from_statuspage(
            statuspage.url,
            datetime(2026, 8, 1, tzinfo=UTC),
            datetime(2026, 12, 1, tzinfo=UTC),
            client=client,
        )

    assert [(r.url.params["since"], r.url.params["until"]) for r in requests] == [
        ("2026-08-01", "2026-10-31"),  # 92 days
        ("2026-11-01", "2026-11-30"),
    ]
    assert found.per_service["orders"] == pytest.approx(2159 / 2160)


def test_a_refused_query_says_why() -> None:
    def refuse(request: httpx.Request) -> httpx.Response:
        return httpx.Response(400, json={"error": "since='x' is not a date"})

    with (
        httpx.Client(transport=httpx.MockTransport(refuse)) as client,
        pytest.raises(RuntimeError, match="answered 400: since='x' is not a date"),
    ):
        availability.from_statuspage("http://status.example", *NOVEMBER, client=client)


@pytest.fixture
def pagerduty() -> Iterator[str]:
    with FakePagerDutyServer(crafted_fake()) as running:
        yield running.url


def metrics(pagerduty: str, tmp_path: Path, *more: str) -> tuple[int, str]:
    result = CliRunner().invoke(
        cli_app(),
        ["metrics", "--api-url", pagerduty, "--token", TOKEN, "--format", "json",
         "--records", str(tmp_path / "none.jsonl"), *more],
    )  # fmt: skip
    return result.exit_code, result.output


def test_cli_judges_every_service_against_the_target(
    statuspage: Live, pagerduty: str, tmp_path: Path
) -> None:
    code, output = metrics(
        pagerduty, tmp_path, "--since", "2026-11-01", "--until", "2026-11-30",
        "--statuspage-url", statuspage.url,
    )  # fmt: skip

    assert code == 0, output
    data = json.loads(output)
    check = next(c for c in data["checks"] if c["name"] == "Availability")
    assert check == {
        "name": "Availability",
        "value": "98.588 %",
        "target": ">= 99.9 %",
        "status": "fail",
        "note": "lowest: postgres 95.833 %",
    }
    assert data["availability"]["per_service"]["web"] == 1.0


def test_cli_passes_when_every_service_meets_it_and_names_those_without_data(
    statuspage: Live, pagerduty: str, tmp_path: Path
) -> None:
    code, output = metrics(
        pagerduty, tmp_path, "--since", "2026-11-01", "--until", "2026-11-05",
        "--statuspage-url", statuspage.url,
    )  # fmt: skip

    assert code == 0, output
    data = json.loads(output)
    check = next(c for c in data["checks"] if c["name"] == "Availability")
    assert (check["value"], check["status"], check["note"]) == (
        "99.965 %",
        "pass",
        "lowest: api-gateway 99.931 %",
    )
    assert data["availability"]["no_data"] == ["postgres"]
    assert "no status page check results in the window for: postgres" in data["notes"]


def test_cli_refuses_two_availability_sources(pagerduty: str, tmp_path: Path) -> None:
    code, output = metrics(
        pagerduty, tmp_path, "--prometheus-url", "http://prometheus:9090",
        "--statuspage-url", "http://status.example",
    )  # fmt: skip

    assert code == 2
    assert "--prometheus-url or --statuspage-url, not both" in output


def test_cli_without_a_source_says_how_to_give_one(pagerduty: str, tmp_path: Path) -> None:
    code, output = metrics(pagerduty, tmp_path, "--since", "2026-11-01", "--until", "2026-11-30")

    assert code == 0, output
    check = next(c for c in json.loads(output)["checks"] if c["name"] == "Availability")
    assert (check["status"], check["note"]) == (
        "no data",
        "no source given (--prometheus-url or --statuspage-url)",
    )
