"""Webhook subscriptions against a real HTTP receiver on loopback: signed Statuspage-shaped
bodies, retried after a 500; plus the abuse guards of POST /subscribe."""

from __future__ import annotations

import hashlib
import hmac
import json
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from live_service import TOKEN, Live, alert, make_config, notification, open_incident, start_service
from smtp_sink import wait_for
from sqlalchemy import func, select

from statuspage import schema
from statuspage.notify_webhook import TargetError, check_url
from statuspage.ratelimit import Rate, RateLimiter
from statuspage.subscriptions import SubscriptionSettings


class Receiver:
    """Answers each status in `script` once, then 200; keeps every request. A status of 0
    answers 200 only after `slow_seconds` (longer than the sender waits)."""

    slow_seconds = 1.0

    def __init__(self, *script: int) -> None:
        self.script = list(script)
        self.requests: list[tuple[dict[str, str], bytes]] = []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["content-length"]))
                receiver.requests.append((dict(self.headers.items()), body))
                status = receiver.script.pop(0) if receiver.script else 200
                if status == 0:
                    time.sleep(receiver.slow_seconds)
                    status = 200
                self.send_response(status)
                self.send_header("content-length", "0")
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hooks/status"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture(scope="module")
def hook_live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Live]:
    # Private targets allowed: the receiver is on loopback (production refuses that).
    settings = SubscriptionSettings(smtp=None, allow_private_webhooks=True, poll_seconds=0.1)
    db = tmp_path_factory.mktemp("hooks") / "status.db"
    yield from start_service(make_config(), f"sqlite:///{db}", subscriptions=settings)()


@pytest.fixture
def live(hook_live: Live) -> Live:
    hook_live.reset()
    hook_live.service.subscribe_limiter = RateLimiter(Rate(1000, 1.0))
    hook_live.service.sender.first_retry = timedelta(milliseconds=200)
    return hook_live


def verified(secret: str, headers: dict[str, str], body: bytes) -> bool:
    """What the README tells receivers to do."""
    timestamp = headers["X-Statuspage-Timestamp"]
    expected = (
        "sha256="
        + hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256).hexdigest()
    )
    fresh = abs(time.time() - int(timestamp)) < 300
    return fresh and hmac.compare_digest(expected, headers["X-Statuspage-Signature"])


def pending(live: Live) -> int:
    out = schema.outbox
    with live.service.store.engine.connect() as conn:
        query = select(func.count()).where(out.c.next_attempt_at.is_not(None))
        return int(conn.execute(query).scalar_one())


def counted(live: Live, outcome: str) -> float:
    """`statuspage_notifications_total{channel="webhook", outcome=...}` from /metrics."""
    name = f'statuspage_notifications_total{{channel="webhook",outcome="{outcome}"}} '
    lines = [
        line for line in live.client.get("/metrics").text.splitlines() if line.startswith(name)
    ]
    return float(lines[0].split()[-1]) if lines else 0.0


