"""End to end through a REAL Alertmanager: the generated config pages the right PagerDuty
service, warns in Slack, inhibits, and survives a PagerDuty that answers 429 and 500.

Alertmanager runs on loopback with the config `build_config` generates (the one the Secret
ships), only with short timers, its secrets directory in a temp folder, PagerDuty's Events
API pointed at the local fake (`sandbox.pagerduty`) and Slack at a local webhook.
"""

from __future__ import annotations

import json
import subprocess
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml

from alerts.alertmanager import (
    STATUSPAGE_TOKEN_KEY,
    TEMPLATE_KEY,
    StatusPageHook,
    build_config,
    routing_key_name,
    secret_keys,
)
from alerts.templates import TEMPLATE
from orgconfig.alerting import Timings
from orgconfig.model import OrgConfig
from sandbox.pagerduty import (
    FakePagerDuty,
    FakePagerDutyServer,
    FaultPlan,
    ServiceConfig,
)
from sandbox.servers import free_port
from tests.alerts.conftest import tool

STATUSPAGE_TOKEN = "statuspage-bearer-token-for-tests"
FAST = Timings(
    group_wait=timedelta(seconds=1),
    group_interval=timedelta(seconds=1),
    repeat_interval=timedelta(hours=1),
)


def routing_key(service: str) -> str:
    return (service.replace("-", "") * 32)[:32]


@dataclass
class Webhooks:
    """A local Slack and heartbeat endpoint that records every POST."""

    received: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    authorization: dict[str, set[str]] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def posts(self, path: str) -> list[dict[str, Any]]:
        with self.lock:
            return [body for p, body in self.received if p == path]


@pytest.fixture(scope="module")
def webhooks() -> Iterator[tuple[Webhooks, str]]:
    hooks = Webhooks()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
            with hooks.lock:
                hooks.received.append((self.path, json.loads(body or b"{}")))
                auth = self.headers.get("Authorization", "")
                hooks.authorization.setdefault(self.path, set()).add(auth)
            self.send_response(200)
            self.end_headers()
            self.wfile.write(b"ok")

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield hooks, f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()


@pytest.fixture(scope="module")
def pagerduty(org: OrgConfig) -> Iterator[FakePagerDutyServer]:
    fake = FakePagerDuty(
        [ServiceConfig(s.id, s.name, routing_keys=[routing_key(s.id)]) for s in org.services]
    )
    with FakePagerDutyServer(fake) as server:
        yield server


@dataclass
class Alertmanager:
    url: str
    process: subprocess.Popen[bytes]
    log: Path

    def post(self, *alerts: dict[str, Any]) -> None:
        answer = httpx.post(f"{self.url}/api/v2/alerts", json=list(alerts), timeout=5)
        assert answer.status_code == 200, answer.text


