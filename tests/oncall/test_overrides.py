"""Overrides as code: the builder, the dynamic provider against the local PagerDuty, the program.

Org: the example org; Alex Rivera has the primary turn Mon 7 Dec 09:00 - Mon 21 Dec 09:00
2026 (two-week turns from 5 Jan 2026, Berlin). Sam Okafor covering 8-11 Dec (Berlin midnight,
UTC+1) replaces exactly 2026-12-07T23:00Z - 2026-12-10T23:00Z of Alex's shift.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from components.overrides import ScheduleOverrideProvider
from irctl.plan import record_program
from oncall.desired import OverrideShiftSpec, override_spec
from orgconfig.model import OrgConfig
from sandbox.pagerduty import FakePagerDuty, FakePagerDutyServer, User

OVERRIDE = {
    "schedule": "platform-primary",
    "person": "sam-okafor",
    "from": "2026-12-08",
    "to": "2026-12-11",
    "note": "Sam covers Alex's conference",
}


def test_override_becomes_the_shifts_it_replaces(prod_data) -> None:
    prod_data["overrides"] = [OVERRIDE]
    org = OrgConfig.model_validate(prod_data)
    spec = override_spec(org, org.overrides[0])
    assert spec.name == "platform-primary-override-sam-okafor-20261207t2300z"
    assert spec.shifts == (
        OverrideShiftSpec(
            0, "2026-12-07T23:00:00Z", "2026-12-10T23:00:00Z", "alex-rivera", "sam-okafor"
        ),
    )


def test_program_registers_one_dynamic_resource_per_override(prod_data, write_config) -> None:
    second = {**OVERRIDE, "person": "jordan-lee", "from": "2027-01-04 09:00", "to": "2027-01-05"}
    prod_data["overrides"] = [OVERRIDE, second]
    plan = record_program("prod", write_config(prod_data))
    found = {r.name: r for r in plan.resources if r.type == "pulumi-python:dynamic:Resource"}
    assert sorted(found) == [
        "platform-primary-override-jordan-lee-20270104t0800z",
        "platform-primary-override-sam-okafor-20261207t2300z",
    ]
    sam = found["platform-primary-override-sam-okafor-20261207t2300z"]
    assert sam.inputs["schedule_id"] == "platform-primary-id"
    assert sam.inputs["api_url"] == "https://api.pagerduty.com"
    assert sam.inputs["shifts"] == [
        {
            "start_time": "2026-12-07T23:00:00Z",
            "end_time": "2026-12-10T23:00:00Z",
            "overridden_user_id": "user-alex.rivera",
            "overriding_user_id": "user-sam.okafor",
        }
    ]
    assert sam.inputs["__provider"] == "[secret]"  # the serialized provider never shows
    assert sam.parent == "incident-response:index:IncidentResponse::modulo"


@pytest.fixture
def pagerduty(monkeypatch) -> Any:
    """The local PagerDuty with one shift-based schedule (rotation PROT1) and two users."""
    fake = FakePagerDuty(
        users=[User("PALEX", "Alex Rivera", "alex@x.example"), User("PSAM", "Sam", "s@x.example")],
        api_tokens=["write-token"],
    )
    fake.schedule_overrides.add_schedule("PSCHED", ["PROT1"])
    monkeypatch.setenv("PAGERDUTY_TOKEN", "write-token")
    with FakePagerDutyServer(fake) as server:
        yield server.url


def shift(start: datetime, hours: int) -> dict[str, str]:
    def z(moment: datetime) -> str:
        return moment.strftime("%Y-%m-%dT%H:%M:%SZ")

    return {
        "rotation_id": "PROT1",
        "start_time": z(start),
        "end_time": z(start + timedelta(hours=hours)),
        "overridden_user_id": "PALEX",
        "overriding_user_id": "PSAM",
    }


def listed(url: str, since: datetime) -> list[dict[str, Any]]:
    response = httpx.get(
        f"{url}/v3/schedules/PSCHED/overrides",
        params={"since": since.isoformat(), "until": (since + timedelta(days=30)).isoformat()},
        headers={"Authorization": "Token token=write-token"},
    )
    assert response.status_code == 200, response.text
    return response.json()["overrides"]


def test_provider_creates_overrides_and_deletes_only_future_ones(pagerduty) -> None:
    url = pagerduty
    now = datetime.now(UTC).replace(microsecond=0)
    provider = ScheduleOverrideProvider()
    props = {
        "api_url": url,
        "schedule_id": "PSCHED",
        "shifts": [
            shift(now - timedelta(days=5), 24),  # over: never sent
            shift(now - timedelta(days=2), 72),  # running
            shift(now + timedelta(days=2), 24),  # future
        ],
    }
    result = provider.create(props)
    ids = result.outs["override_ids"]
    assert len(ids) == 2 and result.id == ",".join(ids)
    on_server = listed(url, now - timedelta(days=5))
    assert [(o["id"], o["type"], o["rotation_id"]) for o in on_server] == [
        (ids[0], "override_shift", "PROT1"),
        (ids[1], "override_shift", "PROT1"),
    ]
    assert on_server[1]["overriding_member"] == {"type": "user_member", "user_id": "PSAM"}
    assert on_server[1]["overridden_member"] == {"type": "user_member", "user_id": "PALEX"}
    assert on_server[1]["start_time"] == props["shifts"][2]["start_time"]
    assert on_server[0]["end_time"] == props["shifts"][1]["end_time"]

    provider.delete(result.id, result.outs)

    assert [o["id"] for o in listed(url, now - timedelta(days=5))] == [ids[0]]  # started: stays


def test_provider_reports_what_pagerduty_refused(pagerduty) -> None:
    url = pagerduty
    bad = {**shift(datetime.now(UTC) + timedelta(days=1), 4), "overriding_user_id": "PNOBODY"}
    with pytest.raises(Exception, match="400"):
        ScheduleOverrideProvider().create(
            {"api_url": url, "schedule_id": "PSCHED", "shifts": [bad]}
        )


def test_provider_needs_a_token(monkeypatch, tmp_path: Path) -> None:
    monkeypatch.delenv("PAGERDUTY_TOKEN", raising=False)
    with pytest.raises(RuntimeError, match=r"\$PAGERDUTY_TOKEN is not set"):
        ScheduleOverrideProvider().create(
            {"api_url": "http://127.0.0.1:9", "schedule_id": "P", "shifts": []}
        )
