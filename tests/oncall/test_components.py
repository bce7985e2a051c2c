"""The Pulumi program under a recording mock engine: what PagerDuty would be asked to create."""

from __future__ import annotations

from typing import Any

import pytest

from irctl.plan import Plan, record_program
from tests.conftest import PROD

PD = "pagerduty:index/"


@pytest.fixture(scope="module")
def plan() -> Plan:
    return record_program("prod", PROD)


def one(plan: Plan, type_: str, name: str) -> Any:
    (found,) = [r for r in plan.resources if r.type == type_ and r.name == name]
    return found


def test_escalation_policy_delays_and_targets(plan: Plan) -> None:
    policy = one(plan, f"{PD}escalationPolicy:EscalationPolicy", "platform")
    rules = policy.inputs["rules"]
    assert [r["escalationDelayInMinutes"] for r in rules] == [15, 15, 30, 30]
    assert [r["targets"][0]["id"] for r in rules] == [
        "platform-primary-id",
        "platform-backup-id",
        "user-morgan.chen",
        "user-casey.novak",
    ]
    assert policy.inputs["numLoops"] == 2
    assert policy.inputs["teams"] == "platform-id"  # one team id, not a list
    assert policy.protect is True


def test_primary_schedule_is_one_two_week_layer_in_rotation_order(plan: Plan) -> None:
    schedule = one(plan, f"{PD}schedule:Schedule", "platform-primary")
    (layer,) = schedule.inputs["layers"]
    assert layer["rotationTurnLengthSeconds"] == 1209600
    assert layer["users"] == ["user-alex.rivera", "user-sam.okafor"]
    assert layer["rotationVirtualStart"] == layer["start"] == "2026-01-05T08:00:00Z"
    assert schedule.inputs["timeZone"] == "Europe/Berlin"
    backup = one(plan, f"{PD}schedule:Schedule", "platform-backup")
    assert backup.inputs["layers"][0]["users"] == ["user-jordan.lee"]


def test_team_memberships_with_roles(plan: Plan) -> None:
    memberships = {
        r.name: r.inputs["role"] for r in plan.of_type(f"{PD}teamMembership:TeamMembership")
    }
    assert memberships["platform-jordan-lee"] == "manager"
    assert memberships["platform-alex-rivera"] == "responder"
    assert memberships["platform-priya-shah"] == "observer"


def test_services_wired_to_policy_with_string_timeouts(plan: Plan) -> None:
    api = one(plan, f"{PD}service:Service", "api")
    assert api.inputs["escalationPolicy"] == "platform-id"
    assert api.inputs["acknowledgementTimeout"] == "1800"
    assert api.inputs["autoResolveTimeout"] == "null"  # Alertmanager resolves it (issue 10)
    assert api.inputs["incidentUrgencyRule"] == {"type": "constant", "urgency": "high"}
    page_test = one(plan, f"{PD}service:Service", "page-test")
    assert page_test.inputs["acknowledgementTimeout"] == "null"
    integration = one(plan, f"{PD}serviceIntegration:ServiceIntegration", "api-events-v2")
    assert integration.inputs["type"] == "events_api_v2_inbound_integration"
    assert integration.inputs["service"] == "api-id"
    assert integration.parent == "incident-response:oncall:PagedService::api"


def test_integration_keys_are_secret_outputs(plan: Plan) -> None:
    assert plan.outputs["incident-response:oncall:PagedService::api"]["integration_key"] == (
        "[secret]"
    )
    assert (
        plan.outputs["incident-response:index:IncidentResponse::modulo"]["integration_keys"]
        == "[secret]"
    )


def test_paging_resources_protected_unless_disabled(plan: Plan, prod_data, write_config) -> None:
    paging_types = ("schedule:Schedule", "escalationPolicy:EscalationPolicy", "service:Service")
    assert all(r.protect for r in plan.resources if r.type.removeprefix(PD) in paging_types)
    prod_data["deployment"]["protect"] = False
    unprotected = record_program("prod", write_config(prod_data))
    assert not any(r.protect for r in unprotected.resources if r.type.startswith(PD))


def test_users_are_looked_up_not_created(plan: Plan) -> None:
    assert not plan.of_type(f"{PD}user:User")


def test_components_follow_the_naming_contract(plan: Plan) -> None:
    components = {(r.type, r.name) for r in plan.resources if not r.custom}
    assert ("incident-response:index:IncidentResponse", "modulo") in components
    assert ("incident-response:oncall:Schedule", "platform-primary") in components
    assert ("incident-response:oncall:PagedService", "payments") in components
