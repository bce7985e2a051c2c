"""Read a live PagerDuty account's configuration, read-only, with the official client.

Only GETs: users, teams and their members, schedules (legacy layered and shift-based v3),
overrides in a window, escalation policies, services with their integrations, and service
dependencies. `RestApiV2Client.iter_all` follows classic pagination (offset/limit/more) and
the client retries a 429 after the `Retry-After` the server sent. The result is plain JSON in
PagerDuty's shapes (a `Snapshot`), which `oncall.importer` and `oncall.drift` work on
without any I/O.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import pagerduty

from learning.pagerduty_api import RateLimitedClient

Json = dict[str, Any]


@dataclass
class Snapshot:
    users: list[Json] = field(default_factory=list)
    teams: list[Json] = field(default_factory=list)
    members: dict[str, list[Json]] = field(default_factory=dict)  # team id -> members
    schedules: list[Json] = field(default_factory=list)  # full objects with schedule_layers
    v3_schedules: list[Json] = field(default_factory=list)
    overrides: dict[str, list[Json]] = field(default_factory=dict)  # schedule id -> overrides
    v3_overrides: dict[str, list[Json]] = field(default_factory=dict)  # v3 schedule id -> ...
    policies: list[Json] = field(default_factory=list)
    services: list[Json] = field(default_factory=list)  # with integrations included
    dependencies: list[Json] = field(default_factory=list)  # service relationships


class LiveReadError(Exception):
    """The account could not be read (unreachable, refused token, unexpected answer)."""


def client_for(api_url: str, token: str) -> pagerduty.RestApiV2Client:
    """The official client, waiting as a 429's `Retry-After` asks (learning.pagerduty_api)."""
    return RateLimitedClient(token, base_url=api_url)


def _team_filter(team_ids: Iterable[str]) -> Json:
    teams = list(team_ids)
    return {"team_ids[]": teams} if teams else {}


def read_account(
    client: pagerduty.RestApiV2Client,
    *,
    team_ids: Iterable[str] = (),
    overrides_since: datetime | None = None,
    overrides_until: datetime | None = None,
) -> Snapshot:
    """Everything `import` and `drift` compare, in a handful of paginated GETs."""
    teams_wanted = list(team_ids)
    try:
        return _read(client, teams_wanted, overrides_since, overrides_until)
    except pagerduty.Error as exc:
        response = getattr(exc, "response", None)
        status = getattr(response, "status_code", None)
        if status in (401, 403):
            raise LiveReadError(
                f"PagerDuty refused the API token (HTTP {status}); check that it is a valid "
                "read-only REST API key"
            ) from None
        if response is None:  # no HTTP answer at all: connection refused, DNS, TLS
            raise LiveReadError(f"cannot reach the PagerDuty API: {_clean(exc)}") from None
        raise LiveReadError(f"reading the PagerDuty account failed: {_clean(exc)}") from None
    except OSError as exc:
        raise LiveReadError(f"cannot reach the PagerDuty API: {_clean(exc)}") from None


def _clean(exc: Exception) -> str:
    return str(exc).splitlines()[0][:300] if str(exc) else type(exc).__name__


def _read(
    client: pagerduty.RestApiV2Client,
    teams_wanted: list[str],
    since: datetime | None,
    until: datetime | None,
) -> Snapshot:
    snap = Snapshot()
    snap.users = list(client.iter_all("users"))
    snap.teams = [
        t for t in client.iter_all("teams") if not teams_wanted or t["id"] in teams_wanted
    ]
    for team in snap.teams:
        snap.members[team["id"]] = list(client.iter_all(f"teams/{team['id']}/members"))
    listed = client.iter_all("schedules", params=_team_filter(teams_wanted))
    snap.schedules = [client.rget(f"schedules/{s['id']}") for s in listed]
    snap.v3_schedules = [
        client.rget(f"v3/schedules/{s['id']}")
        for s in _optional_list(client, "v3/schedules")
        if not teams_wanted or {t["id"] for t in s.get("teams") or []} & set(teams_wanted)
    ]
    now = datetime.now(UTC)
    since = since or now
    until = until or now.replace(year=now.year + 1)
    for schedule in snap.schedules:
        answer = client.rget(
            f"schedules/{schedule['id']}/overrides",
            params={"since": since.isoformat(), "until": until.isoformat()},
        )
        snap.overrides[schedule["id"]] = list(answer or [])
    for schedule in snap.v3_schedules:
        snap.v3_overrides[schedule["id"]] = _v3_overrides(client, schedule["id"], since, until)
    snap.policies = list(client.iter_all("escalation_policies", params=_team_filter(teams_wanted)))
    snap.services = list(
        client.iter_all(
            "services", params={**_team_filter(teams_wanted), "include[]": ["integrations"]}
        )
    )
    for service in snap.services:
        answer = client.jget(f"service_dependencies/technical_services/{service['id']}")
        for relation in answer.get("relationships", []) if isinstance(answer, dict) else []:
            if relation not in snap.dependencies:
                snap.dependencies.append(relation)
    return snap


def _optional_list(client: pagerduty.RestApiV2Client, path: str) -> list[Json]:
    """Shift-based schedules are an API v3 feature; an account without it answers 404."""
    try:
        return list(client.iter_all(path))
    except pagerduty.HttpError as exc:
        if exc.response is not None and exc.response.status_code == 404:
            return []
        raise


def _v3_overrides(
    client: pagerduty.RestApiV2Client, schedule_id: str, since: datetime, until: datetime
) -> list[Json]:
    """`GET /v3/schedules/{id}/overrides` (offset pagination; 404 when the plan has none)."""
    found: list[Json] = []
    offset = 0
    while True:
        try:
            page = client.jget(
                f"v3/schedules/{schedule_id}/overrides",
                params={"since": since.isoformat(), "until": until.isoformat(),
                        "offset": offset, "limit": 100},
            )  # fmt: skip
        except pagerduty.HttpError as exc:
            if exc.response is not None and exc.response.status_code == 404:
                return found
            raise
        items = page.get("overrides", []) if isinstance(page, dict) else []
        found += items
        if not (isinstance(page, dict) and page.get("more")) or not items:
            return found
        offset += len(items)
