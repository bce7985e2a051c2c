"""A local PagerDuty: Events API v2, the REST API v2 endpoints we read, and escalation.

Nothing here talks to the real PagerDuty. It exists so that Alertmanager, `irctl page-test`,
`irctl metrics` and the sandbox can be exercised on one machine with the official
`pagerduty` client pointed at it.

Shapes follow PagerDuty's public API reference:

* Events API v2 ``POST /v2/enqueue``: 202 ``{"status": "success", "message": "Event
  processed", "dedup_key": ...}``; 400 ``{"status": "invalid event", "message": "Event
  object is invalid", "errors": [...]}``; 429 when throttled.
* REST API v2 (``Authorization: Token token=...``): wrapped entities (``{"incident": {...}}``,
  ``{"incidents": [...], "limit", "offset", "more", "total"}``), errors as
  ``{"error": {"message", "code", "errors"}}``, ``ratelimit-*`` headers on every answer.
  Log entries are listed newest first, as PagerDuty does. A resolved incident has empty
  ``acknowledgements`` and ``assignments``, as on PagerDuty: the log entries are the
  history.

Control endpoints for tests and the sandbox live under ``/_fake/`` (see `create_app`).
Run it with ``python -m sandbox.pagerduty --port 8094 [--config services.json]``, or in a
test with `FakePagerDutyServer`.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import html
import itertools
import json
import re
import threading
import time
import uuid
from collections.abc import AsyncIterator, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response
from starlette.routing import Route

from learning.incidents import parse_time as parse_ts
from sandbox.pagerduty_account import Account, AccountError, account_from_yaml, account_routes
from sandbox.schedule_overrides import OverrideError, ScheduleOverrides
from sandbox.servers import ThreadedServer

# Documented PagerDuty limits (Events API v2 and REST API v2 references).
ROUTING_KEY_LENGTH = 32
DEDUP_KEY_MAX = 255
SUMMARY_MAX = 1024
EVENT_MAX_BYTES = 512 * 1024
EVENT_ACTIONS = ("trigger", "acknowledge", "resolve")
SEVERITIES = ("critical", "error", "warning", "info")
REST_RATE_LIMIT_PER_MINUTE = 960
PAGE_LIMIT_DEFAULT = 25
PAGE_LIMIT_MAX = 100
ITERATION_LIMIT = 10_000  # offset + limit may not exceed this (classic pagination)
DEFAULT_RANGE = timedelta(days=30)
MAX_RANGE = timedelta(days=180)


# --------------------------------------------------------------------------- time


def format_ts(moment: datetime) -> str:
    """PagerDuty's timestamp format: ISO 8601, UTC, whole seconds, ``Z``."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


class Clock:
    """The fake's notion of now: real time, optionally set, advanced or sped up.

    ``speed=60`` makes one real second count as one minute, so a 15-minute escalation
    tier passes in 15 seconds. ``speed=0`` freezes time (tests then `advance` it).
    """

    def __init__(self, start: datetime | None = None, speed: float = 1.0) -> None:
        self._lock = threading.Lock()
        self._anchor_real = time.monotonic()
        self._anchor = start.astimezone(UTC) if start else datetime.now(UTC)
        self._speed = speed

    def now(self) -> datetime:
        with self._lock:
            return self._now_locked()

    def _now_locked(self) -> datetime:
        elapsed = (time.monotonic() - self._anchor_real) * self._speed
        return self._anchor + timedelta(seconds=elapsed)

    @property
    def speed(self) -> float:
        return self._speed

    def set(self, moment: datetime) -> None:
        with self._lock:
            self._anchor_real = time.monotonic()
            self._anchor = moment.astimezone(UTC)

    def advance(self, delta: timedelta) -> None:
        with self._lock:
            now = self._now_locked()
            self._anchor_real = time.monotonic()
            self._anchor = now + delta

    def set_speed(self, speed: float) -> None:
        if speed < 0:
            raise ValueError(f"clock speed must be >= 0, got {speed}")
        with self._lock:
            now = self._now_locked()
            self._anchor_real = time.monotonic()
            self._anchor = now
            self._speed = speed


# --------------------------------------------------------------------------- configuration


@dataclass(frozen=True)
class EscalationTier:
    """One rule of an escalation policy.

    ``delay_minutes`` is PagerDuty's ``escalation_delay_in_minutes``: how long an
    unacknowledged incident stays at this tier before it escalates to the next one.
    After the last tier the incident stays there, unless the service's ``num_loops``
    says the policy repeats: then the last tier's delay leads back to tier 1.
    """

    delay_minutes: float
    targets: tuple[str, ...]


@dataclass
class ServiceConfig:
    id: str
    name: str
    routing_keys: list[str] = field(default_factory=list)
    tiers: list[EscalationTier] = field(default_factory=list)
    team_ids: list[str] = field(default_factory=list)
    urgency: str = "high"
    num_loops: int = 0  # times the policy repeats after the last tier (PagerDuty: 0..9)


@dataclass
class User:
    id: str
    name: str
    email: str


@dataclass
class Team:
    id: str
    name: str


# --------------------------------------------------------------------------- records


@dataclass
class LogEntry:
    id: str
    type: str
    created_at: datetime
    incident_id: str
    summary: str
    agent: dict[str, Any] | None
    channel: dict[str, Any]
    extra: dict[str, Any] = field(default_factory=dict)


@dataclass
class Incident:
    id: str
    number: int
    title: str
    service_id: str
    created_at: datetime
    incident_key: str
    urgency: str
    status: str = "triggered"
    escalation_level: int = 1
    level_entered_at: datetime | None = None
    auto_escalate: bool = True
    loops_done: int = 0
    acknowledgements: list[tuple[datetime, str]] = field(default_factory=list)
    assignees: list[str] = field(default_factory=list)
    assigned_at: datetime | None = None
    resolved_at: datetime | None = None
    last_status_change_at: datetime | None = None
    last_status_change_by: dict[str, Any] | None = None
    log_entries: list[LogEntry] = field(default_factory=list)
    alert_count: int = 1


@dataclass
class ReceivedEvent:
    """One request to ``/v2/enqueue``, accepted or not."""

    received_at: datetime  # the fake clock's time
    received_at_wall: datetime  # real UTC time, for latency measurements
    status_code: int
    routing_key: str | None
    event_action: str | None
    dedup_key: str | None
    service_id: str | None
    incident_id: str | None
    body: Any
    errors: list[str]

    def to_json(self) -> dict[str, Any]:
        return {
            "received_at": format_ts(self.received_at),
            "received_at_wall": self.received_at_wall.isoformat(),
            "status_code": self.status_code,
            "accepted": self.status_code == 202,
            "routing_key": self.routing_key,
            "event_action": self.event_action,
            "dedup_key": self.dedup_key,
            "service_id": self.service_id,
            "incident_id": self.incident_id,
            "body": self.body,
            "errors": self.errors,
        }


@dataclass
class FaultPlan:
    """Answer ``status`` to ``count`` requests, after letting ``after`` requests through."""

    status: int
    count: int
    after: int = 0
    retry_after_seconds: int = 1


class FakeError(Exception):
    """A REST request the fake refuses, with PagerDuty's error code."""

    def __init__(self, status: int, message: str, code: int, errors: Sequence[str] = ()) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.code = code
        self.errors = list(errors)

    def body(self) -> dict[str, Any]:
        error: dict[str, Any] = {"message": self.message, "code": self.code}
        if self.errors:
            error["errors"] = self.errors
        return {"error": error}


