"""Overrides of shift-based schedules in the local PagerDuty, shaped like PagerDuty's API.

Shapes from PagerDuty's OpenAPI description (repository PagerDuty/api-schema,
`reference/REST/openapiv3.json`): `POST /v3/schedules/{id}/overrides` takes
`{"overrides": [{"type": "override_shift", "rotation_id", "start_time", "end_time",
"overridden_member": {"type": "user_member", "user_id"}, "overriding_member": {...}}]}` and
answers 201 `{"overrides": [OverrideShift]}`; `GET /v3/schedules/{id}/overrides` needs `since`
and `until` and answers `{"overrides", "limit", "offset", "more"}`; `GET .../{override_id}`
answers `{"override": ...}`; `DELETE .../{override_id}` answers 204. The schedule itself is
not modelled: tests register a schedule id with its rotation ids.

Pure state (no HTTP): `sandbox/pagerduty.py` mounts the routes.
"""

from __future__ import annotations

import itertools
import threading
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from learning.incidents import parse_time

MEMBER_TYPES = ("user_member", "empty_member")


class OverrideError(Exception):
    def __init__(self, status: int, *errors: str) -> None:
        super().__init__("; ".join(errors))
        self.status = status
        self.errors = list(errors)

    def body(self) -> dict[str, Any]:
        message = "Not Found" if self.status == 404 else "Invalid Input Provided"
        return {"error": {"message": message, "code": 2100 if self.status == 404 else 2001,
                          "errors": self.errors}}  # fmt: skip


@dataclass
class StoredOverride:
    id: str
    schedule_id: str
    rotation_id: str
    start: datetime
    end: datetime
    overridden: dict[str, Any]
    overriding: dict[str, Any]

    def to_json(self, base: str) -> dict[str, Any]:
        return {
            "id": self.id,
            "type": "override_shift",
            "rotation_id": self.rotation_id,
            "start_time": _z(self.start),
            "end_time": _z(self.end),
            "overridden_member": self.overridden,
            "overriding_member": self.overriding,
            "self": f"{base}/v3/schedules/{self.schedule_id}/overrides/{self.id}",
        }


def _z(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


@dataclass
class ScheduleOverrides:
    """Schedules (id -> rotation ids) and their overrides; thread-safe."""

    schedules: dict[str, set[str]] = field(default_factory=dict)
    overrides: dict[str, StoredOverride] = field(default_factory=dict)
    _ids: itertools.count[int] = field(default_factory=lambda: itertools.count(1))
    _lock: threading.RLock = field(default_factory=threading.RLock)

    def add_schedule(self, schedule_id: str, rotation_ids: list[str]) -> None:
        with self._lock:
            self.schedules[schedule_id] = set(rotation_ids)

    def _schedule(self, schedule_id: str) -> set[str]:
        if schedule_id not in self.schedules:
            raise OverrideError(404, f"schedule {schedule_id} not found")
        return self.schedules[schedule_id]

    def create(self, schedule_id: str, body: Any, known_users: set[str]) -> list[StoredOverride]:
        rotations = self._schedule(schedule_id)
        items = body.get("overrides") if isinstance(body, dict) else None
        if not isinstance(items, list) or not items:
            raise OverrideError(400, "overrides must be a non-empty array")
        errors: list[str] = []
        parsed = []
        for index, item in enumerate(items):
            where = f"overrides[{index}]"
            if not isinstance(item, dict):
                errors.append(f"{where} must be an object")
                continue
            if item.get("type") != "override_shift":
                errors.append(f"{where}.type must be override_shift")
            if ("rotation_id" in item) == ("custom_shift_id" in item):
                errors.append(f"{where} needs exactly one of rotation_id or custom_shift_id")
            elif "rotation_id" in item and item["rotation_id"] not in rotations:
                errors.append(f"{where}.rotation_id {item['rotation_id']} is not in the schedule")
            for role in ("overridden_member", "overriding_member"):
                member = item.get(role)
                if not isinstance(member, dict) or member.get("type") not in MEMBER_TYPES:
                    errors.append(f"{where}.{role} must be a user_member or empty_member")
                elif member["type"] == "user_member" and member.get("user_id") not in known_users:
                    errors.append(f"{where}.{role}.user_id must be a user of the account")
            try:
                start, end = parse_time(item["start_time"]), parse_time(item["end_time"])
            except (KeyError, TypeError, ValueError):
                errors.append(f"{where} needs start_time and end_time as ISO 8601 date-times")
                continue
            if end <= start:
                errors.append(f"{where}.end_time must be after start_time")
            parsed.append((item, start, end))
        if errors:
            raise OverrideError(400, *errors)
        with self._lock:
            created = []
            for item, start, end in parsed:
                stored = StoredOverride(
                    f"POVR{next(self._ids):05d}", schedule_id, item.get("rotation_id", ""),
                    start, end, item["overridden_member"], item["overriding_member"],
                )  # fmt: skip
                self.overrides[stored.id] = stored
                created.append(stored)
            return created

    def list(self, schedule_id: str, since: datetime, until: datetime) -> list[StoredOverride]:
        self._schedule(schedule_id)
        with self._lock:
            return sorted(
                (
                    o
                    for o in self.overrides.values()
                    if o.schedule_id == schedule_id and o.start < until and o.end > since
                ),
                key=lambda o: (o.start, o.id),
            )

    def get(self, schedule_id: str, override_id: str) -> StoredOverride:
        self._schedule(schedule_id)
        found = self.overrides.get(override_id)
        if found is None or found.schedule_id != schedule_id:
            raise OverrideError(404, f"override {override_id} not found")
        return found

    def delete(self, schedule_id: str, override_id: str) -> None:
        self.get(schedule_id, override_id)
        with self._lock:
            del self.overrides[override_id]