def test_webhooks_are_signed_shaped_like_statuspage_and_retried_after_a_500(live: Live) -> None:
    receiver = Receiver(500)
    sent_before, retried_before = counted(live, "sent"), counted(live, "retry")
    try:
        answer = live.client.post("/subscribe", json={"webhook_url": receiver.url})
        assert answer.status_code == 201, answer.text
        secret = answer.json()["secret"]
        assert answer.json()["signature_header"] == "X-Statuspage-Signature"

        incident = open_incident(live, "Orders failing", ["api"], "major", "Looking.")
        wait_for("the retry", lambda: len(receiver.requests) == 2)
        live.post(f"/api/v1/incidents/{incident['id']}/resolve", {"body": "Fixed."})
        wait_for("the resolution", lambda: len(receiver.requests) == 3)
        wait_for("the outbox to drain", lambda: pending(live) == 0)
        time.sleep(0.5)

        assert len(receiver.requests) == 3  # one failure, its retry, the resolution
        assert all(verified(secret, h, b) for h, b in receiver.requests)
        assert not verified("another-secret", *receiver.requests[0])
        first, retry, resolved = (json.loads(b) for _, b in receiver.requests)
        assert first == retry  # the same message, sent again
        assert first["meta"]["event"] == "incident.created"
        assert first["meta"]["unsubscribe"].startswith(
            "https://status.acme.example/subscriptions/unsubscribe/"
        )
        assert first["page"] == {
            "id": "acme",
            "status_indicator": "major",
            "status_description": "Partial System Outage",
        }
        assert first["incident"]["id"] == incident["id"]
        assert first["incident"]["name"] == "Orders failing"
        assert first["incident"]["incident_updates"][0]["body"] == "Looking."
        assert first["meta"]["update_id"] == first["incident"]["incident_updates"][0]["id"]
        assert resolved["meta"]["event"] == "incident.resolved"
        assert resolved["incident"]["status"] == "resolved"
        assert resolved["incident"]["resolved_at"] is not None
        assert counted(live, "sent") - sent_before == 2
        assert counted(live, "retry") - retried_before == 1
    finally:
        receiver.close()


def test_a_webhook_that_times_out_is_sent_again(live: Live) -> None:
    live.service.sender.webhook_timeout_seconds = 0.3
    receiver = Receiver(0)  # the first delivery takes longer than the sender waits
    try:
        assert live.client.post("/subscribe", json={"webhook_url": receiver.url}).status_code == 201
        open_incident(live, "Slow receiver", ["api"])
        wait_for("the second delivery", lambda: len(receiver.requests) >= 2)
        wait_for("the outbox to drain", lambda: pending(live) == 0)
        first, second = (json.loads(b) for _, b in receiver.requests[:2])
        assert first == second and first["meta"]["event"] == "incident.created"
        out = schema.outbox
        with live.service.store.engine.connect() as conn:
            row = conn.execute(select(out.c.attempts, out.c.sent_at)).one()
        assert row.attempts == 2 and row.sent_at is not None
    finally:
        live.service.sender.webhook_timeout_seconds = 10.0
        receiver.close()


def test_a_webhook_that_keeps_failing_does_not_hold_up_another(live: Live) -> None:
    broken, working = Receiver(*[503] * 50), Receiver()
    try:
        for r in (broken, working):
            assert live.client.post("/subscribe", json={"webhook_url": r.url}).status_code == 201
        open_incident(live, "Down", [], "critical", "Down.")
        wait_for("the working receiver", lambda: working.requests)
        wait_for("retries of the broken one", lambda: len(broken.requests) >= 3)
        assert len(working.requests) == 1
    finally:
        broken.close()
        working.close()


@pytest.mark.parametrize(
    ("url", "reason"),
    [
        ("http://hooks.example.com/x", "must start with https://"),
        ("https://user:pw@hooks.example.com/x", "credentials"),
        ("https://127.0.0.1/x", "not a public address"),
        ("https://10.0.0.8/x", "not a public address"),
        ("https://[::1]/x", "not a public address"),
        ("https://169.254.169.254/latest/meta-data", "not a public address"),
        ("https://localhost/x", "not a public host"),
        ("https://kubernetes.default.svc.cluster.local/x", "not a public host"),
        ("ftp://hooks.example.com/x", "must start with https://"),
        ("https://hooks.example.com/a b", "spaces or line breaks"),
        ("https://[::1/x", "not a URL"),
        ("https://hooks.example.com/\r\nX-Injected: 1", "spaces or line breaks"),
    ],
)
def test_webhook_urls_must_be_public_https(url: str, reason: str) -> None:
    with pytest.raises(TargetError, match=reason):
        check_url(url, allow_private=False)


def test_a_public_https_url_is_accepted() -> None:
    assert check_url("https://hooks.example.com/status?x=1", allow_private=False)