def _invalid(*errors: str) -> FakeError:
    return FakeError(400, "Invalid Input Provided", 2001, errors)


# --------------------------------------------------------------------------- the fake


class FakePagerDuty:
    """State and behaviour of the local PagerDuty; thread-safe; no HTTP in here."""

    def __init__(
        self,
        services: Iterable[ServiceConfig] = (),
        *,
        users: Iterable[User] = (),
        teams: Iterable[Team] = (),
        api_tokens: Iterable[str] | None = None,
        clock: Clock | None = None,
        rate_limit_per_minute: int = REST_RATE_LIMIT_PER_MINUTE,
        account: Account | None = None,
    ) -> None:
        self.clock = clock or Clock()
        # An adopted account's configuration (issue 13): when set, its users, teams,
        # schedules, policies and services answer the REST list/get endpoints.
        self.account: Account | None = None
        self.rate_limit_per_minute = rate_limit_per_minute
        self._lock = threading.RLock()
        self._ids = itertools.count(1)
        self._numbers = itertools.count(1)
        self.services: dict[str, ServiceConfig] = {}
        self.users: dict[str, User] = {}
        self.teams: dict[str, Team] = {t.id: t for t in teams}
        self.incidents: dict[str, Incident] = {}
        self.events: list[ReceivedEvent] = []
        # None: any non-empty token is accepted (handy in the sandbox).
        self.api_tokens: set[str] | None = set(api_tokens) if api_tokens is not None else None
        self._faults: dict[str, list[FaultPlan]] = {"events": [], "rest": []}
        self._rate_windows: dict[str, tuple[float, int]] = {}
        self.schedule_overrides = ScheduleOverrides()  # issue 11: v3 schedule overrides
        for user in users:
            self.users[user.id] = user
        for service in services:
            self.add_service(service)
        if account is not None:
            self.load_account(account)

    def load_account(self, account: Account) -> None:
        """Serve `account` (issue 13); its users may take overrides and its shift-based
        schedules hold overrides at /v3/schedules/{id}/overrides (issue 11's endpoints)."""
        self.account = account
        for user in account.users.values():
            self.users.setdefault(user["id"], User(user["id"], user["name"], user["email"]))
        for schedule in account.v3_schedules.values():
            rotations = {r["id"] for r in schedule.get("rotations", [])}
            self.schedule_overrides.schedules.setdefault(schedule["id"], rotations)

    # ------------------------------------------------------------------ setup

    def _new_id(self, prefix: str) -> str:
        return f"P{prefix}{next(self._ids):05d}"

    def add_service(self, service: ServiceConfig) -> ServiceConfig:
        with self._lock:
            for key in service.routing_keys:
                if len(key) != ROUTING_KEY_LENGTH:
                    raise ValueError(
                        f"service {service.id!r}: routing key {key!r} has {len(key)} "
                        f"characters; PagerDuty routing keys have {ROUTING_KEY_LENGTH}"
                    )
                owner = self.service_for_routing_key(key)
                if owner and owner.id != service.id:
                    raise ValueError(f"routing key already belongs to service {owner.id!r}")
            if not 0 <= service.num_loops <= 9:
                raise ValueError(f"service {service.id!r}: num_loops must be 0..9")
            for tier in service.tiers:
                if tier.delay_minutes < 1:
                    raise ValueError(
                        f"service {service.id!r}: escalation delay {tier.delay_minutes} min "
                        "is below PagerDuty's minimum of 1 minute"
                    )
                for target in tier.targets:
                    self.user_for(target)
            for team_id in service.team_ids:
                self.teams.setdefault(team_id, Team(team_id, team_id))
            self.services[service.id] = service
            return service

    def user_for(self, who: str) -> User:
        """Find a user by id, email or name; unknown names become new users."""
        with self._lock:
            for user in self.users.values():
                if who in (user.id, user.email, user.name):
                    return user
            if "@" in who:
                name, email = who.split("@", 1)[0], who
            else:
                name, email = who, re.sub(r"[^a-z0-9]+", ".", who.lower()).strip(".")
                email += "@example.com"
            user = User(id=self._new_id("U"), name=name, email=email)
            self.users[user.id] = user
            return user

    def service_for_routing_key(self, key: str) -> ServiceConfig | None:
        for service in self.services.values():
            if key in service.routing_keys:
                return service
        return None

    def inject_fault(self, api: str, plan: FaultPlan) -> None:
        """Make the next ``plan.count`` requests to ``api`` ("events" or "rest") fail."""
        if api not in self._faults:
            raise ValueError(f"api must be 'events' or 'rest', got {api!r}")
        with self._lock:
            self._faults[api].append(plan)

    def take_fault(self, api: str) -> FaultPlan | None:
        with self._lock:
            plans = self._faults[api]
            while plans and plans[0].count <= 0:
                plans.pop(0)
            if not plans:
                return None
            plan = plans[0]
            if plan.after > 0:
                plan.after -= 1
                return None
            plan.count -= 1
            return plan

    def reset(self) -> None:
        """Forget incidents, events and faults; keep services, users and the clock."""
        with self._lock:
            self.incidents.clear()
            self.events.clear()
            self._faults = {"events": [], "rest": []}
            self._rate_windows.clear()

    # ------------------------------------------------------------------ references

    def user_ref(self, user: User, base: str) -> dict[str, Any]:
        return {
            "id": user.id,
            "type": "user_reference",
            "summary": user.name,
            "self": f"{base}/users/{user.id}",
            "html_url": f"{base}/users/{user.id}",
        }

    def service_ref(self, service_id: str, base: str) -> dict[str, Any]:
        service = self.services[service_id]
        return {
            "id": service.id,
            "type": "service_reference",
            "summary": service.name,
            "self": f"{base}/services/{service.id}",
            "html_url": f"{base}/services/{service.id}",
        }

    def team_refs(self, service_id: str, base: str) -> list[dict[str, Any]]:
        return [
            {
                "id": team_id,
                "type": "team_reference",
                "summary": self.teams[team_id].name,
                "self": f"{base}/teams/{team_id}",
                "html_url": f"{base}/teams/{team_id}",
            }
            for team_id in self.services[service_id].team_ids
        ]

    def _policy_ref(self, service_id: str, base: str) -> dict[str, Any]:
        policy_id = f"EP-{service_id}"
        return {
            "id": policy_id,
            "type": "escalation_policy_reference",
            "summary": f"{self.services[service_id].name} escalation",
            "self": f"{base}/escalation_policies/{policy_id}",
            "html_url": f"{base}/escalation_policies/{policy_id}",
        }

    # ------------------------------------------------------------------ incident life

    def _log(
        self,
        incident: Incident,
        kind: str,
        at: datetime,
        summary: str,
        *,
        agent: User | dict[str, Any] | None = None,
        channel: dict[str, Any] | None = None,
        **extra: Any,
    ) -> LogEntry:
        agent_json = {"user_id": agent.id} if isinstance(agent, User) else agent
        entry = LogEntry(
            id=self._new_id("L"),
            type=f"{kind}_log_entry",
            created_at=at,
            incident_id=incident.id,
            summary=summary,
            agent=agent_json,
            channel=channel or {"type": "auto"},
            extra=extra,
        )
        incident.log_entries.append(entry)
        return entry

    def _assign_tier(
        self, incident: Incident, level: int, at: datetime, *, repeat: int = 0
    ) -> None:
        """Assign the incident to a tier's targets and notify each of them."""
        service = self.services[incident.service_id]
        if not service.tiers:
            return
        tier = service.tiers[level - 1]
        users = [self.user_for(target) for target in tier.targets]
        incident.escalation_level = level
        incident.level_entered_at = at
        incident.assignees = [u.id for u in users]
        incident.assigned_at = at
        names = ", ".join(u.name for u in users)
        if repeat:
            self._log(
                incident,
                "escalate",
                at,
                f"Escalation policy repeated ({repeat}); escalated to level 1: {names}.",
                channel={"type": "timeout"},
                assignee_ids=[u.id for u in users],
                escalation_level=1,
            )
        elif level == 1:
            self._log(
                incident,
                "assign",
                at,
                f"Assigned to {names}.",
                assignee_ids=[u.id for u in users],
            )
        else:
            self._log(
                incident,
                "escalate",
                at,
                f"Escalated to level {level}: {names}.",
                channel={"type": "timeout"},
                assignee_ids=[u.id for u in users],
                escalation_level=level,
            )
        for user in users:
            self._log(
                incident,
                "notify",
                at,
                f"Notified {user.name} by SMS.",
                channel={
                    "type": "notification",
                    "notification": {"type": "sms", "status": "success", "address": user.email},
                },
                user_id=user.id,
            )

    def _open_incident(
        self,
        service: ServiceConfig,
        title: str,
        at: datetime,
        incident_key: str,
        *,
        channel: dict[str, Any],
        agent: dict[str, Any] | None,
        auto_escalate: bool,
        urgency: str | None = None,
    ) -> Incident:
        incident = Incident(
            id=self._new_id("I"),
            number=next(self._numbers),
            title=title,
            service_id=service.id,
            created_at=at,
            incident_key=incident_key,
            urgency=urgency or service.urgency,
            level_entered_at=at,
            last_status_change_at=at,
            auto_escalate=auto_escalate,
        )
        self.incidents[incident.id] = incident
        self._log(
            incident,
            "trigger",
            at,
            f"Triggered through the {channel['type'].upper()}.",
            agent=agent,
            channel=channel,
        )
        self._assign_tier(incident, 1, at)
        return incident

    def acknowledge(self, incident: Incident, by: User, at: datetime, channel: str) -> None:
        if incident.status == "resolved":
            raise FakeError(400, "Incident Already Resolved", 2002)
        incident.status = "acknowledged"
        incident.acknowledgements.append((at, by.id))
        incident.last_status_change_at = at
        incident.last_status_change_by = {"user_id": by.id}
        self._log(
            incident, "acknowledge", at, f"Acknowledged by {by.name}.", agent=by,
            channel={"type": channel},
        )  # fmt: skip

    def resolve(self, incident: Incident, at: datetime, *, by: User | None, channel: str) -> None:
        if incident.status == "resolved":
            return
        incident.status = "resolved"
        incident.resolved_at = at
        incident.last_status_change_at = at
        incident.last_status_change_by = {"user_id": by.id} if by else None
        # Like PagerDuty: a resolved incident keeps no acknowledgements or assignments.
        incident.acknowledgements = []
        incident.assignees = []
        who = f" by {by.name}" if by else ""
        self._log(incident, "resolve", at, f"Resolved{who}.", agent=by, channel={"type": channel})

    def reassign(
        self, incident: Incident, to: Sequence[User], at: datetime, by: User | None
    ) -> None:
        incident.assignees = [u.id for u in to]
        incident.assigned_at = at
        if incident.status == "acknowledged":
            # PagerDuty re-triggers a reassigned incident so the new assignee is paged.
            incident.status = "triggered"
            incident.acknowledgements = []
        names = ", ".join(u.name for u in to)
        self._log(
            incident, "assign", at, f"Reassigned to {names}.", agent=by,
            channel={"type": "website"}, assignee_ids=[u.id for u in to],
        )  # fmt: skip
        for user in to:
            self._log(
                incident, "notify", at, f"Notified {user.name} by SMS.",
                channel={"type": "notification",
                         "notification": {"type": "sms", "status": "success",
                                          "address": user.email}},
                user_id=user.id,
            )  # fmt: skip

    def escalate_to(self, incident: Incident, level: int, at: datetime) -> None:
        service = self.services[incident.service_id]
        if not 1 <= level <= max(1, len(service.tiers)):
            raise _invalid(f"Escalation level {level} does not exist for this policy.")
        if service.tiers:
            self._assign_tier(incident, level, at)
        else:
            incident.escalation_level = level
            self._log(
                incident, "escalate", at, f"Escalated to level {level}.",
                channel={"type": "timeout"}, assignee_ids=[], escalation_level=level,
            )  # fmt: skip

    def tick(self) -> None:
        """Escalate every unacknowledged incident whose tier timer has run out.

        Entries carry the exact due time, not the time this ran, so a slow ticker does
        not distort measured escalation times.
        """
        with self._lock:
            now = self.clock.now()
            for incident in self.incidents.values():
                if incident.status != "triggered" or not incident.auto_escalate:
                    continue
                service = self.services[incident.service_id]
                tiers = service.tiers
                while tiers:
                    last = incident.escalation_level >= len(tiers)
                    if last and incident.loops_done >= service.num_loops:
                        break
                    tier = tiers[incident.escalation_level - 1]
                    entered = incident.level_entered_at or incident.created_at
                    due = entered + timedelta(minutes=tier.delay_minutes)
                    if due > now:
                        break
                    if last:
                        # The policy repeats: back to tier 1 (PagerDuty's num_loops).
                        incident.loops_done += 1
                        self._assign_tier(incident, 1, due, repeat=incident.loops_done)
                    else:
                        self._assign_tier(incident, incident.escalation_level + 1, due)

    # ------------------------------------------------------------------ Events API v2

    def enqueue(self, body: Any, raw_size: int) -> tuple[int, dict[str, Any]]:
        """Handle one Events API v2 request; returns (status, JSON body)."""
        with self._lock:
            now = self.clock.now()
            record = ReceivedEvent(
                received_at=now,
                received_at_wall=datetime.now(UTC),
                status_code=0,
                routing_key=body.get("routing_key") if isinstance(body, dict) else None,
                event_action=body.get("event_action") if isinstance(body, dict) else None,
                dedup_key=body.get("dedup_key") if isinstance(body, dict) else None,
                service_id=None,
                incident_id=None,
                body=body,
                errors=[],
            )
            self.events.append(record)
            fault = self.take_fault("events")
            if fault is not None:
                record.status_code = fault.status
                if fault.status == 429:
                    answer = {
                        "status": "throttle event",
                        "message": "Requests for this service are arriving too quickly. "
                        "Please retry later.",
                    }
                else:
                    answer = {"status": "error", "message": "Internal Server Error"}
                return fault.status, answer
            errors = self._validate_event(body, raw_size)
            service = None
            if not errors:
                service = self.service_for_routing_key(body["routing_key"])
                if service is None:
                    errors.append("Invalid routing key")
            if errors or service is None:
                record.status_code = 400
                record.errors = errors
                return 400, {
                    "status": "invalid event",
                    "message": "Event object is invalid",
                    "errors": errors,
                }
            record.service_id = service.id
            action = body["event_action"]
            dedup_key = body.get("dedup_key") or uuid.uuid4().hex
            record.dedup_key = dedup_key
            open_incident = self._open_incident_for(service.id, dedup_key)
            integration = {
                "id": f"INT-{service.id}",
                "type": "generic_events_api_inbound_integration_reference",
                "summary": "Events API v2",
            }
            if action == "trigger":
                if open_incident is not None:
                    open_incident.alert_count += 1
                    record.incident_id = open_incident.id
                else:
                    title = body["payload"]["summary"]
                    created = self._open_incident(
                        service, title, now, dedup_key,
                        channel={"type": "api", "summary": title,
                                 "details": body["payload"].get("custom_details")},
                        agent=integration, auto_escalate=True,
                    )  # fmt: skip
                    record.incident_id = created.id
            elif open_incident is not None:
                record.incident_id = open_incident.id
                if action == "acknowledge" and open_incident.status == "triggered":
                    open_incident.status = "acknowledged"
                    open_incident.last_status_change_at = now
                    self._log(
                        open_incident, "acknowledge", now, "Acknowledged through the API.",
                        agent=integration, channel={"type": "api"},
                    )  # fmt: skip
                elif action == "resolve":
                    self.resolve(open_incident, now, by=None, channel="api")
            record.status_code = 202
            return 202, {"status": "success", "message": "Event processed", "dedup_key": dedup_key}

    def _open_incident_for(self, service_id: str, dedup_key: str) -> Incident | None:
        for incident in self.incidents.values():
            if (
                incident.service_id == service_id
                and incident.incident_key == dedup_key
                and incident.status != "resolved"
            ):
                return incident
        return None

    @staticmethod
    def _validate_event(body: Any, raw_size: int) -> list[str]:
        if raw_size > EVENT_MAX_BYTES:
            return [f"Event object is larger than {EVENT_MAX_BYTES} bytes"]
        if not isinstance(body, dict):
            return ["Event object is not a JSON object"]
        errors: list[str] = []
        key = body.get("routing_key")
        if not isinstance(key, str) or not key:
            errors.append("'routing_key' is missing or blank")
        elif len(key) != ROUTING_KEY_LENGTH:
            errors.append(
                f"Length of 'routing_key' is incorrect (should be {ROUTING_KEY_LENGTH} characters)"
            )
        action = body.get("event_action")
        if action not in EVENT_ACTIONS:
            errors.append("'event_action' is invalid (must be trigger, acknowledge or resolve)")
        dedup_key = body.get("dedup_key")
        if dedup_key is not None and (not isinstance(dedup_key, str) or not dedup_key):
            errors.append("'dedup_key' must be a non-empty string")
        elif isinstance(dedup_key, str) and len(dedup_key) > DEDUP_KEY_MAX:
            errors.append(f"'dedup_key' is too long (maximum is {DEDUP_KEY_MAX} characters)")
        if action in ("acknowledge", "resolve") and not dedup_key:
            errors.append(f"'dedup_key' is required for event_action '{action}'")
        if action == "trigger":
            payload = body.get("payload")
            if not isinstance(payload, dict):
                errors.append("'payload' is missing or not an object")
            else:
                summary = payload.get("summary")
                if not isinstance(summary, str) or not summary:
                    errors.append("'payload.summary' is missing or blank")
                elif len(summary) > SUMMARY_MAX:
                    errors.append(
                        f"'payload.summary' is too long (maximum is {SUMMARY_MAX} characters)"
                    )
                source = payload.get("source")
                if not isinstance(source, str) or not source:
                    errors.append("'payload.source' is missing or blank")
                if payload.get("severity") not in SEVERITIES:
                    errors.append(
                        "'payload.severity' is invalid (must be one of the following: "
                        "'critical', 'warning', 'error' or 'info')"
                    )
                timestamp = payload.get("timestamp")
                if timestamp is not None:
                    try:
                        parse_ts(str(timestamp))
                    except ValueError:
                        errors.append("'payload.timestamp' is not a valid ISO 8601 timestamp")
        return errors

    # ------------------------------------------------------------------ seeding

    def seed_incident(self, spec: dict[str, Any]) -> Incident:
        """Load a crafted incident with exact timestamps.

        ``spec``: ``service_id``, ``title``, ``created_at`` (ISO 8601), optional
        ``incident_key``, ``urgency``, and ``timeline``: a list of steps, each
        ``{"at": ISO, "action": "acknowledge"|"resolve"|"escalate"|"reassign", ...}``
        with ``by`` (user name/email/id) for acknowledge/resolve, ``level`` for
        escalate, ``to`` (list of users) for reassign. Seeded incidents never escalate
        on their own: their history is exactly what the spec says.
        """
        with self._lock:
            service_id = spec["service_id"]
            if service_id not in self.services:
                raise ValueError(f"unknown service {service_id!r}")
            created = parse_ts(spec["created_at"])
            incident = self._open_incident(
                self.services[service_id],
                spec["title"],
                created,
                spec.get("incident_key") or uuid.uuid4().hex,
                channel={"type": "api", "summary": spec["title"]},
                agent=None,
                auto_escalate=False,
                urgency=spec.get("urgency"),
            )
            previous = created
            for step in spec.get("timeline", []):
                at = parse_ts(step["at"])
                if at < previous:
                    raise ValueError(f"timeline of {spec['title']!r} goes back in time at {at}")
                previous = at
                action = step["action"]
                if action == "acknowledge":
                    self.acknowledge(incident, self.user_for(step["by"]), at, "website")
                elif action == "resolve":
                    by = self.user_for(step["by"]) if step.get("by") else None
                    self.resolve(incident, at, by=by, channel="website" if by else "api")
                elif action == "escalate":
                    self.escalate_to(incident, int(step["level"]), at)
                elif action == "reassign":
                    by = self.user_for(step["by"]) if step.get("by") else None
                    self.reassign(incident, [self.user_for(u) for u in step["to"]], at, by)
                else:
                    raise ValueError(f"unknown timeline action {action!r}")
            return incident

    # ------------------------------------------------------------------ JSON views

    def incident_json(self, incident: Incident, base: str) -> dict[str, Any]:
        first = incident.log_entries[0]
        acks = [
            {"at": format_ts(at), "acknowledger": self.user_ref(self.users[uid], base)}
            for at, uid in incident.acknowledgements
        ]
        assignments = [
            {
                "at": format_ts(incident.assigned_at or incident.created_at),
                "assignee": self.user_ref(self.users[uid], base),
            }
            for uid in incident.assignees
        ]
        changed_at = incident.last_status_change_at or incident.created_at
        return {
            "id": incident.id,
            "type": "incident",
            "summary": f"[#{incident.number}] {incident.title}",
            "self": f"{base}/incidents/{incident.id}",
            "html_url": f"{base}/incidents/{incident.id}",
            "incident_number": incident.number,
            "title": incident.title,
            "description": incident.title,
            "created_at": format_ts(incident.created_at),
            "updated_at": format_ts(max(e.created_at for e in incident.log_entries)),
            "status": incident.status,
            "incident_key": incident.incident_key,
            "service": self.service_ref(incident.service_id, base),
            "assignments": assignments,
            "assigned_via": "escalation_policy",
            "acknowledgements": acks,
            "last_status_change_at": format_ts(changed_at),
            "last_status_change_by": self._agent_json(incident.last_status_change_by, base)
            or self.service_ref(incident.service_id, base),
            "resolved_at": format_ts(incident.resolved_at) if incident.resolved_at else None,
            "first_trigger_log_entry": self._entry_ref(first, base),
            "alert_counts": {
                "all": incident.alert_count,
                "triggered": 0 if incident.status == "resolved" else incident.alert_count,
                "resolved": incident.alert_count if incident.status == "resolved" else 0,
            },
            "is_mergeable": True,
            "escalation_policy": self._policy_ref(incident.service_id, base),
            "teams": self.team_refs(incident.service_id, base),
            "pending_actions": [],
            "priority": None,
            "urgency": incident.urgency,
            "resolve_reason": None,
            "incident_type": {"name": "incident_default"},
            "conference_bridge": None,
        }

    def _entry_ref(self, entry: LogEntry, base: str) -> dict[str, Any]:
        return {
            "id": entry.id,
            "type": f"{entry.type}_reference",
            "summary": entry.summary,
            "self": f"{base}/log_entries/{entry.id}",
            "html_url": None,
        }

    def _agent_json(self, agent: dict[str, Any] | None, base: str) -> dict[str, Any] | None:
        if agent is None:
            return None
        if "user_id" in agent:
            return self.user_ref(self.users[agent["user_id"]], base)
        return agent

    def log_entry_json(self, entry: LogEntry, base: str) -> dict[str, Any]:
        incident = self.incidents[entry.incident_id]
        body: dict[str, Any] = {
            "id": entry.id,
            "type": entry.type,
            "summary": entry.summary,
            "self": f"{base}/log_entries/{entry.id}",
            "html_url": None,
            "created_at": format_ts(entry.created_at),
            "agent": self._agent_json(entry.agent, base),
            "channel": entry.channel,
            "service": self.service_ref(incident.service_id, base),
            "incident": {
                "id": incident.id,
                "type": "incident_reference",
                "summary": f"[#{incident.number}] {incident.title}",
                "self": f"{base}/incidents/{incident.id}",
                "html_url": f"{base}/incidents/{incident.id}",
            },
            "teams": self.team_refs(incident.service_id, base),
            "contexts": [],
        }
        if entry.type == "trigger_log_entry":
            body["event_details"] = {"description": incident.title}
        if "assignee_ids" in entry.extra:
            body["assignees"] = [
                self.user_ref(self.users[u], base) for u in entry.extra["assignee_ids"]
            ]
        if "user_id" in entry.extra:
            body["user"] = self.user_ref(self.users[entry.extra["user_id"]], base)
        if "escalation_level" in entry.extra:
            body["escalation_policy"] = self._policy_ref(incident.service_id, base)
        return body

    def service_json(self, service: ServiceConfig, base: str) -> dict[str, Any]:
        open_incidents = [
            i for i in self.incidents.values()
            if i.service_id == service.id and i.status != "resolved"
        ]  # fmt: skip
        if any(i.status == "triggered" for i in open_incidents):
            status = "critical"
        elif open_incidents:
            status = "warning"
        else:
            status = "active"
        last = max((i.created_at for i in self.incidents.values() if i.service_id == service.id),
                   default=None)  # fmt: skip
        return {
            "id": service.id,
            "type": "service",
            "summary": service.name,
            "self": f"{base}/services/{service.id}",
            "html_url": f"{base}/services/{service.id}",
            "name": service.name,
            "description": service.name,
            "status": status,
            "created_at": format_ts(datetime(2024, 1, 1, tzinfo=UTC)),
            "last_incident_timestamp": format_ts(last) if last else None,
            "escalation_policy": self._policy_ref(service.id, base),
            "teams": self.team_refs(service.id, base),
            "integrations": [
                {
                    "id": f"INT-{service.id}",
                    "type": "generic_events_api_inbound_integration_reference",
                    "summary": "Events API v2",
                    "self": f"{base}/services/{service.id}/integrations/INT-{service.id}",
                    "html_url": None,
                }
            ],
            "incident_urgency_rule": {"type": "constant", "urgency": service.urgency},
            "acknowledgement_timeout": None,
            "auto_resolve_timeout": None,
            "alert_creation": "create_alerts_and_incidents",
        }

    # ------------------------------------------------------------------ REST rate limit

    def rate_limit(self, token: str) -> tuple[int, int, bool]:
        """Count one request for ``token``: (remaining, seconds to reset, allowed)."""
        with self._lock:
            now = time.monotonic()
            start, used = self._rate_windows.get(token, (now, 0))
            if now - start >= 60:
                start, used = now, 0
            allowed = used < self.rate_limit_per_minute
            if allowed:
                used += 1
            self._rate_windows[token] = (start, used)
            remaining = max(0, self.rate_limit_per_minute - used)
            reset = max(1, int(60 - (now - start)))
            return remaining, reset, allowed


