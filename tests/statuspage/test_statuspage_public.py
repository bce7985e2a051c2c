"""The public side: Statuspage v2 shapes, caching headers, escaping, feed, health."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from datetime import UTC, datetime, timedelta

import pytest
from live_service import Live, alert, notification

XSS = "<script>alert(1)</script>"
COMPONENT_STATUSES = {
    "operational",
    "degraded_performance",
    "partial_outage",
    "major_outage",
    "under_maintenance",
}
V2_PATHS = [
    "/api/v2/summary.json",
    "/api/v2/status.json",
    "/api/v2/components.json",
    "/api/v2/incidents.json",
    "/api/v2/incidents/unresolved.json",
    "/api/v2/scheduled-maintenances.json",
    "/api/v2/scheduled-maintenances/upcoming.json",
    "/api/v2/scheduled-maintenances/active.json",
]


def _is_timestamp(value: object) -> bool:
    return isinstance(value, str) and datetime.fromisoformat(value).tzinfo is not None


def test_summary_has_statuspage_shape(live: Live) -> None:
    live.post("/api/v1/alertmanager", notification(alert()))
    summary = live.summary()
    assert set(summary) == {"page", "components", "incidents", "scheduled_maintenances", "status"}
    page = summary["page"]
    assert set(page) == {"id", "name", "url", "time_zone", "updated_at"}
    assert page["name"] == "Acme Status" and page["time_zone"] == "Europe/Berlin"
    assert _is_timestamp(page["updated_at"])
    assert summary["status"]["indicator"] in {"none", "minor", "major", "critical"}

    by_id = {c["id"]: c for c in summary["components"]}
    assert list(by_id) == ["core", "api", "web", "db"]
    assert by_id["core"]["group"] is True and by_id["core"]["components"] == ["api", "web"]
    assert by_id["api"]["group_id"] == "core" and by_id["db"]["group_id"] is None
    for component in summary["components"]:
        assert component["status"] in COMPONENT_STATUSES
        assert {
            "id",
            "name",
            "status",
            "created_at",
            "updated_at",
            "position",
            "description",
            "showcase",
            "start_date",
            "group_id",
            "page_id",
            "group",
            "only_show_if_degraded",
        } <= set(component)
    incident = summary["incidents"][0]
    assert {
        "id",
        "name",
        "status",
        "created_at",
        "updated_at",
        "monitoring_at",
        "resolved_at",
        "impact",
        "shortlink",
        "started_at",
        "page_id",
        "incident_updates",
        "components",
    } <= set(incident)
    update = incident["incident_updates"][0]
    assert {
        "id",
        "incident_id",
        "status",
        "body",
        "created_at",
        "display_at",
        "updated_at",
        "affected_components",
    } <= set(update)
    assert update["incident_id"] == incident["id"]


def test_every_v2_path_answers_with_the_page(live: Live) -> None:
    for path in V2_PATHS:
        response = live.client.get(path)
        assert response.status_code == 200, path
        assert response.headers["content-type"].startswith("application/json")
        assert response.headers["access-control-allow-origin"] == "*"
        assert response.json()["page"]["id"] == "acme"


def test_cached_responses_carry_validators_and_answer_304(live: Live) -> None:
    for path in ["/", "/api/v2/summary.json", "/history.atom", "/history.html"]:
        first = live.client.get(path)
        assert first.status_code == 200
        cache_control = first.headers["cache-control"]
        assert "max-age=10" in cache_control
        assert "stale-while-revalidate=60" in cache_control
        assert "stale-if-error=86400" in cache_control
        assert first.headers["last-modified"].endswith("GMT")
        again = live.client.get(path, headers={"if-none-match": first.headers["etag"]})
        assert again.status_code == 304
        assert again.content == b""
        assert again.headers["etag"] == first.headers["etag"]


def test_etag_changes_when_the_status_changes(live: Live) -> None:
    before = live.client.get("/").headers["etag"]
    live.post("/api/v1/alertmanager", notification(alert()))
    after = live.client.get("/", headers={"if-none-match": before})
    assert after.status_code == 200
    assert after.headers["etag"] != before


def test_head_returns_headers_only(live: Live) -> None:
    response = live.client.head("/api/v2/status.json")
    assert response.status_code == 200
    assert response.content == b""
    assert int(response.headers["content-length"]) > 0


def test_incident_title_is_text_in_page_history_and_feed(live: Live) -> None:
    created = live.post(
        "/api/v1/incidents",
        {"name": XSS, "body": f"details {XSS}", "components": ["api"], "impact": "major"},
    )
    assert created.status_code == 201
    for path in ["/", "/history.html"]:
        html = live.client.get(path).text
        assert XSS not in html
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    feed = live.client.get("/history.atom")
    assert XSS not in feed.text
    root = ET.fromstring(feed.content)
    ns = {"a": "http://www.w3.org/2005/Atom"}
    titles = [e.findtext("a:title", namespaces=ns) for e in root.findall("a:entry", ns)]
    assert titles == [XSS]  # a reader shows the literal text
    assert XSS in (root.find("a:entry/a:content", ns).text or "")  # type: ignore[union-attr]
    assert live.client.get("/api/v2/incidents.json").json()["incidents"][0]["name"] == XSS


def test_page_shows_words_for_each_status_and_a_status_region(live: Live) -> None:
    live.post("/api/v1/alertmanager", notification(alert()))
    html = live.client.get("/").text
    assert 'role="status"' in html
    assert "Major System Outage" in html
    assert 'data-status="major_outage"' in html and "Major outage" in html
    assert "prefers-color-scheme:dark" in html
    assert 'name="viewport"' in html
    assert "Orders are failing" in html
    assert "<script" not in html


def test_maintenance_is_upcoming_then_active(live: Live) -> None:
    now = datetime.now(UTC)
    upcoming = live.post(
        "/api/v1/maintenances",
        {
            "name": "Database upgrade",
            "body": "PostgreSQL 16.",
            "scheduled_for": (now + timedelta(days=1)).isoformat(),
            "scheduled_until": (now + timedelta(days=1, hours=1)).isoformat(),
            "components": ["db"],
        },
    )
    assert upcoming.status_code == 201
    assert upcoming.json()["status"] == "scheduled"
    live.post(
        "/api/v1/maintenances",
        {
            "name": "Network work",
            "body": "Switch replacement.",
            "scheduled_for": (now - timedelta(minutes=5)).isoformat(),
            "scheduled_until": (now + timedelta(hours=1)).isoformat(),
            "components": ["web"],
        },
    )
    active = live.client.get("/api/v2/scheduled-maintenances/active.json").json()
    assert [m["name"] for m in active["scheduled_maintenances"]] == ["Network work"]
    assert active["scheduled_maintenances"][0]["status"] == "in_progress"
    soon = live.client.get("/api/v2/scheduled-maintenances/upcoming.json").json()
    assert [m["name"] for m in soon["scheduled_maintenances"]] == ["Database upgrade"]
    assert live.component("web")["status"] == "under_maintenance"
    html = live.client.get("/").text
    assert "Maintenance in progress" in html and "Upcoming maintenance" in html


def test_responder_input_is_validated_with_reasons(live: Live) -> None:
    response = live.post("/api/v1/incidents", {"name": "x", "body": "y", "status": "exploded"})
    assert response.status_code == 422
    assert "status" in response.json()["error"]
    unknown = live.post("/api/v1/incidents", {"name": "x", "body": "y", "components": ["nope"]})
    assert unknown.status_code == 404
    assert "nope" in unknown.json()["error"]
    window = live.post(
        "/api/v1/maintenances",
        {
            "name": "m",
            "body": "b",
            "scheduled_for": "2026-01-02T00:00:00Z",
            "scheduled_until": "2026-01-01T00:00:00Z",
        },
    )
    assert window.status_code == 422
    assert (
        live.post(
            "/api/v1/incidents/nope/updates", {"status": "identified", "body": "b"}
        ).status_code
        == 404
    )


def test_responder_api_requires_the_token(live: Live) -> None:
    assert live.post("/api/v1/incidents", {"name": "x", "body": "y"}, token=None).status_code == 401
    assert (
        live.put(
            "/api/v1/components/api/override", {"status": "major_outage"}, token="no"
        ).status_code
        == 401
    )
    assert live.component("api")["status"] == "operational"


def test_healthz_and_metrics(live: Live) -> None:
    assert live.client.get("/healthz").text == "ok\n"
    metrics = live.client.get("/metrics").text
    assert 'statuspage_component_status{component="api",status="operational"} 1.0' in metrics


def test_unknown_paths_are_404(live: Live) -> None:
    assert live.client.get("/api/v2/nothing.json").status_code == 404
    assert live.client.get("/../etc/passwd").status_code == 404


def test_database_outage_keeps_serving_the_last_render(
    live: Live, monkeypatch: pytest.MonkeyPatch
) -> None:
    before = live.client.get("/api/v2/summary.json").content

    def unreachable() -> int:
        raise ConnectionError("database is down")

    monkeypatch.setattr(live.service.store, "revision", unreachable)
    live.service.refresh(force=True)
    health = live.client.get("/healthz")
    assert health.status_code == 200
    assert health.text.startswith("degraded: cannot refresh (ConnectionError)")
    assert live.client.get("/api/v2/summary.json").content == before


def test_gzip_for_clients_that_accept_it(live: Live) -> None:
    plain = live.client.get("/", headers={"accept-encoding": "identity"})
    assert "content-encoding" not in plain.headers
    packed = live.client.get("/", headers={"accept-encoding": "gzip"})
    assert packed.headers["content-encoding"] == "gzip"
    assert packed.headers["vary"] == "Accept-Encoding"
    assert int(packed.headers["content-length"]) < len(plain.content) / 3
    assert packed.content == plain.content  # httpx decoded it
    again = live.client.get(
        "/", headers={"accept-encoding": "gzip", "if-none-match": packed.headers["etag"]}
    )
    assert again.status_code == 304
