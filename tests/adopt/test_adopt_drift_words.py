"""`oncall.drift` on two small orgs: each kind of difference in its sentence."""

from __future__ import annotations

import copy
from datetime import UTC, datetime
from typing import Any

from oncall.drift import drift, render_markdown
from orgconfig.model import OrgConfig

GIT: dict[str, Any] = {
    "org": {"name": "X", "time_zone": "Europe/Berlin"},
    "people": [
        {"id": "ann", "name": "Ann Berg", "email": "ann@x.example", "role": "SRE"},
        {"id": "bo", "name": "Bo Chan", "email": "bo@x.example", "role": "SRE"},
        {"id": "cy", "name": "Cy Dunn", "email": "cy@x.example", "role": "Lead"},
    ],
    "schedules": [
        {"id": "ops", "name": "Ops", "rotation": {"participants": ["ann", "bo"], "turn": "1w",
                                                  "first_handoff": "2026-01-05"}}
    ],
    "escalation_policies": [
        {"id": "ops", "name": "Ops", "repeat": 1, "tiers": [
            {"after": "0m", "targets": [{"schedule": "ops"}]},
            {"after": "15m", "targets": [{"person": "cy"}]},
        ]}
    ],
    "services": [{"id": "api", "name": "API", "escalation_policy": "ops"}],
    "overrides": [
        {"schedule": "ops", "person": "cy", "from": "2026-11-01 09:00", "to": "2026-11-02 09:00"},
        {"schedule": "ops", "person": "cy", "from": "2026-12-24 09:00", "to": "2026-12-25 09:00"},
    ],
}  # fmt: skip
NOW = datetime(2026, 12, 1, tzinfo=UTC)


def org(data: dict[str, Any]) -> OrgConfig:
    return OrgConfig.model_validate(data)


def test_the_same_org_has_no_drift_and_past_overrides_are_history() -> None:
    live = copy.deepcopy(GIT)
    live["overrides"] = live["overrides"][1:]  # PagerDuty is read from now on
    assert drift(org(GIT), org(live), since=NOW) == []
    assert render_markdown([], "t") == "## t\n\nNo drift: PagerDuty matches Git.\n"


def test_each_difference_in_words() -> None:
    live = copy.deepcopy(GIT)
    live["schedules"][0]["rotation"]["participants"] = ["bo", "ann"]
    live["escalation_policies"][0]["tiers"][1]["after"] = "20m"
    live["escalation_policies"][0]["repeat"] = 2
    live["services"][0]["urgency"] = "low"
    live["overrides"] = []
    found = [d.sentence for d in drift(org(GIT), org(live), since=NOW)]
    assert found == [
        "Ops: rotation order is Bo Chan, Ann Berg in PagerDuty, Ann Berg, Bo Chan in Git",
        "Ops: override for Cy Dunn 2026-12-24 09:00 to 12-25 09:00 exists only in Git",
        "ops escalation tier 2 waits 20 min in PagerDuty, 15 min in Git",
        "ops escalation repeats 2 times in PagerDuty, 1 in Git",
        "API: urgency is low in PagerDuty, high in Git",
    ]


def test_objects_on_one_side_only() -> None:
    live = copy.deepcopy(GIT)
    live["services"].append({"id": "web", "name": "Web", "escalation_policy": "ops"})
    live["people"][2]["email"] = "cy@elsewhere.example"
    found = [d.sentence for d in drift(org(GIT), org(live), since=NOW)]
    assert found == [
        "Cy Dunn (cy@x.example) is in Git but has no PagerDuty user with that email "
        "(the lookup is exact)",
        "service Web exists only in PagerDuty",
    ]