# --------------------------------------------------------------------------- configuration files


def fake_from_config(data: dict[str, Any], clock: Clock | None = None) -> FakePagerDuty:
    """Build a fake from plain data (the ``--config`` JSON file or ``POST /_fake/services``).

    ``{"services": [{"id", "name", "routing_keys": [...], "team_ids": [...], "urgency",
    "num_loops": 0, "tiers": [{"delay_minutes": 15, "targets": ["Alice"]}]}],
    "users": [{"id", "name", "email"}], "api_tokens": [...], "clock_speed": 1.0}``
    """
    users = [User(u["id"], u["name"], u["email"]) for u in data.get("users", [])]
    tokens = data.get("api_tokens")
    fake = FakePagerDuty(
        users=users,
        api_tokens=tokens,
        clock=clock or Clock(speed=float(data.get("clock_speed", 1.0))),
    )
    for raw in data.get("services", []):
        fake.add_service(service_from_json(raw))
    return fake


def service_from_json(raw: dict[str, Any]) -> ServiceConfig:
    return ServiceConfig(
        id=raw["id"],
        name=raw.get("name", raw["id"]),
        routing_keys=list(raw.get("routing_keys", [])),
        tiers=[
            EscalationTier(float(t["delay_minutes"]), tuple(t["targets"]))
            for t in raw.get("tiers", [])
        ],
        team_ids=list(raw.get("team_ids", [])),
        urgency=raw.get("urgency", "high"),
        num_loops=int(raw.get("num_loops", 0)),
    )


