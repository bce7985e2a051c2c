"""The configuration side of the local PagerDuty: an account's users, teams, schedules,
overrides, escalation policies, services, integrations and service dependencies, served by
the REST API v2 list/get endpoints an importer reads, in PagerDuty's shapes.

Shapes follow PagerDuty's OpenAPI description (github.com/PagerDuty/api-schema,
``reference/REST/openapiv3.json``, commit 91a06fb, 2026-08-14); `tests/adopt` checks every
field the importer reads against a table taken from it. Points worth knowing:

* Lists are wrapped and paginated with ``offset``/``limit``/``more``/``total`` (``total`` only
  with ``total=true``), like the incidents list; ``/v3/schedules`` answers the same way.
* ``GET /schedules/{id}`` lists ``schedule_layers`` with the highest-priority layer FIRST (the
  reverse of the UI's "Layer 1, Layer 2, ..."), which is why clients such as the Terraform
  provider reverse them. The YAML fixtures list layers bottom-up, as the UI numbers them.
* ``GET /schedules/{id}/overrides`` needs ``since`` and ``until`` and is not paginated.
* An integration's routing key is ``integration_key`` on the integration object
  (``GET /services/{id}/integrations/{integration_id}``); services list integration
  references unless ``include[]=integrations``.

Seed an account from YAML with `account_from_yaml` (see tests/adopt/accounts/*.yaml) and serve
it with `account_routes`. Edits go through the same API (``PUT /escalation_policies/{id}``,
``PUT /schedules/{id}``, ``PUT /services/{id}``) or `Account` methods in tests.
"""

from __future__ import annotations

import copy
import threading
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import yaml
from starlette.requests import Request
from starlette.routing import Route

from learning.incidents import parse_time

Json = dict[str, Any]
Handler = Callable[[Request], Awaitable[tuple[Json, int]]]

# Collection name -> (object type, reference type), as in the OpenAPI description.
KINDS = {
    "users": ("user", "user_reference"),
    "teams": ("team", "team_reference"),
    "schedules": ("schedule", "schedule_reference"),
    "escalation_policies": ("escalation_policy", "escalation_policy_reference"),
    "services": ("service", "service_reference"),
}


class AccountError(Exception):
    """A request the account refuses: (HTTP status, message, PagerDuty error code)."""

    def __init__(self, status: int, message: str, code: int) -> None:
        super().__init__(message)
        self.status, self.message, self.code = status, message, code

    def body(self) -> Json:
        return {"error": {"message": self.message, "code": self.code}}


