"""`irctl drill --live`: a marked test page, a measured acknowledgement, a report, a record."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

from irctl.learning import live_drill
from learning.drill import run_live_drill
from learning.records import read_records
from sandbox.pagerduty import (
    Clock,
    EscalationTier,
    FakePagerDuty,
    FakePagerDutyServer,
    ServiceConfig,
)
from tests.conftest import PROD

TOKEN = "drill-token"
DRILL_KEY = "d" * 32


@pytest.fixture
def server() -> Iterator[FakePagerDutyServer]:
    fake = FakePagerDuty(
        [
            ServiceConfig(
                "PDRILL1",
                "Paging drill",
                routing_keys=[DRILL_KEY],
                tiers=[EscalationTier(5, ("Alice Oncall",))],
            )
        ],
        api_tokens=[TOKEN],
        # frozen at the real time, so the drill's real-time queries find the incident
        clock=Clock(start=datetime.now(UTC), speed=0),
    )
    with FakePagerDutyServer(fake) as running:
        yield running


def person_acknowledges_after(fake: FakePagerDuty, delay: timedelta) -> threading.Thread:
    """Alice sees the page and acknowledges it `delay` later (on the fake's clock)."""

    def run() -> None:
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            with fake._lock:
                incidents = list(fake.incidents.values())
                if incidents:
                    fake.clock.advance(delay)
                    fake.acknowledge(
                        incidents[0], fake.user_for("Alice Oncall"), fake.clock.now(), "website"
                    )
                    return
            time.sleep(0.02)

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    return thread


def test_live_drill_measures_acknowledgement_and_resolves(server: FakePagerDutyServer) -> None:
    person_acknowledges_after(server.fake, timedelta(minutes=3, seconds=12))
    messages: list[str] = []

    result = run_live_drill(
        "database-outage",
        routing_key=DRILL_KEY,
        token=TOKEN,
        api_url=server.url,
        events_url=server.url,
        poll_seconds=0.05,
        progress=messages.append,
    )

    assert result.error is None
    assert result.time_to_acknowledge == timedelta(minutes=3, seconds=12)
    assert result.acknowledged_by == "Alice Oncall"
    incident = server.fake.incidents[result.incident_id or ""]
    assert incident.title.startswith("[DRILL] database-outage: test page")
    assert incident.status == "resolved"
    event = server.fake.events[0]
    assert event.routing_key == DRILL_KEY
    assert event.body["payload"]["custom_details"]["drill"] is True
    assert messages[-1] == "drill incident resolved"


def cli() -> typer.Typer:
    app = typer.Typer()
    app.command("drill")(live_drill)

    @app.command("other")
    def other() -> None:
        pass

    return app


def test_cli_writes_a_report_and_a_page_record(server: FakePagerDutyServer, tmp_path: Path) -> None:
    person_acknowledges_after(server.fake, timedelta(minutes=2))
    records = tmp_path / "page-tests.jsonl"

    result = CliRunner().invoke(
        cli(),
        ["drill", "database-outage", "--routing-key", DRILL_KEY, "--token", TOKEN,
         "--api-url", server.url, "--events-url", server.url, "--poll-seconds", "0.05",
         "--report-dir", str(tmp_path / "reports"), "--records", str(records),
         "--config", str(PROD)],
    )  # fmt: skip

    assert result.exit_code == 0, result.output
    [report] = list((tmp_path / "reports").glob("*-database-outage.md"))
    text = report.read_text()
    assert "**Result: PASS: acknowledged in 2m00s (target under 5 minutes)**" in text
    assert "| Acknowledged by | Alice Oncall |" in text
    [record] = read_records(records)
    assert (record.kind, record.scenario, record.delivered, record.acknowledged) == (
        "drill", "database-outage", True, True,
    )  # fmt: skip
    assert record.ack_seconds == 120.0
    # The report is data: the scenario's "What good looks like" items, to be marked met or
    # missed at the debrief, which `irctl metrics` then counts.
    assert text.startswith("---\n")
    assert "scenario: database-outage\n" in text
    assert "page_delivered: true\ntime_to_acknowledge_seconds: 120.0\n" in text
    assert "- item: Acknowledged in under 5 minutes; SEV1 declared by T+5.\n  met: null\n" in text
    assert "- item: The 12:40 DiskSpaceLow warning appears in the postmortem as a contributing " \
        "factor, without blaming whoever saw it.\n" in text  # fmt: skip


def test_cli_fails_when_nobody_acknowledges(server: FakePagerDutyServer, tmp_path: Path) -> None:
    records = tmp_path / "page-tests.jsonl"

    result = CliRunner().invoke(
        cli(),
        ["drill", "paging-broken", "--routing-key", DRILL_KEY, "--token", TOKEN,
         "--api-url", server.url, "--events-url", server.url, "--poll-seconds", "0.05",
         "--ack-timeout", "0.01", "--report-dir", str(tmp_path), "--records", str(records),
         "--config", str(PROD)],
    )  # fmt: skip

    assert result.exit_code == 1
    assert "nobody acknowledged within 0m01s" in result.output
    [record] = read_records(records)
    assert (record.delivered, record.acknowledged) == (True, False)
    assert all(i.status == "resolved" for i in server.fake.incidents.values())


def test_wrong_routing_key_is_a_failed_page(server: FakePagerDutyServer) -> None:
    result = run_live_drill(
        "paging-broken",
        routing_key="x" * 32,
        token=TOKEN,
        api_url=server.url,
        events_url=server.url,
        poll_seconds=0.05,
    )

    assert not result.delivered
    assert result.error is not None
    assert "Invalid routing key" in result.error
