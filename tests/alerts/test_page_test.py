"""`irctl page-test` against the local PagerDuty, through the official `pagerduty` client."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from irctl.cli import app
from sandbox.pagerduty import (
    FakePagerDuty,
    FakePagerDutyServer,
    FaultPlan,
    ServiceConfig,
)
from sandbox.servers import free_port
from tests.alerts.conftest import PROD

API_KEY = "a" * 32
TOKEN = "rest-token"


@pytest.fixture
def server() -> Iterator[FakePagerDutyServer]:
    fake = FakePagerDuty(
        [ServiceConfig("PAPI", "Public API", routing_keys=[API_KEY])], api_tokens=[TOKEN]
    )
    with FakePagerDutyServer(fake) as running:
        yield running


def page_test(
    server_url: str, records: Path, *extra: str, key: str = API_KEY, token: str = TOKEN
) -> tuple[int, str]:
    result = CliRunner().invoke(
        app,
        [
            "page-test", "--service", "api", "--config", str(PROD),
            "--events-url", server_url, "--api-url", server_url,
            "--record-file", str(records), "--timeout", "5", *extra,
        ],
        env={"PAGERDUTY_ROUTING_KEY": key, "PAGERDUTY_API_KEY": token, "COLUMNS": "200"},
    )  # fmt: skip
    return result.exit_code, result.output


def records(path: Path) -> list[dict[str, object]]:
    return [json.loads(line) for line in path.read_text().splitlines()]


def test_page_test_pages_waits_for_the_incident_resolves_it_and_records_it(
    server: FakePagerDutyServer, tmp_path: Path
) -> None:
    file = tmp_path / "page-tests.jsonl"
    code, output = page_test(server.url, file)
    assert code == 0, output
    assert "delivered page test for api: incident #1" in output
    assert "s after the event was sent; resolved" in output
    [trigger, resolve] = server.fake.events
    assert trigger.status_code == 202 and trigger.event_action == "trigger"
    body = trigger.body
    assert body["payload"]["summary"].startswith("[PAGE TEST] Public API")
    assert body["payload"]["timestamp"]  # pagerduty 7.2.0 needs an explicit timestamp
    assert resolve.event_action == "resolve" and resolve.dedup_key == trigger.dedup_key
    [incident] = server.fake.incidents.values()
    assert incident.status == "resolved"
    [record] = records(file)
    assert record["kind"] == "page-test" and record["service"] == "api"
    assert record["delivered"] is True and record["incident_id"] == incident.id
    assert isinstance(record["delivery_seconds"], float)


def test_bad_routing_key_is_a_clear_400_error(server: FakePagerDutyServer, tmp_path: Path) -> None:
    file = tmp_path / "page-tests.jsonl"
    code, output = page_test(server.url, file, key="b" * 32)
    assert code == 1
    assert (
        "page test of api failed: PagerDuty rejected the event (400: Invalid routing key)" in output
    )
    assert "Invalid routing key" in output
    [record] = records(file)
    assert record["delivered"] is False and "400" in str(record["error"])


def test_rate_limiting_is_reported_not_retried_forever(
    server: FakePagerDutyServer, tmp_path: Path
) -> None:
    server.fake.inject_fault("events", FaultPlan(status=429, count=10))
    code, output = page_test(server.url, tmp_path / "r.jsonl")
    assert code == 1
    assert "PagerDuty is rate limiting sending the test event (429)" in output
    assert len(server.fake.events) == 3  # the first try and two retries


def test_unreachable_endpoint_is_a_clear_error(tmp_path: Path) -> None:
    url = f"http://127.0.0.1:{free_port()}"
    code, output = page_test(url, tmp_path / "r.jsonl")
    assert code == 1
    assert f"cannot reach {url} (sending the test event)" in output


def test_missing_api_key_says_what_to_set(server: FakePagerDutyServer, tmp_path: Path) -> None:
    code, output = page_test(server.url, tmp_path / "r.jsonl", token="")
    assert code == 1
    assert "set PAGERDUTY_API_KEY" in output
    assert server.fake.events == []


def test_unknown_service_lists_the_known_ones(server: FakePagerDutyServer, tmp_path: Path) -> None:
    result = CliRunner().invoke(
        app,
        ["page-test", "--service", "nope", "--config", str(PROD), "--events-url", server.url,
         "--api-url", server.url, "--record-file", str(tmp_path / "r.jsonl")],
        env={"PAGERDUTY_ROUTING_KEY": API_KEY, "PAGERDUTY_API_KEY": TOKEN, "COLUMNS": "200"},
    )  # fmt: skip
    assert result.exit_code == 1
    known = "api, web, database, payments, page-test, catch-all"
    assert f"unknown service 'nope' (known: {known})" in " ".join(result.output.split())


def test_routing_key_comes_from_the_toolbox_key_directory(
    server: FakePagerDutyServer, tmp_path: Path
) -> None:
    keys = tmp_path / "pagerduty"
    keys.mkdir()
    (keys / "routing-key-api").write_text(API_KEY + "\n")
    result = CliRunner().invoke(
        app,
        ["page-test", "--service", "api", "--config", str(PROD), "--events-url", server.url,
         "--api-url", server.url, "--record-file", str(tmp_path / "r.jsonl")],
        env={"PAGERDUTY_ROUTING_KEY_DIR": str(keys), "PAGERDUTY_API_KEY": TOKEN,
             "PAGERDUTY_ROUTING_KEY": None, "COLUMNS": "200"},
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert server.fake.events[0].routing_key == API_KEY


def test_no_routing_key_anywhere_says_where_it_looked(tmp_path: Path) -> None:
    result = CliRunner().invoke(
        app,
        ["page-test", "--service", "api", "--config", str(PROD),
         "--routing-key-dir", str(tmp_path)],
        env={"PAGERDUTY_API_KEY": TOKEN, "PAGERDUTY_ROUTING_KEY": None, "COLUMNS": "300"},
    )  # fmt: skip
    assert result.exit_code == 1
    assert "no routing key for api" in result.output
    assert f"{tmp_path}/routing-key-api" in result.output.replace("\n", "")