@dataclass
class Account:
    """Configuration objects by collection and id, stored in the fixture's plain shape."""

    users: dict[str, Json] = field(default_factory=dict)
    teams: dict[str, Json] = field(default_factory=dict)
    schedules: dict[str, Json] = field(default_factory=dict)  # legacy, layered (v2)
    v3_schedules: dict[str, Json] = field(default_factory=dict)  # shift-based (v3)
    overrides: list[Json] = field(default_factory=list)
    escalation_policies: dict[str, Json] = field(default_factory=dict)
    services: dict[str, Json] = field(default_factory=dict)
    service_dependencies: list[Json] = field(default_factory=list)
    lock: threading.RLock = field(default_factory=threading.RLock, repr=False)

    def collection(self, name: str) -> dict[str, Json]:
        found: dict[str, Json] = getattr(self, name)
        return found

    def get(self, name: str, object_id: str) -> Json:
        found = self.collection(name).get(object_id)
        if found is None:
            raise AccountError(404, "Not Found", 2100)
        return found

    # -------------------------------------------------------------- JSON in PagerDuty's shape

    def ref(self, name: str, object_id: str, base: str) -> Json:
        ref_type = KINDS[name][1]
        obj = self.collection(name).get(object_id, {})
        return {
            "id": object_id,
            "type": ref_type,
            "summary": obj.get("name", object_id),
            "self": f"{base}/{name}/{object_id}",
            "html_url": f"{base}/{name}/{object_id}",
        }

    def _entity(self, name: str, obj: Json, base: str) -> Json:
        kind, _ = KINDS[name]
        return {**self.ref(name, obj["id"], base), "type": kind, "name": obj["name"]}

    def user_json(self, user: Json, base: str) -> Json:
        teams = [t["id"] for t in self.teams.values() if user["id"] in _member_ids(t)]
        return {
            **self._entity("users", user, base),
            "email": user["email"],
            "time_zone": user.get("time_zone", "UTC"),
            "role": user.get("role", "user"),
            "job_title": user.get("job_title"),
            "description": user.get("description"),
            "teams": [self.ref("teams", t, base) for t in teams],
        }

    def team_json(self, team: Json, base: str) -> Json:
        return {
            **self._entity("teams", team, base),
            "description": team.get("description"),
            "default_role": team.get("default_role", "manager"),
        }

    def members_json(self, team: Json, base: str) -> list[Json]:
        return [
            {"user": self.ref("users", m["user"], base), "role": m.get("role", "responder")}
            for m in team.get("members", [])
        ]

    def schedule_json(self, schedule: Json, base: str) -> Json:
        layers = []
        # The API lists the highest-priority layer first; fixtures list them bottom-up.
        for layer in reversed(schedule.get("layers", [])):
            layers.append(
                {
                    "id": layer["id"],
                    "name": layer.get("name", layer["id"]),
                    "start": layer["start"],
                    "end": layer.get("end"),
                    "rotation_virtual_start": layer.get("rotation_virtual_start", layer["start"]),
                    "rotation_turn_length_seconds": layer["rotation_turn_length_seconds"],
                    "users": [{"user": self.ref("users", u, base)} for u in layer["users"]],
                    "restrictions": [dict(r) for r in layer.get("restrictions", [])],
                }
            )
        users = sorted({u for layer in schedule.get("layers", []) for u in layer["users"]})
        return {
            **self._entity("schedules", schedule, base),
            "description": schedule.get("description"),
            "time_zone": schedule["time_zone"],
            "schedule_layers": layers,
            "teams": [self.ref("teams", t, base) for t in schedule.get("teams", [])],
            "users": [self.ref("users", u, base) for u in users],
            "escalation_policies": [
                self.ref("escalation_policies", p["id"], base)
                for p in self.escalation_policies.values()
                if any(t["id"] == schedule["id"] for r in p.get("rules", []) for t in r["targets"])
            ],
        }

    def v3_schedule_json(self, schedule: Json, base: str) -> Json:
        return {
            "id": schedule["id"],
            "type": "schedule",
            "self": f"{base}/v3/schedules/{schedule['id']}",
            "html_url": f"{base}/schedules/{schedule['id']}",
            "name": schedule["name"],
            "description": schedule.get("description"),
            "time_zone": schedule["time_zone"],
            "rotations": copy.deepcopy(schedule.get("rotations", [])),
            "teams": [self.ref("teams", t, base) for t in schedule.get("teams", [])],
        }

    def override_json(self, override: Json, base: str) -> Json:
        return {
            "id": override["id"],
            "type": "override",
            "start": override["start"],
            "end": override["end"],
            "user": self.ref("users", override["user"], base),
        }

    def policy_json(self, policy: Json, base: str) -> Json:
        rules = []
        for index, rule in enumerate(policy.get("rules", []), start=1):
            targets = []
            for target in rule["targets"]:
                collection = "schedules" if target["type"].startswith("schedule") else "users"
                targets.append({**self.ref(collection, target["id"], base), "type": target["type"]})
            rules.append(
                {
                    "id": rule.get("id", f"{policy['id']}R{index}"),
                    "escalation_delay_in_minutes": rule["escalation_delay_in_minutes"],
                    "targets": targets,
                }
            )
        return {
            **self._entity("escalation_policies", policy, base),
            "description": policy.get("description"),
            "num_loops": policy.get("num_loops", 0),
            "on_call_handoff_notifications": policy.get(
                "on_call_handoff_notifications", "if_has_services"
            ),
            "escalation_rules": rules,
            "services": [
                self.ref("services", s["id"], base)
                for s in self.services.values()
                if s["escalation_policy"] == policy["id"]
            ],
            "teams": [self.ref("teams", t, base) for t in policy.get("teams", [])],
        }

    def integration_json(self, service: Json, integration: Json, base: str) -> Json:
        path = f"{base}/services/{service['id']}/integrations/{integration['id']}"
        out = {
            "id": integration["id"],
            "type": integration["type"],
            "summary": integration.get("name", integration["type"]),
            "self": path,
            "html_url": path,
            "name": integration.get("name", integration["type"]),
            "service": self.ref("services", service["id"], base),
            "created_at": "2024-01-01T00:00:00Z",
            "vendor": integration.get("vendor"),
        }
        if "integration_key" in integration:
            out["integration_key"] = integration["integration_key"]
        if "integration_email" in integration:
            out["integration_email"] = integration["integration_email"]
        return out

    def service_json(self, service: Json, base: str, include_integrations: bool) -> Json:
        integrations = [
            self.integration_json(service, i, base)
            if include_integrations
            else {
                "id": i["id"],
                "type": f"{i['type']}_reference",
                "summary": i.get("name", i["type"]),
                "self": f"{base}/services/{service['id']}/integrations/{i['id']}",
                "html_url": None,
            }
            for i in service.get("integrations", [])
        ]
        return {
            **self._entity("services", service, base),
            "description": service.get("description"),
            "status": "active",
            "created_at": "2024-01-01T00:00:00Z",
            "escalation_policy": self.ref(
                "escalation_policies", service["escalation_policy"], base
            ),
            "acknowledgement_timeout": service.get("acknowledgement_timeout"),
            "auto_resolve_timeout": service.get("auto_resolve_timeout"),
            "incident_urgency_rule": copy.deepcopy(
                service.get("incident_urgency_rule", {"type": "constant", "urgency": "high"})
            ),
            "support_hours": copy.deepcopy(service.get("support_hours")),
            "scheduled_actions": copy.deepcopy(service.get("scheduled_actions", [])),
            "alert_creation": "create_alerts_and_incidents",
            "integrations": integrations,
            "teams": [self.ref("teams", t, base) for t in service.get("teams", [])],
        }


