"""Nothing can poison the page: hostile input gets a 4xx JSON answer and nothing is stored,
and a bad row that reached the database anyway is skipped while the rest renders."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import feedparser
import httpx
import pytest
from live_service import (
    TOKEN,
    Live,
    alert,
    make_config,
    notification,
    start_service,
)
from sqlalchemy import text

HOOK = "/api/v1/alertmanager"
AUTH = {"authorization": f"Bearer {TOKEN}", "content-type": "application/json"}
MAINTENANCE = {
    "name": "Database upgrade",
    "body": "We upgrade the database.",
    "scheduled_for": "2030-01-01T10:00:00Z",
    "scheduled_until": "2030-01-01T12:00:00Z",
    "components": ["db"],
}

# The malformed bodies that once answered 500 (an empty one under granian), each with the
# status and the words its answer must carry.
HOSTILE: list[tuple[str, bytes, int, str]] = [
    (
        "deep nesting",
        b'{"version": "4", "alerts": ' + b"[" * 100_000 + b"]" * 100_000 + b"}",
        400,
        "nested deeper",
    ),
    (
        "a 4,301-digit number",
        b'{"version": "4", "truncatedAlerts": ' + b"9" * 4301 + b"}",
        400,
        "characters; at most 32",
    ),
    (
        "a lone surrogate",
        b'{"version": "4", "receiver": "\\ud800", "alerts": []}',
        400,
        "lone surrogate",
    ),
    ("NaN", b'{"version": "4", "truncatedAlerts": NaN, "alerts": []}', 400, "NaN"),
    (
        "startsAt that overflows UTC",
        json.dumps(notification({**alert(), "startsAt": "9999-12-31T23:59:59-14:00"})).encode(),
        422,
        "outside the accepted window",
    ),
    (
        "startsAt in year 1 (as a string)",
        json.dumps(notification({**alert(), "startsAt": "0001-01-02T00:00:00Z"})).encode(),
        422,
        "startsAt",
    ),
]


def _raw(base: str, path: str, body: bytes) -> httpx.Response:
    return httpx.post(base + path, content=body, headers=AUTH, timeout=20)


def _assert_page_healthy(get: Callable[[str], httpx.Response]) -> None:
    assert get("/healthz").text == "ok\n"
    assert get("/").status_code == 200
    assert get("/api/v2/summary.json").status_code == 200
    feed = feedparser.parse(get("/history.atom").content)
    assert feed.bozo == 0, feed.get("bozo_exception")


@pytest.mark.parametrize(("case", "body", "status", "words"), HOSTILE, ids=[h[0] for h in HOSTILE])
def test_hostile_webhook_bodies_get_a_4xx_json_answer(
    live: Live, case: str, body: bytes, status: int, words: str
) -> None:
    response = _raw(live.url, HOOK, body)
    assert response.status_code == status, response.text
    assert words in response.json()["error"]
    assert live.incidents() == []
    _assert_page_healthy(live.client.get)


def test_maintenance_dated_year_one_is_refused_and_the_page_keeps_rendering(live: Live) -> None:
    for when in ("0001-01-01T00:00:00Z", "9999-12-31T23:59:59-14:00", "2200-01-01T00:00:00Z"):
        response = live.post("/api/v1/maintenances", {**MAINTENANCE, "scheduled_for": when})
        assert response.status_code == 422, when
        assert (
            "outside the accepted window (1970-01-01 to 2200-01-01, UTC)"
            in (response.json()["error"])
        )
    assert (
        live.client.get("/api/v2/scheduled-maintenances.json").json()["scheduled_maintenances"]
        == []
    )
    # The service restarts cleanly on what it stored (nothing), and a sane one still works.
    live.service.store.migrate()
    assert live.post("/api/v1/maintenances", MAINTENANCE).status_code == 201
    _assert_page_healthy(live.client.get)


def test_control_characters_are_refused_in_the_responder_api(live: Live) -> None:
    for field, value in (("name", "Outage\x00"), ("body", "Look \x1b[31mred")):
        body = {"name": "Outage", "body": "Text", field: value, "components": ["api"]}
        response = live.post("/api/v1/incidents", body)
        assert response.status_code == 422
        error = response.json()["error"]
        assert error.startswith(f"{field}: ") and "control character U+00" in error
    assert live.incidents() == []
    ok = live.post(
        "/api/v1/incidents", {"name": "Tabs\tand\nnewlines are fine", "body": "Line 1\nLine 2"}
    )
    assert ok.status_code == 201


def test_control_characters_in_alert_annotations_never_break_the_feed(live: Live) -> None:
    annotations = {
        "statuspage_title": "Orders\x00 are \x1b[1mfailing\x07",
        "statuspage_message": "We are on it.\x0b\ufffe\x85",
    }
    response = live.post(HOOK, notification(alert(annotations=annotations)))
    assert response.status_code == 200
    [incident] = live.incidents()
    assert incident["name"] == "Orders are [1mfailing"
    assert incident["incident_updates"][0]["body"] == "We are on it."

    feed = feedparser.parse(live.client.get("/history.atom").content)
    assert feed.bozo == 0, feed.get("bozo_exception")
    assert [e.title for e in feed.entries] == ["Orders are [1mfailing"]


def test_ids_in_paths_are_checked_before_the_database(live: Live) -> None:
    for path in ("/api/v1/incidents/abc%00def", "/api/v1/incidents/" + "a" * 500):
        response = live.client.get(path, headers=AUTH)
        assert response.status_code == 404
        assert "ids are 1-32 of a-z and 0-9" in response.json()["error"]


def _plant(live: Live, **columns: Any) -> None:
    row = {
        "id": "good",
        "kind": "incident",
        "name": "Planted",
        "status": "investigating",
        "impact": "minor",
        "components": '["api"]',
        "automated": False,
        "created_at": "2026-11-01T10:00:00.000000Z",
        "updated_at": "2026-11-01T10:00:00.000000Z",
        "published": True,
        **columns,
    }
    names = ", ".join(row)
    values = ", ".join(f":{k}" for k in row)
    with live.service.store.engine.begin() as conn:
        conn.execute(text(f"INSERT INTO incident ({names}) VALUES ({values})"), row)


def test_rows_planted_in_the_database_are_skipped_on_render(live: Live) -> None:
    live.post(
        "/api/v1/incidents", {"name": "A real incident", "body": "Looking.", "impact": "minor"}
    )
    _plant(
        live,
        id="year1",
        kind="maintenance",
        status="scheduled",
        scheduled_for="0001-01-01T00:00:00.000000Z",
        scheduled_until="0001-01-01T02:00:00.000000Z",
    )
    _plant(live, id="garbage", created_at="yesterday")
    _plant(live, id="notjson", components="{api")
    _plant(live, id="unknownstatus", status="on fire")
    _plant(live, id="controls", name="Planted \x00\x1b text")
    assert live.service.refresh(force=True)

    names = [i["name"] for i in live.incidents()]
    assert names == ["A real incident", "Planted \x00\x1b text"]  # JSON escapes them
    assert (
        live.client.get("/api/v2/scheduled-maintenances.json").json()["scheduled_maintenances"]
        == []
    )
    page = live.client.get("/").text
    assert "A real incident" in page and "Planted  text" in page
    feed = feedparser.parse(live.client.get("/history.atom").content)
    assert feed.bozo == 0, feed.get("bozo_exception")
    assert sorted(e.title for e in feed.entries) == ["A real incident", "Planted  text"]
    assert live.client.get("/healthz").text == "ok\n"
    # A write that meets a bad row says so instead of failing with a 500.
    response = live.post("/api/v1/incidents/garbage/updates", {"status": "resolved", "body": "x"})
    assert response.status_code == 409
    assert "cannot read" in response.json()["error"]


def test_postgres_refuses_the_same_input_with_4xx(pg_url: str) -> None:
    for live in start_service(make_config(), pg_url)():
        for _case, body, status, _words in HOSTILE:
            assert _raw(live.url, HOOK, body).status_code == status
        nul = live.post("/api/v1/incidents", {"name": "x\x00", "body": "y"})
        assert nul.status_code == 422
        assert live.client.get("/api/v1/incidents/a%00b", headers=AUTH).status_code == 404
        year1 = live.post(
            "/api/v1/maintenances", {**MAINTENANCE, "scheduled_for": "0001-01-01T00:00:00Z"}
        )
        assert year1.status_code == 422
        annotations = {"statuspage_title": "Down\x00"}
        assert live.post(HOOK, notification(alert(annotations=annotations))).status_code == 200
        assert [i["name"] for i in live.incidents()] == ["Down"]
        _assert_page_healthy(live.client.get)


@pytest.mark.parametrize(("case", "body", "status", "words"), HOSTILE, ids=[h[0] for h in HOSTILE])
def test_granian_answers_hostile_bodies_with_4xx_json(
    granian_url: str, case: str, body: bytes, status: int, words: str
) -> None:
    response = _raw(granian_url, HOOK, body)
    assert response.status_code == status, response.text
    assert words in response.json()["error"]


def test_granian_refuses_year_one_and_keeps_rendering(granian_url: str) -> None:
    body = json.dumps({**MAINTENANCE, "scheduled_for": "0001-01-01T00:00:00Z"}).encode()
    response = _raw(granian_url, "/api/v1/maintenances", body)
    assert response.status_code == 422
    assert "outside the accepted window" in response.json()["error"]
    _assert_page_healthy(lambda path: httpx.get(granian_url + path))
    assert (
        httpx.get(granian_url + "/api/v2/scheduled-maintenances.json").json()[
            "scheduled_maintenances"
        ]
        == []
    )


def test_an_incident_page_that_cannot_be_drawn_is_skipped(
    live: Live, monkeypatch: pytest.MonkeyPatch
) -> None:
    from statuspage import render

    good = live.post("/api/v1/incidents", {"name": "Good", "body": "x"}).json()["id"]
    bad = live.post("/api/v1/incidents", {"name": "Bad", "body": "x"}).json()["id"]
    draw = render._html

    def fussy(template: str, context: dict[str, Any]) -> bytes:
        if template == "incident.html" and context["inc"].id == bad:
            raise RuntimeError("cannot draw this one")
        return draw(template, context)

    render._page_memo.clear()
    monkeypatch.setattr(render, "_html", fussy)
    assert live.service.refresh(force=True)
    assert live.client.get(f"/incidents/{good}").status_code == 200
    assert live.client.get(f"/incidents/{bad}").status_code == 404
    assert "Bad" in live.client.get("/").text  # still listed on the page itself
    assert live.client.get("/healthz").text == "ok\n"
    render._page_memo.clear()