# --------------------------------------------------------------------------- HTTP


def _base_url(request: Request) -> str:
    return str(request.base_url).rstrip("/")


def _list_param(request: Request, name: str) -> list[str]:
    values = request.query_params.getlist(f"{name}[]") + request.query_params.getlist(name)
    return [v for v in values if v]


def _bool_param(request: Request, name: str) -> bool:
    return request.query_params.get(name, "false").lower() == "true"


def _time_window(request: Request, now: datetime) -> tuple[datetime | None, datetime | None]:
    if request.query_params.get("date_range") == "all":
        return None, None
    try:
        # Default "until now" includes what happened this second.
        default_until = now + timedelta(seconds=1)
        params = request.query_params
        until = parse_ts(params["until"]) if "until" in params else default_until
        since = (
            parse_ts(request.query_params["since"])
            if "since" in request.query_params
            else until - DEFAULT_RANGE
        )
    except ValueError as exc:
        raise _invalid(f"Invalid date: {exc}") from None
    if since > until:
        raise _invalid("'since' must be before 'until'.")
    if until - since > MAX_RANGE:
        raise _invalid("Date range may not exceed 6 months.")
    return since, until


def _paginate(request: Request, items: list[Any], wrapper: str) -> dict[str, Any]:
    try:
        offset = int(request.query_params.get("offset", "0"))
        limit = int(request.query_params.get("limit", str(PAGE_LIMIT_DEFAULT)))
    except ValueError:
        raise _invalid("offset and limit must be integers.") from None
    if offset < 0 or limit < 1:
        raise _invalid("offset must be >= 0 and limit >= 1.")
    limit = min(limit, PAGE_LIMIT_MAX)
    if offset + limit > ITERATION_LIMIT:
        raise _invalid(f"Offset plus limit must not exceed {ITERATION_LIMIT}.")
    page = items[offset : offset + limit]
    return {
        wrapper: page,
        "limit": limit,
        "offset": offset,
        "more": offset + len(page) < len(items),
        "total": len(items) if _bool_param(request, "total") else None,
    }


