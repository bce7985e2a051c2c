"""The original runbook's `kubectl exec -it deploy/incident-manager -n incident-response --
python test_paging.py`: the script the image carries, run as a program against the local
PagerDuty double."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from sandbox.pagerduty import FakePagerDuty, FakePagerDutyServer, ServiceConfig, User
from tests.conftest import PROD, ROOT

KEY = "c" * 32
TOKEN = "rest-token"
RESPONDER = User("PSAM", "Sam Okafor", "sam.okafor@modulo.example.com")


@pytest.fixture
def server() -> Iterator[FakePagerDutyServer]:
    fake = FakePagerDuty(
        [ServiceConfig("PTEST", "Paging self-test", routing_keys=[KEY])],
        users=[RESPONDER],
        api_tokens=[TOKEN],
    )
    with FakePagerDutyServer(fake) as running:
        yield running


def run_script(
    server: FakePagerDutyServer, records: Path, *args: str
) -> subprocess.CompletedProcess[str]:
    # As in the toolbox: the record file comes from IRCTL_RECORD_FILE.
    env = {**os.environ, "PAGERDUTY_API_KEY": TOKEN, "PAGERDUTY_ROUTING_KEY": KEY,
           "IRCTL_RECORD_FILE": str(records), "COLUMNS": "200"}  # fmt: skip
    return subprocess.run(
        [sys.executable, "test_paging.py", "--config", str(PROD), "--events-url", server.url,
         "--api-url", server.url, "--timeout", "10", *args],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=60,
    )  # fmt: skip


def acknowledge_when_it_arrives(fake: FakePagerDuty, after_seconds: float) -> threading.Thread:
    def answer() -> None:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            with fake._lock:
                incidents = list(fake.incidents.values())
            if incidents:
                time.sleep(after_seconds)
                with fake._lock:
                    fake.acknowledge(incidents[0], RESPONDER, datetime.now(UTC), "mobile")
                return
            time.sleep(0.05)

    thread = threading.Thread(target=answer, daemon=True)
    thread.start()
    return thread


def test_script_pages_high_urgency_waits_for_the_acknowledgement_and_records_it(
    server: FakePagerDutyServer, tmp_path: Path
) -> None:
    records = tmp_path / "page-tests.jsonl"
    helper = acknowledge_when_it_arrives(server.fake, 0.5)
    result = run_script(server, records)
    helper.join(5)
    assert result.returncode == 0, result.stderr
    assert "delivered page test for page-test: incident #1" in result.stdout
    assert "; acknowledged after " in result.stdout and result.stdout.rstrip().endswith("resolved")
    trigger, resolve = server.fake.events
    assert trigger.body["payload"]["severity"] == "critical"  # high urgency, not info
    assert trigger.routing_key == KEY
    assert resolve.event_action == "resolve"
    (incident,) = server.fake.incidents.values()
    assert incident.status == "resolved"
    (record,) = [json.loads(line) for line in records.read_text().splitlines()]
    assert record["service"] == "page-test" and record["delivered"] is True
    assert record["acknowledged"] is True and 0.5 <= record["ack_seconds"] < 30


def test_nobody_acknowledging_resolves_it_after_the_timeout_and_says_so(
    server: FakePagerDutyServer, tmp_path: Path
) -> None:
    records = tmp_path / "page-tests.jsonl"
    result = run_script(server, records, "--resolve-after", "1")
    assert result.returncode == 0, result.stderr
    assert "nobody acknowledged it in time; resolved" in result.stdout
    (incident,) = server.fake.incidents.values()
    assert incident.status == "resolved"
    (record,) = [json.loads(line) for line in records.read_text().splitlines()]
    assert record["acknowledged"] is False and record["ack_seconds"] is None


def test_the_image_carries_the_script_where_kubectl_exec_runs_it() -> None:
    dockerfile = (ROOT / "Dockerfile").read_text()
    assert "COPY test_paging.py ./" in dockerfile
    assert "WORKDIR /app" in dockerfile
