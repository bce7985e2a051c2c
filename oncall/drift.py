"""Drift: how a live PagerDuty account differs from the org config in Git, in words.

Pure: the live side is the account imported with the Git config as id hints
(`oncall.importer.import_snapshot(..., hints=git)`), so both sides are `OrgConfig`s with the
same ids and every difference can be said the way `irctl diff` says it: who, which tier, how
many minutes, "in PagerDuty" against "in Git". What the importer could not express (extra
layers, overrides, support-hours urgency) is drift too when it touches an object Git manages:
the next `pulumi up` would undo it.
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from oncall.importer import Finding
from oncall.rotation import ShiftEvent, event_shifts, override_window, rotation_events
from orgconfig.model import (
    EscalationPolicy,
    Layer,
    OrgConfig,
    Rotation,
    Schedule,
    Service,
    Tier,
)
from orgconfig.units import format_duration

AREAS = ("People", "Teams", "Schedules", "Overrides", "Escalation", "Services")


@dataclass(frozen=True)
class Difference:
    area: str  # one of AREAS
    subject: str  # config id of the object, e.g. "platform-primary"
    sentence: str

    def as_json(self) -> dict[str, str]:
        return asdict(self)


def _minutes(value: timedelta) -> str:
    minutes = int(value.total_seconds() // 60)
    return f"{minutes} min" if minutes < 120 or minutes % 60 else format_duration(value)


class _Names:
    def __init__(self, git: OrgConfig, live: OrgConfig) -> None:
        self.people = {p.id: p.name for p in [*live.people, *git.people]}
        self.schedules = {s.id: s.name for s in [*live.schedules, *git.schedules]}

    def person(self, pid: str | None) -> str:
        return self.people.get(pid or "", pid or "nobody")

    def persons(self, ids: list[str]) -> str:
        return ", ".join(self.person(i) for i in ids) or "nobody"

    def targets(self, tier: Tier) -> str:
        return ", ".join(
            f"{self.schedules.get(t.schedule, t.schedule)} (schedule)"
            if t.schedule
            else self.person(t.person)
            for t in tier.targets
        )


def _people(git: OrgConfig, live: OrgConfig) -> list[Difference]:
    emails = {p.email.lower() for p in live.people}
    return [
        Difference(
            "People",
            p.id,
            f"{p.name} ({p.email}) is in Git but has no PagerDuty user with that email "
            "(the lookup is exact)",
        )
        for p in git.people
        if p.email.lower() not in emails
    ]


def _teams(git: OrgConfig, live: OrgConfig, names: _Names) -> list[Difference]:
    out = []
    live_teams = {t.id: t for t in live.teams}
    for team in git.teams:
        other = live_teams.get(team.id)
        if other is None:
            out.append(Difference("Teams", team.id, f"team {team.name} exists only in Git"))
            continue
        mine = {m.person: m.role for m in team.members}
        theirs = {m.person: m.role for m in other.members}
        for person in sorted(set(theirs) - set(mine)):
            out.append(
                Difference(
                    "Teams",
                    team.id,
                    f"{team.name} team: {names.person(person)} was added in PagerDuty as "
                    f"{theirs[person]} (not in Git)",
                )
            )
        for person in sorted(set(mine) - set(theirs)):
            out.append(
                Difference(
                    "Teams",
                    team.id,
                    f"{team.name} team: {names.person(person)} is a member in Git, "
                    "not in PagerDuty",
                )
            )
        for person in sorted(set(mine) & set(theirs)):
            if mine[person] != theirs[person]:
                out.append(
                    Difference(
                        "Teams",
                        team.id,
                        f"{team.name} team: {names.person(person)} is {theirs[person]} in "
                        f"PagerDuty, {mine[person]} in Git",
                    )
                )
    git_ids = {t.id for t in git.teams}
    for team in live.teams:
        if team.id not in git_ids and (
            team.members or any(s.team == team.id for s in live.schedules)
        ):
            out.append(Difference("Teams", team.id, f"team {team.name} exists only in PagerDuty"))
    return out


def _people_in(git_people: Sequence[str], live_people: Sequence[str], names: _Names) -> list[str]:
    """Who was added, removed or moved in one rotation."""
    out = []
    for person in [p for p in live_people if p not in git_people]:
        out.append(f"{names.person(person)} was added in PagerDuty (not in Git)")
    for person in [p for p in git_people if p not in live_people]:
        out.append(f"{names.person(person)} is in Git, not in PagerDuty")
    if set(git_people) == set(live_people) and list(git_people) != list(live_people):
        out.append(
            f"rotation order is {names.persons(list(live_people))} in PagerDuty, "
            f"{names.persons(list(git_people))} in Git"
        )
    return out


def _shift_based(
    schedule: Schedule, live: list[ShiftEvent], names: _Names, since: datetime | None
) -> list[str]:
    """A Git schedule against the shift-based schedule PagerDuty holds for it: people per
    rotation, then who is on call over the next 12 weeks when the people agree."""
    mine = rotation_events(schedule)
    out = []
    rotations = sorted({e.rotation for e in [*mine, *live]})
    for index in rotations:
        git_people = next((e.members for e in mine if e.rotation == index), ())
        live_people = next((e.members for e in live if e.rotation == index), ())
        out += _people_in(git_people, live_people, names)
    if out:
        return out
    start = since or datetime.now(UTC)
    end = start + timedelta(weeks=12)
    git_shifts = [(s.start, s.end, s.person_id) for e in mine for s in event_shifts(e, start, end)]
    live_shifts = [(s.start, s.end, s.person_id) for e in live for s in event_shifts(e, start, end)]
    edges = sorted({start, *(x for lo, hi, _ in git_shifts + live_shifts for x in (lo, hi))})
    windows: list[tuple[datetime, datetime, str, str]] = []
    for lo, hi in itertools.pairwise([e for e in edges if start <= e <= end]):
        was = _who(git_shifts, lo, names)
        now = _who(live_shifts, lo, names)
        if was == now:
            continue
        if windows and windows[-1][1] == lo and windows[-1][2:] == (now, was):
            windows[-1] = (windows[-1][0], hi, now, was)
        else:
            windows.append((lo, hi, now, was))
    zone = ZoneInfo(schedule.zone)
    for lo, hi, now, was in windows[:3]:
        out.append(
            f"{now} on call {lo.astimezone(zone):%a %Y-%m-%d %H:%M} to "
            f"{hi.astimezone(zone):%a %Y-%m-%d %H:%M} in PagerDuty, {was} in Git"
        )
    if len(windows) > 3:
        out.append(f"and {len(windows) - 3} more such windows in the next 12 weeks")
    return out


def _who(shifts: list[tuple[datetime, datetime, str]], moment: datetime, names: _Names) -> str:
    people = sorted({names.person(p) for lo, hi, p in shifts if lo <= moment < hi})
    return ", ".join(people) or "nobody"


def _rotation(mine: Rotation | Layer, theirs: Rotation | Layer, names: _Names) -> list[str]:
    """Sentences for one Git rotation against the live one in the same place."""
    out = _people_in(mine.participants, theirs.participants, names)
    if mine.turn != theirs.turn:
        out.append(
            f"turns last {format_duration(theirs.turn)} in PagerDuty, "
            f"{format_duration(mine.turn)} in Git"
        )
    if (mine.first_handoff, mine.handoff_time) != (theirs.first_handoff, theirs.handoff_time):
        out.append(
            f"the rotation starts {theirs.first_handoff} {theirs.handoff_time} in PagerDuty, "
            f"{mine.first_handoff} {mine.handoff_time} in Git"
        )
    if mine.restrictions != theirs.restrictions:
        out.append(f"on-call hours are {_hours(theirs)} in PagerDuty, {_hours(mine)} in Git")
    kept = (getattr(mine, "shifts_per_member", 1), getattr(theirs, "shifts_per_member", 1))
    if kept[0] != kept[1]:
        out.append(f"each person keeps {kept[1]} turn(s) in PagerDuty, {kept[0]} in Git")
    return out


def _layers(a: Schedule, b: Schedule, names: _Names) -> list[str]:
    """Legacy layers in order (bottom first), each said like a rotation."""
    if bool(a.layers) != bool(b.layers):
        kinds = ("layered (legacy)", "shift-based")
        live, git = (kinds[0], kinds[1]) if b.layers else (kinds[1], kinds[0])
        return [f"is a {live} schedule in PagerDuty, a {git} one in Git"]
    out = []
    if len(a.layers) != len(b.layers):
        out.append(f"has {len(b.layers)} layer(s) in PagerDuty, {len(a.layers)} in Git")
    for n, (mine, theirs) in enumerate(zip(a.layers, b.layers, strict=False), start=1):
        label = f"layer {mine.name or f'Layer {n}'!r}"
        if mine.name != theirs.name:
            out.append(f"{label} is called {theirs.name!r} in PagerDuty")
        prefix = f"{label}: " if len(a.layers) > 1 else ""
        out += [f"{prefix}{sentence}" for sentence in _rotation(mine, theirs, names)]
    return out


def _schedule(a: Schedule, b: Schedule, names: _Names) -> list[str]:
    """Sentences for Git schedule `a` against live schedule `b` (rotations in order)."""
    out = []
    if a.layers or b.layers:
        out += _layers(a, b, names)
    git_rotations, live_rotations = a.all_rotations(), b.all_rotations()
    if len(git_rotations) != len(live_rotations) and not (a.layers or b.layers):
        out.append(
            f"has {len(live_rotations)} rotation(s) in PagerDuty, {len(git_rotations)} in Git"
        )
    for mine, theirs in zip(git_rotations, live_rotations, strict=False):
        out += _rotation(mine, theirs, names)
    if a.zone != b.zone:
        out.append(f"time zone is {b.zone} in PagerDuty, {a.zone} in Git")
    if a.team != b.team:
        out.append(f"team is {b.team or 'none'} in PagerDuty, {a.team or 'none'} in Git")
    return out


def _hours(rotation: Rotation | Layer) -> str:
    if not rotation.restrictions:
        return "around the clock"
    return "; ".join(
        f"{r.start_day + ' ' if r.start_day else 'daily '}{r.start_time} "
        f"for {format_duration(r.duration)}"
        for r in rotation.restrictions
    )


def _compare(
    area: str,
    kind: str,
    git_items: dict[str, object],
    live_items: dict[str, object],
    label: dict[str, str],
) -> list[Difference]:
    out = [
        Difference(area, i, f"{kind} {label[i]} exists only in Git")
        for i in git_items
        if i not in live_items
    ]
    out += [
        Difference(area, i, f"{kind} {label[i]} exists only in PagerDuty")
        for i in live_items
        if i not in git_items
    ]
    return out


def _tiers(pid: str, a: EscalationPolicy, b: EscalationPolicy, names: _Names) -> list[str]:
    out = []
    for index in range(max(len(a.tiers), len(b.tiers))):
        mine = a.tiers[index] if index < len(a.tiers) else None
        theirs = b.tiers[index] if index < len(b.tiers) else None
        tier = f"{pid} escalation tier {index + 1}"
        if theirs is None and mine is not None:
            out.append(f"{tier} ({names.targets(mine)}) exists only in Git")
            continue
        if mine is None and theirs is not None:
            out.append(f"{tier} ({names.targets(theirs)}) was added in PagerDuty (not in Git)")
            continue
        assert mine is not None and theirs is not None
        if mine.targets != theirs.targets:
            out.append(
                f"{tier} pages {names.targets(theirs)} in PagerDuty, {names.targets(mine)} in Git"
            )
        if mine.after != theirs.after:
            out.append(
                f"{tier} waits {_minutes(theirs.after)} in PagerDuty, {_minutes(mine.after)} in Git"
            )
    if a.repeat != b.repeat:
        out.append(f"{pid} escalation repeats {b.repeat} times in PagerDuty, {a.repeat} in Git")
    if a.loop_after != b.loop_after and len(a.tiers) == len(b.tiers):
        out.append(
            f"{pid} escalation's last tier has {_minutes(b.loop_after)} before the ladder "
            f"repeats in PagerDuty, {_minutes(a.loop_after)} in Git"
        )
    return out


def _service(a: Service, b: Service, policies: dict[str, str]) -> list[str]:
    out = []
    if a.escalation_policy != b.escalation_policy:
        out.append(
            f"pages through {policies.get(b.escalation_policy, b.escalation_policy)} in PagerDuty, "
            f"{policies.get(a.escalation_policy, a.escalation_policy)} in Git"
        )
    if a.urgency != b.urgency:
        out.append(f"urgency is {b.urgency} in PagerDuty, {a.urgency} in Git")
    for field, label in (
        ("acknowledgement_timeout", "acknowledgement timeout"),
        ("auto_resolve_timeout", "auto-resolve timeout"),
    ):
        mine, theirs = getattr(a, field), getattr(b, field)
        if mine != theirs:
            out.append(f"{label} is {_text(theirs)} in PagerDuty, {_text(mine)} in Git")
    return out


def _text(value: timedelta | None) -> str:
    return "off" if value is None else format_duration(value)


def override_sentence(person: str, start: datetime, end: datetime, zone: str) -> str:
    """ "override for Sam Okafor 2026-12-24 09:00 to 12-25 09:00" in the schedule's zone."""
    tz = ZoneInfo(zone)
    frm, to = start.astimezone(tz), end.astimezone(tz)
    end_text = to.strftime("%m-%d %H:%M") if to.year == frm.year else to.strftime("%Y-%m-%d %H:%M")
    return f"override for {person} {frm.strftime('%Y-%m-%d %H:%M')} to {end_text}"


