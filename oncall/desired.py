"""Desired PagerDuty state as plain data: what the Pulumi components will declare.

Everything PagerDuty-specific that is a decision (units, string-typed timeouts, restriction
encodings, rule delays) happens here, so the components only translate and wire.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, timedelta

from oncall.escalation import rules
from oncall.rotation import (
    OVERRIDE,
    ShiftEvent,
    iso_z,
    layer_turns,
    override_window,
    replaced,
    rotation_events,
    shifts,
)
from orgconfig.model import DAYS_OF_WEEK, OrgConfig, Override, Restriction, Schedule, Service

EVENTS_V2_INTEGRATION = "events_api_v2_inbound_integration"


@dataclass(frozen=True)
class TeamSpec:
    id: str
    name: str
    description: str
    members: tuple[tuple[str, str], ...]  # (person id, role)


@dataclass(frozen=True)
class EventSpec:
    """One event of a `Schedulev2` rotation: the first shift and one RRULE in the zone."""

    name: str
    start_time: str  # first occurrence, UTC `Z`; recurrences are evaluated in the zone
    end_time: str
    effective_since: str
    recurrences: tuple[str, ...]  # exactly one "RRULE:..."
    shifts_per_member: int
    members: tuple[str, ...]  # person ids, in rotation order


@dataclass(frozen=True)
class RotationSpec:
    events: tuple[EventSpec, ...]


@dataclass(frozen=True)
class RestrictionSpec:
    """A legacy layer's restriction as the provider takes it."""

    type: str  # daily_restriction | weekly_restriction
    start_time_of_day: str  # HH:MM:SS
    duration_seconds: int
    start_day_of_week: int | None  # 1 = Monday (weekly only)


@dataclass(frozen=True)
class LayerSpec:
    """One layer of a legacy `Schedule` (kept for lossless adoption, docs/oncall.md)."""

    name: str
    start: str  # the layer's first hand-off, with the zone's offset (PagerDuty's own form)
    rotation_virtual_start: str
    rotation_turn_length_seconds: int
    users: tuple[str, ...]  # person ids, in rotation order
    restrictions: tuple[RestrictionSpec, ...]


@dataclass(frozen=True)
class ScheduleSpec:
    id: str
    name: str
    description: str
    time_zone: str
    team: str | None
    rotations: tuple[RotationSpec, ...]
    # Non-empty: a legacy layered schedule (`pagerduty.Schedule`), bottom layer first.
    layers: tuple[LayerSpec, ...] = ()


@dataclass(frozen=True)
class OverrideShiftSpec:
    """One v3 override shift: in rotation `rotation`, `overriding` replaces `overridden`."""

    rotation: int  # index into the schedule's rotations
    start_time: str  # UTC `Z`
    end_time: str
    overridden: str  # person ids
    overriding: str


@dataclass(frozen=True)
class OverrideSpec:
    """A config override as PagerDuty gets it: one resource, one or more override shifts."""

    name: str  # resource name: stable while the entry is unchanged
    schedule: str
    shifts: tuple[OverrideShiftSpec, ...]
    # A legacy layered schedule takes one v2 override for the whole window (`/schedules/{id}/
    # overrides`, it names nobody it replaces): one shift, overridden == overriding.
    legacy: bool = False


@dataclass(frozen=True)
class RuleSpec:
    delay_minutes: int
    targets: tuple[tuple[str, str], ...]  # ("schedule_reference" | "user_reference", config id)


@dataclass(frozen=True)
class PolicySpec:
    id: str
    name: str
    description: str
    team: str | None
    num_loops: int
    rules: tuple[RuleSpec, ...]


@dataclass(frozen=True)
class ServiceSpec:
    id: str
    name: str
    description: str
    policy: str
    acknowledgement_timeout: str
    auto_resolve_timeout: str
    urgency: str
    integration_name: str = "Alertmanager (Events API v2)"
    integration_type: str = EVENTS_V2_INTEGRATION


@dataclass(frozen=True)
class PagerDutyState:
    people: dict[str, str]  # person id -> email (looked up, never created)
    teams: tuple[TeamSpec, ...]
    schedules: tuple[ScheduleSpec, ...]
    policies: tuple[PolicySpec, ...]
    services: tuple[ServiceSpec, ...]
    protect: bool = field(default=True)
    overrides: tuple[OverrideSpec, ...] = ()


def event_spec(event: ShiftEvent) -> EventSpec:
    start = iso_z(event.utc(event.start))
    return EventSpec(
        name=event.name,
        start_time=start,
        end_time=iso_z(event.utc(event.start + event.length)),
        effective_since=start,
        recurrences=(f"RRULE:{event.rrule}",),
        shifts_per_member=event.shifts_per_member,
        members=event.members,
    )


