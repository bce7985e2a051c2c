"""An incident's response history, read from PagerDuty's incident and log-entry JSON."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any


def parse_time(text: str) -> datetime:
    """PagerDuty timestamps (``2026-11-02T09:00:00Z`` or with an offset) as UTC."""
    value = text.strip()
    if value.endswith("Z"):
        value = value[:-1] + "+00:00"
    moment = datetime.fromisoformat(value)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC)


@dataclass(frozen=True)
class TimelineEntry:
    at: datetime
    kind: str  # "trigger", "acknowledge", "escalate", "notify", "assign", "resolve", ...
    summary: str
    who: str | None
    channel: str | None


@dataclass(frozen=True)
class IncidentRecord:
    """What the metrics and the postmortem need to know about one incident."""

    id: str
    number: int
    title: str
    status: str  # triggered | acknowledged | resolved
    urgency: str
    service_id: str
    service_name: str
    team_ids: tuple[str, ...]
    triggered_at: datetime
    first_acknowledged_at: datetime | None
    first_acknowledged_by: str | None
    resolved_at: datetime | None
    resolved_by: str | None
    escalation_levels: tuple[int, ...]
    responders: tuple[str, ...]
    timeline: tuple[TimelineEntry, ...]
    html_url: str = ""

    @property
    def time_to_acknowledge(self) -> timedelta | None:
        """Trigger to the FIRST acknowledgement; later re-acknowledgements do not count."""
        if self.first_acknowledged_at is None:
            return None
        return self.first_acknowledged_at - self.triggered_at

    @property
    def time_to_resolve(self) -> timedelta | None:
        if self.status != "resolved" or self.resolved_at is None:
            return None
        return self.resolved_at - self.triggered_at

    @property
    def is_open(self) -> bool:
        return self.status != "resolved"


def _who(entry: Mapping[str, Any]) -> str | None:
    for key in ("agent", "user"):
        ref = entry.get(key)
        if isinstance(ref, Mapping) and ref.get("type") in ("user_reference", "user"):
            return str(ref.get("summary") or ref.get("name") or ref.get("id"))
    return None


def _kind(entry_type: str) -> str:
    return entry_type.removesuffix("_log_entry")


def record_from_api(
    incident: Mapping[str, Any], log_entries: Iterable[Mapping[str, Any]]
) -> IncidentRecord:
    """Build a record from ``GET /incidents/{id}`` and ``GET /incidents/{id}/log_entries``.

    Log entries arrive newest first from PagerDuty; they are sorted here. A resolved
    incident's ``acknowledgements`` list is empty on PagerDuty, so acknowledgement times
    come from the ``acknowledge_log_entry`` entries, falling back to the list only when
    there are no log entries at all.
    """
    # Oldest first; entries of the same second keep their causal order: PagerDuty lists newest
    # first, so the list is reversed before the stable sort, and the trigger leads its second.
    entries = sorted(
        reversed(list(log_entries)),
        key=lambda e: (parse_time(e["created_at"]), e.get("type") != "trigger_log_entry"),
    )
    timeline = tuple(
        TimelineEntry(
            at=parse_time(e["created_at"]),
            kind=_kind(str(e.get("type", ""))),
            summary=str(e.get("summary", "")),
            who=_who(e),
            channel=(e.get("channel") or {}).get("type"),
        )
        for e in entries
    )
    acks = [t for t in timeline if t.kind == "acknowledge"]
    first_ack_at = acks[0].at if acks else None
    first_ack_by = acks[0].who if acks else None
    if not entries and incident.get("acknowledgements"):
        first = min(incident["acknowledgements"], key=lambda a: parse_time(a["at"]))
        first_ack_at = parse_time(first["at"])
        first_ack_by = (first.get("acknowledger") or {}).get("summary")

    status = str(incident.get("status", "triggered"))
    resolves = [t for t in timeline if t.kind == "resolve"]
    resolved_at: datetime | None = None
    if status == "resolved":
        if incident.get("resolved_at"):
            resolved_at = parse_time(incident["resolved_at"])
        elif resolves:
            resolved_at = resolves[-1].at
        else:
            resolved_at = parse_time(incident["last_status_change_at"])
    levels = {1}
    for entry in entries:
        if entry.get("type") == "escalate_log_entry":
            # PagerDuty names the level in the summary ("... escalation level 2 ...").
            found = re.search(r"level (\d+)", str(entry.get("summary", "")), re.IGNORECASE)
            levels.add(int(found.group(1)) if found else max(levels) + 1)
    responders: list[str] = []
    for item in timeline:
        wanted = item.kind in ("acknowledge", "resolve", "notify", "assign")
        if wanted and item.who and item.who not in responders:
            responders.append(item.who)
    for entry in entries:
        for assignee in entry.get("assignees") or []:
            name = str(assignee.get("summary") or assignee.get("id"))
            if name not in responders:
                responders.append(name)
    service = incident.get("service") or {}
    return IncidentRecord(
        id=str(incident["id"]),
        number=int(incident.get("incident_number", 0)),
        title=str(incident.get("title") or incident.get("summary") or incident["id"]),
        status=status,
        urgency=str(incident.get("urgency", "high")),
        service_id=str(service.get("id", "")),
        service_name=str(service.get("summary") or service.get("id", "")),
        team_ids=tuple(str(t.get("id")) for t in incident.get("teams") or []),
        triggered_at=parse_time(incident["created_at"]),
        first_acknowledged_at=first_ack_at,
        first_acknowledged_by=first_ack_by,
        resolved_at=resolved_at,
        resolved_by=resolves[-1].who if resolves and status == "resolved" else None,
        escalation_levels=tuple(sorted(levels)),
        responders=tuple(responders),
        timeline=timeline,
        html_url=str(incident.get("html_url") or ""),
    )