def _member_ids(team: Json) -> set[str]:
    return {m["user"] for m in team.get("members", [])}


# --------------------------------------------------------------------------- seeding


def account_from_data(data: Json) -> Account:
    """An account from plain data in the fixtures' shape (tests/adopt/accounts/*.yaml).

    Ids are PagerDuty's (e.g. ``PSCHED1``) and given in the file, so tests and docs can name
    them; layers are listed bottom-up ("Layer 1" first); policy rules in PagerDuty's order.
    """
    account = Account()
    for name in ("users", "teams", "schedules", "v3_schedules", "escalation_policies", "services"):
        for raw in data.get(name, []) or []:
            account.collection(name)[raw["id"]] = copy.deepcopy(raw)
    for index, raw in enumerate(data.get("overrides", []) or [], start=1):
        account.overrides.append({"id": raw.get("id", f"POVR{index:03d}"), **raw})
    for index, raw in enumerate(data.get("service_dependencies", []) or [], start=1):
        account.service_dependencies.append({"id": raw.get("id", f"PDEP{index:03d}"), **raw})
    return account


def account_from_yaml(path: Path) -> Account:
    return account_from_data(yaml.safe_load(path.read_text(encoding="utf-8")) or {})


# --------------------------------------------------------------------------- HTTP


def _base(request: Request) -> str:
    return str(request.base_url).rstrip("/")


def _list_param(request: Request, name: str) -> list[str]:
    values = request.query_params.getlist(f"{name}[]") + request.query_params.getlist(name)
    return [v for v in values if v]


