"""`irctl import pagerduty` on a seeded realistic account: a config that checks, renders and
covers, rule order and layers kept, everything else reported by name, a bulk import file
that covers every PagerDuty resource the program registers."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from irctl.cli import app
from irctl.plan import Plan, record_program
from oncall.coverage import coverage
from oncall.importer import import_snapshot, slug
from oncall.live import Snapshot
from orgconfig.load import load_config
from orgconfig.model import ID_PATTERN, OrgConfig
from sandbox.pagerduty import FakePagerDutyServer
from tests.adopt.conftest import (
    TOKEN,
    import_account,
    override_year,
    realistic_account,
    seeded,
    use_project,
)

SCHEDULE_V2 = "pagerduty:index/schedulev2:Schedulev2"
SCHEDULE_V1 = "pagerduty:index/schedule:Schedule"


@dataclass
class Imported:
    config_file: Path
    import_file: Path
    output: str
    exit_code: int
    org: OrgConfig
    plan: Plan


@pytest.fixture(scope="module")
def imported(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Imported]:
    out = tmp_path_factory.mktemp("import")
    config_file, import_file = out / "acme.yaml", out / "import.json"
    with FakePagerDutyServer(seeded(realistic_account())) as server:
        code, output = import_account(
            server.url, config_file, "--import-file", str(import_file), "--org-name", "Acme"
        )
    org = load_config(config_file)
    plan = record_program("prod", config_file, {"incident-response:pageTestService": "public-api"})
    yield Imported(config_file, import_file, output, code, org, plan)


def test_the_imported_config_passes_config_check_and_renders(
    imported: Imported, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert imported.exit_code == 0, imported.output
    # A project of its own whose stack pages `public-api` in the daily page test (the account
    # has no `page-test` service; the import says to set pageTestService).
    use_project(monkeypatch, tmp_path, "public-api")
    check = CliRunner().invoke(app, ["config", "check", "--config", str(imported.config_file)])
    assert check.exit_code == 0, check.output
    assert "7 people, 4 schedules, 2 escalation policies, 3 services" in " ".join(
        check.output.split()
    )
    types = [r.type for r in imported.plan.resources if r.custom]
    # The three legacy schedules stay legacy (layered) ones; the shift-based one stays v3.
    assert (types.count(SCHEDULE_V1), types.count(SCHEDULE_V2)) == (3, 1)
    assert types.count("pagerduty:index/serviceIntegration:ServiceIntegration") == 3


def test_the_imported_config_passes_coverage(imported: Imported) -> None:
    start = datetime(2026, 12, 7, tzinfo=UTC)
    reports = coverage(imported.org, start, timedelta(days=365))
    # The support tier pages Priya Shah directly besides the office-hours schedule, so the
    # tier reaches someone at every minute although the schedule has gaps.
    assert [problem for report in reports for problem in report.problems] == []


def test_people_teams_and_roles_are_imported_by_email(imported: Imported) -> None:
    org = imported.org
    assert {p.email: p.id for p in org.people}["priya.shah@acme.example"] == "priya-shah"
    assert org.person("luis-ortega").role == "Responder"  # no job title in PagerDuty
    assert "Luis Ortega: has no job title in PagerDuty" in imported.output
    platform = next(t for t in org.teams if t.id == "platform")
    assert [(m.person, m.role) for m in platform.members] == [
        ("jordan-lee", "manager"),
        ("alex-rivera", "responder"),
        ("sam-okafor", "responder"),
        ("dana-kim", "responder"),
        ("morgan-chen", "observer"),
    ]


def test_rule_order_delays_and_repeat_are_kept(imported: Imported) -> None:
    platform = imported.org.policy("platform")
    # PagerDuty's order is primary, backup, director; the rule ids sort the other way.
    assert [(t.after.total_seconds() / 60, [x.ref for x in t.targets]) for t in platform.tiers] == [
        (0, ["platform-primary"]),
        (10, ["platform-backup"]),
        (30, ["morgan-chen"]),
    ]
    assert platform.loop_after.total_seconds() == 30 * 60 and platform.repeat == 2
    support = imported.org.policy("customer-support")
    assert [(t.kind, t.ref) for t in support.tiers[0].targets] == [
        ("schedule", "support-office-hours"),
        ("person", "priya-shah"),
    ]


def test_schedules_keep_zone_hand_off_turn_and_restrictions(imported: Imported) -> None:
    support = imported.org.schedule("support-office-hours")
    assert support.zone == "America/New_York"
    (layer,) = support.layers
    assert (str(layer.first_handoff), layer.handoff_time) == ("2026-01-05", "09:00")
    assert layer.participants == ["priya-shah", "luis-ortega"]
    assert [(r.type, r.start_day, r.start_time, r.duration.total_seconds()) for r in
            layer.restrictions] == [
        ("weekly", day, "09:00", 8 * 3600) for day in ("mon", "tue", "wed", "thu", "fri")
    ]  # fmt: skip


def test_every_layer_is_kept_in_order(imported: Imported) -> None:
    primary = imported.org.schedule("platform-primary")
    # Bottom first, as the UI numbers them (the API lists the top layer first).
    assert [(layer.name, layer.participants, layer.turn.total_seconds(), layer.handoff_time,
             len(layer.restrictions)) for layer in primary.layers] == [
        ("Layer 1 (around the clock)", ["alex-rivera", "sam-okafor", "dana-kim"], 604800,
         "09:00", 0),
        ("Layer 2 (weekday office hours)", ["dana-kim", "alex-rivera"], 86400, "09:00", 5),
        ("Layer 3 (weekend nights)", ["sam-okafor"], 1209600, "20:00", 1),
    ]  # fmt: skip
    assert "layer '" not in imported.output  # no layer left out or reported


@pytest.mark.parametrize(
    "reported",
    [
        "service Web: depends on Public API (service dependency); not in the config",
        "service Customer support desk: urgency follows support hours (mon,tue,wed,thu,fri "
        "09:00:00-17:00:00 America/New_York: high inside, low outside)",
        "integration 'Support mailbox' (generic_email_inbound_integration) is not in the config",
    ],
)
def test_what_cannot_be_expressed_is_reported(imported: Imported, reported: str) -> None:
    assert reported in imported.output


def test_services_keep_policy_urgency_and_timeouts(imported: Imported) -> None:
    api = imported.org.service("public-api")
    assert api.escalation_policy == "platform" and api.urgency == "high"
    assert api.acknowledgement_timeout is not None and api.auto_resolve_timeout is not None
    assert (
        api.acknowledgement_timeout.total_seconds(),
        api.auto_resolve_timeout.total_seconds(),
    ) == (
        1800,
        14400,
    )
    web = imported.org.service("web")
    assert (web.urgency, web.acknowledgement_timeout, web.auto_resolve_timeout) == (
        "low",
        None,
        None,
    )
    # PagerDuty does not say which metrics feed a service: alerting is wired later in Git,
    # so PagerDuty's auto-resolve stays valid (Alertmanager does not page these services).
    assert [s.alerts.enabled for s in imported.org.services] == [False] * 3
    assert "Public API: imported with `alerts: {enabled: false}`" in imported.output


def test_a_shift_based_schedule_is_imported_as_rotations_and_adopted(
    imported: Imported,
) -> None:
    trial = imported.org.schedule("follow-the-sun-trial")
    (rotation,) = trial.rotations
    assert (rotation.name, rotation.participants, rotation.turn.days) == ("EMEA", ["dana-kim"], 1)
    assert [(r.type, r.start_time, r.duration.total_seconds()) for r in rotation.restrictions] == [
        ("daily", "08:00", 8 * 3600)
    ]
    entries = json.loads(imported.import_file.read_text())["resources"]
    (adopted,) = [e for e in entries if e.get("logicalName") == "follow-the-sun-trial"
                  and e["type"] == SCHEDULE_V2]  # fmt: skip
    assert adopted["id"] == "PV3SCH1"


def test_overrides_become_config_overrides(imported: Imported) -> None:
    (override,) = imported.org.overrides
    year = override_year()
    assert (override.schedule, override.person) == ("platform-primary", "sam-okafor")
    assert (override.start.isoformat(), override.end.isoformat()) == (
        f"{year}-12-24T09:00:00+01:00",
        f"{year}-12-25T09:00:00+01:00",
    )


def test_the_import_says_which_service_the_daily_page_test_should_use(
    imported: Imported,
) -> None:
    assert "no `page-test` service" in imported.output
    assert "pulumi config set incident-response:pageTestService <service id>" in imported.output


def test_the_token_is_never_printed(imported: Imported) -> None:
    assert TOKEN not in imported.output
    assert TOKEN not in imported.config_file.read_text()


def test_the_import_file_covers_every_pagerduty_resource_the_program_registers(
    imported: Imported,
) -> None:
    entries = json.loads(imported.import_file.read_text())["resources"]
    by_ref = {e["name"]: e for e in entries}
    assert len(by_ref) == len(entries), "reference names must be unique"
    registered = {f"{r.type}::{r.name}": r for r in imported.plan.resources}

    def chain(entry: dict[str, Any]) -> list[str]:
        out = [f"{entry['type']}::{entry['logicalName']}"]
        while "parent" in entry:
            entry = by_ref[entry["parent"]]
            out.append(f"{entry['type']}::{entry['logicalName']}")
        return out

    def registered_chain(key: str) -> list[str]:
        out = [key]
        while (parent := registered[out[-1]].parent) is not None:
            out.append(parent)
        return out

    adopted = {f"{e['type']}::{e['logicalName']}": e for e in entries if "id" in e}
    pagerduty = [k for k, r in registered.items() if r.custom and k.startswith("pagerduty:")]
    # 2 teams, 7 memberships, 2 policies, 3 services, 3 integrations, 3 + 1 schedules.
    assert len(pagerduty) == 21
    created = []
    for key in pagerduty:
        if key in adopted:
            assert chain(adopted[key]) == registered_chain(key)
        else:
            created.append(key)
    # Every PagerDuty resource is adopted: the first `pulumi up` creates nothing new.
    assert created == []
    assert "pulumi up will create" not in imported.output
    # The legacy (layered) schedules are adopted as they are, by id, as legacy Schedules.
    assert adopted[f"{SCHEDULE_V1}::platform-primary"]["id"] == "PSCH001"
    assert adopted[f"{SCHEDULE_V2}::follow-the-sun-trial"]["id"] == "PV3SCH1"
    assert (
        adopted["pagerduty:index/serviceIntegration:ServiceIntegration::web-events-v2"]["id"]
        == "PSVC002.PINT002"
    )
    membership = "pagerduty:index/teamMembership:TeamMembership::platform-morgan-chen"
    assert adopted[membership]["id"] == "PUSR005:PTEAM01"
    assert adopted["pagerduty:index/escalationPolicy:EscalationPolicy::platform"]["id"] == "PPOL001"


def _snapshot(schedule_names: list[str]) -> Snapshot:
    user = {"id": "PU1", "name": "Ann", "email": "ann@x.example", "job_title": "SRE"}
    layer = {
        "id": "L1", "name": "Layer 1", "start": "2026-01-05T09:00:00Z",
        "rotation_virtual_start": "2026-01-05T09:00:00Z", "rotation_turn_length_seconds": 604800,
        "users": [{"user": {"id": "PU1", "summary": "Ann"}}], "restrictions": [],
    }  # fmt: skip
    schedules = [
        {"id": f"PS{n}", "name": name, "time_zone": "UTC", "schedule_layers": [layer], "teams": []}
        for n, name in enumerate(schedule_names)
    ]
    return Snapshot(users=[user], schedules=list(reversed(schedules)))


def test_config_ids_are_readable_unique_and_stable() -> None:
    names = ["On-call: EU / Primary", "on call eu primary", "24x7 Ops", "Ünïcode Ops"]
    now = datetime(2026, 12, 1, tzinfo=UTC)
    first = import_snapshot(_snapshot(names), org_name="X", now=now).config["schedules"]
    again = import_snapshot(_snapshot(names), org_name="X", now=now).config["schedules"]
    assert [s["id"] for s in first] == [
        "on-call-eu-primary",
        "on-call-eu-primary-2",
        "schedule-24x7-ops",
        "n-code-ops",
    ]
    assert first == again
    assert slug("", "team") == "team"


def test_the_written_config_says_where_it_came_from_and_is_yaml(imported: Imported) -> None:
    text = imported.config_file.read_text()
    assert text.startswith("# yaml-language-server: $schema=")
    assert "# Not imported (3):" in text
    assert yaml.safe_load(text)["org"] == {"name": "Acme", "time_zone": "Europe/Berlin"}


@settings(max_examples=60, deadline=None)
@given(st.lists(st.text(min_size=1, max_size=40), min_size=1, max_size=8))
def test_ids_from_any_names_are_valid_unique_and_the_same_every_time(names: list[str]) -> None:
    now = datetime(2026, 12, 1, tzinfo=UTC)
    ids = [
        s["id"]
        for s in import_snapshot(_snapshot(names), org_name="X", now=now).config["schedules"]
    ]
    assert len(set(ids)) == len(ids)
    assert all(re.fullmatch(ID_PATTERN, i) and len(i) <= 63 for i in ids)
    again = import_snapshot(_snapshot(names), org_name="X", now=now).config["schedules"]
    assert [s["id"] for s in again] == ids


def test_team_filter_imports_only_that_teams_schedules_policies_and_services(
    tmp_path: Path,
) -> None:
    out = tmp_path / "support.yaml"
    with FakePagerDutyServer(seeded(realistic_account())) as server:
        code, output = import_account(server.url, out, "--team", "PTEAM02")
    assert code == 0, output
    org = load_config(out)
    assert [t.id for t in org.teams] == ["customer-support"]
    assert [s.id for s in org.schedules] == ["support-office-hours"]
    assert [p.id for p in org.escalation_policies] == ["customer-support"]
    assert [s.id for s in org.services] == ["customer-support-desk"]
