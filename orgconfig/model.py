"""The typed model of an organisation's incident response, as people edit it in Git.

Cross references (a tier naming a schedule, a service naming a policy) are checked in the
same validation pass as everything else: `load_config` collects every id first and hands
them to pydantic as validation context, so every problem of a file is reported at once.
"""

from __future__ import annotations

import itertools
from collections import Counter
from datetime import date, datetime, timedelta
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    PlainSerializer,
    ValidationInfo,
    WithJsonSchema,
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
ServiceRef = Annotated[str, _ref("service")]
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


def minutes_of_day(time_of_day: str) -> int:
    hours, minutes = (int(x) for x in time_of_day.split(":"))
    return hours * 60 + minutes


DAY, WEEK = 24 * 60, 7 * 24 * 60  # minutes
MAX_MEMBERS = 20  # per rotation (assignment strategy), PagerDuty v3 schedules
MAX_EVENTS = 5  # per rotation, PagerDuty v3 schedules


def _window_opens(restriction: Restriction) -> int:
    """Minute of the week (Monday 00:00 = 0) a restriction window opens; daily: of the day."""
    day = DAYS_OF_WEEK.index(restriction.start_day) if restriction.start_day else 0
    return day * DAY + minutes_of_day(restriction.start_time)


def _windows_overlap(restrictions: list[Restriction]) -> bool:
    """Whether windows of different restrictions overlap anywhere in the (cyclic) week."""
    spans = []
    for number, restriction in enumerate(restrictions):
        opens, length = _window_opens(restriction), int(restriction.duration.total_seconds() // 60)
        starts = [opens + d * DAY for d in range(7)] if restriction.type == "daily" else [opens]
        spans += [(s + w, s + w + length, number) for s in starts for w in (-WEEK, 0, WEEK)]
    spans.sort()
    return any(
        a[2] != b[2] and b[0] < a[1]
        for i, a in enumerate(spans)
        for b in spans[i + 1 :]
        if b[0] < a[1]
    )


MAX_SHIFTS_PER_MEMBER = 1000


def _turn_in_range(turn: timedelta) -> timedelta:
    if not MIN_TURN <= turn <= MAX_TURN:
        raise ValueError(
            f"turn {format_duration(turn)} is outside PagerDuty's limits: "
            "from 1h to 365d (rotation_turn_length_seconds 3600..31536000)"
        )
    if turn.total_seconds() % 60:
        raise ValueError("turn must be a whole number of minutes")
    return turn


class Rotation(Strict):
    """People taking turns: one rotation of a shift-based PagerDuty schedule (docs/oncall.md).

    Without restrictions one shift is one `turn` long; with restrictions every restriction
    window is a shift and a member keeps the windows of one `turn`. `shifts_per_member`
    multiplies both: a member covers that many consecutive turns before the next takes over.
    """

    name: str | None = Field(
        None,
        min_length=1,
        max_length=255,
        description="Shown in PagerDuty; default: schedule name.",
    )
    participants: list[PersonRef] = Field(
        description="Who takes turns, in rotation order.", min_length=1
    )
    turn: Duration = Field(description="Length of one person's turn, e.g. 1w or 2w.")
    first_handoff: date = Field(description="Date the first participant's first turn starts.")
    handoff_time: TimeOfDay = Field("09:00", description="Local time of day of each handoff.")
    restrictions: list[Restriction] = Field(
        default_factory=list, description="When this rotation is on call (default: always)."
    )
    shifts_per_member: int = Field(
        1,
        description="Consecutive turns each participant covers before the next (PagerDuty "
        "shifts_per_member); default 1.",
    )

    @field_validator("participants", mode="before")
    @classmethod
    def _not_empty(cls, value: Any) -> Any:
        if isinstance(value, list) and not value:
            raise ValueError("a rotation needs at least one participant")
        return value

    @field_validator("turn")
    @classmethod
    def _turn_in_range(cls, turn: timedelta) -> timedelta:
        return _turn_in_range(turn)

    @model_validator(mode="after")
    def _fits_a_shift_based_schedule(self) -> Rotation:
        problems = []
        if len(self.participants) > MAX_MEMBERS:
            problems.append(
                f"{len(self.participants)} participants; PagerDuty allows at most {MAX_MEMBERS} "
                "members per rotation"
            )
        if len(self.restrictions) > MAX_EVENTS:
            problems.append(
                f"{len(self.restrictions)} restrictions; each becomes a PagerDuty event and a "
                f"rotation holds at most {MAX_EVENTS}: split it into several rotations"
            )
        handoff = (self.first_handoff.weekday() * DAY) + minutes_of_day(self.handoff_time)
        for restriction in self.restrictions:
            period = DAY if restriction.type == "daily" else WEEK
            if self.turn.total_seconds() % (period * 60):
                problems.append(
                    f"turn {format_duration(self.turn)} is not a whole number of "
                    f"{'days' if period == DAY else 'weeks'}: with a {restriction.type} "
                    "restriction each window is one shift, and a turn must hold whole windows"
                )
            opens = _window_opens(restriction)
            if 0 < (handoff - opens) % period < restriction.duration.total_seconds() // 60:
                problems.append(
                    f"the hand-off at {self.handoff_time} falls inside the restriction window "
                    f"opening {restriction.start_day or 'daily'} {restriction.start_time}: "
                    "shift-based schedules hand over between shifts; move handoff_time to the "
                    "window's start or outside it"
                )
        if _windows_overlap(self.restrictions):
            problems.append(
                "restriction windows overlap; each becomes a PagerDuty event and events in a "
                "rotation may not overlap: merge them or use two rotations"
            )
        if problems:
            raise ValueError("; ".join(problems))
        return self

    @field_validator("shifts_per_member")
    @classmethod
    def _shifts_per_member_range(cls, value: int) -> int:
        if not 1 <= value <= MAX_SHIFTS_PER_MEMBER:
            raise ValueError(
                f"shifts_per_member {value} must be between 1 and {MAX_SHIFTS_PER_MEMBER}"
            )
        return value


class Layer(Strict):
    """One layer of a legacy (layered) PagerDuty schedule, kept as it is for lossless adoption.

    People take back-to-back turns of `turn` from `first_handoff` `handoff_time` (the layer's
    `rotation_virtual_start`, wall-clock time in the schedule's zone); `restrictions` only mask
    when the layer is on call, the turns run on regardless. A later layer takes precedence
    over earlier ones wherever it has someone on call (PagerDuty, "Schedule Basics": with
    several layers, Layer 2 is on call where it overlaps Layer 1). docs/oncall.md.
    """

    name: str | None = Field(
        None, min_length=1, max_length=255, description="Shown in PagerDuty; default Layer N."
    )
    participants: list[PersonRef] = Field(
        description="Who takes turns, in rotation order.", min_length=1
    )
    turn: Duration = Field(description="Length of one person's turn (1h to 365d).")
    first_handoff: date = Field(description="Date a turn of the first participant starts.")
    handoff_time: TimeOfDay = Field("09:00", description="Local time of day of each handoff.")
    restrictions: list[Restriction] = Field(
        default_factory=list, description="When this layer is on call (default: always)."
    )

    @field_validator("turn")
    @classmethod
    def _turn_in_range(cls, turn: timedelta) -> timedelta:
        return _turn_in_range(turn)

    @field_validator("restrictions")
    @classmethod
    def _daily_shorter_than_a_day(cls, restrictions: list[Restriction]) -> list[Restriction]:
        # The provider refuses a daily_restriction of a whole day (terraform-provider-pagerduty
        # `resource_pagerduty_schedule.go`, CustomizeDiff): leave the restriction out instead.
        if any(r.type == "daily" and r.duration >= timedelta(days=1) for r in restrictions):
            raise ValueError("a daily restriction of a layer must be shorter than 1d")
        return restrictions


class Region(Strict):
    """One region of a follow-the-sun schedule: its people and its daily hours."""

    name: str = Field(min_length=1, max_length=255, description="e.g. APAC, EMEA, Americas.")
    participants: list[PersonRef] = Field(min_length=1, description="In rotation order.")
    start_time: TimeOfDay = Field(description="Daily start, in the schedule's time zone.")
    end_time: TimeOfDay = Field(description="Daily end (may be past midnight), same zone.")


class FollowTheSun(Strict):
    """Shorthand for one rotation per region, each on call daily from start_time to end_time.

    Hours are in the schedule's time zone (a PagerDuty schedule has one zone): for regions
    that keep their own local hours across DST, use one schedule per region in the same
    escalation tier instead; coverage judges the tier as a whole.
    """

    first_handoff: date = Field(description="Date the regions' first turns start.")
    turn: Duration = Field(timedelta(weeks=1), description="How long one person keeps a region.")
    regions: list[Region] = Field(min_length=2, max_length=5)

    @model_validator(mode="after")
    def _regions_are_rotations(self) -> FollowTheSun:
        self.rotations()  # raises the rotation's own message if a region cannot be one
        return self

    def rotations(self) -> list[Rotation]:
        out = []
        for region in self.regions:
            start, end = minutes_of_day(region.start_time), minutes_of_day(region.end_time)
            length = (end - start) % (24 * 60) or 24 * 60
            out.append(
                Rotation(
                    name=region.name,
                    participants=region.participants,
                    turn=self.turn,
                    first_handoff=self.first_handoff,
                    handoff_time=region.start_time,
                    restrictions=[
                        Restriction(
                            type="daily",
                            start_time=region.start_time,
                            duration=timedelta(minutes=length),
                        )
                    ],
                )
            )
        return out


class Schedule(Strict):
    id: Id
    name: Name
    description: Description = ""
    team: TeamRef | None = None
    time_zone: TimeZone | None = Field(None, description="Defaults to org.time_zone.")
    rotation: Rotation | None = Field(
        None, description="One rotation (the original form; `rotations` allows several)."
    )
    restrictions: list[Restriction] = Field(
        default_factory=list, description="Restrictions of `rotation` (the original form)."
    )
    rotations: list[Rotation] = Field(
        default_factory=list,
        description="Several rotations, e.g. business hours plus after-hours; whoever any "
        "rotation has on call is on call for the schedule.",
    )
    follow_the_sun: FollowTheSun | None = Field(
        None, description="Shorthand: one daily rotation per region."
    )
    layers: list[Layer] = Field(
        default_factory=list,
        description="A legacy layered schedule, bottom layer first; a later layer takes "
        "precedence where it has someone on call. For adopted schedules (`irctl import`); new "
        "schedules use `rotation`/`rotations`/`follow_the_sun`.",
    )

    @model_validator(mode="after")
    def _has_a_rotation(self) -> Schedule:
        if self.layers:
            if self.rotation or self.rotations or self.follow_the_sun or self.restrictions:
                raise ValueError(
                    "`layers` (a legacy layered schedule) cannot be combined with `rotation`, "
                    "`restrictions`, `rotations` or `follow_the_sun`"
                )
            return self
        if self.rotation is None and not self.rotations and self.follow_the_sun is None:
            raise ValueError(
                "a schedule needs `rotation`, `rotations` or `follow_the_sun` (or, for an "
                "adopted legacy schedule, `layers`)"
            )
        if self.restrictions and self.rotation is None:
            raise ValueError(
                "schedule-level `restrictions` belong to `rotation`; with `rotations` give each "
                "rotation its own `restrictions`"
            )
        return self

    @property
    def zone(self) -> str:
        return self.time_zone or "UTC"

    def all_rotations(self) -> list[Rotation]:
        """Every rotation of the schedule in one form: `rotation` (with the schedule-level
        restrictions), then `rotations`, then the follow-the-sun regions."""
        out = []
        if self.rotation is not None:
            out.append(
                self.rotation.model_copy(
                    update={"restrictions": [*self.rotation.restrictions, *self.restrictions]}
                )
            )
        out.extend(self.rotations)
        if self.follow_the_sun is not None:
            out.extend(self.follow_the_sun.rotations())
        return out


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


def parse_moment(value: Any) -> datetime:
    """A date (midnight) or a date-time, as people write them in YAML; naive = local time."""
    if isinstance(value, datetime):
        return value
    if isinstance(value, date):
        return datetime.combine(value, datetime.min.time())
    if isinstance(value, str):
        try:
            return datetime.fromisoformat(value.strip())
        except ValueError:
            pass
    raise ValueError(
        f"{value!r} is not a date or date-time like 2027-02-01, 2027-02-01 09:00 or "
        "2027-02-01T09:00+01:00"
    )


Moment = Annotated[
    datetime,
    BeforeValidator(parse_moment),
    PlainSerializer(lambda m: m.isoformat(timespec="minutes"), return_type=str),
    WithJsonSchema(
        {
            "type": "string",
            "pattern": r"^\d{4}-\d{2}-\d{2}([T ]\d{2}:\d{2}(:\d{2})?(Z|[+-]\d{2}:?\d{2})?)?$",
            "description": "A date (midnight) or date-time; without an offset it is local time "
            "(the schedule's zone for overrides, org.time_zone for time off).",
        }
    ),
]


class _Window(Strict):
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    start: Moment = Field(alias="from", description="Start (inclusive).")
    end: Moment = Field(alias="to", description="End (exclusive).")
    note: str = Field("", max_length=1024, description="Why, for reviewers.")

    @model_validator(mode="after")
    def _ends_after_it_starts(self) -> _Window:
        if (self.start.tzinfo is None) != (self.end.tzinfo is None):
            raise ValueError("give `from` and `to` both with or both without a UTC offset")
        if self.end <= self.start:
            raise ValueError(
                f"`to` ({self.end.isoformat(timespec='minutes')}) must be after `from` "
                f"({self.start.isoformat(timespec='minutes')})"
            )
        return self


class TimeOff(_Window):
    """This person is unavailable from .. to .. (local time: org.time_zone)."""

    person: PersonRef


class Override(_Window):
    """This person covers this schedule from .. to .. (local time: the schedule's zone)."""

    schedule: ScheduleRef
    person: PersonRef


class Deployment(Strict):
    protect: bool = Field(
        True, description="Protect resources paging depends on from deletion (Pulumi protect)."
    )


# --------------------------------------------------------------------------- learning (issue 14)

SEVERITIES = ("SEV1", "SEV2", "SEV3", "SEV4")  # defined in docs/incident-response-runbook.md
Severity = Literal["SEV1", "SEV2", "SEV3", "SEV4"]


class PostmortemDeadlines(Strict):
    """Counted from the incident's RESOLUTION time, never from when a command runs."""

    draft_within: Duration = Field(
        timedelta(hours=24), description="The postmortem draft exists this long after resolution."
    )
    review_within: Duration = Field(
        timedelta(days=7), description="The review meeting is held this long after resolution."
    )
    actions_within: Duration = Field(
        timedelta(days=7),
        description="Default due date of follow-up actions, counted from resolution.",
    )


class IncidentCommander(Strict):
    """A rotation of incident commanders paged for the listed severities, alongside the
    service's own escalation policy (PagerDuty's incident response guide: the IC role)."""

    schedule: ScheduleRef = Field(description="The incident commander rotation.")
    severities: list[Severity] = Field(
        default_factory=lambda: list[Severity](["SEV1"]),
        min_length=1,
        description="Severities that page it.",
    )


class PlannedDrill(Strict):
    """One drill of the quarterly calendar: when, which scenario, who runs it."""

    date: date
    scenario: Id = Field(description="A scenario of docs/drills/, e.g. database-outage.")
    facilitator: PersonRef = Field(description="The person who runs the drill.")


class Learning(Strict):
    """How the organisation learns from incidents: postmortem deadlines, which services only
    carry test pages and drills (left out of MTTA/MTTR), and the incident commander rotation."""

    postmortems: PostmortemDeadlines = Field(default_factory=PostmortemDeadlines)
    test_services: list[ServiceRef] = Field(
        default_factory=list,
        description="Services that receive page tests or drills only: their incidents count "
        "as page success, never in MTTA/MTTR, and need no postmortem.",
    )
    incident_commander: IncidentCommander | None = None
    deploy_branch: str | None = Field(
        None,
        description="Git branch whose commits are deploys (e.g. main when every merge deploys); "
        "`irctl incident timeline` shows them next to the incident.",
    )
    drills: list[PlannedDrill] = Field(
        default_factory=list, description="The drill calendar: date, scenario, facilitator."
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
    time_off: list[TimeOff] = Field(
        default_factory=list, description="Who is unavailable when (reviewed like the rest)."
    )
    overrides: list[Override] = Field(
        default_factory=list, description="Who covers which schedule when (applied by pulumi up)."
    )
    learning: Learning = Field(default_factory=Learning)

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
