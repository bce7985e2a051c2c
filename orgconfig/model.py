"""The typed model of an organisation's incident response, as people edit it in Git.

Cross references (a tier naming a schedule, a service naming a policy) are checked in the
same validation pass as everything else: `load_config` collects every id first and hands
them to pydantic as validation context, so every problem of a file is reported at once.
"""

from __future__ import annotations

import itertools
from collections import Counter
from datetime import date, timedelta
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    ValidationInfo,
    field_validator,
    model_validator,
)

from orgconfig.alerting import AlertingSettings, ServiceAlerts, Workload, alerting_problems
from orgconfig.statuspage import StatusPageSettings
from orgconfig.units import Duration, TimeOfDay, TimeZone, format_duration

ID_PATTERN = r"^[a-z][a-z0-9]*(-[a-z0-9]+)*$"
ID_HELP = (
    "lower-case letters, digits and single dashes, starting with a letter (e.g. platform-primary)"
)

Id = Annotated[
    str,
    Field(pattern=ID_PATTERN, max_length=63, description=f"An id: {ID_HELP}"),
]

# Text limits from PagerDuty's OpenAPI description (PagerDuty/api-schema,
# reference/REST/openapiv3.json, 2026-08): User name/email/job_title 100, Team name 100 and
# description 1024, (v3) Schedule name 255 and description 1024. Services and escalation
# policies document none: they get the schedule's limits, the loosest documented ones.
NAME_MAX = 255
DESCRIPTION_MAX = 1024
PERSON_FIELD_MAX = 100
TEAM_NAME_MAX = 100

Name = Annotated[str, Field(min_length=1, max_length=NAME_MAX)]
Description = Annotated[str, Field(max_length=DESCRIPTION_MAX)]

# Limits PagerDuty enforces server-side (mocks and `pulumi preview` don't): we check them here.
MIN_TURN = timedelta(hours=1)
MAX_TURN = timedelta(days=365)
MAX_TARGETS_PER_TIER = 10
MIN_ESCALATION_DELAY = timedelta(minutes=1)
TIMEOUT_LIMITS = {
    "acknowledgement_timeout": (timedelta(minutes=1), timedelta(hours=24)),
    "auto_resolve_timeout": (timedelta(minutes=1), timedelta(days=7)),
}
DAYS_OF_WEEK = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


def _ref(kind: str) -> Any:
    """A field that must name an existing `kind` id (checked against the validation context)."""

    def check(value: str, info: ValidationInfo) -> str:
        known = (info.context or {}).get("ids", {}).get(kind)
        if known is not None and value not in known:
            choices = ", ".join(sorted(known)) or "none are defined"
            what = kind.replace("_", " ")
            raise ValueError(f"{value!r} is not a known {what} id (known: {choices})")
        return value

    return AfterValidator(check)


PersonRef = Annotated[str, _ref("person")]
TeamRef = Annotated[str, _ref("team")]
ScheduleRef = Annotated[str, _ref("schedule")]
PolicyRef = Annotated[str, _ref("escalation_policy")]
ComponentRef = Annotated[str, _ref("status_page_component")]


def _unique_ids(items: list[Any], what: str) -> list[Any]:
    duplicates = sorted(i for i, n in Counter(item.id for item in items).items() if n > 1)
    if duplicates:
        raise ValueError(f"duplicate {what} id(s): {', '.join(duplicates)}; ids must be unique")
    return items


class Org(Strict):
    id: Id | None = Field(
        None,
        description="Stable id of the organisation; names the Pulumi root component, so the "
        "display name can change without replacing anything. Defaults to the name in lower "
        "case (what stacks created before `id` existed use).",
    )
    name: str = Field(
        min_length=1, max_length=NAME_MAX, description="Organisation name, shown on pages and docs."
    )
    time_zone: TimeZone = Field("UTC", description="Default time zone for schedules.")

    @property
    def resource_name(self) -> str:
        """The root component's Pulumi name (part of every URN's parent chain contract)."""
        return self.id or self.name.lower()

    @property
    def resource_aliases(self) -> list[str]:
        """Earlier root names to alias: the name-derived one, once an `id` replaces it."""
        legacy = self.name.lower()
        return [legacy] if self.id and legacy != self.id else []


class Person(Strict):
    """Someone who can be paged. Users come from SSO: they are looked up, never created."""

    id: Id
    name: str = Field(min_length=1, max_length=PERSON_FIELD_MAX)
    email: str = Field(
        max_length=PERSON_FIELD_MAX,
        pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$",
        description="Exactly as in PagerDuty (the lookup is exact and case-sensitive).",
    )
    role: str = Field(
        min_length=1, max_length=PERSON_FIELD_MAX, description="Job role, e.g. 'Senior SRE'."
    )


class Membership(Strict):
    person: PersonRef
    role: Literal["manager", "responder", "observer"] = "responder"