@pytest.fixture(scope="module")
def alertmanager(
    org: OrgConfig,
    tmp_path_factory: pytest.TempPathFactory,
    pagerduty: FakePagerDutyServer,
    webhooks: tuple[Webhooks, str],
) -> Iterator[Alertmanager]:
    binary = tool("prometheus-alertmanager")
    root = tmp_path_factory.mktemp("alertmanager")
    secrets = root / "config"
    secrets.mkdir()
    hook = StatusPageHook(f"{webhooks[1]}/api/v1/alertmanager")
    for key in secret_keys(org, hook):  # every channel's webhook is the local Slack here
        (secrets / key).write_text(f"{webhooks[1]}/slack")
    for service in org.services:
        (secrets / routing_key_name(service.id)).write_text(routing_key(service.id))
    (secrets / TEMPLATE_KEY).write_text(TEMPLATE)
    (secrets / STATUSPAGE_TOKEN_KEY).write_text(STATUSPAGE_TOKEN)
    timings = org.alerting.timings.model_copy(
        update={"page": FAST, "warning": FAST, "heartbeat": FAST, "default": FAST}
    )
    fast = org.model_copy(update={"alerting": org.alerting.model_copy(update={"timings": timings})})
    config = build_config(
        fast,
        heartbeat_url=f"{webhooks[1]}/heartbeat",
        secrets_dir=str(secrets),
        pagerduty_url=f"{pagerduty.url}/v2/enqueue",
        statuspage=hook,
    )
    config_file = root / "alertmanager.yaml"
    config_file.write_text(yaml.safe_dump(config, sort_keys=False))
    port = free_port()
    log = root / "alertmanager.log"
    with log.open("wb") as out:
        process = subprocess.Popen(
            [
                binary,
                f"--config.file={config_file}",
                f"--storage.path={root / 'data'}",
                f"--web.listen-address=127.0.0.1:{port}",
                "--cluster.listen-address=",  # no cluster: no 60 s settle before notifying
            ],
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    running = Alertmanager(f"http://127.0.0.1:{port}", process, log)
    try:
        wait_for(lambda: _ready(running.url), 15, lambda: log.read_text())
        yield running
    finally:
        process.terminate()
        process.wait(timeout=10)


def _ready(url: str) -> bool:
    try:
        return httpx.get(f"{url}/-/ready", timeout=1).status_code == 200
    except httpx.HTTPError:
        return False


def wait_for(
    condition: Callable[[], Any], seconds: float, explain: Callable[[], str] = lambda: ""
) -> Any:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if result := condition():
            return result
        time.sleep(0.1)
    raise AssertionError(f"not true within {seconds} s. {explain()}")


def alert(name: str, service: str, severity: str, **extra: str) -> dict[str, Any]:
    return {
        "labels": {"alertname": name, "service": service, "severity": severity, **extra},
        "annotations": {
            "summary": f"{name} in {service} ({severity})",
            "description": "test",
            "runbook_url": f"https://example.com/docs/runbooks/{name}.md",
        },
    }


def resolved(payload: dict[str, Any]) -> dict[str, Any]:
    past = (datetime.now(UTC) - timedelta(seconds=1)).isoformat()
    return {**payload, "endsAt": past}


def events(server: FakePagerDutyServer, service: str) -> list[dict[str, Any]]:
    answer = httpx.get(f"{server.url}/_fake/events", params={"routing_key": routing_key(service)})
    return list(answer.json()["events"])


def accepted(server: FakePagerDutyServer, service: str, action: str) -> list[dict[str, Any]]:
    return [e for e in events(server, service) if e["accepted"] and e["event_action"] == action]


def slack_titles(hooks: Webhooks) -> list[str]:
    return [a.get("title", "") for post in hooks.posts("/slack") for a in post["attachments"]]


def test_critical_pages_the_services_pagerduty_and_resolve_closes_it(
    alertmanager: Alertmanager, pagerduty: FakePagerDutyServer
) -> None:
    page = alert("HighErrorRate", "payments", "critical")
    alertmanager.post(page)
    [trigger] = wait_for(lambda: accepted(pagerduty, "payments", "trigger"), 10)
    assert trigger["routing_key"] == routing_key("payments")
    assert trigger["service_id"] == "payments"
    body = trigger["body"]
    assert body["payload"]["severity"] == "critical"
    assert body["payload"]["summary"] == "HighErrorRate in payments (critical)"
    assert body["payload"]["component"] == "payments"
    dedup = trigger["dedup_key"]
    assert dedup

    # A second alert joins the group: PagerDuty hears again, under the same dedup key.
    alertmanager.post(page, alert("HighErrorRate", "payments", "critical", instance="b"))
    triggers = wait_for(lambda: (t := accepted(pagerduty, "payments", "trigger"))[1:] and t, 10)
    assert {t["dedup_key"] for t in triggers} == {dedup}
    assert len(pagerduty.fake.incidents) >= 1
    assert len({i.incident_key for i in pagerduty.fake.incidents.values()}) == len(
        pagerduty.fake.incidents
    )

    second = alert("HighErrorRate", "payments", "critical", instance="b")
    alertmanager.post(resolved(page), resolved(second))
    [resolve] = wait_for(lambda: accepted(pagerduty, "payments", "resolve"), 10)
    assert resolve["dedup_key"] == dedup
    assert resolve["routing_key"] == routing_key("payments")
    assert all(e["service_id"] == "payments" for e in events(pagerduty, "payments"))


def test_warning_reaches_slack_and_never_pagerduty(
    alertmanager: Alertmanager, pagerduty: FakePagerDutyServer, webhooks: tuple[Webhooks, str]
) -> None:
    hooks, _ = webhooks
    alertmanager.post(alert("HighCPUUsage", "web", "warning"))
    title = "[FIRING:1] HighCPUUsage (warning) in web"
    wait_for(lambda: title in slack_titles(hooks), 10, lambda: str(slack_titles(hooks)))
    post = next(p for p in hooks.posts("/slack") if p["attachments"][0]["title"] == title)
    assert post["channel"] == "#platform-alerts"
    assert (
        "Runbook: https://example.com/docs/runbooks/HighCPUUsage.md"
        in post["attachments"][0]["text"]
    )
    time.sleep(1.5)  # a group_interval tick: nothing may have gone to PagerDuty meanwhile
    assert events(pagerduty, "web") == []


def test_warning_is_inhibited_while_the_matching_critical_fires(
    alertmanager: Alertmanager, pagerduty: FakePagerDutyServer, webhooks: tuple[Webhooks, str]
) -> None:
    hooks, _ = webhooks
    alertmanager.post(alert("HighLatency", "api", "critical"))
    wait_for(lambda: accepted(pagerduty, "api", "trigger"), 10)
    # The same condition at warning level, plus a control warning that nothing inhibits.
    alertmanager.post(
        alert("HighLatency", "api", "warning"), alert("HighLatency", "database", "warning")
    )
    control = "[FIRING:1] HighLatency (warning) in database"
    wait_for(lambda: control in slack_titles(hooks), 10, lambda: str(slack_titles(hooks)))
    time.sleep(1.5)
    assert not [t for t in slack_titles(hooks) if "HighLatency (warning) in api" in t]


def test_watchdog_reaches_the_heartbeat_unknown_criticals_page_the_catch_all_service(
    alertmanager: Alertmanager, pagerduty: FakePagerDutyServer, webhooks: tuple[Webhooks, str]
) -> None:
    hooks, _ = webhooks
    alertmanager.post(
        {"labels": {"alertname": "Watchdog", "service": "prometheus", "severity": "none"}},
        alert("ServiceDown", "billing-v2", "critical"),
        alert("HighCPUUsage", "search", "warning"),  # ServiceDown would inhibit it
    )
    [beat] = wait_for(lambda: hooks.posts("/heartbeat"), 10)[:1]
    assert beat["alerts"][0]["labels"]["alertname"] == "Watchdog"
    [page] = wait_for(lambda: accepted(pagerduty, "catch-all", "trigger"), 10)
    assert page["body"]["payload"]["summary"] == "ServiceDown in billing-v2 (critical)"
    # A critical without any service label still wakes someone.
    alertmanager.post({"labels": {"alertname": "NodeDown", "severity": "critical"}})
    wait_for(lambda: len(accepted(pagerduty, "catch-all", "trigger")) >= 2, 10)
    # A warning of an unknown service only reaches the unrouted channel.
    wait_for(lambda: [p for p in hooks.posts("/slack") if p["channel"] == "#alerts-unrouted"], 10)
    unrouted = [p for p in hooks.posts("/slack") if p["channel"] == "#alerts-unrouted"]
    assert "HighCPUUsage (warning) in search" in unrouted[0]["attachments"][0]["title"]


def test_one_service_outage_is_one_pagerduty_incident(
    alertmanager: Alertmanager, pagerduty: FakePagerDutyServer
) -> None:
    """Grouped by service: ServiceDown, HighErrorRate and HighLatency of one service are one
    incident, not three that each escalate."""
    alertmanager.post(
        alert("HighErrorRate", "web", "critical"),
        alert("HighLatency", "web", "critical"),
        alert("ErrorBudgetBurn", "web", "critical"),
    )
    wait_for(lambda: accepted(pagerduty, "web", "trigger"), 10)
    time.sleep(2)  # two group_interval ticks: any second incident would have been sent
    triggers = accepted(pagerduty, "web", "trigger")
    assert len({t["dedup_key"] for t in triggers}) == 1
    web = [i for i in pagerduty.fake.incidents.values() if i.service_id == "web"]
    assert len(web) == 1
    # The page says everything that fires in it.
    summary = triggers[-1]["body"]["payload"]["summary"]
    assert summary.startswith("[FIRING:3] ") and summary.endswith(" (critical) in web")
    assert all(name in summary for name in ("HighErrorRate", "HighLatency", "ErrorBudgetBurn"))


def test_service_down_inhibits_its_services_symptoms_but_not_other_services(
    alertmanager: Alertmanager, webhooks: tuple[Webhooks, str]
) -> None:
    hooks, _ = webhooks
    alertmanager.post(alert("ServiceDown", "payments", "critical"))
    time.sleep(1.5)  # the inhibiting alert is known before its symptoms arrive
    alertmanager.post(
        alert("SignalMissing", "payments", "warning", signal="HighLatency"),
        alert("SignalMissing", "database", "warning", signal="DatabaseConnectionFailures"),
    )
    control = "[FIRING:1] SignalMissing (warning) in database"
    wait_for(lambda: control in slack_titles(hooks), 10, lambda: str(slack_titles(hooks)))
    time.sleep(1.5)
    assert not [t for t in slack_titles(hooks) if "SignalMissing (warning) in payments" in t]


def test_page_is_delivered_although_pagerduty_answers_429_then_500(
    alertmanager: Alertmanager, pagerduty: FakePagerDutyServer
) -> None:
    pagerduty.fake.inject_fault("events", FaultPlan(status=429, count=2))
    pagerduty.fake.inject_fault("events", FaultPlan(status=500, count=2))
    alertmanager.post(alert("ServiceDown", "database", "critical"))
    wait_for(
        lambda: accepted(pagerduty, "database", "trigger"),
        30,
        lambda: alertmanager.log.read_text()[-2000:],
    )
    statuses = [e["status_code"] for e in events(pagerduty, "database")]
    assert statuses[:4] == [429, 429, 500, 500]
    assert statuses[4] == 202


def _statuspage_alerts(hooks: Webhooks, path: str, service: str) -> list[dict[str, Any]]:
    return [
        a
        for post in hooks.posts(path)
        for a in post["alerts"]
        if a["labels"].get("service") == service
    ]


def test_only_criticals_of_opted_in_components_reach_the_status_page_with_its_token(
    alertmanager: Alertmanager, webhooks: tuple[Webhooks, str]
) -> None:
    hooks, _ = webhooks
    path = "/api/v1/alertmanager"
    alertmanager.post(
        alert("HighErrorRate", "api", "critical"), alert("HighCPUUsage", "api", "warning")
    )
    [posted] = wait_for(lambda: _statuspage_alerts(hooks, path, "api"), 10)[:1]
    assert posted["labels"]["severity"] == "critical"
    assert hooks.authorization[path] == {f"Bearer {STATUSPAGE_TOKEN}"}
    time.sleep(1.5)
    assert {a["labels"]["severity"] for a in _statuspage_alerts(hooks, path, "api")} == {"critical"}
    assert not [
        a for post in hooks.posts(path) for a in post["alerts"]
        if a["labels"]["alertname"] == "Watchdog"
    ]  # fmt: skip


def test_components_that_chose_draft_reach_the_draft_webhook_only(
    alertmanager: Alertmanager, webhooks: tuple[Webhooks, str]
) -> None:
    hooks, _ = webhooks
    alertmanager.post(alert("ServiceDown", "database", "critical"))
    draft = "/api/v1/alertmanager?mode=draft"
    # The recording server keeps the query string in the path.
    [posted] = wait_for(lambda: _statuspage_alerts(hooks, draft, "database"), 10)[:1]
    assert (posted["labels"]["alertname"], posted["labels"]["severity"]) == (
        "ServiceDown",
        "critical",
    )
    assert hooks.authorization[draft] == {f"Bearer {STATUSPAGE_TOKEN}"}
    assert _statuspage_alerts(hooks, "/api/v1/alertmanager", "database") == []
