"""The incident and maintenance state machines, as pure functions.

Each takes the old state and an event and returns a `Change`: the new state, the update to
publish (if any) and the effects (what happened, for notifications). The store only loads,
calls one of these and saves, in one transaction, so the rules are the same on SQLite and
PostgreSQL and are tested without a database (tests/statuspage/test_statuspage_transitions.py).

Decisions (issue 12):
- Reopening: an active status (investigating, identified, monitoring) posted to a resolved
  incident reopens it: `resolved_at` is cleared and it is listed as unresolved again.
- A resolve of a resolved incident (or a completion of a completed maintenance) changes
  nothing and adds no update, so retries are harmless.
- Maintenance follows its window by the clock (scheduled -> in_progress at `scheduled_for`,
  -> completed at `scheduled_until`) until a person moves it; after that the person's status
  holds, and the clock only acts on window edges that come after the person's move.
- A draft (unpublished) incident has no effects: nobody is told until it is published.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Literal

from statuspage.state import Impact, Incident, IncidentUpdate, clock_status

EffectKind = Literal[
    "incident_created",
    "incident_updated",
    "incident_resolved",
    "maintenance_scheduled",
    "maintenance_updated",
    "maintenance_started",
    "maintenance_ended",
]
RESOLVED_STATUSES = ("resolved", "postmortem")
ACTIVE_STATUSES = ("investigating", "identified", "monitoring")
RESOLVED_BODY = "This incident has been resolved."
# Posted when the clock moves a maintenance (wording after Atlassian Statuspage's defaults).
CLOCK_BODIES = {
    "in_progress": "Scheduled maintenance is currently in progress. We will provide updates as "
    "necessary.",
    "completed": "The scheduled maintenance has been completed.",
}


class Conflict(ValueError):
    """The event does not apply to the current state; the message says why (HTTP 409)."""


@dataclass(frozen=True)
class Effect:
    kind: EffectKind
    incident_id: str
    update_id: str | None  # the update that carries the news


@dataclass(frozen=True)
class Change:
    incident: Incident  # the state after the event
    update: IncidentUpdate | None = None  # to append to the timeline
    effects: tuple[Effect, ...] = ()
    created: bool = False  # a new record rather than a change of a stored one


def _effects(
    inc: Incident, update: IncidentUpdate | None, *kinds: EffectKind
) -> tuple[Effect, ...]:
    if not inc.published:
        return ()
    return tuple(Effect(kind, inc.id, update.id if update else None) for kind in kinds)


def _update(
    inc: Incident,
    update_id: str,
    status: str,
    body: str,
    at: datetime,
    affected: list[dict[str, str]],
) -> IncidentUpdate:
    return IncidentUpdate(update_id, inc.id, status, body, at, affected)


# ---- incidents ---------------------------------------------------------------------------


def open_incident(
    *,
    incident_id: str,
    update_id: str,
    name: str,
    status: str,
    body: str,
    impact: Impact,
    components: list[str],
    now: datetime,
    automated: bool,
    affected: list[dict[str, str]],
    started_at: datetime | None = None,
    published: bool = True,
) -> Change:
    resolved = status in RESOLVED_STATUSES
    inc = Incident(
        id=incident_id,
        kind="incident",
        name=name,
        status=status,
        impact=impact,
        components=components,
        automated=automated,
        created_at=now,
        updated_at=now,
        monitoring_at=now if status == "monitoring" else None,
        resolved_at=now if resolved else None,
        scheduled_for=None,
        scheduled_until=None,
        updates=[],
        started_at=min(started_at or now, now),
        published=published,
    )
    update = _update(inc, update_id, status, body, now, affected)
    kinds: tuple[EffectKind, ...] = ("incident_created",)
    if resolved:
        kinds += ("incident_resolved",)
    return Change(inc, update, _effects(inc, update, *kinds), created=True)


def post_update(
    inc: Incident,
    *,
    status: str,
    body: str,
    now: datetime,
    update_id: str,
    affected: list[dict[str, str]],
    by_person: bool,
) -> Change:
    """A status update; a person's update takes the incident over from automation."""
    automated = False if by_person else inc.automated
    if status == "resolved" and not inc.is_open:
        return Change(inc)  # already resolved: a retry, not news
    reopening = not inc.is_open and status in ACTIVE_STATUSES
    resolving = inc.is_open and status in RESOLVED_STATUSES
    new = replace(
        inc,
        status=status,
        updated_at=now,
        automated=automated,
        monitoring_at=inc.monitoring_at or (now if status == "monitoring" else None),
        resolved_at=None if reopening else (now if resolving else inc.resolved_at),
    )
    update = _update(new, update_id, status, body, now, affected)
    kind: EffectKind = "incident_resolved" if resolving else "incident_updated"
    return Change(new, update, _effects(new, update, kind))


