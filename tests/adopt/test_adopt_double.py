"""The local PagerDuty serves an account's configuration in PagerDuty's shapes."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import httpx
from pagerduty.api_client import ApiClient

from oncall.importer import import_snapshot
from oncall.live import Snapshot, client_for, read_account
from orgconfig.model import OrgConfig
from sandbox.pagerduty import FakePagerDutyServer, FaultPlan
from tests.adopt.conftest import TOKEN, override_year

AUTH = {"Authorization": f"Token token={TOKEN}"}

# Every field the importer and drift read, per object, as PagerDuty's OpenAPI description
# declares it for the endpoint that returns the object (github.com/PagerDuty/api-schema,
# reference/REST/openapiv3.json at commit 91a06fb, 2026-08-14; response schemas of
# GET /users, /teams/{id}/members, /schedules/{id}, /schedules/{id}/overrides,
# /v3/schedules/{id}, /escalation_policies, /services, /service_dependencies/technical_services
# /{id}). Nested fields are dotted; list items are not indexed.
SPEC_FIELDS: dict[str, set[str]] = {
    "user": {"id", "name", "email", "job_title", "role", "time_zone", "teams", "description"},
    "team": {"id", "name", "description", "default_role"},
    "member": {"user", "user.id", "user.summary", "role"},
    "schedule": {
        "id", "name", "description", "time_zone", "teams", "teams.id", "users",
        "schedule_layers", "schedule_layers.id", "schedule_layers.name",
        "schedule_layers.start", "schedule_layers.end",
        "schedule_layers.rotation_virtual_start", "schedule_layers.rotation_turn_length_seconds",
        "schedule_layers.users", "schedule_layers.users.user",
        "schedule_layers.users.user.id", "schedule_layers.users.user.summary",
        "schedule_layers.restrictions", "schedule_layers.restrictions.type",
        "schedule_layers.restrictions.start_time_of_day",
        "schedule_layers.restrictions.duration_seconds",
        "schedule_layers.restrictions.start_day_of_week",
    },
    "override": {"id", "start", "end", "user", "user.id", "user.summary"},
    "v3_schedule": {
        "id", "name", "description", "time_zone", "rotations", "teams", "rotations.id",
        "rotations.events", "rotations.events.name", "rotations.events.start_time",
        "rotations.events.start_time.date_time", "rotations.events.start_time.time_zone",
        "rotations.events.end_time", "rotations.events.end_time.date_time",
        "rotations.events.end_time.time_zone", "rotations.events.recurrence",
        "rotations.events.assignment_strategy",
        "rotations.events.assignment_strategy.shifts_per_member",
        "rotations.events.assignment_strategy.members",
        "rotations.events.assignment_strategy.members.type",
        "rotations.events.assignment_strategy.members.user_id",
    },
    # GET /v3/schedules/{id}/overrides
    "v3_override": {"id", "start_time", "end_time", "overriding_member",
                    "overriding_member.user_id", "rotation_id"},
    "escalation_policy": {
        "id", "name", "description", "num_loops", "teams", "teams.id",
        "on_call_handoff_notifications", "escalation_rules",
        "escalation_rules.escalation_delay_in_minutes", "escalation_rules.targets",
        "escalation_rules.targets.id", "escalation_rules.targets.type",
        "escalation_rules.targets.summary",
    },
    "service": {
        "id", "name", "description", "escalation_policy", "escalation_policy.id", "teams",
        "teams.id", "acknowledgement_timeout", "auto_resolve_timeout", "incident_urgency_rule",
        "incident_urgency_rule.type", "incident_urgency_rule.urgency",
        "incident_urgency_rule.during_support_hours",
        "incident_urgency_rule.during_support_hours.urgency",
        "incident_urgency_rule.outside_support_hours",
        "incident_urgency_rule.outside_support_hours.urgency", "support_hours",
        "support_hours.days_of_week", "support_hours.start_time", "support_hours.end_time",
        "support_hours.time_zone", "scheduled_actions", "integrations", "integrations.id",
        "integrations.type", "integrations.name", "integrations.summary",
    },
    "relationship": {
        "id", "supporting_service", "supporting_service.id", "dependent_service",
        "dependent_service.id",
    },
}  # fmt: skip


class Tracked(dict[str, Any]):
    """A dict that records every key read from it (dotted from the object's root)."""

    def __init__(self, data: dict[str, Any], prefix: str, seen: set[str]) -> None:
        super().__init__({k: _track(v, f"{prefix}{k}.", seen) for k, v in data.items()})
        self.prefix, self.seen = prefix, seen

    def __getitem__(self, key: str) -> Any:
        self.seen.add(f"{self.prefix}{key}")
        return super().__getitem__(key)

    def get(self, key: str, default: Any = None) -> Any:  # type: ignore[override]
        self.seen.add(f"{self.prefix}{key}")
        return super().get(key, default)


def _track(value: Any, prefix: str, seen: set[str]) -> Any:
    if isinstance(value, dict):
        return Tracked(value, prefix, seen)
    if isinstance(value, list):
        return [_track(v, prefix, seen) for v in value]
    return value


def test_every_field_the_importer_reads_is_in_pagerduty_openapi_description(
    server: FakePagerDutyServer,
) -> None:
    created = httpx.post(
        f"{server.url}/v3/schedules/PV3SCH1/overrides",
        headers=AUTH,
        json={"overrides": [{
            "type": "override_shift", "rotation_id": "PROT001",
            "start_time": f"{override_year()}-12-20T07:00:00Z",
            "end_time": f"{override_year()}-12-20T15:00:00Z",
            "overridden_member": {"type": "user_member", "user_id": "PUSR003"},
            "overriding_member": {"type": "user_member", "user_id": "PUSR001"},
        }]},
    )  # fmt: skip
    assert created.status_code == 201, created.text
    snap = read_account(client_for(server.url, TOKEN))
    seen: dict[str, set[str]] = {kind: set() for kind in SPEC_FIELDS}

    def track(items: list[dict[str, Any]], kind: str) -> list[Any]:
        return [Tracked(i, "", seen[kind]) for i in items]

    tracked = Snapshot(
        users=track(snap.users, "user"),
        teams=track(snap.teams, "team"),
        members={t: track(m, "member") for t, m in snap.members.items()},
        schedules=track(snap.schedules, "schedule"),
        v3_schedules=track(snap.v3_schedules, "v3_schedule"),
        overrides={s: track(o, "override") for s, o in snap.overrides.items()},
        policies=track(snap.policies, "escalation_policy"),
        services=track(snap.services, "service"),
        dependencies=track(snap.dependencies, "relationship"),
        v3_overrides={s: track(o, "v3_override") for s, o in snap.v3_overrides.items()},
    )
    now = datetime(2026, 12, 1, tzinfo=UTC)
    # Drift reads more: a shift-based schedule Git manages (here: named like the v3 trial).
    git = import_snapshot(snap, org_name="Acme", now=now).config
    git["schedules"].append({"id": "trial", "name": "Follow the sun trial", "rotation": {
        "participants": ["dana-kim"], "turn": "1d", "first_handoff": "2026-11-02"}})  # fmt: skip
    import_snapshot(tracked, org_name="Acme", now=now, hints=OrgConfig.model_validate(git))
    for kind, fields in seen.items():
        assert fields, f"the importer reads no {kind} field: the account fixture lost coverage"
        assert fields <= SPEC_FIELDS[kind], (
            f"{kind}: not in the OpenAPI table: {fields - SPEC_FIELDS[kind]}"
        )


def test_lists_paginate_with_offset_limit_more_and_total(server: FakePagerDutyServer) -> None:
    first = httpx.get(f"{server.url}/users?limit=3&total=true", headers=AUTH).json()
    page = [len(first["users"]), first["offset"], first["limit"], first["more"], first["total"]]
    assert page == [3, 0, 3, True, 7]
    last = httpx.get(f"{server.url}/users?limit=3&offset=6", headers=AUTH).json()
    assert [u["name"] for u in last["users"]] == ["Sam Okafor"]
    assert last["more"] is False and last["total"] is None
    client = client_for(server.url, TOKEN)
    client.default_page_size = 2
    assert len(list(client.iter_all("users"))) == 7


def test_schedule_layers_come_top_layer_first_with_user_references(
    server: FakePagerDutyServer,
) -> None:
    schedule = httpx.get(f"{server.url}/schedules/PSCH001", headers=AUTH).json()["schedule"]
    assert [layer["name"] for layer in schedule["schedule_layers"]] == [
        "Layer 3 (weekend nights)",
        "Layer 2 (weekday office hours)",
        "Layer 1 (around the clock)",
    ]
    bottom = schedule["schedule_layers"][-1]
    assert [u["user"]["summary"] for u in bottom["users"]] == [
        "Alex Rivera",
        "Sam Okafor",
        "Dana Kim",
    ]
    assert bottom["users"][0]["user"]["type"] == "user_reference"
    assert schedule["schedule_layers"][1]["restrictions"][0] == {
        "type": "weekly_restriction",
        "start_day_of_week": 1,
        "start_time_of_day": "09:00:00",
        "duration_seconds": 28800,
    }


def test_services_include_integrations_with_their_routing_key_only_when_asked(
    server: FakePagerDutyServer,
) -> None:
    plain = httpx.get(f"{server.url}/services/PSVC001", headers=AUTH).json()["service"]
    assert plain["integrations"][0]["type"] == "events_api_v2_inbound_integration_reference"
    assert "integration_key" not in plain["integrations"][0]
    full = httpx.get(
        f"{server.url}/services?include[]=integrations&team_ids[]=PTEAM02", headers=AUTH
    ).json()["services"]
    assert [s["name"] for s in full] == ["Customer support desk"]
    assert full[0]["integrations"][0]["integration_key"] == "00112233445566778899aabbccddeeff"
    one = httpx.get(f"{server.url}/services/PSVC001/integrations/PINT001", headers=AUTH).json()
    assert one["integration"]["service"]["id"] == "PSVC001"


def test_overrides_need_a_window_and_answer_those_overlapping_it(
    server: FakePagerDutyServer,
) -> None:
    url = f"{server.url}/schedules/PSCH001/overrides"
    year = override_year()
    assert httpx.get(url, headers=AUTH).status_code == 400
    window = {"since": f"{year}-12-24T12:00:00Z", "until": f"{year}-12-26T00:00:00Z"}
    inside = httpx.get(url, params=window, headers=AUTH).json()
    assert [(o["user"]["summary"], o["start"]) for o in inside["overrides"]] == [
        ("Sam Okafor", f"{year}-12-24T09:00:00+01:00")
    ]
    window = {"since": f"{year}-12-01T00:00:00Z", "until": f"{year}-12-02T00:00:00Z"}
    assert httpx.get(url, params=window, headers=AUTH).json()["overrides"] == []


def test_unknown_objects_404_and_bad_tokens_401(server: FakePagerDutyServer) -> None:
    assert httpx.get(f"{server.url}/escalation_policies/NOPE", headers=AUTH).status_code == 404
    refused = httpx.get(f"{server.url}/teams", headers={"Authorization": "Token token=wrong"})
    assert refused.status_code == 401


def test_a_429_carries_retry_after_and_the_reader_waits_then_finishes(
    server: FakePagerDutyServer,
) -> None:
    server.fake.inject_fault("rest", FaultPlan(429, count=1, retry_after_seconds=1))
    answer = httpx.get(f"{server.url}/users", headers=AUTH)
    assert answer.status_code == 429 and answer.headers["retry-after"] == "1"
    server.fake.inject_fault("rest", FaultPlan(429, count=2, after=3, retry_after_seconds=1))
    client = client_for(server.url, TOKEN)
    waits: list[float] = []
    client._wait = waits.append  # type: ignore[attr-defined]
    snap = read_account(client)
    assert waits == [1.0, 1.0]
    assert len(snap.users) == 7 and len(snap.services) == 3


def test_reading_an_account_sends_only_gets(server: FakePagerDutyServer, monkeypatch: Any) -> None:
    methods: list[str] = []
    original = ApiClient.request

    def recording(self: ApiClient, method: str, url: str, **kwargs: Any) -> Any:
        methods.append(method.upper())
        return original(self, method, url, **kwargs)

    monkeypatch.setattr(ApiClient, "request", recording)
    read_account(client_for(server.url, TOKEN))
    assert methods and set(methods) == {"GET"}


def test_an_edit_through_the_api_changes_what_is_served(server: FakePagerDutyServer) -> None:
    url = f"{server.url}/escalation_policies/PPOL001"
    policy = httpx.get(url, headers=AUTH).json()["escalation_policy"]
    policy["escalation_rules"][1]["escalation_delay_in_minutes"] = 10
    changed = httpx.put(url, json={"escalation_policy": policy}, headers=AUTH)
    assert changed.status_code == 200
    again = httpx.get(url, headers=AUTH).json()["escalation_policy"]
    assert [r["escalation_delay_in_minutes"] for r in again["escalation_rules"]] == [10, 10, 30]
    assert [r["id"] for r in again["escalation_rules"]] == ["PRUL0C", "PRUL0A", "PRUL0B"]