def test_bad_input_gets_a_422_naming_the_field_and_stores_nothing(live: Live) -> None:
    cases = [
        ({"webhook_url": "https://hooks.example.com/x", "components": ["nope"]}, "unknown nope"),
        ({"email": "a@example.com", "webhook_url": "https://hooks.example.com/x"}, "either"),
        ({}, "either"),
        ({"email": "a@example.com"}, "not available"),  # this page has no SMTP settings
    ]
    for body, reason in cases:
        answer = live.client.post("/subscribe", json=body)
        assert answer.status_code == 422, body
        assert reason in answer.json()["error"]
    nul = live.client.post("/subscribe", json={"webhook_url": "https://h.example.com/\u0000"})
    assert nul.status_code == 422 and "U+0000" in nul.json()["error"]
    deep = live.client.post(
        "/subscribe",
        content=b'{"a":' * 100 + b"1" + b"}" * 100,
        headers={"content-type": "application/json"},
    )
    assert deep.status_code == 400
    for path in (
        "/subscriptions/confirm/x%00y",
        "/subscriptions/unsubscribe/..%2f..",
        "/subscriptions/confirm/" + "a" * 43,
    ):
        assert live.client.get(path).status_code == 404, path
    form = live.client.post("/subscribe", data={"webhook_url": "ftp://x"})
    assert form.status_code == 422 and "must start with" in form.text
    with live.service.store.engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(schema.subscriber)).scalar() == 0


def test_subscribe_is_rate_limited_per_client(live: Live) -> None:
    live.service.subscribe_limiter = RateLimiter(Rate(2, 3600.0))
    codes = [
        live.client.post("/subscribe", json={"webhook_url": f"https://h{i}.example.com/"})
        for i in range(3)
    ]
    assert [c.status_code for c in codes] == [201, 201, 429]
    assert int(codes[2].headers["retry-after"]) > 0


def test_rate_limiter_refills_over_time() -> None:
    now = [0.0]
    limiter = RateLimiter(Rate(2, 60.0), clock=lambda: now[0])
    assert [limiter.allow("a"), limiter.allow("a"), limiter.allow("a")] == [True, True, False]
    assert limiter.allow("b")  # per client
    now[0] = 30.0  # one token back after half the period
    assert [limiter.allow("a"), limiter.allow("a")] == [True, False]


def test_subscriber_data_stays_out_of_every_public_file(live: Live) -> None:
    answer = live.client.post(
        "/subscribe", json={"webhook_url": "https://secret-hook.example.com/t0ps3cret"}
    )
    secret = answer.json()["secret"]
    token = answer.json()["unsubscribe_url"].rsplit("/", 1)[1]
    open_incident(live, "Down", ["api"], "critical", "Down.")
    live.service.refresh(force=True)
    # service.files is exactly what the S3 copy uploads; the paths are what the public reads.
    for needle in ("secret-hook", "t0ps3cret", secret, token):
        for f in live.service.files:
            assert needle.encode() not in f.body, f.key
        for path in (
            "/",
            "/history",
            "/history.atom",
            "/api/v2/summary.json",
            "/api/v2/incidents.json",
            "/api/v2/uptime.json",
            "/metrics",
        ):
            assert needle not in live.client.get(path).text, path


def test_maintenance_start_and_end_are_sent_once_by_clock_or_by_hand(live: Live) -> None:
    receiver = Receiver()
    try:
        assert live.client.post("/subscribe", json={"webhook_url": receiver.url}).status_code == 201
        now = datetime.now(UTC)
        store = live.service.store
        store.schedule_maintenance(
            "Database upgrade",
            "Short read-only phase.",
            now - timedelta(minutes=50),
            now - timedelta(minutes=10),
            ["db"],
        )
        by_hand = store.schedule_maintenance(
            "Network work",
            "Brief blips.",
            now + timedelta(hours=2),
            now + timedelta(hours=3),
            ["web"],
        )
        store.update_maintenance(by_hand, "in_progress", "Started.")
        # The clock ends the first window (both edges passed: no separate start); a person
        # starts the second early. Asking the clock twice changes nothing.
        store.advance_maintenances(datetime.now(UTC))
        store.advance_maintenances(datetime.now(UTC))
        wait_for("four deliveries", lambda: len(receiver.requests) >= 4)
        wait_for("the outbox to drain", lambda: pending(live) == 0)
        time.sleep(0.3)
        events = sorted(
            (json.loads(b)["incident"]["name"], json.loads(b)["meta"]["event"])
            for _, b in receiver.requests
        )
        assert events == [
            ("Database upgrade", "maintenance.completed"),
            ("Database upgrade", "maintenance.scheduled"),
            ("Network work", "maintenance.scheduled"),
            ("Network work", "maintenance.started"),
        ]
    finally:
        receiver.close()


