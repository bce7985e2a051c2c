"""Killing the leader between commit and send loses no notification, and two replicas
send it once: real `statuspage serve` processes on one PostgreSQL, a real SMTP server."""

from __future__ import annotations

import signal
import subprocess
import time
from contextlib import AbstractContextManager
from datetime import UTC, datetime
from pathlib import Path

import httpx
import psycopg
from live_service import TOKEN, make_config, serve_process
from smtp_sink import Mailbox, smtp_server, wait_for
from sqlalchemy import func, select

from statuspage import schema
from statuspage.service import LEADER_LOCK_KEY
from statuspage.store import Store
from statuspage.subscriptions import SubscribeRequest, confirm, subscribe

SUBJECT = "[Acme Status] New incident: Checkout failing"


def replica(
    tmp_path: Path, name: str, db_url: str, smtp_port: int, poll_seconds: float
) -> AbstractContextManager[tuple[subprocess.Popen[str], str]]:
    env = {
        "STATUSPAGE_DATABASE_URL": db_url,
        "STATUSPAGE_API_TOKEN": TOKEN,
        "STATUSPAGE_SMTP_URL": f"smtp://127.0.0.1:{smtp_port}",
        "STATUSPAGE_MAIL_FROM": "status@acme.example",
        "STATUSPAGE_OUTBOX_POLL_SECONDS": str(poll_seconds),
    }
    return serve_process(tmp_path, name, env)


def leader_locks(pg_url: str) -> int:
    with psycopg.connect(pg_url) as conn:
        row = conn.execute(
            "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND granted "
            "AND classid = %s AND objid = %s",
            (LEADER_LOCK_KEY >> 32, LEADER_LOCK_KEY & 0xFFFFFFFF),
        ).fetchone()
        return int(row[0]) if row else 0


def pending(store: Store) -> int:
    out = schema.outbox
    with store.engine.connect() as conn:
        query = select(func.count()).where(out.c.next_attempt_at.is_not(None))
        return int(conn.execute(query).scalar_one())


def incident_mails(box: Mailbox) -> list[str]:
    return [str(m["Subject"]) for m in box.to("ops@example.com") if m["Subject"] == SUBJECT]


def test_a_leader_killed_after_commit_loses_nothing_and_replicas_send_once(
    tmp_path: Path, pg_url: str
) -> None:
    store = Store(pg_url, make_config())
    store.migrate()
    now = datetime.now(UTC)
    subscribe(store, SubscribeRequest("email", "ops@example.com", []), now)
    with store.engine.connect() as conn:
        token = conn.execute(select(schema.subscriber.c.token)).scalar_one()
    assert confirm(store, token, now)

    with smtp_server() as (box, smtp_port):
        # Leader A would only look at its outbox in an hour: it commits and never sends.
        with replica(tmp_path, "a", pg_url, smtp_port, poll_seconds=3600) as (a, base):
            wait_for("replica a to lead", lambda: leader_locks(pg_url) == 1)
            created = httpx.post(
                f"{base}/api/v1/incidents",
                json={
                    "name": "Checkout failing",
                    "status": "investigating",
                    "body": "Payments time out.",
                    "impact": "major",
                    "components": ["api"],
                },
                headers={"authorization": f"Bearer {TOKEN}"},
            )
            assert created.status_code == 201
            assert pending(store) == 1  # committed with the incident
            a.send_signal(signal.SIGKILL)
            a.wait(timeout=10)
        assert incident_mails(box) == []

        # Two replicas start; whichever leads sends the queued mail, once.
        with (
            replica(tmp_path, "b", pg_url, smtp_port, 0.2),
            replica(tmp_path, "c", pg_url, smtp_port, 0.2),
        ):
            wait_for("the mail after fail-over", lambda: incident_mails(box))
            wait_for("the outbox to drain", lambda: pending(store) == 0)
            time.sleep(1.0)  # five more polls by the leader
            assert leader_locks(pg_url) == 1
        assert incident_mails(box) == [SUBJECT]

        # A restart sends nothing again.
        with replica(tmp_path, "d", pg_url, smtp_port, 0.2):
            wait_for("replica d to lead", lambda: leader_locks(pg_url) == 1)
            time.sleep(1.0)
        assert incident_mails(box) == [SUBJECT]
    store.dispose()
