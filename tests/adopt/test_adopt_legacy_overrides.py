"""Overrides of an adopted legacy (layered) schedule: the override provider uses PagerDuty's
REST v2 `/schedules/{id}/overrides` (one override per window, on top of every layer), tested
against the local PagerDuty's account double."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from components.overrides import ScheduleOverrideProvider
from oncall.desired import override_spec
from orgconfig.model import OrgConfig, Override
from sandbox.pagerduty import FakePagerDutyServer
from tests.adopt.conftest import TOKEN, realistic_account, seeded
from tests.oncall.test_layers import two_layers


@pytest.fixture
def account_url(monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    monkeypatch.setenv("PAGERDUTY_TOKEN", TOKEN)
    with FakePagerDutyServer(seeded(realistic_account())) as server:
        yield server.url


def listed(url: str, since: datetime) -> list[dict[str, Any]]:
    response = httpx.get(
        f"{url}/schedules/PSCH001/overrides",
        params={"since": since.isoformat(), "until": (since + timedelta(days=30)).isoformat()},
        headers={"Authorization": f"Token token={TOKEN}"},
    )
    assert response.status_code == 200, response.text
    return response.json()["overrides"]


def window(start: datetime, hours: int) -> dict[str, str]:
    def z(moment: datetime) -> str:
        return moment.strftime("%Y-%m-%dT%H:%M:%SZ")

    end = start + timedelta(hours=hours)
    return {"rotation_id": None, "start_time": z(start), "end_time": z(end),
            "overridden_user_id": "PUSR002", "overriding_user_id": "PUSR002"}  # fmt: skip


def test_legacy_overrides_are_created_and_only_future_ones_deleted(account_url: str) -> None:
    now = datetime.now(UTC).replace(microsecond=0)
    before = {o["id"] for o in listed(account_url, now - timedelta(days=5))}
    provider = ScheduleOverrideProvider()
    props = {"api_url": account_url, "schedule_id": "PSCH001", "legacy": True,
             "shifts": [window(now - timedelta(days=5), 24), window(now - timedelta(days=1), 48),
                        window(now + timedelta(days=2), 24)]}  # fmt: skip
    result = provider.create(props)
    ids = result.outs["override_ids"]
    assert len(ids) == 2  # the one that is over is never sent
    made = [o for o in listed(account_url, now - timedelta(days=5)) if o["id"] not in before]
    assert [(o["id"], o["user"]["id"], o["start"]) for o in made] == [
        (ids[0], "PUSR002", props["shifts"][1]["start_time"]),
        (ids[1], "PUSR002", props["shifts"][2]["start_time"]),
    ]
    provider.delete(result.id, result.outs)
    left = {o["id"] for o in listed(account_url, now - timedelta(days=5))} - before
    assert left == {ids[0]}  # started: PagerDuty keeps it as history


def test_a_legacy_override_is_one_window_on_top_of_every_layer() -> None:
    org = OrgConfig.model_validate({
        "org": {"name": "X"},
        "people": [{"id": p, "name": p.title(), "email": f"{p}@x.example", "role": "SRE"}
                   for p in ("ann", "bob", "cy", "dee")],
        "schedules": [two_layers().model_dump(mode="json", exclude_defaults=True)],
        "escalation_policies": [{"id": "p", "name": "P", "tiers": [
            {"after": "0m", "targets": [{"schedule": "s"}]}]}],
        "services": [{"id": "page-test", "name": "Page test", "escalation_policy": "p"}],
    })  # fmt: skip
    # Naive times are the schedule's (Berlin, summer time): 08:00-20:00 is 06:00-18:00Z.
    dee = Override(schedule="s", person="dee", start=datetime(2027, 3, 29, 8),
                   end=datetime(2027, 3, 29, 20))  # fmt: skip
    spec = override_spec(org, dee)
    assert spec.legacy
    assert [(s.start_time, s.end_time, s.overriding) for s in spec.shifts] == [
        ("2027-03-29T06:00:00Z", "2027-03-29T18:00:00Z", "dee")
    ]