class _RestGuard:
    """Authentication, rate limiting and injected faults around every REST handler."""

    def __init__(self, fake: FakePagerDuty) -> None:
        self.fake = fake

    async def __call__(self, request: Request, handler: Any) -> Response:
        auth = request.headers.get("authorization", "")
        match = re.fullmatch(r"Token token=(\S+)", auth.strip())
        if match is None or (
            self.fake.api_tokens is not None and match.group(1) not in self.fake.api_tokens
        ):
            return JSONResponse(
                {"error": {"message": "Authentication required", "code": 2006}}, status_code=401
            )
        token = match.group(1)
        remaining, reset, allowed = self.fake.rate_limit(token)
        headers = {
            "ratelimit-limit": str(self.fake.rate_limit_per_minute),
            "ratelimit-remaining": str(remaining),
            "ratelimit-reset": str(reset),
            "x-request-id": uuid.uuid4().hex,
        }
        fault = self.fake.take_fault("rest")
        if not allowed or (fault is not None and fault.status == 429):
            wait = fault.retry_after_seconds if fault is not None else reset
            headers["retry-after"] = str(wait)
            headers["ratelimit-remaining"] = "0"
            headers["ratelimit-reset"] = str(wait)
            return JSONResponse(
                {"error": {"message": "Rate Limit Exceeded", "code": 2020}},
                status_code=429,
                headers=headers,
            )
        if fault is not None:
            return JSONResponse(
                {"error": {"message": "Internal Server Error", "code": 5000}},
                status_code=fault.status,
                headers=headers,
            )
        self.fake.tick()
        try:
            body, status = await handler(request)
        except (FakeError, AccountError) as exc:
            return JSONResponse(exc.body(), status_code=exc.status, headers=headers)
        if status == 204:  # No Content (issue 11: override deletes)
            return Response(status_code=204, headers=headers)
        return JSONResponse(body, status_code=status, headers=headers)


