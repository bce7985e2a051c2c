"""`irctl status ...` against the real service."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from live_service import TOKEN, Live, alert, notification
from typer.testing import CliRunner

from irctl.status import app

runner = CliRunner()


@pytest.fixture
def env(live: Live) -> dict[str, str]:
    return {"STATUSPAGE_URL": live.url, "STATUSPAGE_API_TOKEN": TOKEN}


def test_incident_lifecycle(live: Live, env: dict[str, str]) -> None:
    created = runner.invoke(
        app,
        [
            "incident",
            "create",
            "--name",
            "Slow [logins]",
            "--body",
            "Looking.",
            "-C",
            "api",
            "--impact",
            "major",
        ],
        env=env,
    )
    assert created.exit_code == 0, created.output
    incident_id = created.output.split()[0]
    assert "investigating: Slow [logins]" in created.output
    assert live.summary()["incidents"][0]["name"] == "Slow [logins]"

    updated = runner.invoke(
        app, ["incident", "update", incident_id, "-s", "monitoring", "-b", "Fix deployed."], env=env
    )
    assert updated.exit_code == 0, updated.output
    resolved = runner.invoke(app, ["incident", "resolve", incident_id], env=env)
    assert resolved.exit_code == 0 and "resolved" in resolved.output
    [incident] = live.incidents()
    assert [u["status"] for u in incident["incident_updates"]] == [
        "resolved",
        "monitoring",
        "investigating",
    ]


def test_maintenance_and_component_override(live: Live, env: dict[str, str]) -> None:
    start = datetime.now(UTC) - timedelta(minutes=1)
    result = runner.invoke(
        app,
        [
            "maintenance",
            "schedule",
            "-n",
            "DB upgrade",
            "-b",
            "Planned.",
            "-C",
            "db",
            "--start",
            start.isoformat(),
            "--end",
            (start + timedelta(hours=1)).isoformat(),
        ],
        env=env,
    )
    assert result.exit_code == 0, result.output
    assert live.component("db")["status"] == "under_maintenance"

    pinned = runner.invoke(app, ["component", "override", "web", "-s", "partial_outage"], env=env)
    assert pinned.exit_code == 0 and "pinned to partial_outage" in pinned.output
    assert live.component("web")["status"] == "partial_outage"
    back = runner.invoke(app, ["component", "hand-back", "web"], env=env)
    assert back.exit_code == 0 and "now operational" in back.output


def test_errors_are_readable(live: Live, env: dict[str, str]) -> None:
    wrong = runner.invoke(
        app,
        ["component", "override", "web", "-s", "major_outage"],
        env={**env, "STATUSPAGE_API_TOKEN": "nope"},
    )
    assert wrong.exit_code == 1
    assert "401" in wrong.output and "bearer token" in wrong.output
    naive = runner.invoke(
        app,
        [
            "maintenance",
            "schedule",
            "-n",
            "x",
            "-b",
            "y",
            "--start",
            "2026-01-01T10:00",
            "--end",
            "2026-01-01T11:00",
        ],
        env=env,
    )
    assert naive.exit_code == 1 and "no time zone" in naive.output
    missing = runner.invoke(app, ["incident", "resolve", "nope"], env=env)
    assert missing.exit_code == 1 and "404" in missing.output
    assert "Traceback" not in wrong.output + naive.output + missing.output


def test_show_prints_what_customers_see(live: Live, env: dict[str, str]) -> None:
    live.put("/api/v1/components/web/override", {"status": "partial_outage"})
    live.post(
        "/api/v1/incidents", {"name": "Slow logins", "body": "Looking.", "components": ["web"]}
    )
    result = runner.invoke(app, ["show"], env={"STATUSPAGE_URL": live.url})
    assert result.exit_code == 0, result.output
    assert "Partial System Outage" in result.output
    assert "Web app" in result.output and "partial outage" in result.output
    assert "investigating: Slow logins" in result.output


def test_a_draft_from_alertmanager_stays_private_until_published(
    live: Live, env: dict[str, str]
) -> None:
    response = live.post("/api/v1/alertmanager?mode=draft", notification(alert()))
    assert response.json() == {"applied": 1, "stale": 0, "ignored": 0}
    # Invisible on every public file: no incident, no component change, nothing in the feed.
    assert live.incidents() == []
    assert live.summary()["incidents"] == []
    assert live.component("api")["status"] == "operational"
    for path in ("/", "/history", "/history.atom", "/api/v2/incidents/unresolved.json"):
        assert "Orders are failing" not in live.client.get(path).text, path
    assert live.service.files and all(
        b"Orders are failing" not in f.body for f in live.service.files
    )

    listed = runner.invoke(app, ["drafts"], env=env)
    assert listed.exit_code == 0, listed.output
    assert "investigating: Orders are failing" in listed.output
    draft_id = listed.output.split()[0]

    published = runner.invoke(app, ["publish", draft_id], env=env)
    assert published.exit_code == 0, published.output
    assert [i["name"] for i in live.summary()["incidents"]] == ["Orders are failing"]
    assert live.component("api")["status"] == "major_outage"
    assert "Orders are failing" in live.client.get("/history.atom").text
    assert runner.invoke(app, ["drafts"], env=env).output.strip() == "No drafts."

    # The alert resolves: the published incident resolves like any automated one.
    live.post("/api/v1/alertmanager?mode=draft", notification(alert("resolved")))
    assert live.incidents()[0]["status"] == "resolved"


def test_draft_mode_records_no_warnings_and_refuses_unknown_modes(live: Live) -> None:
    warning = notification(alert(severity="warning", service="web", fingerprint="w"))
    assert live.post("/api/v1/alertmanager?mode=draft", warning).json()["ignored"] == 1
    assert live.component("web")["status"] == "operational"
    wrong = live.post("/api/v1/alertmanager?mode=preview", notification(alert()))
    assert wrong.status_code == 400
    assert "use draft or publish" in wrong.json()["error"]
    assert live.incidents() == []


def test_publish_of_an_unknown_incident_fails_clearly(env: dict[str, str]) -> None:
    result = runner.invoke(app, ["publish", "nosuchincident"], env=env)
    assert result.exit_code == 1
    assert "404" in result.output and "no incident with id 'nosuchincident'" in result.output
