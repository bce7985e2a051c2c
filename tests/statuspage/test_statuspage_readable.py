"""Incidents stay readable after they end: past incidents day by day with durations, a
page per incident, paginated history, and 90-day bars that count incident downtime."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta

from live_service import Live, alert, notification

from statuspage.outages import day_fraction, downtime_seconds, outages
from statuspage.render import duration_words
from statuspage.state import Incident, UptimeDay

HOOK = "/api/v1/alertmanager"


def test_a_resolved_incident_is_a_past_incident_with_its_duration_and_own_page(
    live: Live,
) -> None:
    began = datetime.now(UTC).replace(microsecond=0) - timedelta(minutes=47)
    live.post(HOOK, notification(alert(starts_at=began)))
    live.post(HOOK, notification(alert("resolved", starts_at=began)))
    [incident] = live.incidents()
    minutes = (datetime.fromisoformat(incident["resolved_at"]) - began).total_seconds() // 60
    assert minutes == 47

    front = live.client.get("/").text
    past = front.split('id="h-past"')[1]
    assert past.count("<h3>") == 15  # today and the 14 days before it
    assert "Orders are failing" in past
    assert "Major outage · Resolved after 47 minutes" in past
    assert past.count("No incidents reported.") == 14

    permalink = f"https://status.acme.example/incidents/{incident['id']}"
    assert incident["shortlink"] == permalink
    for path in (f"/incidents/{incident['id']}", f"/incidents/{incident['id']}.html"):
        page = live.client.get(path)
        assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
        html = page.text
        assert "<h1>Orders are failing</h1>" in html
        assert f'Permalink: <a href="{permalink}">{permalink}</a>' in html
        main = html.split("<main>")[1]
        assert "Impact: Major outage" in main and "critical" not in main
        affected = re.search(r'<ul class="affected">(.*?)</ul>', html, re.S)
        assert affected and "Public API" in affected[1] and "Major outage" in affected[1]
        timeline = re.findall(r'<span class="update-status">(\w+)</span> —', html)
        assert timeline == ["resolved", "investigating"]
        assert 'href="../history.atom"' in html  # relative links work from the folder


def test_history_is_paginated(live: Live) -> None:
    store = live.service.store
    start = datetime.now(UTC) - timedelta(days=40)
    for n in range(45):
        moment = start + timedelta(hours=n)
        incident_id = store.create_incident(
            f"Incident {n:02}", "investigating", "x", "minor", [], moment
        )
        store.update_incident(incident_id, "resolved", "Fixed.", moment + timedelta(minutes=5))
    live.service.refresh(force=True)

    first = live.client.get("/history").text
    assert "Page 1 of 3" in first and 'href="history/2.html" rel="next"' in first
    assert "Incident 44" in first and "Incident 24" not in first
    second = live.client.get("/history/2").text
    assert "Page 2 of 3" in second
    assert 'href="../history.html" rel="prev"' in second
    assert 'href="../history/3.html" rel="next"' in second
    assert "Incident 24" in second and 'href="../incidents/' in second
    third = live.client.get("/history/3.html").text
    assert "Incident 00" in third and "Older" not in third
    assert live.client.get("/history/4").status_code == 404


def _component_block(live: Live, component_id: str) -> str:
    block = live.client.get("/").text.split(f'data-component="{component_id}"')[1]
    return block[: block.index("Today</span></p>")]


def test_components_without_checks_show_incident_days_not_no_data(live: Live) -> None:
    # "db" has no checks: its days come from incidents (none yet) since it is tracked.
    block = _component_block(live, "db")
    bars = re.findall(r'<li class="(\w+)" title="([^"]+)"', block)
    assert len(bars) == 90
    assert bars[-1] == ("up", f"{datetime.now(UTC):%d %b}: 100% uptime")
    assert "100% uptime over the last 90 days" in block
    # Down since before the page began tracking db (and still down): today is all outage.
    long_ago = datetime.now(UTC) - timedelta(days=30)
    store = live.service.store
    store.create_incident("DB down", "identified", "x", "critical", ["db"], long_ago)
    live.service.refresh(force=True)
    block = _component_block(live, "db")
    assert re.findall(r'<li class="(\w+)"', block)[-1] == "down"


# ---- the day maths, by hand ----------------------------------------------------------

DAY = date(2026, 11, 29)
MIDNIGHT = datetime(2026, 11, 29, tzinfo=UTC)
LATER = MIDNIGHT + timedelta(days=2)
SINCE = MIDNIGHT - timedelta(days=30)


def _incident(impact: str, start: datetime, minutes: int | None, components: list[str]) -> Incident:
    return Incident(
        id=f"i{start:%H%M}{impact}",
        kind="incident",
        name="x",
        status="resolved" if minutes is not None else "investigating",
        impact=impact,  # type: ignore[arg-type]
        components=components,
        automated=True,
        created_at=start + timedelta(minutes=1),
        updated_at=start,
        monitoring_at=None,
        resolved_at=start + timedelta(minutes=minutes) if minutes is not None else None,
        scheduled_for=None,
        scheduled_until=None,
        updates=[],
        started_at=start,
    )


def test_a_ten_minute_outage_is_no_longer_a_green_day() -> None:
    found = outages(
        [_incident("critical", MIDNIGHT + timedelta(hours=9), 10, ["api"])], "api", LATER
    )
    all_checks_passed = UptimeDay(DAY, 2880, 2880)
    fraction = day_fraction(DAY, all_checks_passed, found, LATER, SINCE)
    assert fraction == 1 - 600 / 86400  # 99.31 %: below the 99.9 % of a green bar


def test_partial_outages_count_thirty_percent_and_overlaps_once() -> None:
    incidents = [
        _incident("major", MIDNIGHT + timedelta(hours=1), 60, ["api"]),  # partial: 0.3
        _incident("critical", MIDNIGHT + timedelta(hours=1, minutes=30), 60, ["api"]),
        _incident("minor", MIDNIGHT + timedelta(hours=5), 60, ["api"]),  # degraded: up
        _incident("critical", MIDNIGHT + timedelta(hours=8), 60, ["web"]),  # someone else
    ]
    found = outages(incidents, "api", LATER)
    # 01:00-01:30 at 0.3, 01:30-02:30 at 1.0: 540 + 3600 seconds.
    assert downtime_seconds(found, MIDNIGHT, MIDNIGHT + timedelta(days=1)) == 540 + 3600
    assert day_fraction(DAY, None, found, LATER, SINCE) == 1 - 4140 / 86400


def test_an_open_incident_lasts_until_now_and_days_before_tracking_have_no_data() -> None:
    now = MIDNIGHT + timedelta(hours=12)
    found = outages(
        [_incident("critical", MIDNIGHT + timedelta(hours=6), None, ["api"])], "api", now
    )
    assert day_fraction(DAY, None, found, now, SINCE) == 0.5  # 6 of the 12 hours so far
    assert day_fraction(DAY - timedelta(days=31), None, found, now, SINCE) is None
    assert day_fraction(DAY + timedelta(days=1), None, found, now, SINCE) is None  # future


def test_duration_words() -> None:
    assert duration_words(timedelta(seconds=59)) == "less than a minute"
    assert duration_words(timedelta(minutes=1)) == "1 minute"
    assert duration_words(timedelta(hours=1, minutes=5)) == "1 hour 5 minutes"
    assert duration_words(timedelta(days=2, hours=3, minutes=4)) == "2 days 3 hours"
