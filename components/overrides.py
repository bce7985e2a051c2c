"""Schedule overrides from the config, applied by `pulumi up` through PagerDuty's REST API.

The PagerDuty provider has no override resource (terraform-provider-pagerduty #112), so this is a
Pulumi dynamic resource calling the official `pagerduty` client (`RestApiV2Client`). Shift-based
schedules take overrides at `/v3/schedules/{id}/overrides` (PagerDuty/api-schema,
`reference/REST/openapiv3.json`): each override shift names the rotation and the member it
replaces, which `oncall.desired.override_spec` works out from the same expansion `oncall show`
uses.

- create: POST the override shifts that have not ended yet; the resource id lists the created
  override ids.
- delete: remove each override that still lies in the future; overrides that have started or
  ended stay in PagerDuty as history.
- any change of inputs replaces the resource (delete, then create).

The REST token is read when the provider runs, from `PAGERDUTY_TOKEN` (never stored in the
state); the API URL is an input (default https://api.pagerduty.com) so tests point it at the
local PagerDuty.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import pulumi
from pulumi.dynamic import CreateResult, DiffResult, Resource, ResourceProvider

from learning.pagerduty_api import DEFAULT_API_URL, RateLimitedClient
from oncall.desired import OverrideSpec

TOKEN_ENV = "PAGERDUTY_TOKEN"
KEYS = ("schedule_id", "shifts", "api_url", "legacy")


def _client(api_url: str) -> RateLimitedClient:
    token = os.environ.get(TOKEN_ENV)
    if not token:
        raise RuntimeError(
            f"${TOKEN_ENV} is not set: overrides need a PagerDuty REST API token with write "
            "access to schedules (export it before `pulumi up`)"
        )
    # The official client, waiting on 429 as PagerDuty asks (and allowing http:// fakes).
    return RateLimitedClient(token, base_url=api_url)


def _member(user_id: str) -> dict[str, str]:
    return {"type": "user_member", "user_id": user_id}


def _instant(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def _create_legacy(
    client: RateLimitedClient, schedule_id: str, shifts: list[dict[str, Any]]
) -> list[dict[str, str]]:
    """Overrides of a legacy layered schedule: `POST /schedules/{id}/overrides` (REST v2,
    PagerDuty/api-schema `reference/REST/openapiv3.json`) takes `{start, end, user}` items and
    answers one `{status, override}` per item."""
    body = {
        "overrides": [
            {
                "start": shift["start_time"],
                "end": shift["end_time"],
                "user": {"id": shift["overriding_user_id"], "type": "user_reference"},
            }
            for shift in shifts
        ]
    }
    answer = client.jpost(f"/schedules/{schedule_id}/overrides", json=body)
    refused = [item for item in answer if item.get("status") != 201]
    if refused:
        raise RuntimeError(f"PagerDuty refused overrides: {refused}")
    return [
        {"id": item["override"]["id"], "start_time": item["override"]["start"]} for item in answer
    ]


class ScheduleOverrideProvider(ResourceProvider):
    """Creates and deletes the override shifts of one config override."""

    def now(self) -> datetime:
        return datetime.now(UTC)

    def create(self, props: dict[str, Any]) -> CreateResult:
        client = _client(props["api_url"])
        now = self.now()
        # A shift that is already over is history: PagerDuty is not asked to create it.
        shifts = [s for s in props["shifts"] if _instant(s["end_time"]) > now]
        created: list[dict[str, str]] = []
        if shifts and props.get("legacy"):
            created = _create_legacy(client, props["schedule_id"], shifts)
        elif shifts:
            body = {
                "overrides": [
                    {
                        "type": "override_shift",
                        "rotation_id": shift["rotation_id"],
                        "start_time": shift["start_time"],
                        "end_time": shift["end_time"],
                        "overridden_member": _member(shift["overridden_user_id"]),
                        "overriding_member": _member(shift["overriding_user_id"]),
                    }
                    for shift in shifts
                ]
            }
            answer = client.jpost(f"/v3/schedules/{props['schedule_id']}/overrides", json=body)
            created = [
                {"id": made["id"], "start_time": made["start_time"]} for made in answer["overrides"]
            ]
        ids = [made["id"] for made in created]
        outs = {**props, "created": created, "override_ids": ids}
        return CreateResult(id_=",".join(ids) or f"none-{props['schedule_id']}", outs=outs)

    def delete(self, _id: str, props: dict[str, Any]) -> None:
        client = _client(props["api_url"])
        now = self.now()
        version = "" if props.get("legacy") else "/v3"
        path = f"{version}/schedules/{props['schedule_id']}/overrides"
        for made in props.get("created", []):
            if _instant(made["start_time"]) <= now:
                continue  # started or past: PagerDuty keeps it as history
            response = client.delete(f"{path}/{made['id']}")
            if response.status_code not in (204, 404):
                raise RuntimeError(
                    f"deleting override {made['id']} failed: HTTP {response.status_code} "
                    f"{response.text[:200]}"
                )

    def diff(self, _id: str, olds: dict[str, Any], news: dict[str, Any]) -> DiffResult:
        changed = [key for key in KEYS if olds.get(key) != news.get(key)]
        return DiffResult(
            changes=bool(changed), replaces=changed, delete_before_replace=True, stables=[]
        )


@dataclass
class ScheduleOverrideArgs:
    spec: OverrideSpec
    schedule_id: pulumi.Input[str]
    rotation_ids: pulumi.Input[Sequence[str | None]]
    user_ids: Mapping[str, pulumi.Input[str]]
    api_url: str = DEFAULT_API_URL


class ScheduleOverride(Resource):
    """One config override (`overrides:` entry) as PagerDuty override shifts."""

    override_ids: pulumi.Output[list[str]]

    def __init__(
        self, name: str, args: ScheduleOverrideArgs, opts: pulumi.ResourceOptions | None = None
    ):
        spec = args.spec
        people = sorted({s.overridden for s in spec.shifts} | {s.overriding for s in spec.shifts})

        def shift_inputs(values: list[Any]) -> list[dict[str, Any]]:
            rotation_ids, user_ids = (
                list(values[0] or []),
                dict(zip(people, values[1], strict=True)),
            )
            return [
                {
                    "rotation_id": rotation_ids[s.rotation]
                    if 0 <= s.rotation < len(rotation_ids)
                    else None,
                    "start_time": s.start_time,
                    "end_time": s.end_time,
                    "overridden_user_id": user_ids[s.overridden],
                    "overriding_user_id": user_ids[s.overriding],
                }
                for s in spec.shifts
            ]

        users = pulumi.Output.all(*[args.user_ids[person] for person in people])
        shifts = pulumi.Output.all(pulumi.Output.from_input(args.rotation_ids), users).apply(
            shift_inputs
        )
        super().__init__(
            ScheduleOverrideProvider(),
            name,
            {
                "schedule_id": args.schedule_id,
                "shifts": shifts,
                "api_url": args.api_url,
                # Only on legacy schedules: existing overrides keep their inputs (no replace).
                **({"legacy": True} if spec.legacy else {}),
                "created": None,
                "override_ids": None,
            },
            opts,
        )