def _overrides(
    git: OrgConfig, live: OrgConfig, names: _Names, since: datetime | None
) -> list[Difference]:
    """Overrides compared by schedule, person and instants (offsets may be written apart).
    Only overrides still running at `since` count: PagerDuty is read from then on, and past
    overrides in Git are history, not drift."""
    zones = {s.id: s.zone for s in [*live.schedules, *git.schedules]}
    schedule_names = {s.id: s.name for s in [*live.schedules, *git.schedules]}

    def keyed(org: OrgConfig) -> dict[tuple[str, str, datetime, datetime], None]:
        out: dict[tuple[str, str, datetime, datetime], None] = {}
        for o in org.overrides:
            lo, hi = override_window(o, zones.get(o.schedule, "UTC"))
            if since is None or hi > since:
                out[(o.schedule, o.person, lo, hi)] = None
        return out

    mine, theirs = keyed(git), keyed(live)
    out = []
    for where, only in (
        ("PagerDuty", theirs.keys() - mine.keys()),
        ("Git", mine.keys() - theirs.keys()),
    ):
        for schedule, person, lo, hi in sorted(only):
            sentence = override_sentence(names.person(person), lo, hi, zones.get(schedule, "UTC"))
            out.append(
                Difference(
                    "Overrides",
                    schedule,
                    f"{schedule_names.get(schedule, schedule)}: {sentence} exists only in {where}",
                )
            )
    return out


