"""The uptime API extension: `GET /api/v2/uptime.json?since=...&until=...`.

Crafted check counts (UTC days of November 2026; 1440 = one check a minute):

| component | 31 Oct  | 1 Nov     | 2 Nov     | 3 Nov     | 4 Nov  |
|-----------|---------|-----------|-----------|-----------|--------|
| api       | 1440/0  | 1440/1440 | 1440/1404 | 1440/1440 | 1440/0 |
| web       |         |           | 720/720   |           |        |
| db        |         |           |           |           |        |
| gone      |         | 10/0      |           |           |        |   (no longer configured)

since=2026-11-01&until=2026-11-03 covers 1-3 Nov (a bare `until` includes its day):
api 4284 of 4320 = 1 - 36/4320 = 119/120; web 720 of 720 = 1 on one day; db no data;
the days outside (31 Oct, 4 Nov, all failures) and the removed component do not count.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

import pytest
from live_service import Live
from sqlalchemy import event, insert

from statuspage import schema

ROWS = [
    ("api", "2026-10-31", 1440, 0),
    ("api", "2026-11-01", 1440, 1440),
    ("api", "2026-11-02", 1440, 1404),
    ("api", "2026-11-03", 1440, 1440),
    ("api", "2026-11-04", 1440, 0),
    ("web", "2026-11-02", 720, 720),
    ("gone", "2026-11-01", 10, 0),
]


def seed(live: Live) -> None:
    with live.service.store.engine.begin() as conn:
        conn.execute(
            insert(schema.uptime_day),
            [
                {"component_id": c, "day": d, "checks_total": total, "checks_ok": ok}
                for c, d, total, ok in ROWS
            ],
        )


def uptime(live: Live, **params: str) -> dict[str, dict[str, object]]:
    answer = live.client.get("/api/v2/uptime.json", params=params)
    assert answer.status_code == 200, answer.text
    return {c["id"]: c for c in answer.json()["components"]}


def test_uptime_over_whole_days_is_counted_by_hand(live: Live) -> None:
    seed(live)

    answer = live.client.get(
        "/api/v2/uptime.json", params={"since": "2026-11-01", "until": "2026-11-03"}
    )

    assert answer.status_code == 200
    assert answer.headers["access-control-allow-origin"] == "*"
    assert answer.headers["cache-control"] == live.service.cache_control
    body = answer.json()
    assert body["page"] == live.summary()["page"]
    assert body["window"] == {
        "since": "2026-11-01T00:00:00.000Z",
        "until": "2026-11-04T00:00:00.000Z",
        "days": 3,
    }
    assert [c["id"] for c in body["components"]] == ["api", "web", "db"]  # components.json order
    api, web, db = body["components"]
    assert api == {
        "id": "api",
        "name": "Public API",
        "group_id": "core",
        "services": ["api-gateway", "orders"],
        "uptime": pytest.approx(119 / 120),
        "checks_total": 4320,
        "checks_ok": 4284,
        "days_with_data": 3,
    }
    assert (web["uptime"], web["checks_total"], web["days_with_data"]) == (1.0, 720, 1)
    assert (db["uptime"], db["checks_total"], db["services"]) == (None, 0, ["postgres"])
    assert db["group_id"] is None


def test_date_times_cover_the_utc_days_they_touch(live: Live) -> None:
    seed(live)

    # 10:00Z on 2 Nov up to midnight: 2 Nov only -> api 1404 of 1440.
    one_day = uptime(live, since="2026-11-02T12:00:00+02:00", until="2026-11-03T00:00:00Z")
    # 01:00 in UTC+2 on 2 Nov is still 1 Nov in UTC -> api 1440 of 1440, web no data.
    late_evening = uptime(live, since="2026-11-02T01:00+02:00", until="2026-11-02T01:30+02:00")

    assert (one_day["api"]["checks_ok"], one_day["api"]["checks_total"]) == (1404, 1440)
    assert one_day["api"]["uptime"] == pytest.approx(0.975)
    assert (late_evening["api"]["uptime"], late_evening["api"]["checks_total"]) == (1.0, 1440)
    assert late_evening["web"]["uptime"] is None


def test_the_real_check_write_path_feeds_the_api(live: Live) -> None:
    store = live.service.store
    for minute, ok in [(0, True), (1, False), (2, True), (3, True)]:
        store.record_check("db", "operational", ok, datetime(2026, 11, 2, 5, minute, tzinfo=UTC))

    db = uptime(live, since="2026-11-02", until="2026-11-02")["db"]

    assert (db["uptime"], db["checks_ok"], db["checks_total"]) == (0.75, 3, 4)


@pytest.mark.parametrize(
    ("params", "reason"),
    [
        ({"since": "yesterday"}, "since='yesterday' is not a date (2026-11-01) or a date-time"),
        ({"since": "2026-11-01T09:00:00"}, "has no offset; add Z for UTC"),
        ({"since": "2026-11-05", "until": "2026-11-01"}, "must be before until"),
        ({"since": "2026-11-01T10:00Z", "until": "2026-11-01T10:00Z"}, "must be before until"),
        ({"since": "2026-01-01", "until": "2026-04-03"}, "the window covers 93 UTC days"),
        ({"from": "2026-11-01"}, "unknown parameter(s) from; known: since, until"),
        ({"until": "9999-12-31"}, "between the years 1 and 9999"),
        ({"since": "0001-01-01T00:00:00+01:00"}, "between the years 1 and 9999"),
    ],
)
def test_bad_queries_get_400_with_the_reason(
    live: Live, params: dict[str, str], reason: str
) -> None:
    answer = live.client.get("/api/v2/uptime.json", params=params)

    assert answer.status_code == 400
    assert reason in answer.json()["error"]


def test_a_calendar_quarter_fits_in_one_request(live: Live) -> None:
    body = live.client.get(
        "/api/v2/uptime.json", params={"since": "2026-10-01", "until": "2026-12-31"}
    ).json()

    assert body["window"]["days"] == 92


def test_default_window_is_the_last_90_days_like_the_bars(live: Live) -> None:
    body = live.client.get("/api/v2/uptime.json").json()

    assert body["window"]["days"] in (90, 91)  # 91 unless it is exactly midnight UTC
    assert body["window"]["until"] > datetime.now(UTC).isoformat()[:10]


def test_uptime_is_dynamic_not_prerendered_or_copied_to_s3(live: Live) -> None:
    assert "/api/v2/uptime.json" not in live.service.fast_path.responses  # type: ignore[union-attr]
    assert all("uptime" not in f.key for f in live.service.files)


def test_the_window_query_is_an_index_search(live: Live) -> None:
    store = live.service.store
    issued: list[tuple[str, Any]] = []

    def capture(conn: Any, cursor: Any, statement: str, parameters: Any, *rest: Any) -> None:
        issued.append((statement, parameters))

    event.listen(store.engine, "before_cursor_execute", capture)
    try:
        store.uptime_days(date(2026, 10, 1), date(2027, 1, 1))
    finally:
        event.remove(store.engine, "before_cursor_execute", capture)
    statement, parameters = next((s, p) for s, p in issued if "uptime_day" in s)
    with store.engine.connect() as conn:
        plan = conn.exec_driver_sql("EXPLAIN QUERY PLAN " + statement, parameters).all()

    assert "SEARCH uptime_day USING INDEX" in " ".join(str(row[-1]) for row in plan), plan
