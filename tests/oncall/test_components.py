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


def test_primary_schedule_is_a_shift_based_two_week_rotation(plan: Plan) -> None:
    schedule = one(plan, f"{PD}schedulev2:Schedulev2", "platform-primary")
    assert schedule.inputs["timeZone"] == "Europe/Berlin"
    assert schedule.inputs["teams"] == ["platform-id"]
    ((event,),) = [r["events"] for r in schedule.inputs["rotations"]]
    # 09:00 Berlin on 2026-01-05 is 08:00 UTC; recurrences are evaluated in the time zone.
    assert event["startTime"] == event["effectiveSince"] == "2026-01-05T08:00:00Z"
    assert event["endTime"] == "2026-01-19T08:00:00Z"
    assert event["recurrences"] == ["RRULE:FREQ=WEEKLY;INTERVAL=2"]
    assert event["assignmentStrategies"] == [
        {
            "type": "rotating_member_assignment_strategy",
            "shiftsPerMember": 1,
            "members": [
                {"type": "user_member", "userId": "user-alex.rivera"},
                {"type": "user_member", "userId": "user-sam.okafor"},
            ],
        }
    ]
    backup = one(plan, f"{PD}schedulev2:Schedulev2", "platform-backup")
    members = backup.inputs["rotations"][0]["events"][0]["assignmentStrategies"][0]["members"]
    assert members == [{"type": "user_member", "userId": "user-jordan.lee"}]
    assert not plan.of_type(f"{PD}schedule:Schedule")  # the deprecated v2 resource is gone


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
    assert api.inputs["autoResolveTimeout"] == "14400"
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
    paging_types = ("schedulev2:Schedulev2", "escalationPolicy:EscalationPolicy", "service:Service")
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


def test_follow_the_sun_renders_one_rotation_per_region(prod_data, write_config) -> None:
    prod_data["schedules"][0] = {
        "id": "platform-primary",
        "name": "Platform primary",
        "team": "platform",
        "time_zone": "UTC",
        "follow_the_sun": {
            "first_handoff": "2027-01-04",
            "regions": [
                {"name": "APAC", "participants": ["alex-rivera"], "start_time": "00:00",
                 "end_time": "08:00"},
                {"name": "EMEA", "participants": ["sam-okafor"], "start_time": "08:00",
                 "end_time": "16:00"},
                {"name": "AMER", "participants": ["priya-shah"], "start_time": "16:00",
                 "end_time": "00:00"},
            ],
        },
    }  # fmt: skip
    schedule = one(
        record_program("prod", write_config(prod_data)), f"{PD}schedulev2:Schedulev2",
        "platform-primary",
    )  # fmt: skip
    events = [e for r in schedule.inputs["rotations"] for e in r["events"]]
    assert [(e["name"], e["startTime"], e["endTime"]) for e in events] == [
        ("APAC", "2027-01-04T00:00:00Z", "2027-01-04T08:00:00Z"),
        ("EMEA", "2027-01-04T08:00:00Z", "2027-01-04T16:00:00Z"),
        ("AMER", "2027-01-04T16:00:00Z", "2027-01-05T00:00:00Z"),
    ]
    assert {tuple(e["recurrences"]) for e in events} == {("RRULE:FREQ=DAILY",)}
    # one-week turns of daily shifts: each member keeps 7 consecutive shifts
    assert {e["assignmentStrategies"][0]["shiftsPerMember"] for e in events} == {7}