def drift(
    git: OrgConfig,
    live: OrgConfig,
    *,
    findings: Sequence[Finding] = (),
    since: datetime | None = None,
    live_v3: Mapping[str, list[ShiftEvent]] | None = None,
) -> list[Difference]:
    """Every difference between Git and the live account, Git's objects first; overrides
    that ended before `since` (when the account's overrides were read from) are left out.
    `live_v3` holds the shift-based schedules PagerDuty has for Git's schedules (by id)."""
    names = _Names(git, live)
    out = _people(git, live) + _teams(git, live, names)
    live_v3 = live_v3 or {}

    git_schedules = {s.id: s for s in git.schedules}
    live_schedules: dict[str, object] = {s.id: s for s in live.schedules}
    live_schedules.update({sid: events for sid, events in live_v3.items()})
    label = {
        **{s.id: s.name for s in live.schedules},
        **{i: s.name for i, s in git_schedules.items()},
    }
    out += _compare("Schedules", "schedule", dict(git_schedules), live_schedules, label)
    for sid, mine in git_schedules.items():
        theirs = live_schedules.get(sid)
        if isinstance(theirs, Schedule):
            sentences = _schedule(mine, theirs, names)
        elif sid in live_v3:
            sentences = _shift_based(mine, live_v3[sid], names, since)
        else:
            continue
        out += [Difference("Schedules", sid, f"{mine.name}: {s}") for s in sentences]
    managed = {"Schedules": set(git_schedules), "Services": {s.id for s in git.services}}
    for finding in findings:
        if finding.drift and finding.drift[1] in managed.get(finding.drift[0], set()):
            out.append(Difference(*finding.drift))

    out += _overrides(git, live, names, since)

    git_policies = {p.id: p for p in git.escalation_policies}
    live_policies = {p.id: p for p in live.escalation_policies}
    label = {
        **{i: p.name for i, p in live_policies.items()},
        **{i: p.name for i, p in git_policies.items()},
    }
    out += _compare(
        "Escalation", "escalation policy", dict(git_policies), dict(live_policies), label
    )
    for pid, git_policy in git_policies.items():
        if pid in live_policies:
            out += [
                Difference("Escalation", pid, s)
                for s in _tiers(pid, git_policy, live_policies[pid], names)
            ]

    git_services = {s.id: s for s in git.services}
    live_services = {s.id: s for s in live.services}
    label = {
        **{i: s.name for i, s in live_services.items()},
        **{i: s.name for i, s in git_services.items()},
    }
    out += _compare("Services", "service", dict(git_services), dict(live_services), label)
    policy_names = {p.id: p.name for p in [*live.escalation_policies, *git.escalation_policies]}
    for sid, git_service in git_services.items():
        if sid in live_services:
            out += [
                Difference("Services", sid, f"{git_service.name}: {s}")
                for s in _service(git_service, live_services[sid], policy_names)
            ]
    return out


def render_text(differences: list[Difference]) -> str:
    if not differences:
        return "no drift: PagerDuty matches Git\n"
    lines = [f"{len(differences)} difference(s) between PagerDuty and Git:"]
    lines += [f"- {d.sentence}" for d in differences]
    return "\n".join(lines) + "\n"


def render_markdown(differences: list[Difference], title: str) -> str:
    if not differences:
        return f"## {title}\n\nNo drift: PagerDuty matches Git.\n"
    body = [f"## {title}", "", f"{len(differences)} difference(s) between PagerDuty and Git.", ""]
    for area in AREAS:
        lines = [f"- {d.sentence}" for d in differences if d.area == area]
        if lines:
            body += [f"### {area}", "", *lines, ""]
    return "\n".join(body).rstrip() + "\n"