def test_a_draft_tells_nobody_until_it_is_published(live: Live) -> None:
    receiver = Receiver()
    try:
        assert live.client.post("/subscribe", json={"webhook_url": receiver.url}).status_code == 201
        assert (
            live.post("/api/v1/alertmanager?mode=draft", notification(alert())).status_code == 200
        )
        (draft,) = live.client.get(
            "/api/v1/drafts", headers={"authorization": f"Bearer {TOKEN}"}
        ).json()["incidents"]
        wait_for("the outbox to drain", lambda: pending(live) == 0)
        time.sleep(0.3)
        assert receiver.requests == []
        assert live.post(f"/api/v1/incidents/{draft['id']}/publish", {}).status_code == 200
        wait_for("the announcement", lambda: receiver.requests)
        wait_for("the outbox to drain", lambda: pending(live) == 0)
        time.sleep(0.3)
        assert [json.loads(b)["meta"]["event"] for _, b in receiver.requests] == [
            "incident.created"
        ]
    finally:
        receiver.close()


_json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=40),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=10), inner),
    max_leaves=10,
)


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    body=st.fixed_dictionaries(
        {},
        optional={
            "email": _json_values,
            "webhook_url": _json_values
            | st.sampled_from(["https://h.example.com/x", "http://[::1", "https://10.1.1.1/"]),
            "components": _json_values | st.lists(st.sampled_from(["api", "web", "db", "x"])),
        },
    )
)
def test_no_subscribe_body_gets_a_server_error(live: Live, body: dict[str, Any]) -> None:
    answer = live.client.post("/subscribe", json=body)
    assert answer.status_code in (201, 400, 409, 422), (body, answer.text)
    assert "error" in answer.json() or answer.status_code == 201


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    raw=st.binary(max_size=200)
    | st.builds(
        lambda pairs: "&".join(f"{k}={v}" for k, v in pairs).encode(),
        st.lists(
            st.tuples(
                st.sampled_from(["email", "webhook_url", "components", "x"]), st.text(max_size=30)
            ),
            max_size=5,
        ),
    )
)
def test_no_subscribe_form_gets_a_server_error(live: Live, raw: bytes) -> None:
    answer = live.client.post(
        "/subscribe", content=raw, headers={"content-type": "application/x-www-form-urlencoded"}
    )
    assert answer.status_code in (201, 409, 422), (raw, answer.text)
    assert answer.headers["content-type"].startswith("text/html")


def test_delivered_rows_are_forgotten_after_30_days(live: Live) -> None:
    receiver = Receiver()
    try:
        assert live.client.post("/subscribe", json={"webhook_url": receiver.url}).status_code == 201
        open_incident(live, "Old news", ["api"])
        wait_for("the delivery", lambda: receiver.requests)
        wait_for("the outbox to drain", lambda: pending(live) == 0)
        sender = live.service.sender
        assert sender.prune(datetime.now(UTC) + timedelta(days=29)) == 0
        assert sender.prune(datetime.now(UTC) + timedelta(days=31)) == 1
        with live.service.store.engine.connect() as conn:
            assert conn.execute(select(func.count()).select_from(schema.outbox)).scalar() == 0
    finally:
        receiver.close()
