"""`irctl drift`: edits made in PagerDuty show up in words with exit 3; a matching account
exits 0; bad input and an unreachable API exit 2; the token is never printed."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from sandbox.pagerduty import FakePagerDutyServer
from sandbox.pagerduty_account import account_from_data
from sandbox.servers import free_port
from tests.adopt.conftest import (
    TOKEN,
    TOKEN_ENV,
    import_account,
    override_year,
    realistic_account,
    run_cli,
    run_drift,
    seeded,
    use_project,
)

AUTH = {"Authorization": f"Token token={TOKEN}"}


@pytest.fixture
def adopted(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[tuple[FakePagerDutyServer, Path]]:
    """The realistic account, imported into Git as `irctl import` wrote it."""
    use_project(monkeypatch, tmp_path / "project", "public-api")
    config = tmp_path / "acme.yaml"
    with FakePagerDutyServer(seeded(realistic_account())) as server:
        code, output = import_account(server.url, config, "--org-name", "Acme")
        assert code == 0, output
        yield server, config


def sentences(server_url: str, config: Path) -> tuple[int, list[str]]:
    code, output = run_drift(server_url, config, "--format", "json")
    return code, [d["sentence"] for d in json.loads(output)["differences"]]


def test_right_after_import_drift_lists_only_what_the_config_cannot_hold(
    adopted: tuple[FakePagerDutyServer, Path],
) -> None:
    server, config = adopted
    code, found = sentences(server.url, config)
    assert code == 3
    # Every layer is kept (`layers:`), so only the support-hours urgency remains.
    assert found == [
        "Customer support desk: urgency is high in support hours and low outside them in "
        "PagerDuty, always high in Git",
    ]


def test_edits_made_through_the_api_show_up_in_words_with_exit_3(
    adopted: tuple[FakePagerDutyServer, Path],
) -> None:
    server, config = adopted
    _, before = sentences(server.url, config)
    policy_url = f"{server.url}/escalation_policies/PPOL001"
    policy = httpx.get(policy_url, headers=AUTH).json()["escalation_policy"]
    policy["escalation_rules"][1]["escalation_delay_in_minutes"] = 10  # tier 3 at 20 min
    assert httpx.put(policy_url, json={"escalation_policy": policy}, headers=AUTH).is_success
    schedule_url = f"{server.url}/schedules/PSCH001"
    schedule = httpx.get(schedule_url, headers=AUTH).json()["schedule"]
    schedule["schedule_layers"][-1]["users"].append({"user": {"id": "PUSR006"}})
    assert httpx.put(schedule_url, json={"schedule": schedule}, headers=AUTH).is_success
    service_url = f"{server.url}/services/PSVC002"
    assert httpx.put(
        service_url, json={"service": {"acknowledgement_timeout": 600}}, headers=AUTH
    ).is_success

    # Someone swaps a shift at 3 a.m. in the PagerDuty UI, and the Git override is removed.
    year = override_year()
    server.fake.account.overrides[0].update(  # type: ignore[union-attr]
        {"start": f"{year}-12-31T09:00:00+01:00", "end": f"{year + 1}-01-01T09:00:00+01:00"}
    )

    code, after = sentences(server.url, config)
    assert code == 3
    assert [s for s in after if s not in before] == [
        "Platform primary: layer 'Layer 1 (around the clock)': Priya Shah was added in "
        "PagerDuty (not in Git)",
        f"Platform primary: override for Sam Okafor {year}-12-31 09:00 to {year + 1}-01-01 09:00 "
        "exists only in PagerDuty",
        f"Platform primary: override for Sam Okafor {year}-12-24 09:00 to 12-25 09:00 exists "
        "only in Git",
        "platform escalation tier 3 waits 20 min in PagerDuty, 30 min in Git",
        "Web: acknowledgement timeout is 10m in PagerDuty, off in Git",
    ]


def test_markdown_groups_by_area_and_text_lists_every_difference(
    adopted: tuple[FakePagerDutyServer, Path],
) -> None:
    server, config = adopted
    code, markdown = run_drift(server.url, config, "--format", "markdown")
    assert code == 3
    assert markdown.startswith("## PagerDuty drift: stack prod\n")
    # Right after import only the support-hours urgency differs (every layer was kept).
    assert "### Services" in markdown
    assert "### Schedules" not in markdown and "### Escalation" not in markdown
    code, text = run_drift(server.url, config)
    assert code == 3 and text.startswith("1 difference(s) between PagerDuty and Git:")


SIMPLE = {
    "users": [{"id": "PU1", "name": "Ann Berg", "email": "ann@x.example", "job_title": "SRE"}],
    "schedules": [
        {"id": "PS1", "name": "Ops", "time_zone": "Asia/Singapore", "layers": [
            {"id": "PL1", "start": "2026-01-05T09:00:00+08:00",
             "rotation_turn_length_seconds": 604800, "users": ["PU1"]}]}
    ],
    "escalation_policies": [
        {"id": "PP1", "name": "Ops", "num_loops": 1,
         "rules": [{"escalation_delay_in_minutes": 5, "targets": [
             {"type": "schedule_reference", "id": "PS1"}]}]}
    ],
    "services": [
        {"id": "PV1", "name": "Api", "escalation_policy": "PP1", "integrations": [
            {"id": "PI1", "type": "events_api_v2_inbound_integration",
             "integration_key": "a" * 32}]}
    ],
}  # fmt: skip


def test_an_account_that_matches_git_exits_0(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    use_project(monkeypatch, tmp_path / "project", "api")
    config = tmp_path / "simple.yaml"
    with FakePagerDutyServer(seeded(account_from_data(SIMPLE))) as server:
        code, output = import_account(server.url, config)
        assert code == 0, output
        code, output = run_drift(server.url, config)
    assert (code, output) == (0, "no drift: PagerDuty matches Git\n")


def test_bad_input_and_unreachable_api_exit_2_without_printing_the_token(
    adopted: tuple[FakePagerDutyServer, Path], tmp_path: Path
) -> None:
    server, config = adopted
    dead = f"http://127.0.0.1:{free_port()}"
    code, output = run_drift(dead, config)
    assert code == 2 and "cannot reach the PagerDuty API" in output
    wrong = {TOKEN_ENV: "wrong-token-123"}
    code, output = run_cli("drift", "--config", str(config), "--api-url", server.url,
                       "--token-env", TOKEN_ENV, env=wrong)  # fmt: skip
    assert code == 2 and "PagerDuty refused the API token (HTTP 401)" in output
    assert "wrong-token-123" not in output and "-123" not in output
    code, output = run_cli("drift", "--config", str(config), "--api-url", server.url,
                       "--token-env", "NOT_SET_ANYWHERE", env={})  # fmt: skip
    assert code == 2 and "environment variable NOT_SET_ANYWHERE is not set" in output
    broken = tmp_path / "broken.yaml"
    broken.write_text(config.read_text().replace("repeat: 2", "repeat: 12"))
    code, output = run_drift(server.url, broken)
    assert code == 2 and "repeat 12 is outside PagerDuty's num_loops range 0..9" in output
    for args in ((), ("--format", "json"), ("--format", "markdown")):
        assert TOKEN not in run_drift(server.url, config, *args)[1]