class Team(Strict):
    id: Id
    name: str = Field(min_length=1, max_length=TEAM_NAME_MAX)
    description: Description = ""
    members: list[Membership] = Field(default_factory=list)

    @field_validator("members")
    @classmethod
    def _one_membership_per_person(cls, members: list[Membership]) -> list[Membership]:
        twice = sorted(p for p, n in Counter(m.person for m in members).items() if n > 1)
        if twice:
            raise ValueError(f"person listed twice in this team: {', '.join(twice)}")
        return members


class Restriction(Strict):
    """When a layer is on call; outside it the layer has a gap (PagerDuty restriction)."""

    type: Literal["daily", "weekly"]
    start_day: Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"] | None = Field(
        None, description="Weekly restrictions only: the day the window opens."
    )
    start_time: TimeOfDay
    duration: Duration

    @model_validator(mode="after")
    def _fits_its_period(self) -> Restriction:
        limit = timedelta(days=1) if self.type == "daily" else timedelta(days=7)
        if not timedelta(minutes=1) <= self.duration <= limit:
            raise ValueError(
                f"duration {format_duration(self.duration)} must be between 1m and "
                f"{format_duration(limit)} for a {self.type} restriction"
            )
        if self.type == "weekly" and self.start_day is None:
            raise ValueError("a weekly restriction needs start_day (mon..sun)")
        if self.type == "daily" and self.start_day is not None:
            raise ValueError("start_day is only allowed on weekly restrictions")
        return self


class Rotation(Strict):
    participants: list[PersonRef] = Field(
        description="Who takes turns, in rotation order.", min_length=1
    )
    turn: Duration = Field(description="Length of one person's turn, e.g. 1w or 2w.")
    first_handoff: date = Field(description="Date the first participant's first turn starts.")
    handoff_time: TimeOfDay = Field("09:00", description="Local time of day of each handoff.")

    @field_validator("participants", mode="before")
    @classmethod
    def _not_empty(cls, value: Any) -> Any:
        if isinstance(value, list) and not value:
            raise ValueError("a rotation needs at least one participant")
        return value

    @field_validator("turn")
    @classmethod
    def _turn_in_range(cls, turn: timedelta) -> timedelta:
        if not MIN_TURN <= turn <= MAX_TURN:
            raise ValueError(
                f"turn {format_duration(turn)} is outside PagerDuty's limits: "
                "from 1h to 365d (rotation_turn_length_seconds 3600..31536000)"
            )
        if turn.total_seconds() % 60:
            raise ValueError("turn must be a whole number of minutes")
        return turn


class Schedule(Strict):
    id: Id
    name: Name
    description: Description = ""
    team: TeamRef | None = None
    time_zone: TimeZone | None = Field(None, description="Defaults to org.time_zone.")
    rotation: Rotation
    restrictions: list[Restriction] = Field(default_factory=list)

    @property
    def zone(self) -> str:
        return self.time_zone or "UTC"


class Target(Strict):
    """Exactly one of `schedule` or `person`."""

    schedule: ScheduleRef | None = None
    person: PersonRef | None = None

    @model_validator(mode="after")
    def _exactly_one(self) -> Target:
        if (self.schedule is None) == (self.person is None):
            raise ValueError("a target names exactly one of `schedule` or `person`")
        return self

    @property
    def kind(self) -> Literal["schedule", "person"]:
        return "schedule" if self.schedule else "person"

    @property
    def ref(self) -> str:
        return self.schedule or self.person or ""


class Tier(Strict):
    after: Duration = Field(description="Time since the incident was triggered.")
    targets: list[Target] = Field(min_length=1)

    @field_validator("targets")
    @classmethod
    def _at_most_ten(cls, targets: list[Target]) -> list[Target]:
        if len(targets) > MAX_TARGETS_PER_TIER:
            raise ValueError(
                f"{len(targets)} targets; PagerDuty allows at most {MAX_TARGETS_PER_TIER} per tier"
            )
        return targets


class EscalationPolicy(Strict):
    id: Id
    name: Name
    description: Description = ""
    team: TeamRef | None = None
    repeat: int = Field(
        0, description="How many times the whole ladder repeats (PagerDuty num_loops, 0..9)."
    )
    loop_after: Duration = Field(
        timedelta(minutes=30),
        description="Time the last tier has before the policy repeats (or the incident "
        "stays with the last tier when repeat is 0).",
    )
    tiers: list[Tier] = Field(min_length=1)

    @field_validator("repeat")
    @classmethod
    def _repeat_range(cls, repeat: int) -> int:
        if not 0 <= repeat <= 9:
            raise ValueError(f"repeat {repeat} is outside PagerDuty's num_loops range 0..9")
        return repeat

    @field_validator("loop_after")
    @classmethod
    def _loop_after_min(cls, value: timedelta) -> timedelta:
        if value < MIN_ESCALATION_DELAY or value.total_seconds() % 60:
            raise ValueError("loop_after must be a whole number of minutes, at least 1m")
        return value

    @field_validator("tiers")
    @classmethod
    def _ladder_is_increasing(cls, tiers: list[Tier]) -> list[Tier]:
        problems = []
        if tiers and tiers[0].after != timedelta(0):
            problems.append(
                f"the first tier must be paged at once (after: 0m), not after "
                f"{format_duration(tiers[0].after)}"
            )
        for index, (before, tier) in enumerate(itertools.pairwise(tiers), start=1):
            gap = tier.after - before.after
            if gap <= timedelta(0):
                problems.append(
                    f"tier {index + 1} (after {format_duration(tier.after)}) must come later "
                    f"than tier {index} (after {format_duration(before.after)}): after times "
                    "strictly increase"
                )
            elif gap < MIN_ESCALATION_DELAY or gap.total_seconds() % 60:
                problems.append(
                    f"tier {index + 1} is {format_duration(gap)} after tier {index}; PagerDuty "
                    "needs whole minutes, at least 1m between tiers"
                )
        if problems:
            raise ValueError("; ".join(problems))
        return tiers


