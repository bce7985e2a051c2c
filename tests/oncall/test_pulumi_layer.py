"""A Pulumi layer safe to run for years: stable names, protect through options, secret
integration keys in state, and every resource's options visible in plan.json."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from iac.plan import Plan, record_program
from irctl.render import render
from orgconfig.load import load_config
from tests.conftest import PROD

PD = "pagerduty:index/"
ROOT_TYPE = "incident-response:index:IncidentResponse"


@pytest.fixture(scope="module")
def plan() -> Plan:
    return record_program("prod", PROD)


def names(plan: Plan) -> list[tuple[str, str, str]]:
    # Registration order varies; the root's parent is the stack (recorded only by the first
    # program run in a process).
    return sorted((r.type, r.name, str(r.parent)) for r in plan.resources if r.type != ROOT_TYPE)


def test_renaming_the_display_name_changes_no_resource_name(
    plan: Plan, prod_data: dict[str, Any], write_config: Any
) -> None:
    prod_data["org"] = {**prod_data["org"], "id": "modulo", "name": "Modulo Payments GmbH"}
    renamed = record_program("prod", write_config(prod_data))
    assert names(renamed) == names(plan)
    (root,) = renamed.of_type(ROOT_TYPE)
    assert root.name == "modulo" and root.options["aliases"] == [{"name": "modulo payments gmbh"}]


def test_without_an_id_the_root_keeps_todays_name(plan: Plan) -> None:
    (root,) = plan.of_type(ROOT_TYPE)
    assert root.name == "modulo"  # org.name.lower(): the URN existing stacks have
    assert root.options["aliases"] == []


def test_every_integration_keeps_its_key_secret_in_state(plan: Plan) -> None:
    integrations = plan.of_type(f"{PD}serviceIntegration:ServiceIntegration")
    assert len(integrations) == 6  # api, web, database, payments, page-test, catch-all
    assert all(r.options["additionalSecretOutputs"] == ["integrationKey"] for r in integrations)


def test_protect_is_an_option_inherited_by_paging_children(plan: Plan) -> None:
    protected = {(r.type.removeprefix(PD), r.name) for r in plan.resources if r.protect}
    for component in ("Schedule", "EscalationPolicy", "PagedService"):
        assert any(t.endswith(f":{component}") for t, _ in protected), component
    assert ("service:Service", "api") in protected
    assert ("serviceIntegration:ServiceIntegration", "api-events-v2") in protected
    assert not any(t.startswith("team") for t, _ in protected)  # teams are cheap to recreate


def test_namespace_and_volume_claims_are_protected_deployments_are_not(plan: Plan) -> None:
    k8s = {(r.type.rsplit(":", 1)[-1], r.protect) for r in plan.resources if r.custom}
    assert ("Namespace", True) in k8s
    assert ("PersistentVolumeClaim", True) in k8s
    assert ("PersistentVolumeClaim", False) not in k8s
    assert ("Deployment", False) in k8s and ("Deployment", True) not in k8s


def test_services_no_longer_set_the_deprecated_alert_creation(plan: Plan) -> None:
    services = plan.of_type(f"{PD}service:Service")
    assert services and all("alertCreation" not in s.inputs for s in services)


def test_plan_json_shows_each_resources_options(tmp_path: Path) -> None:
    rendered = render(load_config(PROD), "prod", PROD, tmp_path)
    plan = json.loads((tmp_path / "plan.json").read_text())
    by_name = {(r["type"], r["name"]): r for r in plan["resources"]}
    integration = by_name[(f"{PD}serviceIntegration:ServiceIntegration", "api-events-v2")]
    assert integration["options"] == {
        "protect": True,
        "additionalSecretOutputs": ["integrationKey"],
        "aliases": [],
        "dependsOn": [],
    }
    (config_map,) = [r for r in plan["resources"] if r["type"].endswith(":ConfigMap")]
    namespace = "kubernetes:core/v1:Namespace::namespace-incident-response"
    assert config_map["options"]["dependsOn"] == [namespace]
    assert len(plan["resources"]) == len(rendered.plan.resources)