def account_routes(
    account: Account,
    wrap: Callable[[Handler], Any],
    paginate: Callable[[Request, list[Any], str], Json],
) -> list[Route]:
    """REST routes over `account`; `wrap` adds authentication, rate limits and faults, and
    `paginate` is the classic offset pagination of the rest of the local PagerDuty."""

    def by_team(items: list[Json], request: Request) -> list[Json]:
        teams = set(_list_param(request, "team_ids"))
        return [i for i in items if not teams or teams & set(i.get("teams", []))]

    def query(items: list[Json], request: Request) -> list[Json]:
        text = request.query_params.get("query", "").lower()
        return sorted(
            (i for i in items if text in i["name"].lower()), key=lambda i: i["name"].lower()
        )

    def lister(name: str, render: Callable[[Json, Request], Json], teams: bool) -> Handler:
        async def endpoint(request: Request) -> tuple[Json, int]:
            with account.lock:
                items = list(account.collection(name).values())
                items = query(by_team(items, request) if teams else items, request)
                return paginate(request, [render(i, request) for i in items], name), 200

        return endpoint

    def getter(name: str, wrapper: str, render: Callable[[Json, Request], Json]) -> Handler:
        async def endpoint(request: Request) -> tuple[Json, int]:
            with account.lock:
                return {wrapper: render(account.get(name, request.path_params["id"]), request)}, 200

        return endpoint

    def includes(request: Request) -> bool:
        return "integrations" in _list_param(request, "include")

    renders: dict[str, Callable[[Json, Request], Json]] = {
        "users": lambda o, r: account.user_json(o, _base(r)),
        "teams": lambda o, r: account.team_json(o, _base(r)),
        "schedules": lambda o, r: account.schedule_json(o, _base(r)),
        "v3_schedules": lambda o, r: account.v3_schedule_json(o, _base(r)),
        "escalation_policies": lambda o, r: account.policy_json(o, _base(r)),
        "services": lambda o, r: account.service_json(o, _base(r), includes(r)),
    }

    async def team_members(request: Request) -> tuple[Json, int]:
        with account.lock:
            team = account.get("teams", request.path_params["id"])
            return paginate(request, account.members_json(team, _base(request)), "members"), 200

    async def list_v3(request: Request) -> tuple[Json, int]:
        with account.lock:
            items = query(list(account.v3_schedules.values()), request)
            body = paginate(
                request, [renders["v3_schedules"](i, request) for i in items], "schedules"
            )
            return body, 200

    async def schedule_overrides(request: Request) -> tuple[Json, int]:
        params = request.query_params
        if "since" not in params or "until" not in params:
            raise AccountError(400, "since and until are required", 2001)
        try:
            since, until = parse_time(params["since"]), parse_time(params["until"])
        except ValueError as exc:
            raise AccountError(400, f"Invalid date: {exc}", 2001) from None
        with account.lock:
            schedule_id = request.path_params["id"]
            account.get("schedules", schedule_id)
            found = [
                account.override_json(o, _base(request))
                for o in account.overrides
                if o["schedule"] == schedule_id and _overlaps(o, since, until)
            ]
            return {"overrides": found}, 200

    async def show_integration(request: Request) -> tuple[Json, int]:
        with account.lock:
            service = account.get("services", request.path_params["id"])
            for integration in service.get("integrations", []):
                if integration["id"] == request.path_params["integration_id"]:
                    return {
                        "integration": account.integration_json(
                            service, integration, _base(request)
                        )
                    }, 200
        raise AccountError(404, "Not Found", 2100)

    async def create_schedule_overrides(request: Request) -> tuple[Any, int]:
        """POST /schedules/{id}/overrides (PagerDuty/api-schema, openapiv3.json): a list of
        `{start, end, user}`; answers 201 with one `{status, override}` per item."""
        try:
            body = await request.json()
        except ValueError:
            body = None
        items = body.get("overrides") if isinstance(body, dict) else None
        if not isinstance(items, list) or not items:
            raise AccountError(400, "body must be {'overrides': [{start, end, user}, ...]}", 2001)
        answer = []
        with account.lock:
            schedule_id = request.path_params["id"]
            account.get("schedules", schedule_id)
            for item in items:
                user = (item.get("user") or {}).get("id")
                try:
                    start, end = parse_time(item["start"]), parse_time(item["end"])
                except (KeyError, ValueError):
                    answer.append({"status": 400, "errors": ["Invalid start or end"],
                                   "override": item})  # fmt: skip
                    continue
                if user not in account.users or end <= start:
                    problem = "Override must end after its start" if user in account.users else (
                        "User not found")  # fmt: skip
                    answer.append({"status": 400, "errors": [problem], "override": item})
                    continue
                taken = {o["id"] for o in account.overrides}
                number = next(n for n in range(1, len(taken) + 2) if f"POVR{n:03d}" not in taken)
                made = {"id": f"POVR{number:03d}", "schedule": schedule_id,
                        "user": user, "start": item["start"], "end": item["end"]}  # fmt: skip
                account.overrides.append(made)
                answer.append(
                    {"status": 201, "override": account.override_json(made, _base(request))}
                )
        return answer, 201

    async def delete_schedule_override(request: Request) -> tuple[Json, int]:
        with account.lock:
            params = request.path_params
            found = [o for o in account.overrides
                     if o["schedule"] == params["id"] and o["id"] == params["oid"]]  # fmt: skip
            if not found:
                raise AccountError(404, "Not Found", 2100)
            account.overrides.remove(found[0])
        return {}, 204

    async def dependencies(request: Request) -> tuple[Json, int]:
        with account.lock:
            service_id = request.path_params["id"]
            account.get("services", service_id)
            relationships = [
                {
                    "id": d["id"],
                    "type": "service_dependency",
                    "supporting_service": {
                        "id": d["supporting"],
                        "type": "technical_service_reference",
                    },
                    "dependent_service": {
                        "id": d["dependent"],
                        "type": d.get("dependent_type", "technical_service_reference"),
                    },
                }
                for d in account.service_dependencies
                if service_id in (d["supporting"], d["dependent"])
            ]
            return {"relationships": relationships}, 200

    def updater(name: str, wrapper: str, fields: tuple[str, ...]) -> Handler:
        async def endpoint(request: Request) -> tuple[Json, int]:
            try:
                body = await request.json()
            except ValueError:
                body = None
            change = body.get(wrapper) if isinstance(body, dict) else None
            if not isinstance(change, dict):
                raise AccountError(400, f"body must be {{{wrapper!r}: {{...}}}}", 2001)
            change = _from_api(change)
            with account.lock:
                current = account.get(name, request.path_params["id"])
                for key in fields:
                    if key in change:
                        current[key] = copy.deepcopy(change[key])
                return {wrapper: renders[name](current, request)}, 200

        return endpoint

    # collection, entity wrapper, filterable by team_ids[], fields a PUT may change
    editable: list[tuple[str, str, bool, tuple[str, ...]]] = [
        ("users", "user", False, ()),
        ("teams", "team", False, ()),
        ("schedules", "schedule", True, ("name", "time_zone", "layers", "description")),
        (
            "escalation_policies",
            "escalation_policy",
            True,
            ("name", "num_loops", "rules", "description"),
        ),
        (
            "services",
            "service",
            True,
            ("name", "escalation_policy", "acknowledgement_timeout", "auto_resolve_timeout",
             "incident_urgency_rule", "description"),
        ),
    ]  # fmt: skip
    routes = []
    for name, wrapper, teams, fields in editable:
        routes.append(Route(f"/{name}", wrap(lister(name, renders[name], teams)), methods=["GET"]))
        routes.append(
            Route(f"/{name}/{{id}}", wrap(getter(name, wrapper, renders[name])), methods=["GET"])
        )
        if fields:
            routes.append(
                Route(f"/{name}/{{id}}", wrap(updater(name, wrapper, fields)), methods=["PUT"])
            )
    return [
        *routes,
        Route("/teams/{id}/members", wrap(team_members), methods=["GET"]),
        Route("/schedules/{id}/overrides", wrap(schedule_overrides), methods=["GET"]),
        Route("/schedules/{id}/overrides", wrap(create_schedule_overrides), methods=["POST"]),
        Route(
            "/schedules/{id}/overrides/{oid}", wrap(delete_schedule_override), methods=["DELETE"]
        ),
        Route("/v3/schedules", wrap(list_v3), methods=["GET"]),
        Route(
            "/v3/schedules/{id}",
            wrap(getter("v3_schedules", "schedule", renders["v3_schedules"])),
            methods=["GET"],
        ),
        Route(
            "/services/{id}/integrations/{integration_id}",
            wrap(show_integration),
            methods=["GET"],
        ),
        Route("/service_dependencies/technical_services/{id}", wrap(dependencies), methods=["GET"]),
    ]


def _overlaps(override: Json, since: datetime, until: datetime) -> bool:
    return parse_time(override["start"]) < until and parse_time(override["end"]) > since


def _ref_id(value: Any) -> Any:
    return value.get("id") if isinstance(value, dict) else value


def _from_api(change: Json) -> Json:
    """A PUT body in PagerDuty's shape -> the fixture's shape (refs become ids, layers are
    stored bottom-up, escalation_rules become rules)."""
    out = dict(change)
    if "escalation_rules" in out:
        out["rules"] = [
            {
                **({"id": r["id"]} if "id" in r else {}),
                "escalation_delay_in_minutes": r["escalation_delay_in_minutes"],
                "targets": [{"id": t["id"], "type": t["type"]} for t in r["targets"]],
            }
            for r in out.pop("escalation_rules")
        ]
    if "schedule_layers" in out:
        out["layers"] = [
            {
                **{k: v for k, v in layer.items() if k != "users"},
                "users": [_ref_id(u.get("user", u)) for u in layer["users"]],
            }
            for layer in reversed(out.pop("schedule_layers"))
        ]
    if "escalation_policy" in out:
        out["escalation_policy"] = _ref_id(out["escalation_policy"])
    return out