def resolve_automated(
    inc: Incident, *, now: datetime, update_id: str, affected: list[dict[str, str]]
) -> Change:
    """Every alert behind an automated incident has resolved."""
    return post_update(
        inc,
        status="resolved",
        body=RESOLVED_BODY,
        now=now,
        update_id=update_id,
        affected=affected,
        by_person=False,
    )


def hand_back(inc: Incident, now: datetime) -> Change:
    if not inc.is_open:
        raise Conflict(f"incident {inc.id!r} is resolved; there is nothing to hand back")
    return Change(replace(inc, automated=True, updated_at=now))


def publish(inc: Incident, now: datetime) -> Change:
    """A draft goes public; publishing a public incident again changes nothing."""
    if inc.published:
        return Change(inc)
    new = replace(inc, published=True, updated_at=now)
    kinds: tuple[EffectKind, ...] = ("incident_created",)
    if not new.is_open:
        kinds += ("incident_resolved",)
    return Change(new, None, _effects(new, None, *kinds))


# ---- maintenance -------------------------------------------------------------------------


def schedule_maintenance(
    *,
    maintenance_id: str,
    update_id: str,
    name: str,
    body: str,
    scheduled_for: datetime,
    scheduled_until: datetime,
    components: list[str],
    now: datetime,
    affected: list[dict[str, str]],
) -> Change:
    m = Incident(
        id=maintenance_id,
        kind="maintenance",
        name=name,
        status="scheduled",
        impact="none",
        components=components,
        automated=True,  # the clock drives it until a person moves it
        created_at=now,
        updated_at=now,
        monitoring_at=None,
        resolved_at=None,
        scheduled_for=scheduled_for,
        scheduled_until=scheduled_until,
        updates=[],
        started_at=scheduled_for,
        published=True,
    )
    update = _update(m, update_id, "scheduled", body, now, affected)
    return Change(m, update, _effects(m, update, "maintenance_scheduled"), created=True)


def advance_maintenance(
    m: Incident, *, now: datetime, update_id: str, affected: list[dict[str, str]]
) -> Change:
    """Persist what the clock did: one automatic update per window edge passed."""
    target = clock_status(m, now)
    if target is None:
        return Change(m)
    edge = m.scheduled_until if target == "completed" else m.scheduled_for
    # Dated when the edge passed (the leader may notice late), but never before the last
    # update, so the timeline stays in order (a window scheduled after it began); a
    # microsecond later than that update, as the timeline sorts by time.
    at = max(edge or now, m.updated_at + timedelta(microseconds=1))
    new = replace(
        m,
        status=target,
        updated_at=at,
        resolved_at=at if target == "completed" else m.resolved_at,
    )
    update = _update(new, update_id, target, CLOCK_BODIES[target], at, affected)
    kind: EffectKind = "maintenance_ended" if target == "completed" else "maintenance_started"
    return Change(new, update, _effects(new, update, kind))


def move_maintenance(
    m: Incident,
    *,
    status: str,
    body: str,
    now: datetime,
    update_id: str,
    affected: list[dict[str, str]],
) -> Change:
    """A person's update of a maintenance: honoured whatever the clock says."""
    if status == "completed" and m.status == "completed":
        return Change(m)
    before = m.status_at(now)
    new = replace(
        m,
        status=status,
        updated_at=now,
        automated=False,
        resolved_at=(m.resolved_at or now) if status == "completed" else None,
    )
    update = _update(new, update_id, status, body, now, affected)
    kind: EffectKind = "maintenance_updated"
    if status == "completed":
        kind = "maintenance_ended"
    elif status == "in_progress" and before == "scheduled":
        kind = "maintenance_started"
    return Change(new, update, _effects(new, update, kind))


# ---- alerts ------------------------------------------------------------------------------

AlertStep = Literal["insert", "new_episode", "resolve", "resend", "stale"]


def alert_step(
    stored: tuple[datetime, bool] | None, starts_at: datetime, firing: bool
) -> AlertStep:
    """What one alert of a notification does, given the stored (startsAt, firing) of its
    fingerprint. Alertmanager keeps an alert's `startsAt` across resends and gives a new
    firing episode a newer one; deliveries may repeat and arrive out of order. So an older
    `startsAt` is stale, the same one only moves firing -> resolved (a firing that arrives
    after its resolve is a replay), and a newer one starts over."""
    if stored is None:
        return "insert"
    stored_starts_at, stored_firing = stored
    if starts_at > stored_starts_at:
        return "new_episode"
    if starts_at == stored_starts_at and stored_firing:
        return "resend" if firing else "resolve"
    return "stale"