def create_app(fake: FakePagerDuty, *, tick_seconds: float = 0.2) -> Starlette:
    """The ASGI app.

    Events API v2: ``POST /v2/enqueue``.
    REST API v2: ``GET /incidents``, ``GET|PUT /incidents/{id}``, ``PUT /incidents``,
    ``GET /incidents/{id}/log_entries``, ``GET /log_entries``, ``GET /log_entries/{id}``,
    ``GET /services``, ``GET /services/{id}``, ``GET /users``, ``GET /users/{id}``.
    Control: ``GET /_fake/events``, ``POST /_fake/faults``, ``GET|POST /_fake/clock``,
    ``POST /_fake/incidents``, ``POST /_fake/services``, ``POST /_fake/tick``,
    ``POST /_fake/reset``. Inbox page: ``GET /``.
    """
    guard = _RestGuard(fake)

    def rest(handler: Any) -> Any:
        async def endpoint(request: Request) -> Response:
            return await guard(request, handler)

        return endpoint

    def get_incident(request: Request) -> Incident:
        incident = fake.incidents.get(request.path_params["id"])
        if incident is None:
            raise FakeError(404, "Not Found", 2100)
        return incident

    def requester(request: Request) -> User:
        email = request.headers.get("from", "").strip()
        if not email:
            raise _invalid('You must specify a user\'s email address in the "From" header.')
        return fake.user_for(email)

    async def list_incidents(request: Request) -> tuple[dict[str, Any], int]:
        since, until = _time_window(request, fake.clock.now())
        statuses = _list_param(request, "statuses")
        bad = [s for s in statuses if s not in ("triggered", "acknowledged", "resolved")]
        if bad:
            raise _invalid("Status must be a list of triggered, acknowledged, or resolved.")
        services = _list_param(request, "service_ids")
        teams = _list_param(request, "team_ids")
        urgencies = _list_param(request, "urgencies")
        key = request.query_params.get("incident_key")
        with fake._lock:
            found = [
                i
                for i in fake.incidents.values()
                if (since is None or i.created_at >= since)
                and (until is None or i.created_at < until)
                and (not statuses or i.status in statuses)
                and (not services or i.service_id in services)
                and (not teams or set(fake.services[i.service_id].team_ids) & set(teams))
                and (not urgencies or i.urgency in urgencies)
                and (key is None or i.incident_key == key)
            ]
            descending = request.query_params.get("sort_by", "created_at:asc").endswith("desc")
            found.sort(key=lambda i: (i.created_at, i.number), reverse=descending)
            base = _base_url(request)
            return _paginate(
                request, [fake.incident_json(i, base) for i in found], "incidents"
            ), 200

    async def show_incident(request: Request) -> tuple[dict[str, Any], int]:
        with fake._lock:
            return {"incident": fake.incident_json(get_incident(request), _base_url(request))}, 200

    def apply_update(incident: Incident, change: dict[str, Any], by: User) -> None:
        now = fake.clock.now()
        status = change.get("status")
        if status == "acknowledged":
            fake.acknowledge(incident, by, now, "website")
        elif status == "resolved":
            fake.resolve(incident, now, by=by, channel="website")
        elif status not in (None, "triggered"):
            raise _invalid(f"Invalid status {status!r}.")
        if "escalation_level" in change:
            fake.escalate_to(incident, int(change["escalation_level"]), now)
        if "assignments" in change:
            users = [fake.user_for(a["assignee"]["id"]) for a in change["assignments"]]
            fake.reassign(incident, users, now, by)

    async def update_incident(request: Request) -> tuple[dict[str, Any], int]:
        by = requester(request)
        body = await request.json()
        change = body.get("incident") if isinstance(body, dict) else None
        if not isinstance(change, dict):
            raise _invalid("Request body must have an 'incident' object.")
        with fake._lock:
            incident = get_incident(request)
            apply_update(incident, change, by)
            return {"incident": fake.incident_json(incident, _base_url(request))}, 200

    async def update_incidents(request: Request) -> tuple[dict[str, Any], int]:
        by = requester(request)
        body = await request.json()
        changes = body.get("incidents") if isinstance(body, dict) else None
        if not isinstance(changes, list):
            raise _invalid("Request body must have an 'incidents' list.")
        with fake._lock:
            updated = []
            for change in changes:
                incident = fake.incidents.get(str(change.get("id")))
                if incident is None:
                    raise FakeError(404, "Not Found", 2100)
                apply_update(incident, change, by)
                updated.append(fake.incident_json(incident, _base_url(request)))
            return {"incidents": updated}, 200

    def entries_page(
        request: Request, entries: list[LogEntry], *, whole_history: bool = False
    ) -> dict[str, Any]:
        since, until = _time_window(request, fake.clock.now())
        if whole_history:
            since = until = None
        chosen = [
            e
            for e in entries
            if (since is None or e.created_at >= since) and (until is None or e.created_at < until)
        ]
        if _bool_param(request, "is_overview"):
            chosen = [e for e in chosen if e.type != "notify_log_entry"]
        # PagerDuty lists log entries newest first.
        chosen.sort(key=lambda e: (e.created_at, e.id), reverse=True)
        base = _base_url(request)
        return _paginate(request, [fake.log_entry_json(e, base) for e in chosen], "log_entries")

    async def incident_log_entries(request: Request) -> tuple[dict[str, Any], int]:
        with fake._lock:
            incident = get_incident(request)
            # An incident's own log is complete unless a window is asked for.
            params = request.query_params
            whole = "since" not in params and "until" not in params
            return entries_page(request, list(incident.log_entries), whole_history=whole), 200

    async def all_log_entries(request: Request) -> tuple[dict[str, Any], int]:
        teams = _list_param(request, "team_ids")
        with fake._lock:
            entries = [
                e
                for i in fake.incidents.values()
                if not teams or set(fake.services[i.service_id].team_ids) & set(teams)
                for e in i.log_entries
            ]
            return entries_page(request, entries), 200

    async def show_log_entry(request: Request) -> tuple[dict[str, Any], int]:
        with fake._lock:
            for incident in fake.incidents.values():
                for entry in incident.log_entries:
                    if entry.id == request.path_params["id"]:
                        return {"log_entry": fake.log_entry_json(entry, _base_url(request))}, 200
        raise FakeError(404, "Not Found", 2100)

    async def list_services(request: Request) -> tuple[dict[str, Any], int]:
        teams = _list_param(request, "team_ids")
        query = request.query_params.get("query", "").lower()
        with fake._lock:
            found = [
                s
                for s in fake.services.values()
                if (not teams or set(s.team_ids) & set(teams)) and query in s.name.lower()
            ]
            found.sort(key=lambda s: s.name)
            base = _base_url(request)
            return _paginate(request, [fake.service_json(s, base) for s in found], "services"), 200

    async def show_service(request: Request) -> tuple[dict[str, Any], int]:
        with fake._lock:
            service = fake.services.get(request.path_params["id"])
            if service is None:
                raise FakeError(404, "Not Found", 2100)
            return {"service": fake.service_json(service, _base_url(request))}, 200

    def user_json(user: User, base: str) -> dict[str, Any]:
        return {
            **fake.user_ref(user, base),
            "type": "user",
            "name": user.name,
            "email": user.email,
        }

    async def list_users(request: Request) -> tuple[dict[str, Any], int]:
        with fake._lock:
            users = sorted(fake.users.values(), key=lambda u: u.name)
            base = _base_url(request)
            return _paginate(request, [user_json(u, base) for u in users], "users"), 200

    async def show_user(request: Request) -> tuple[dict[str, Any], int]:
        with fake._lock:
            user = fake.users.get(request.path_params["id"])
            if user is None:
                raise FakeError(404, "Not Found", 2100)
            return {"user": user_json(user, _base_url(request))}, 200

    # -------------------------------------------------------------- Events API

    async def enqueue(request: Request) -> Response:
        raw = await request.body()
        try:
            body = json.loads(raw)
        except ValueError:
            body = None
        status, answer = fake.enqueue(body, len(raw))
        return JSONResponse(answer, status_code=status)

    # -------------------------------------------------------------- control

    async def fake_events(request: Request) -> Response:
        key = request.query_params.get("routing_key")
        with fake._lock:
            events = [e.to_json() for e in fake.events if key is None or e.routing_key == key]
        return JSONResponse({"events": events})

    async def fake_faults(request: Request) -> Response:
        body = await request.json()
        try:
            fake.inject_fault(
                body.get("api", "events"),
                FaultPlan(
                    status=int(body.get("status", 429)),
                    count=int(body.get("count", 1)),
                    after=int(body.get("after", 0)),
                    retry_after_seconds=int(body.get("retry_after", 1)),
                ),
            )
        except ValueError as exc:
            return JSONResponse({"error": str(exc)}, status_code=400)
        return JSONResponse({"ok": True})

    async def fake_clock(request: Request) -> Response:
        if request.method == "POST":
            body = await request.json()
            if "set" in body:
                fake.clock.set(parse_ts(body["set"]))
            if "advance_seconds" in body:
                fake.clock.advance(timedelta(seconds=float(body["advance_seconds"])))
            if "speed" in body:
                fake.clock.set_speed(float(body["speed"]))
            fake.tick()
        return JSONResponse({"now": format_ts(fake.clock.now()), "speed": fake.clock.speed})

    async def fake_incidents(request: Request) -> Response:
        body = await request.json()
        specs = body if isinstance(body, list) else [body]
        try:
            created = [fake.seed_incident(spec) for spec in specs]
        except (KeyError, ValueError) as exc:
            return JSONResponse({"error": f"bad incident spec: {exc}"}, status_code=400)
        return JSONResponse({"incident_ids": [i.id for i in created]})

    async def fake_services(request: Request) -> Response:
        body = await request.json()
        raws = body if isinstance(body, list) else [body]
        try:
            for raw in raws:
                fake.add_service(service_from_json(raw))
        except (KeyError, ValueError) as exc:
            return JSONResponse({"error": f"bad service: {exc}"}, status_code=400)
        return JSONResponse({"service_ids": [r["id"] for r in raws]})

    async def fake_tick(request: Request) -> Response:
        fake.tick()
        return JSONResponse({"now": format_ts(fake.clock.now())})

    async def fake_reset(request: Request) -> Response:
        fake.reset()
        return JSONResponse({"ok": True})

    async def inbox(request: Request) -> Response:
        fake.tick()
        return HTMLResponse(render_inbox(fake))

    # --- issue 11: overrides of shift-based (v3) schedules (sandbox/schedule_overrides.py) ---
    def override_call(action: Any) -> Any:
        async def handler(request: Request) -> tuple[dict[str, Any] | None, int]:
            try:
                return await action(request, _base_url(request))
            except OverrideError as exc:
                return exc.body(), exc.status

        return rest(handler)

    async def create_overrides(request: Request, base: str) -> tuple[dict[str, Any], int]:
        try:
            body = await request.json()
        except ValueError:
            raise OverrideError(400, "the body must be JSON") from None
        created = fake.schedule_overrides.create(request.path_params["id"], body, set(fake.users))
        return {"overrides": [o.to_json(base) for o in created]}, 201

    async def list_overrides(request: Request, base: str) -> tuple[dict[str, Any], int]:
        params = request.query_params
        try:
            since, until = parse_ts(params["since"]), parse_ts(params["until"])
        except (KeyError, ValueError):
            raise OverrideError(400, "since and until are required ISO 8601 date-times") from None
        found = fake.schedule_overrides.list(request.path_params["id"], since, until)
        return _paginate(request, [o.to_json(base) for o in found], "overrides"), 200

    async def show_override(request: Request, base: str) -> tuple[dict[str, Any], int]:
        found = fake.schedule_overrides.get(request.path_params["id"], request.path_params["oid"])
        return {"override": found.to_json(base)}, 200

    async def delete_override(request: Request, base: str) -> tuple[None, int]:
        fake.schedule_overrides.delete(request.path_params["id"], request.path_params["oid"])
        return None, 204

    override_routes = [
        Route("/v3/schedules/{id}/overrides", override_call(create_overrides), methods=["POST"]),
        Route("/v3/schedules/{id}/overrides", override_call(list_overrides), methods=["GET"]),
        Route("/v3/schedules/{id}/overrides/{oid}", override_call(show_override), methods=["GET"]),
        Route(
            "/v3/schedules/{id}/overrides/{oid}",
            override_call(delete_override),
            methods=["DELETE"],
        ),
    ]
    # --- end of issue 11 block ---

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        async def ticker() -> None:
            while True:
                await asyncio.sleep(tick_seconds)
                fake.tick()

        task = asyncio.create_task(ticker())
        try:
            yield
        finally:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    # Issue 13: an account's configuration endpoints come first, so they answer /users and
    # /services when an account is loaded.
    configured = account_routes(fake.account, rest, _paginate) if fake.account else []
    routes = [
        *configured,
        Route("/", inbox),
        Route("/v2/enqueue", enqueue, methods=["POST"]),
        Route("/incidents", rest(list_incidents), methods=["GET"]),
        Route("/incidents", rest(update_incidents), methods=["PUT"]),
        Route("/incidents/{id}", rest(show_incident), methods=["GET"]),
        Route("/incidents/{id}", rest(update_incident), methods=["PUT"]),
        Route("/incidents/{id}/log_entries", rest(incident_log_entries), methods=["GET"]),
        Route("/log_entries", rest(all_log_entries), methods=["GET"]),
        Route("/log_entries/{id}", rest(show_log_entry), methods=["GET"]),
        Route("/services", rest(list_services), methods=["GET"]),
        Route("/services/{id}", rest(show_service), methods=["GET"]),
        Route("/users", rest(list_users), methods=["GET"]),
        Route("/users/{id}", rest(show_user), methods=["GET"]),
        Route("/_fake/events", fake_events, methods=["GET"]),
        Route("/_fake/faults", fake_faults, methods=["POST"]),
        Route("/_fake/clock", fake_clock, methods=["GET", "POST"]),
        Route("/_fake/incidents", fake_incidents, methods=["POST"]),
        Route("/_fake/services", fake_services, methods=["POST"]),
        Route("/_fake/tick", fake_tick, methods=["POST"]),
        Route("/_fake/reset", fake_reset, methods=["POST"]),
        *override_routes,  # issue 11
    ]
    return Starlette(routes=routes, lifespan=lifespan)


