"""The local PagerDuty answers like PagerDuty, so the official client and Alertmanager work."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pagerduty
import pytest

from sandbox.pagerduty import (
    Clock,
    EscalationTier,
    FakePagerDuty,
    FakePagerDutyServer,
    FaultPlan,
    ServiceConfig,
    create_app,
)
from sandbox.servers import free_port

KEY_A = "a" * 32
KEY_B = "b" * 32
TOKEN = "test-token"
# One client for the module: a new httpx client per call costs ~0.1 s of TLS setup.
HTTP = httpx.Client()
START = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)


def make_fake() -> FakePagerDuty:
    return FakePagerDuty(
        [
            ServiceConfig(
                "checkout",
                "Checkout",
                routing_keys=[KEY_A],
                tiers=[
                    EscalationTier(15, ("Alice Primary",)),
                    EscalationTier(15, ("Bob Secondary",)),
                    EscalationTier(30, ("Carol Lead",)),
                ],
                team_ids=["payments"],
            ),
            ServiceConfig("search", "Search", routing_keys=[KEY_B], team_ids=["discovery"]),
        ],
        api_tokens=[TOKEN],
        clock=Clock(start=START, speed=0),
    )


@pytest.fixture
def fake() -> FakePagerDuty:
    return make_fake()


@pytest.fixture
def server(fake: FakePagerDuty) -> Iterator[FakePagerDutyServer]:
    with FakePagerDutyServer(fake) as running:
        yield running


def rest_client(url: str) -> pagerduty.RestApiV2Client:
    client = pagerduty.RestApiV2Client(TOKEN, default_from="alice.primary@example.com")
    # pagerduty 7.2.0's url setter refuses anything but https://; the fake is loopback HTTP.
    client._url = url
    client.sleep_timer = 0.05  # keep its exponential back-off short in tests
    return client


def trigger(url: str, key: str = KEY_A, **overrides: object) -> httpx.Response:
    event: dict[str, object] = {
        "routing_key": key,
        "event_action": "trigger",
        "dedup_key": "checkout-down",
        "payload": {"summary": "Checkout is down", "source": "blackbox", "severity": "critical"},
    }
    event.update(overrides)
    return HTTP.post(f"{url}/v2/enqueue", json=event)


def seed_day(fake: FakePagerDuty, day: int, service: str = "checkout") -> None:
    base = START + timedelta(days=day)
    fake.seed_incident(
        {
            "service_id": service,
            "title": f"incident on day {day}",
            "created_at": base.isoformat(),
            "timeline": [
                {"at": (base + timedelta(minutes=2)).isoformat(), "action": "acknowledge",
                 "by": "Alice Primary"},
                {"at": (base + timedelta(minutes=9)).isoformat(), "action": "resolve",
                 "by": "Alice Primary"},
            ],
        }
    )  # fmt: skip


def test_trigger_is_accepted_and_recorded_with_its_routing_key(server: FakePagerDutyServer) -> None:
    answer = trigger(server.url)

    assert answer.status_code == 202
    assert answer.json() == {
        "status": "success",
        "message": "Event processed",
        "dedup_key": "checkout-down",
    }
    events = HTTP.get(f"{server.url}/_fake/events").json()["events"]
    assert [(e["routing_key"], e["service_id"], e["accepted"]) for e in events] == [
        (KEY_A, "checkout", True)
    ]
    assert events[0]["received_at"] == "2026-11-02T09:00:00Z"


def test_a_second_trigger_with_the_same_dedup_key_opens_no_second_incident(
    server: FakePagerDutyServer, fake: FakePagerDuty
) -> None:
    trigger(server.url)
    trigger(server.url)
    assert len(fake.incidents) == 1

    HTTP.post(
        f"{server.url}/v2/enqueue",
        json={"routing_key": KEY_A, "event_action": "resolve", "dedup_key": "checkout-down"},
    )
    trigger(server.url)  # the old one is resolved: this is a new incident
    assert sorted(i.status for i in fake.incidents.values()) == ["resolved", "triggered"]


@pytest.mark.parametrize(
    ("event", "error"),
    [
        (
            {"routing_key": "short"},
            "Length of 'routing_key' is incorrect (should be 32 characters)",
        ),
        ({"routing_key": "c" * 32}, "Invalid routing key"),
        (
            {"event_action": "page"},
            "'event_action' is invalid (must be trigger, acknowledge or resolve)",
        ),
        ({"dedup_key": "d" * 256}, "'dedup_key' is too long (maximum is 255 characters)"),
        (
            {"payload": {"summary": "s" * 1025, "source": "x", "severity": "critical"}},
            "'payload.summary' is too long (maximum is 1024 characters)",
        ),
        (
            {"payload": {"summary": "down", "severity": "critical"}},
            "'payload.source' is missing or blank",
        ),
        (
            {"payload": {"summary": "down", "source": "x", "severity": "high"}},
            "'payload.severity' is invalid (must be one of the following: "
            "'critical', 'warning', 'error' or 'info')",
        ),
    ],
)  # fmt: skip
def test_bad_events_get_pagerdutys_400(
    server: FakePagerDutyServer, fake: FakePagerDuty, event: dict[str, Any], error: str
) -> None:
    answer = trigger(server.url, **event)

    assert answer.status_code == 400
    assert answer.json()["status"] == "invalid event"
    assert answer.json()["message"] == "Event object is invalid"
    assert error in answer.json()["errors"]
    assert fake.incidents == {}


def test_injected_429_and_500_then_delivery(
    server: FakePagerDutyServer, fake: FakePagerDuty
) -> None:
    HTTP.post(f"{server.url}/_fake/faults", json={"api": "events", "status": 429, "count": 2})
    HTTP.post(f"{server.url}/_fake/faults", json={"api": "events", "status": 500, "count": 1})

    codes = [trigger(server.url).status_code for _ in range(4)]

    assert codes == [429, 429, 500, 202]
    assert len(fake.incidents) == 1
    events = HTTP.get(f"{server.url}/_fake/events", params={"routing_key": KEY_A}).json()
    assert [e["status_code"] for e in events["events"]] == [429, 429, 500, 202]


def test_unacknowledged_incident_escalates_through_the_tiers_on_time(
    server: FakePagerDutyServer, fake: FakePagerDuty
) -> None:
    trigger(server.url)
    fake.clock.advance(timedelta(minutes=31))
    fake.tick()
    client = rest_client(server.url)
    incident = client.list_all("incidents")[0]
    entries = client.list_all(f"incidents/{incident['id']}/log_entries")

    timeline = [(e["type"], e["created_at"]) for e in reversed(entries)]
    assert timeline == [
        ("trigger_log_entry", "2026-11-02T09:00:00Z"),
        ("assign_log_entry", "2026-11-02T09:00:00Z"),
        ("notify_log_entry", "2026-11-02T09:00:00Z"),
        ("escalate_log_entry", "2026-11-02T09:15:00Z"),
        ("notify_log_entry", "2026-11-02T09:15:00Z"),
        ("escalate_log_entry", "2026-11-02T09:30:00Z"),
        ("notify_log_entry", "2026-11-02T09:30:00Z"),
    ]
    assert [e["user"]["summary"] for e in reversed(entries) if "user" in e] == [
        "Alice Primary",
        "Bob Secondary",
        "Carol Lead",
    ]
    assert incident["assignments"][0]["assignee"]["summary"] == "Carol Lead"


def test_policy_repeats_from_the_first_tier_when_it_loops(fake: FakePagerDuty) -> None:
    fake.services["checkout"].num_loops = 1
    status, _ = fake.enqueue(
        {"routing_key": KEY_A, "event_action": "trigger",
         "payload": {"summary": "down", "source": "x", "severity": "critical"}},
        100,
    )  # fmt: skip
    fake.clock.advance(timedelta(hours=3))
    fake.tick()

    [incident] = fake.incidents.values()
    escalations = [(e.created_at - START, e.summary) for e in incident.log_entries
                   if e.type == "escalate_log_entry"]  # fmt: skip
    assert status == 202
    assert escalations == [
        (timedelta(minutes=15), "Escalated to level 2: Bob Secondary."),
        (timedelta(minutes=30), "Escalated to level 3: Carol Lead."),
        (timedelta(minutes=60), "Escalation policy repeated (1); escalated to level 1: "
                                "Alice Primary."),
        (timedelta(minutes=75), "Escalated to level 2: Bob Secondary."),
        (timedelta(minutes=90), "Escalated to level 3: Carol Lead."),
    ]  # fmt: skip


def test_acknowledged_incident_stops_escalating(
    server: FakePagerDutyServer, fake: FakePagerDuty
) -> None:
    trigger(server.url)
    client = rest_client(server.url)
    incident = client.list_all("incidents")[0]
    fake.clock.advance(timedelta(minutes=3))

    acked = client.rput(incident, json={"type": "incident_reference", "status": "acknowledged"})
    fake.clock.advance(timedelta(hours=2))
    fake.tick()

    assert acked["status"] == "acknowledged"
    assert acked["acknowledgements"][0]["at"] == "2026-11-02T09:03:00Z"
    assert acked["acknowledgements"][0]["acknowledger"]["summary"] == "Alice Primary"
    types = [e["type"] for e in client.list_all(f"incidents/{incident['id']}/log_entries")]
    assert "escalate_log_entry" not in types
    assert types[0] == "acknowledge_log_entry"


def test_put_without_from_header_is_refused(server: FakePagerDutyServer) -> None:
    trigger(server.url)
    incident_id = next(iter(HTTP.get(
        f"{server.url}/incidents", headers={"Authorization": f"Token token={TOKEN}"}
    ).json()["incidents"]))["id"]  # fmt: skip

    answer = HTTP.put(
        f"{server.url}/incidents/{incident_id}",
        headers={"Authorization": f"Token token={TOKEN}"},
        json={"incident": {"type": "incident_reference", "status": "resolved"}},
    )

    assert answer.status_code == 400
    assert answer.json()["error"]["code"] == 2001


def test_bulk_put_resolves_and_empties_assignments(
    server: FakePagerDutyServer, fake: FakePagerDuty
) -> None:
    trigger(server.url)
    trigger(server.url, dedup_key="other")
    client = rest_client(server.url)
    ids = [i["id"] for i in client.list_all("incidents")]

    resolved = client.rput(
        "incidents",
        json=[{"id": i, "type": "incident_reference", "status": "resolved"} for i in ids],
    )

    assert [i["status"] for i in resolved] == ["resolved", "resolved"]
    assert all(i["assignments"] == [] and i["acknowledgements"] == [] for i in resolved)


def test_official_client_paginates_and_retries_after_a_429(
    server: FakePagerDutyServer, fake: FakePagerDuty
) -> None:
    for day in range(7):
        seed_day(fake, day)
    seed_day(fake, 3, service="search")
    fake.inject_fault("rest", FaultPlan(status=429, count=1, after=1, retry_after_seconds=1))
    client = rest_client(server.url)

    incidents = client.list_all(
        "incidents",
        params={"since": "2026-11-01T00:00:00Z", "until": "2026-11-30T00:00:00Z",
                "service_ids[]": ["checkout"]},
        page_size=3,
    )  # fmt: skip

    assert [i["title"] for i in incidents] == [f"incident on day {d}" for d in range(7)]
    # three pages plus the one answered 429 and retried
    assert client.api_call_counts == {"GET /incidents": 4}


def test_list_incidents_filters_and_total(server: FakePagerDutyServer, fake: FakePagerDuty) -> None:
    for day in range(3):
        seed_day(fake, day)
    seed_day(fake, 1, service="search")
    trigger(server.url)  # open, at 09:00 on START
    headers = {"Authorization": f"Token token={TOKEN}"}

    def query(**params: Any) -> Any:
        return HTTP.get(f"{server.url}/incidents", params=params, headers=headers).json()

    since = "2026-11-01T00:00:00Z"
    fake.clock.set(START + timedelta(days=5))
    assert query(since=since, total="true", limit=2)["total"] == 5
    assert query(since=since, total="true", limit=2)["more"] is True
    assert query(since=since)["total"] is None
    assert len(query(since=since, **{"team_ids[]": "discovery"})["incidents"]) == 1
    assert len(query(since=since, **{"statuses[]": "triggered"})["incidents"]) == 1
    window = query(since="2026-11-03T00:00:00Z", until="2026-11-04T00:00:00Z")
    assert [i["title"] for i in window["incidents"]] == ["incident on day 1", "incident on day 1"]
    bad = HTTP.get(f"{server.url}/incidents", params={"statuses[]": "open"}, headers=headers)
    assert bad.status_code == 400
    assert bad.json()["error"]["message"] == "Invalid Input Provided"


def test_rest_needs_a_token_and_reports_rate_limit_headers(server: FakePagerDutyServer) -> None:
    anonymous = HTTP.get(f"{server.url}/services")
    assert anonymous.status_code == 401

    answer = HTTP.get(f"{server.url}/services", headers={"Authorization": f"Token token={TOKEN}"})
    assert answer.status_code == 200
    assert answer.headers["ratelimit-limit"] == "960"
    assert answer.headers["ratelimit-remaining"] == "959"
    assert int(answer.headers["ratelimit-reset"]) > 0
    assert [s["name"] for s in answer.json()["services"]] == ["Checkout", "Search"]


def test_rate_limit_exhaustion_answers_429_with_retry_after(
    server: FakePagerDutyServer, fake: FakePagerDuty
) -> None:
    fake.rate_limit_per_minute = 2
    headers = {"Authorization": f"Token token={TOKEN}"}
    codes = [HTTP.get(f"{server.url}/services", headers=headers) for _ in range(3)]

    assert [c.status_code for c in codes] == [200, 200, 429]
    assert codes[2].headers["ratelimit-remaining"] == "0"
    assert int(codes[2].headers["retry-after"]) > 0


def test_service_and_incident_lookups(server: FakePagerDutyServer) -> None:
    trigger(server.url)
    client = rest_client(server.url)

    service = client.rget("services/checkout")
    incident = client.rget(client.list_all("incidents")[0])

    assert service["name"] == "Checkout"
    assert service["status"] == "critical"
    assert incident["service"]["id"] == "checkout"
    assert incident["teams"][0]["id"] == "payments"
    assert incident["incident_key"] == "checkout-down"
    missing = HTTP.get(
        f"{server.url}/incidents/NOPE", headers={"Authorization": f"Token token={TOKEN}"}
    )
    assert missing.status_code == 404


def test_seeded_history_is_exact_and_global_log_is_newest_first(
    server: FakePagerDutyServer, fake: FakePagerDuty
) -> None:
    HTTP.post(
        f"{server.url}/_fake/incidents",
        json={
            "service_id": "checkout",
            "title": "Reassigned then escalated",
            "created_at": "2026-11-01T08:00:00Z",
            "timeline": [
                {"at": "2026-11-01T08:04:00Z", "action": "acknowledge", "by": "Alice Primary"},
                {"at": "2026-11-01T08:06:00Z", "action": "reassign", "to": ["Dan Db"]},
                {"at": "2026-11-01T08:20:00Z", "action": "escalate", "level": 3},
                {"at": "2026-11-01T08:50:00Z", "action": "resolve", "by": "Carol Lead"},
            ],
        },
    ).raise_for_status()
    client = rest_client(server.url)

    entries = client.list_all("log_entries", params={"since": "2026-11-01T00:00:00Z"})
    incident = client.list_all("incidents", params={"date_range": "all"})[0]

    assert entries[0]["type"] == "resolve_log_entry"
    assert entries[0]["agent"]["summary"] == "Carol Lead"
    assert entries[-1]["type"] == "trigger_log_entry"
    assert incident["status"] == "resolved"
    assert incident["resolved_at"] == "2026-11-01T08:50:00Z"
    assert [e["type"] for e in entries].count("escalate_log_entry") == 1


def test_clock_control_endpoint(server: FakePagerDutyServer) -> None:
    answer = HTTP.post(f"{server.url}/_fake/clock", json={"set": "2026-12-01T00:00:00Z"})
    assert answer.json()["now"] == "2026-12-01T00:00:00Z"
    answer = HTTP.post(f"{server.url}/_fake/clock", json={"advance_seconds": 90})
    assert answer.json()["now"] == "2026-12-01T00:01:30Z"


def test_inbox_page_lists_incidents_escaped(server: FakePagerDutyServer) -> None:
    trigger(server.url, payload={"summary": "<script>alert(1)</script>", "source": "x",
                                 "severity": "critical"})  # fmt: skip

    page = HTTP.get(server.url + "/").text

    assert "Local PagerDuty inbox" in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "<script>" not in page
    assert "Checkout" in page


def test_runs_as_a_program_with_a_config_file(tmp_path: Path) -> None:
    config = tmp_path / "pagerduty.json"
    config.write_text(
        json.dumps({"services": [{"id": "api", "name": "Public API", "routing_keys": [KEY_A]}]})
    )
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "sandbox.pagerduty", "--port", str(port), "--config", str(config)],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout is not None
        assert "local PagerDuty on http://127.0.0.1:" in process.stdout.readline()
        for _ in range(100):
            try:
                answer = trigger(f"http://127.0.0.1:{port}")
                break
            except httpx.ConnectError:
                time.sleep(0.05)
        assert answer.status_code == 202
    finally:
        process.terminate()
        process.wait(timeout=10)


def test_a_real_alertmanager_pages_it_and_retries_after_429(
    server: FakePagerDutyServer, fake: FakePagerDuty, tmp_path: Path
) -> None:
    (tmp_path / "alertmanager.yml").write_text(
        "route: {receiver: pd, group_by: [alertname], group_wait: 0s, group_interval: 1s}\n"
        "receivers:\n"
        f"  - name: pd\n    pagerduty_configs: [{{routing_key: {KEY_B}, "
        f"url: '{server.url}/v2/enqueue'}}]\n"
    )
    port = free_port()
    alertmanager = subprocess.Popen(
        ["prometheus-alertmanager", f"--config.file={tmp_path / 'alertmanager.yml'}",
         f"--storage.path={tmp_path}", f"--web.listen-address=127.0.0.1:{port}",
         "--cluster.listen-address="],
        stderr=subprocess.DEVNULL,
    )  # fmt: skip
    fake.inject_fault("events", FaultPlan(status=429, count=1))
    try:
        for _ in range(200):
            try:
                HTTP.get(f"http://127.0.0.1:{port}/-/ready")
                break
            except httpx.ConnectError:
                time.sleep(0.05)
        HTTP.post(
            f"http://127.0.0.1:{port}/api/v2/alerts",
            json=[{"labels": {"alertname": "ServiceDown", "severity": "critical"}}],
        ).raise_for_status()
        for _ in range(200):
            if any(e.status_code == 202 for e in fake.events):
                break
            time.sleep(0.05)
    finally:
        alertmanager.terminate()
        alertmanager.wait(timeout=10)

    assert [(e.status_code, e.routing_key, e.service_id) for e in fake.events] == [
        (429, KEY_B, None),
        (202, KEY_B, "search"),
    ]
    [incident] = fake.incidents.values()
    assert incident.title == "[FIRING:1] ServiceDown (critical)"


def test_app_can_be_mounted_without_the_thread_runner() -> None:
    from starlette.testclient import TestClient

    with TestClient(create_app(make_fake())) as client:
        answer = client.post(
            "/v2/enqueue",
            json={"routing_key": KEY_B, "event_action": "trigger",
                  "payload": {"summary": "Search is slow", "source": "x", "severity": "error"}},
        )  # fmt: skip
    assert answer.status_code == 202
    assert len(answer.json()["dedup_key"]) == 32


def test_an_adopted_account_answers_configuration_while_events_still_page() -> None:
    """Issue 13: with an account loaded, /users and /services answer from it, and the
    Events API and incidents keep working for the engine's services."""
    from sandbox.pagerduty_account import account_from_data

    fake = make_fake()
    fake.account = account_from_data(
        {
            "users": [{"id": "PU1", "name": "Ann Berg", "email": "ann@x.example"}],
            "escalation_policies": [
                {"id": "PP1", "name": "Ops", "rules": [
                    {"escalation_delay_in_minutes": 5,
                     "targets": [{"type": "user_reference", "id": "PU1"}]}
                ]}
            ],
            "services": [{"id": "PV1", "name": "Api", "escalation_policy": "PP1"}],
        }
    )  # fmt: skip
    with FakePagerDutyServer(fake) as server:
        auth = {"Authorization": f"Token token={TOKEN}"}
        users = HTTP.get(f"{server.url}/users", headers=auth).json()["users"]
        assert [(u["id"], u["email"]) for u in users] == [("PU1", "ann@x.example")]
        service = HTTP.get(f"{server.url}/services/PV1", headers=auth).json()["service"]
        assert service["escalation_policy"]["id"] == "PP1"
        assert trigger(server.url).status_code == 202
        incidents = HTTP.get(f"{server.url}/incidents", headers=auth).json()["incidents"]
        assert [i["service"]["id"] for i in incidents] == ["checkout"]
