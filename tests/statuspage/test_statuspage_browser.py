"""Headless Chromium (Debian's) reads the page like a customer, with an incident open."""

from __future__ import annotations

import importlib.util
import os
import shutil
from datetime import UTC, datetime, timedelta
from pathlib import Path

from live_service import Live, alert, notification, require
from sqlalchemy import insert

from statuspage import schema

CHROMIUM = "/usr/bin/chromium"
ARGS = [
    "--no-sandbox",
    "--headless",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
]
XSS = '<script>window.__injected = true</script><img src=x onerror="window.__injected=true">'
# Every run leaves its screenshot in out/ (git-ignored) for a person to look at; the copy in
# docs/screenshots/ is refreshed on purpose with UPDATE_SCREENSHOTS=1, so tests keep the tree clean.
ROOT = Path(__file__).parents[2]
SCREENSHOT = ROOT / "out" / "screenshots" / "statuspage.png"
DOCS_SCREENSHOT = ROOT / "docs" / "screenshots" / "statuspage.png"


def _seed_uptime(live: Live) -> None:
    """90 days of check history, as the check loop would have counted it."""
    today = datetime.now(UTC).date()
    rows = []
    for component, bad_days in {"api": {3: 700, 40: 995}, "web": {12: 990}, "db": {}}.items():
        for offset in range(90):
            ok = bad_days.get(offset, 1000)
            day = (today - timedelta(days=offset)).isoformat()
            rows.append(
                {"component_id": component, "day": day, "checks_total": 1000, "checks_ok": ok}
            )
    with live.service.store.engine.begin() as conn:
        conn.execute(insert(schema.uptime_day), rows)
    live.service.refresh(force=True)


def test_page_in_chromium(live: Live, tmp_path: Path) -> None:
    require("chromium (/usr/bin/chromium)", shutil.which(CHROMIUM) is not None)
    require("playwright (Python package)", importlib.util.find_spec("playwright") is not None)
    from playwright import sync_api

    _seed_uptime(live)

    # A resolved outage from earlier today, for "Past incidents" and its own page.
    earlier = datetime.now(UTC).replace(microsecond=0) - timedelta(minutes=95)
    past = {"fingerprint": "p1", "service": "web", "starts_at": earlier}
    past_annotations = {"statuspage_title": "Web app unreachable"}
    live.post("/api/v1/alertmanager", notification(alert(annotations=past_annotations, **past)))
    live.post(
        "/api/v1/alertmanager",
        notification(alert("resolved", annotations=past_annotations, **past)),
    )
    live.post("/api/v1/alertmanager", notification(alert(starts_at=earlier + timedelta(hours=1))))
    live.post(
        "/api/v1/alertmanager",
        notification(alert("firing", severity="warning", service="web", fingerprint="w1")),
    )
    live.post(
        "/api/v1/incidents",
        {
            "name": XSS,
            "body": f"Body {XSS}",
            "components": ["db"],
            "impact": "minor",
            "status": "identified",
        },
    )

    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS, headless=True)
        try:
            page = browser.new_page(viewport={"width": 900, "height": 1400})
            errors: list[str] = []
            page.on("pageerror", lambda e: errors.append(str(e)))
            page.goto(live.url + "/", wait_until="load")

            statuses = {
                el.get_attribute("data-component"): el.locator(".status-text").inner_text()
                for el in page.locator("[data-component]").all()
            }
            assert statuses == {
                "api": "Major outage",
                "web": "Degraded performance",
                "db": "Operational",
            }
            assert page.get_by_role("status").inner_text().strip() == "Major System Outage"
            assert page.evaluate("window.__injected === undefined")
            assert page.get_by_text(XSS).count() >= 1  # shown as text, not run
            assert page.get_by_role("heading", name="Orders are failing").is_visible()
            assert errors == []
            db_uptime = page.locator('[data-component="db"] .uptime').inner_text()
            assert "100% uptime over the last 90 days" in db_uptime  # a minor incident is up
            web_bars = page.locator('[data-component="web"] .bars li')
            twelve_days_ago = web_bars.nth(90 - 1 - 12)
            assert twelve_days_ago.get_attribute("class") == "minor"  # 990 of 1000 checks
            assert twelve_days_ago.get_attribute("title").endswith(": 99% uptime")
            # The alert-driven outage colours today's bar although every check passed.
            today = page.locator('[data-component="api"] .bars li').last
            assert today.get_attribute("class") == "down"
            assert today.get_attribute("title").endswith(": 0% uptime")

            local = tmp_path / "statuspage.png"
            page.screenshot(path=str(local), full_page=True)
            assert local.stat().st_size > 10_000
            SCREENSHOT.parent.mkdir(parents=True, exist_ok=True)
            SCREENSHOT.write_bytes(local.read_bytes())
            if os.environ.get("UPDATE_SCREENSHOTS") == "1":
                DOCS_SCREENSHOT.write_bytes(local.read_bytes())

            # Past incidents, day by day, each linking to its own page.
            past_section = page.locator("section[aria-labelledby=h-past]")
            assert past_section.locator(".day").count() == 15
            first_day = past_section.locator(".day").first
            assert "Web app unreachable" in first_day.inner_text()
            assert "Major outage · Resolved after" in first_day.inner_text()
            first_day.get_by_role("link", name="Web app unreachable").click()
            page.wait_for_load_state("load")
            assert "/incidents/" in page.url
            assert page.get_by_role("heading", level=1).inner_text() == "Web app unreachable"
            affected = page.locator(".affected li").all_inner_texts()
            assert affected == ["Web app\tMajor outage"] or affected == ["Web app\nMajor outage"]
            incident_shot = tmp_path / "statuspage-incident.png"
            page.screenshot(path=str(incident_shot), full_page=True)
            (SCREENSHOT.parent / "statuspage-incident.png").write_bytes(incident_shot.read_bytes())
            if os.environ.get("UPDATE_SCREENSHOTS") == "1":
                (DOCS_SCREENSHOT.parent / "statuspage-incident.png").write_bytes(
                    incident_shot.read_bytes()
                )
            page.get_by_role("link", name="Incident history").click()
            page.wait_for_load_state("load")
            assert page.get_by_role("heading", level=1).inner_text() == "Incident history"
            assert "Page 1 of 1" in page.locator("nav.pager").inner_text()

            phone = browser.new_page(viewport={"width": 375, "height": 800})
            phone.goto(live.url + "/")
            width = phone.evaluate("document.documentElement.scrollWidth")
            assert width <= 375, "the page scrolls sideways on a phone"

            dark = browser.new_page(color_scheme="dark")
            dark.goto(live.url + "/")
            background = dark.evaluate("getComputedStyle(document.body).backgroundColor")
            assert background == "rgb(13, 17, 23)"

            no_js = browser.new_context(java_script_enabled=False).new_page()
            no_js.goto(live.url + "/")
            texts = no_js.locator("[data-component] .status-text").all_inner_texts()
            assert texts == ["Major outage", "Degraded performance", "Operational"]
        finally:
            browser.close()
