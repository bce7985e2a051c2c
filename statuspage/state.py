"""The page's domain: statuses, incidents and maintenance as plain values, and the rules
that combine them. No I/O here."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Literal

ComponentStatus = Literal[
    "operational", "degraded_performance", "partial_outage", "major_outage", "under_maintenance"
]
IncidentStatus = Literal["investigating", "identified", "monitoring", "resolved", "postmortem"]
MaintenanceStatus = Literal["scheduled", "in_progress", "verifying", "completed"]
Impact = Literal["none", "minor", "major", "critical"]

COMPONENT_STATUSES: tuple[ComponentStatus, ...] = (
    "operational",
    "degraded_performance",
    "partial_outage",
    "major_outage",
    "under_maintenance",
)
INCIDENT_STATUSES: tuple[IncidentStatus, ...] = (
    "investigating",
    "identified",
    "monitoring",
    "resolved",
    "postmortem",
)
MAINTENANCE_STATUSES: tuple[MaintenanceStatus, ...] = (
    "scheduled",
    "in_progress",
    "verifying",
    "completed",
)
IMPACTS: tuple[Impact, ...] = ("none", "minor", "major", "critical")

_SEVERITY: dict[str, int] = {
    "operational": 0,
    "under_maintenance": 1,
    "degraded_performance": 2,
    "partial_outage": 3,
    "major_outage": 4,
}
STATUS_WORDS: dict[str, str] = {
    "operational": "Operational",
    "degraded_performance": "Degraded performance",
    "partial_outage": "Partial outage",
    "major_outage": "Major outage",
    "under_maintenance": "Under maintenance",
}
# An incident's impact as the component status it stands for, and in words for people.
STATUS_OF_IMPACT: dict[str, ComponentStatus] = {
    "minor": "degraded_performance",
    "major": "partial_outage",
    "critical": "major_outage",
}
IMPACT_WORDS: dict[str, str] = {
    "none": "No impact",
    "minor": "Degraded performance",
    "major": "Partial outage",
    "critical": "Major outage",
    "maintenance": "Maintenance",
}
IMPACT_OF_STATUS: dict[str, Impact] = {
    "operational": "none",
    "under_maintenance": "none",
    "degraded_performance": "minor",
    "partial_outage": "major",
    "major_outage": "critical",
}


def worst(*statuses: str) -> ComponentStatus:
    best: ComponentStatus = "operational"
    for status in statuses:
        if _SEVERITY[status] > _SEVERITY[best]:
            best = status  # type: ignore[assignment]
    return best


def worst_impact(*impacts: Impact) -> Impact:
    return max(impacts, key=IMPACTS.index, default="none")


@dataclass(frozen=True)
class IncidentUpdate:
    id: str
    incident_id: str
    status: str
    body: str
    created_at: datetime
    affected_components: list[dict[str, str]] = field(default_factory=list)


@dataclass(frozen=True)
class Incident:
    id: str
    kind: Literal["incident", "maintenance"]
    name: str
    status: str
    impact: Impact
    components: list[str]
    automated: bool
    created_at: datetime
    updated_at: datetime
    monitoring_at: datetime | None
    resolved_at: datetime | None
    scheduled_for: datetime | None
    scheduled_until: datetime | None
    updates: list[IncidentUpdate]

    started_at: datetime | None = None  # when the trouble began (an alert's startsAt)
    published: bool = True  # False for a draft only responders see

    @property
    def is_open(self) -> bool:
        return self.resolved_at is None

    @property
    def duration(self) -> timedelta | None:
        """From the start of the trouble to its resolution (None while open)."""
        if self.resolved_at is None:
            return None
        return max(self.resolved_at - (self.started_at or self.created_at), timedelta(0))

    def status_at(self, now: datetime) -> str:
        """Maintenance moves through its window by the clock unless a person moved it."""
        return clock_status(self, now) or self.status


def clock_status(m: Incident, now: datetime) -> str | None:
    """The status the clock moves a maintenance to by `now`, or None if it stays."""
    if m.kind != "maintenance" or m.status == "completed":
        return None
    since = None if m.automated else m.updated_at  # a person's move, which the clock respects

    def due(edge: datetime | None) -> bool:
        return edge is not None and edge <= now and (since is None or edge > since)

    if due(m.scheduled_until):
        return "completed"
    if m.status == "scheduled" and due(m.scheduled_for):
        return "in_progress"
    return None


@dataclass(frozen=True)
class ComponentState:
    id: str
    status: ComponentStatus
    automated_status: ComponentStatus
    overridden: bool
    created_at: datetime
    updated_at: datetime


@dataclass(frozen=True)
class UptimeDay:
    day: date
    checks_total: int
    checks_ok: int

    @property
    def fraction(self) -> float | None:
        return self.checks_ok / self.checks_total if self.checks_total else None


@dataclass(frozen=True)
class UptimeTotal:
    """Check results of one component summed over several days: the 90-day summary under
    the bars and the uptime API both count this way."""

    checks_total: int
    checks_ok: int
    days_with_data: int

    @classmethod
    def of(cls, days: Iterable[UptimeDay]) -> UptimeTotal:
        counted = [d for d in days if d.checks_total]
        return cls(
            checks_total=sum(d.checks_total for d in counted),
            checks_ok=sum(d.checks_ok for d in counted),
            days_with_data=len(counted),
        )

    @property
    def fraction(self) -> float | None:
        return self.checks_ok / self.checks_total if self.checks_total else None


@dataclass(frozen=True)
class PageView:
    """Everything the renderers need, read in one go."""

    now: datetime
    updated_at: datetime
    components: dict[str, ComponentState]
    incidents: list[Incident]  # newest first, at most 50
    maintenances: list[Incident]  # newest first
    uptime: dict[str, dict[date, UptimeDay]]

    def unresolved_incidents(self) -> list[Incident]:
        return [i for i in self.incidents if i.is_open]

    def maintenances_with_status(self, *statuses: str) -> list[Incident]:
        return [m for m in self.maintenances if m.status_at(self.now) in statuses]