def render_inbox(fake: FakePagerDuty) -> str:
    """The inbox page: incidents and received events, newest first, every value escaped."""
    e = html.escape
    with fake._lock:
        incidents = sorted(fake.incidents.values(), key=lambda i: i.created_at, reverse=True)
        incident_rows = "".join(
            "<tr>"
            f"<td>#{i.number}</td><td>{e(i.status)}</td>"
            f"<td>{e(fake.services[i.service_id].name)}</td><td>{e(i.title)}</td>"
            f"<td>{format_ts(i.created_at)}</td><td>{i.escalation_level}</td>"
            f"<td>{e(', '.join(fake.users[u].name for u in i.assignees))}</td>"
            "</tr>"
            for i in incidents[:200]
        )
        event_rows = "".join(
            "<tr>"
            f"<td>{format_ts(ev.received_at)}</td><td>{ev.status_code}</td>"
            f"<td>{e(str(ev.event_action))}</td>"
            f"<td>{e(fake.services[ev.service_id].name if ev.service_id else '-')}</td>"
            f"<td><code>{e(_key_hint(ev.routing_key))}</code></td>"
            f"<td>{e(_summary_of(ev.body))}</td><td>{e('; '.join(ev.errors))}</td>"
            "</tr>"
            for ev in reversed(fake.events[-200:])
        )
        now = format_ts(fake.clock.now())
        speed = "frozen" if fake.clock.speed == 0 else f"{fake.clock.speed:g}x real time"
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta http-equiv="refresh" content="5">
<title>Local PagerDuty inbox</title>
<style>body{{font-family:sans-serif;margin:2em}}table{{border-collapse:collapse}}
td,th{{border:1px solid #999;padding:.2em .5em;text-align:left}}
td:first-child{{white-space:nowrap}}</style></head>
<body><h1>Local PagerDuty inbox</h1>
<p>Clock: {now} ({speed}). Nothing here reaches the real PagerDuty.</p>
<h2>Incidents</h2>
<table><thead><tr><th>#</th><th>Status</th><th>Service</th><th>Title</th><th>Opened</th>
<th>Tier</th><th>Assigned to</th></tr></thead><tbody>{incident_rows}</tbody></table>
<h2>Events received</h2>
<table><thead><tr><th>Received</th><th>HTTP</th><th>Action</th><th>Service</th>
<th>Routing key</th><th>Summary</th><th>Errors</th></tr></thead>
<tbody>{event_rows}</tbody></table>
</body></html>
"""


def _key_hint(key: str | None) -> str:
    """Enough of a routing key to tell services apart without showing all of it."""
    if not key:
        return "-"
    return f"...{key[-6:]}" if len(key) > 6 else key


def _summary_of(body: Any) -> str:
    if isinstance(body, dict) and isinstance(body.get("payload"), dict):
        return str(body["payload"].get("summary", ""))
    return ""


# --------------------------------------------------------------------------- running it


class FakePagerDutyServer(ThreadedServer):
    """Run the fake in a background thread on a free loopback port.

    ``with FakePagerDutyServer(fake) as server: server.url`` — ``url`` serves both the
    Events API (``{url}/v2/enqueue``) and the REST API (``{url}/incidents``).
    """

    def __init__(self, fake: FakePagerDuty | None = None, host: str = "127.0.0.1") -> None:
        self.fake = fake or FakePagerDuty()
        super().__init__(create_app(self.fake), "the local PagerDuty", host)


def main(argv: Sequence[str] | None = None) -> None:
    import uvicorn

    parser = argparse.ArgumentParser(description="Run a local PagerDuty (Events + REST API v2).")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8094)
    parser.add_argument("--config", type=Path, help="JSON file: services, users, api_tokens")
    parser.add_argument("--clock-speed", type=float, help="1 = real time, 60 = a minute a second")
    parser.add_argument(
        "--account", type=Path, help="YAML account to serve (tests/adopt/accounts/*.yaml)"
    )
    args = parser.parse_args(argv)
    data = json.loads(args.config.read_text()) if args.config else {}
    if args.clock_speed is not None:
        data["clock_speed"] = args.clock_speed
    fake = fake_from_config(data)
    if args.account is not None:  # issue 13: an account to import or check for drift
        fake.load_account(account_from_yaml(args.account))
    print(f"local PagerDuty on http://{args.host}:{args.port}/ (inbox at /)", flush=True)
    uvicorn.run(create_app(fake), host=args.host, port=args.port, log_level="warning")


if __name__ == "__main__":
    main()
