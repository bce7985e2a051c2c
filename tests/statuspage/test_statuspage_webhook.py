"""Alertmanager webhook: components move, one incident opens and closes, whatever the
order or number of deliveries."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from live_service import Live, alert, notification

from statuspage.alertmanager import parse_notification

HOOK = "/api/v1/alertmanager"


def test_critical_alert_flips_component_and_opens_one_incident(live: Live) -> None:
    response = live.post(HOOK, notification(alert()))
    assert response.status_code == 200
    assert response.json() == {"applied": 1, "stale": 0, "ignored": 0}

    assert live.component("api")["status"] == "major_outage"
    assert live.component("web")["status"] == "operational"
    [incident] = live.summary()["incidents"]
    assert incident["name"] == "Orders are failing"
    assert incident["status"] == "investigating"
    assert incident["impact"] == "critical"
    assert [c["id"] for c in incident["components"]] == ["api"]
    assert live.summary()["status"] == {
        "indicator": "critical",
        "description": "Major System Outage",
    }


def test_replays_never_duplicate_the_incident(live: Live) -> None:
    for _ in range(5):
        assert live.post(HOOK, notification(alert())).status_code == 200
    assert len(live.incidents()) == 1
    assert len(live.incidents()[0]["incident_updates"]) == 1


def test_resolve_closes_the_incident_and_restores_the_component(live: Live) -> None:
    live.post(HOOK, notification(alert()))
    live.post(HOOK, notification(alert("resolved")))

    assert live.component("api")["status"] == "operational"
    [incident] = live.incidents()
    assert incident["status"] == "resolved"
    assert incident["resolved_at"] is not None
    assert incident["incident_updates"][0]["status"] == "resolved"
    assert live.summary()["incidents"] == []
    assert live.summary()["status"]["indicator"] == "none"


def test_firing_replayed_after_resolve_does_not_reopen(live: Live) -> None:
    live.post(HOOK, notification(alert()))
    live.post(HOOK, notification(alert("resolved")))
    # Alertmanager retried an old delivery: same startsAt, still "firing".
    response = live.post(HOOK, notification(alert()))
    assert response.json()["stale"] == 1
    assert [i["status"] for i in live.incidents()] == ["resolved"]
    assert live.component("api")["status"] == "operational"


def test_resolve_before_fire_opens_nothing(live: Live) -> None:
    live.post(HOOK, notification(alert("resolved")))
    live.post(HOOK, notification(alert()))
    assert live.incidents() == []
    assert live.component("api")["status"] == "operational"


def test_an_older_episode_arriving_late_is_ignored(live: Live) -> None:
    old = datetime(2026, 1, 1, 9, 0, tzinfo=UTC)
    live.post(HOOK, notification(alert()))
    response = live.post(HOOK, notification(alert("resolved", starts_at=old)))
    assert response.json()["stale"] == 1
    assert live.component("api")["status"] == "major_outage"
    assert live.incidents()[0]["status"] == "investigating"


def test_a_new_episode_after_resolution_opens_a_new_incident(live: Live) -> None:
    live.post(HOOK, notification(alert()))
    live.post(HOOK, notification(alert("resolved")))
    later = datetime(2026, 1, 1, 12, 0, tzinfo=UTC)
    live.post(HOOK, notification(alert(starts_at=later)))
    assert [i["status"] for i in live.incidents()] == ["investigating", "resolved"]


def test_two_alerts_on_one_component_share_one_incident_until_both_resolve(live: Live) -> None:
    a = alert(fingerprint="a", service="orders")
    b = alert(fingerprint="b", service="api-gateway")
    live.post(HOOK, notification(a, b))
    assert len(live.incidents()) == 1
    live.post(HOOK, notification(alert("resolved", fingerprint="a")))
    assert live.incidents()[0]["status"] == "investigating"
    assert live.component("api")["status"] == "major_outage"
    live.post(HOOK, notification(alert("resolved", fingerprint="b", service="api-gateway")))
    assert live.incidents()[0]["status"] == "resolved"


def test_warning_degrades_without_an_incident(live: Live) -> None:
    live.post(HOOK, notification(alert(severity="warning", service="web")))
    assert live.component("web")["status"] == "degraded_performance"
    assert live.incidents() == []


def test_component_label_wins_and_unknown_services_are_ignored(live: Live) -> None:
    response = live.post(
        HOOK,
        notification(
            alert(fingerprint="x", service="nobody-knows"),
            alert(fingerprint="y", service="nobody-knows", component="db"),
        ),
    )
    assert response.json() == {"applied": 1, "stale": 0, "ignored": 1}
    assert live.component("db")["status"] == "major_outage"


def test_title_falls_back_to_neutral_text_never_the_alert(live: Live) -> None:
    live.post(HOOK, notification(alert(annotations={"summary": "pod orders-7f9c OOMKilled"})))
    [incident] = live.incidents()
    assert incident["name"] == "Service disruption: Public API"
    assert "OOMKilled" not in live.client.get("/").text
    assert "OOMKilled" not in str(incident)


def test_human_override_wins_until_handed_back(live: Live) -> None:
    live.put("/api/v1/components/api/override", {"status": "partial_outage"})
    live.post(HOOK, notification(alert()))
    assert live.component("api")["status"] == "partial_outage"
    live.post(HOOK, notification(alert("resolved")))
    assert live.component("api")["status"] == "partial_outage"

    response = live.delete("/api/v1/components/api/override")
    assert response.json()["overridden"] is False
    assert live.component("api")["status"] == "operational"


def test_no_automated_incident_for_a_pinned_component_until_handed_back(live: Live) -> None:
    live.put("/api/v1/components/api/override", {"status": "operational", "reason": "false alarm"})
    live.post(HOOK, notification(alert()))
    assert live.component("api")["status"] == "operational"
    assert live.incidents() == []

    live.delete("/api/v1/components/api/override")
    assert live.component("api")["status"] == "major_outage"
    assert [i["name"] for i in live.summary()["incidents"]] == ["Orders are failing"]


def test_human_update_keeps_the_incident_open_until_handed_back(live: Live) -> None:
    live.post(HOOK, notification(alert()))
    incident_id = live.incidents()[0]["id"]
    update = {"status": "identified", "body": "A bad deploy; rolling back."}
    assert live.post(f"/api/v1/incidents/{incident_id}/updates", update).status_code == 200

    live.post(HOOK, notification(alert("resolved")))
    [incident] = live.incidents()
    assert incident["status"] == "identified"

    handed = live.post(f"/api/v1/incidents/{incident_id}/hand-back")
    assert handed.status_code == 200
    assert handed.json()["status"] == "resolved"


def test_a_human_resolved_incident_stays_resolved_while_the_alert_fires(live: Live) -> None:
    live.post(HOOK, notification(alert()))
    incident_id = live.incidents()[0]["id"]
    live.post(f"/api/v1/incidents/{incident_id}/resolve", {"body": "Fixed."})
    live.post(HOOK, notification(alert()))
    assert [i["status"] for i in live.incidents()] == ["resolved"]


def test_webhook_requires_the_token(live: Live) -> None:
    assert live.post(HOOK, notification(alert()), token=None).status_code == 401
    response = live.post(HOOK, notification(alert()), token="wrong")
    assert response.status_code == 401
    assert response.headers["www-authenticate"] == "Bearer"
    assert live.incidents() == []


def test_bad_payloads_get_a_reason(live: Live) -> None:
    bad_json = live.client.post(
        HOOK, content=b"{not json", headers={"authorization": "Bearer test-token-0123456789"}
    )
    assert bad_json.status_code == 400
    assert "malformed JSON" in bad_json.json()["error"]

    wrong_version = live.post(HOOK, {**notification(alert()), "version": "3"})
    assert wrong_version.status_code == 422
    assert "version" in wrong_version.json()["error"]

    bad_time = live.post(HOOK, notification({**alert(), "startsAt": "yesterday"}))
    assert bad_time.status_code == 422
    assert "startsAt" in bad_time.json()["error"]


def test_body_size_is_limited(live: Live) -> None:
    huge = notification(alert(annotations={"statuspage_title": "x" * 2_000_000}))
    response = live.post(HOOK, huge)
    assert response.status_code == 413
    assert "larger than" in response.json()["error"]
    assert live.incidents() == []


def test_server_errors_never_show_a_traceback(live: Live, monkeypatch: pytest.MonkeyPatch) -> None:
    def boom(*_: object, **__: object) -> None:
        raise RuntimeError("secret internals at /srv/statuspage/store.py")

    monkeypatch.setattr(live.service.store, "apply_alerts", boom)
    response = live.post(HOOK, notification(alert()))
    assert response.status_code == 500
    assert "secret internals" not in response.text
    assert "Traceback" not in response.text


def test_updates_carry_the_affected_components(live: Live) -> None:
    live.post(HOOK, notification(alert()))
    [update] = live.incidents()[0]["incident_updates"]
    assert update["affected_components"] == [
        {
            "code": "api",
            "name": "Public API",
            "old_status": "operational",
            "new_status": "major_outage",
        }
    ]
    assert datetime.fromisoformat(update["created_at"]) > datetime.now(UTC) - timedelta(minutes=1)


def test_old_resolved_alerts_are_pruned_but_recent_ones_kept(live: Live) -> None:
    store = live.service.store
    long_ago = datetime.now(UTC) - timedelta(days=40)
    store.apply_alerts(
        parse_notification(
            notification(alert(), alert("resolved", fingerprint="old")), live.service.config
        )[0],
        now=long_ago,
    )
    store.apply_alerts(parse_notification(notification(alert("resolved")), live.service.config)[0])
    assert store.prune_alerts() == 1  # only "old": "f1" was touched just now
    live.service.refresh(force=True)
    assert live.post(HOOK, notification(alert())).json()["stale"] == 1  # f1 still remembered
