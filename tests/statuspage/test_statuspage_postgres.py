"""PostgreSQL: the same behaviour as SQLite, several replicas, one of them running checks."""

from __future__ import annotations

import json
import threading
import time
from datetime import UTC, datetime

import httpx
from live_service import TOKEN, alert, make_config, notification, start_service
from sqlalchemy import insert, select

from statuspage import schema
from statuspage.migrations import LATEST, MIGRATIONS, current_version, migrate
from statuspage.store import Store, make_engine

HOOK = "/api/v1/alertmanager"


def test_webhook_flow_on_postgres(pg_url: str) -> None:
    for live in start_service(make_config(), pg_url)():
        for _ in range(3):
            assert live.post(HOOK, notification(alert())).status_code == 200
        assert live.component("api")["status"] == "major_outage"
        assert len(live.incidents()) == 1
        live.post(HOOK, notification(alert("resolved")))
        live.post(HOOK, notification(alert()))
        assert [i["status"] for i in live.incidents()] == ["resolved"]
        assert live.component("api")["status"] == "operational"


def test_replicas_share_state_and_only_one_runs_checks(pg_url: str) -> None:
    config = make_config()
    fast = {"leader_seconds": 0.3, "poll_seconds": 0.2}
    a_run = start_service(config, pg_url, **fast)()
    b_run = start_service(config, pg_url, **fast)()
    a, b = next(a_run), next(b_run)
    try:
        deadline = time.monotonic() + 5
        while not (a.service.runs_checks or b.service.runs_checks):
            assert time.monotonic() < deadline
            time.sleep(0.1)
        time.sleep(1)  # several election rounds
        assert [a.service.runs_checks, b.service.runs_checks].count(True) == 1

        # Alertmanager HA delivers the same notification to both replicas at once.
        def deliver(url: str) -> None:
            httpx.post(
                f"{url}{HOOK}",
                json=notification(alert()),
                headers={"authorization": f"Bearer {TOKEN}"},
                timeout=10,
            )

        threads = [
            threading.Thread(target=deliver, args=(r.url,)) for r in (a, b) for _ in range(3)
        ]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert len(a.incidents()) == 1

        b.put("/api/v1/components/db/override", {"status": "partial_outage"})
        deadline = time.monotonic() + 5
        while a.component("db")["status"] != "partial_outage":
            assert time.monotonic() < deadline, "replica a never saw b's write"
            time.sleep(0.1)

        follower, leader_run = (b, a_run) if a.service.runs_checks else (a, b_run)
        leader_run.close()  # stops that server and releases its lock
        deadline = time.monotonic() + 5
        while not follower.service.runs_checks:
            assert time.monotonic() < deadline, "no replica took over the checks"
            time.sleep(0.1)
    finally:
        a_run.close()
        b_run.close()


def test_upgrade_from_schema_v1_keeps_incidents(
    empty_database_url: str,
) -> None:
    url = empty_database_url
    engine = make_engine(url)
    assert migrate(engine, target=1) == 1
    now = datetime(2025, 6, 1, tzinfo=UTC)
    with engine.begin() as conn:
        conn.execute(
            insert(schema.incident).values(
                id="old1",
                kind="incident",
                name="Last year's outage",
                status="resolved",
                impact="major",
                components=json.dumps(["api"]),
                automated=False,
                created_at=now,
                updated_at=now,
                resolved_at=now,
            )
        )
        conn.execute(
            insert(schema.incident_update).values(
                id="u1",
                incident_id="old1",
                status="resolved",
                body="Fixed.",
                created_at=now,
                affected_components="[]",
            )
        )
    engine.dispose()

    store = Store(url, make_config())
    store.migrate()
    store.migrate()  # idempotent: a restart does nothing
    with store.engine.connect() as conn:
        assert current_version(conn) == LATEST
        versions = [r[0] for r in conn.execute(select(schema.schema_version.c.version))]
    assert versions == sorted(MIGRATIONS)
    view = store.read_view()
    assert [(i.name, i.updates[0].body) for i in view.incidents] == [
        ("Last year's outage", "Fixed.")
    ]
    assert store.record_check("api", "operational", True) is False  # v2's table works
    store.dispose()


def test_uptime_api_on_postgres(pg_url: str) -> None:
    for live in start_service(make_config(), pg_url)():
        store = live.service.store
        # 3 Nov 23:59 and 4 Nov 00:00 UTC fall on either side of a day boundary.
        for moment, ok in [
            (datetime(2026, 11, 3, 23, 59, tzinfo=UTC), False),
            (datetime(2026, 11, 4, 0, 0, tzinfo=UTC), True),
            (datetime(2026, 11, 4, 0, 1, tzinfo=UTC), True),
        ]:
            store.record_check("api", "operational", ok, moment)

        answer = live.client.get(
            "/api/v2/uptime.json", params={"since": "2026-11-04", "until": "2026-11-04"}
        )

        assert answer.status_code == 200, answer.text
        api = next(c for c in answer.json()["components"] if c["id"] == "api")
        assert (api["uptime"], api["checks_ok"], api["checks_total"]) == (1.0, 2, 2)
