"""`irctl status ...` against the real service."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from live_service import TOKEN, Live
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
