"""The state machines through the real service: what a customer and a responder see."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from live_service import Live, alert, make_config, notification
from sqlalchemy import text

from statuspage.migrations import migrate
from statuspage.store import Store, make_engine
from statuspage.transitions import Effect

HOOK = "/api/v1/alertmanager"


def _iso(moment: datetime) -> str:
    return moment.isoformat().replace("+00:00", "Z")


def test_a_reopened_incident_is_listed_again(live: Live) -> None:
    created = live.post("/api/v1/incidents", {"name": "Login fails", "body": "Looking."}).json()
    path = f"/api/v1/incidents/{created['id']}"
    live.post(f"{path}/resolve", {"body": "Fixed."})
    assert live.summary()["incidents"] == []
    reopened = live.post(f"{path}/updates", {"status": "investigating", "body": "It is back."})
    assert reopened.status_code == 200
    assert reopened.json()["resolved_at"] is None
    assert [i["name"] for i in live.summary()["incidents"]] == ["Login fails"]
    unresolved = live.client.get("/api/v2/incidents/unresolved.json").json()["incidents"]
    assert [i["id"] for i in unresolved] == [created["id"]]


def test_resolving_twice_adds_no_second_update(live: Live) -> None:
    created = live.post("/api/v1/incidents", {"name": "Login fails", "body": "Looking."}).json()
    path = f"/api/v1/incidents/{created['id']}/resolve"
    first = live.post(path, {"body": "Fixed."}).json()
    second = live.post(path, {"body": "Fixed, really."}).json()
    assert [u["status"] for u in second["incident_updates"]] == ["resolved", "investigating"]
    assert second["resolved_at"] == first["resolved_at"]


def test_started_at_is_the_alerts_starts_at(live: Live) -> None:
    began = datetime.now(UTC).replace(microsecond=0) - timedelta(minutes=12)
    live.post(HOOK, notification(alert(starts_at=began)))
    [incident] = live.incidents()
    assert incident["started_at"] == began.strftime("%Y-%m-%dT%H:%M:%S.000Z")
    assert incident["created_at"] > incident["started_at"]


def test_alerts_move_a_components_updated_at(live: Live) -> None:
    before = live.component("api")["updated_at"]
    web = live.component("web")["updated_at"]
    time.sleep(0.01)
    live.post(HOOK, notification(alert()))
    fired = live.component("api")["updated_at"]
    assert fired > before
    assert live.component("web")["updated_at"] == web
    time.sleep(0.01)
    live.post(HOOK, notification(alert()))  # a resend changes nothing
    assert live.component("api")["updated_at"] == fired
    live.post(HOOK, notification(alert("resolved")))
    assert live.component("api")["updated_at"] > fired


def test_unresolved_incidents_are_never_capped_away(live: Live) -> None:
    store = live.service.store
    old = datetime.now(UTC) - timedelta(days=30)
    store.create_incident("Old and still open", "investigating", "Looking.", "minor", [], old)
    for n in range(55):
        moment = old + timedelta(hours=n + 1)
        incident_id = store.create_incident(f"Past {n}", "investigating", "x", "minor", [], moment)
        store.update_incident(incident_id, "resolved", "Fixed.", moment + timedelta(minutes=5))
    live.service.refresh(force=True)
    listed = live.incidents()
    assert len(listed) == 51
    assert listed[-1]["name"] == "Old and still open"
    assert [i["name"] for i in live.summary()["incidents"]] == ["Old and still open"]


def test_maintenance_shows_statuspages_indicator_and_impact(live: Live) -> None:
    now = datetime.now(UTC)
    body = {
        "name": "Database upgrade",
        "body": "Planned.",
        "scheduled_for": _iso(now - timedelta(minutes=1)),
        "scheduled_until": _iso(now + timedelta(hours=1)),
        "components": ["db"],
    }
    created = live.post("/api/v1/maintenances", body).json()
    assert created["status"] == "in_progress"
    assert created["impact"] == "maintenance"
    assert [u["status"] for u in created["incident_updates"]] == ["in_progress", "scheduled"]
    assert live.component("db")["status"] == "under_maintenance"
    assert live.summary()["status"] == {
        "indicator": "maintenance",
        "description": "Service Under Maintenance",
    }
    live.post(HOOK, notification(alert()))  # an outage elsewhere is worse than maintenance
    assert live.summary()["status"]["indicator"] == "critical"


def test_a_manual_start_before_the_window_is_honoured(live: Live) -> None:
    now = datetime.now(UTC)
    body = {
        "name": "Database upgrade",
        "body": "Planned.",
        "scheduled_for": _iso(now + timedelta(hours=1)),
        "scheduled_until": _iso(now + timedelta(hours=2)),
        "components": ["db"],
    }
    created = live.post("/api/v1/maintenances", body).json()
    assert created["status"] == "scheduled"
    moved = live.post(
        f"/api/v1/maintenances/{created['id']}/updates",
        {"status": "in_progress", "body": "We start early."},
    ).json()
    assert moved["status"] == "in_progress"
    assert live.component("db")["status"] == "under_maintenance"
    active = live.client.get("/api/v2/scheduled-maintenances/active.json").json()
    assert [m["id"] for m in active["scheduled_maintenances"]] == [created["id"]]


def test_the_leader_records_window_edges_once_with_effects(live: Live) -> None:
    store = live.service.store
    seen: list[Effect] = []
    store.effect_listeners.append(lambda _conn, effects: seen.extend(effects))
    try:
        now = datetime.now(UTC)
        start, end = now + timedelta(minutes=10), now + timedelta(minutes=70)
        mid = store.schedule_maintenance("Upgrade", "Planned.", start, end, ["db"], now)
        assert store.advance_maintenances(start - timedelta(seconds=1)) == 0
        assert store.advance_maintenances(start + timedelta(seconds=2)) == 1
        assert store.advance_maintenances(start + timedelta(seconds=9)) == 0
        assert store.advance_maintenances(end + timedelta(seconds=2)) == 1
        m = store.get_incident(mid, "maintenance")
        assert [u.status for u in m.updates] == ["completed", "in_progress", "scheduled"]
        assert [u.created_at for u in m.updates[:2]] == [end, start]
        kinds: list[Any] = [e.kind for e in seen if e.incident_id == mid]
        assert kinds == ["maintenance_scheduled", "maintenance_started", "maintenance_ended"]
    finally:
        store.effect_listeners.clear()


def test_a_version_2_database_upgrades_and_its_rows_behave(
    empty_database_url: str,
) -> None:
    url = empty_database_url
    engine = make_engine(url)
    migrate(engine, target=2)
    now = datetime.now(UTC)
    stamp = now.strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    with engine.begin() as conn:
        # The incident table as version 2 built it, without the version 3 columns.
        conn.execute(text("ALTER TABLE incident DROP COLUMN started_at"))
        conn.execute(text("ALTER TABLE incident DROP COLUMN published"))
        for row in (
            {
                "id": "inc1",
                "kind": "incident",
                "status": "resolved",
                "impact": "critical",
                "components": '["api"]',
                "scheduled_for": None,
                "scheduled_until": None,
                "resolved_at": stamp,
            },
            {
                "id": "mnt1",
                "kind": "maintenance",
                "status": "scheduled",
                "impact": "none",
                "components": '["db"]',
                "resolved_at": None,
                "scheduled_for": (now - timedelta(minutes=5)).strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
                "scheduled_until": (now + timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
            },
        ):
            conn.execute(
                text(
                    "INSERT INTO incident (id, kind, name, status, impact, components, automated,"
                    " created_at, updated_at, resolved_at, scheduled_for, scheduled_until)"
                    " VALUES (:id, :kind, 'Old', :status, :impact, :components, false, :created,"
                    " :created, :resolved_at, :scheduled_for, :scheduled_until)"
                ),
                {**row, "created": (now - timedelta(hours=2)).strftime("%Y-%m-%dT%H:%M:%S.%fZ")},
            )
    engine.dispose()

    store = Store(url, make_config())
    store.migrate()
    view = store.read_view(now)
    [incident] = view.incidents
    assert incident.published and incident.started_at is None
    assert incident.duration == timedelta(hours=2)  # from created_at, as before
    [maintenance] = view.maintenances
    # Never moved by a person, so the clock drives it: in progress, and the leader records it.
    assert maintenance.automated and maintenance.status_at(now) == "in_progress"
    assert view.components["db"].status == "under_maintenance"
    assert store.advance_maintenances(now) == 1
    store.dispose()


def test_effects_are_recorded_in_the_same_transaction(live: Live) -> None:
    """A listener that fails takes the change down with it: nothing half-done is stored, so
    an outbox written by a listener can never miss a committed change."""
    store = live.service.store

    def broken(_conn: object, _effects: list[Effect]) -> None:
        raise RuntimeError("outbox unavailable")

    store.effect_listeners.append(broken)
    try:
        with pytest.raises(RuntimeError, match="outbox unavailable"):
            store.create_incident("Login fails", "investigating", "Looking.", "minor", [])
    finally:
        store.effect_listeners.clear()
    live.service.refresh(force=True)
    assert live.incidents() == []
    seen: list[tuple[str, str]] = []
    store.effect_listeners.append(
        lambda conn, effects: seen.extend(
            (e.kind, str(conn.execute(text("SELECT name FROM incident")).scalar())) for e in effects
        )
    )
    try:
        store.create_incident("Login fails", "investigating", "Looking.", "minor", [])
    finally:
        store.effect_listeners.clear()
    assert seen == [("incident_created", "Login fails")]  # the row is visible to the listener