class Service(Strict):
    id: Id
    name: Name
    description: Description = ""
    team: TeamRef | None = None
    escalation_policy: PolicyRef
    acknowledgement_timeout: Duration | None = Field(
        None, description="Re-trigger an acknowledged incident after this long; null = never."
    )
    auto_resolve_timeout: Duration | None = Field(
        None, description="Resolve an open incident after this long; null = never."
    )
    urgency: Literal["high", "low"] = "high"
    status_page_component: ComponentRef | None = Field(
        None, description="The status page component this service drives."
    )
    alerts: ServiceAlerts = Field(default_factory=ServiceAlerts)
    workload: Workload = Field(
        default_factory=Workload, description="Where it runs in Kubernetes (CPU/memory/disk)."
    )

    @model_validator(mode="after")
    def _alerting_fits_the_service(self) -> Service:
        problems = alerting_problems(self)
        if problems:
            raise ValueError("; ".join(problems))
        return self

    @field_validator("acknowledgement_timeout", "auto_resolve_timeout")
    @classmethod
    def _timeout_in_range(cls, value: timedelta | None, info: ValidationInfo) -> timedelta | None:
        if value is None:
            return value
        low, high = TIMEOUT_LIMITS[str(info.field_name)]
        if not low <= value <= high or value.total_seconds() % 60:
            raise ValueError(
                f"{format_duration(value)} is not accepted by PagerDuty here: use whole "
                f"minutes from {format_duration(low)} to {format_duration(high)}, or null to "
                "disable"
            )
        return value


class Deployment(Strict):
    protect: bool = Field(
        True, description="Protect resources paging depends on from deletion (Pulumi protect)."
    )


class OrgConfig(Strict):
    """One organisation's on-call, alerting and status page, as declared in Git."""

    org: Org
    people: list[Person] = Field(min_length=1)
    teams: list[Team] = Field(default_factory=list)
    schedules: list[Schedule] = Field(default_factory=list)
    escalation_policies: list[EscalationPolicy] = Field(min_length=1)
    services: list[Service] = Field(min_length=1)
    alerting: AlertingSettings = Field(default_factory=AlertingSettings)
    status_page: StatusPageSettings | None = None
    deployment: Deployment = Deployment()

    @field_validator("people", "teams", "schedules", "escalation_policies", "services")
    @classmethod
    def _ids_unique(cls, items: list[Any], info: ValidationInfo) -> list[Any]:
        singular = {"people": "person", "escalation_policies": "escalation policy"}
        name = str(info.field_name)
        return _unique_ids(items, singular.get(name, name.rstrip("s")))

    @field_validator("services")
    @classmethod
    def _page_test_service_exists(cls, services: list[Service], info: ValidationInfo) -> list[Any]:
        # The stack's daily page test pages this service (stack setting pageTestService): a
        # missing one would only fail deep inside the Kubernetes render.
        wanted = (info.context or {}).get("page_test_service")
        if wanted and wanted not in {s.id for s in services}:
            raise ValueError(
                f"no service {wanted!r}: the stack's daily page test pages it (stack setting "
                f"incident-response:pageTestService = {wanted!r}); add a service with id "
                f"{wanted!r} (see the example org) or point pageTestService at an existing "
                "service in Pulumi.<stack>.yaml"
            )
        return services

    @model_validator(mode="after")
    def _schedule_time_zones_default_to_org(self) -> OrgConfig:
        for schedule in self.schedules:
            if schedule.time_zone is None:
                object.__setattr__(schedule, "time_zone", self.org.time_zone)
        return self

    def person(self, person_id: str) -> Person:
        return next(p for p in self.people if p.id == person_id)

    def schedule(self, schedule_id: str) -> Schedule:
        return next(s for s in self.schedules if s.id == schedule_id)

    def policy(self, policy_id: str) -> EscalationPolicy:
        return next(p for p in self.escalation_policies if p.id == policy_id)

    def service(self, service_id: str) -> Service:
        return next(s for s in self.services if s.id == service_id)