def _restriction_spec(restriction: Restriction) -> RestrictionSpec:
    weekly = restriction.type == "weekly"
    return RestrictionSpec(
        type=f"{restriction.type}_restriction",
        start_time_of_day=f"{restriction.start_time}:00",
        duration_seconds=int(restriction.duration.total_seconds()),
        start_day_of_week=DAYS_OF_WEEK.index(restriction.start_day or "mon") + 1
        if weekly
        else None,
    )


def layer_specs(schedule: Schedule) -> tuple[LayerSpec, ...]:
    """The legacy layers, bottom first; hand-offs in the zone's local time (with its offset)."""
    out = []
    for index, layer in enumerate(schedule.layers):
        turns = layer_turns(schedule, index)
        start = turns.localize(turns.start).isoformat()
        out.append(
            LayerSpec(
                name=turns.name,
                start=start,
                rotation_virtual_start=start,
                rotation_turn_length_seconds=int(layer.turn.total_seconds()),
                users=turns.members,
                restrictions=tuple(_restriction_spec(r) for r in layer.restrictions),
            )
        )
    return tuple(out)


def schedule_spec(schedule: Schedule) -> ScheduleSpec:
    if schedule.layers:
        return ScheduleSpec(schedule.id, schedule.name, schedule.description, schedule.zone,
                            schedule.team, (), layer_specs(schedule))  # fmt: skip
    events = rotation_events(schedule)
    rotations = tuple(
        RotationSpec(tuple(event_spec(e) for e in events if e.rotation == index))
        for index in range(len(schedule.all_rotations()))
    )
    return ScheduleSpec(
        schedule.id, schedule.name, schedule.description, schedule.zone, schedule.team, rotations
    )


def override_spec(org: OrgConfig, override: Override) -> OverrideSpec:
    """The shifts an override replaces, from the same expansion `oncall show` uses."""
    schedule = org.schedule(override.schedule)
    lo, hi = override_window(override, schedule.zone)
    replaced_shifts = replaced(shifts(schedule, lo, hi), override, schedule.zone)
    starts = f"{lo.astimezone(UTC):%Y%m%dT%H%MZ}".lower()
    if schedule.layers:
        whole = OverrideShiftSpec(OVERRIDE, iso_z(lo), iso_z(hi), override.person, override.person)
        return OverrideSpec(f"{schedule.id}-override-{override.person}-{starts}", schedule.id,
                            (whole,), legacy=True)  # fmt: skip
    return OverrideSpec(
        name=f"{schedule.id}-override-{override.person}-{starts}",
        schedule=schedule.id,
        shifts=tuple(
            OverrideShiftSpec(
                s.rotation, iso_z(s.start), iso_z(s.end), s.person_id, override.person
            )
            for s in replaced_shifts
            if s.person_id != override.person
        ),
    )


def _seconds_or_null(value: timedelta | None) -> str:
    # The provider types these timeouts as strings; "null" disables the feature.
    return "null" if value is None else str(int(value.total_seconds()))


def service_spec(service: Service) -> ServiceSpec:
    return ServiceSpec(
        id=service.id,
        name=service.name,
        description=service.description,
        policy=service.escalation_policy,
        acknowledgement_timeout=_seconds_or_null(service.acknowledgement_timeout),
        auto_resolve_timeout=_seconds_or_null(service.auto_resolve_timeout),
        urgency=service.urgency,
    )


def pagerduty_state(org: OrgConfig) -> PagerDutyState:
    kinds = {"schedule": "schedule_reference", "person": "user_reference"}
    return PagerDutyState(
        people={p.id: p.email for p in org.people},
        teams=tuple(
            TeamSpec(t.id, t.name, t.description, tuple((m.person, m.role) for m in t.members))
            for t in org.teams
        ),
        schedules=tuple(schedule_spec(s) for s in org.schedules),
        policies=tuple(
            PolicySpec(
                id=p.id,
                name=p.name,
                description=p.description,
                team=p.team,
                num_loops=p.repeat,
                rules=tuple(
                    RuleSpec(r.delay_minutes, tuple((kinds[k], ref) for k, ref in r.targets))
                    for r in rules(p)
                ),
            )
            for p in org.escalation_policies
        ),
        services=tuple(service_spec(s) for s in org.services),
        protect=org.deployment.protect,
        overrides=tuple(override_spec(org, o) for o in org.overrides),
    )
