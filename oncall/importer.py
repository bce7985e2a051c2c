"""Turn a live PagerDuty account (a `Snapshot` in PagerDuty's JSON shapes) into this
project's org config, listing by name everything the config cannot express.

Pure: no I/O, no pulumi. Decisions worth knowing:

* People are matched by email; a person's config `role` is their PagerDuty job title.
* Escalation rules keep PagerDuty's order exactly (never sorted by id or name): per-rule
  delays d1..dn become cumulative `after` times 0, d1, d1+d2, ... and the last delay becomes
  `loop_after`; `num_loops` becomes `repeat` (see oncall/escalation.py for the forward way).
* A layer's `rotation_virtual_start`, read in the schedule's time zone, gives `first_handoff`
  and `handoff_time`; restrictions are kept with their days and times.
* A legacy (layered) schedule becomes a schedule with `layers:`, every active layer bottom
  first (the API lists the top layer first), each layer taking precedence over the ones
  before it as in PagerDuty; the program declares it as the legacy `Schedule`, so Pulumi
  adopts it by id. Nothing is dropped without a report line.
* Overrides in the window read (the coming year) become `overrides:` entries.
* A shift-based (v3) schedule is imported only when the config rotations read from its
  events render back to exactly those events (oncall.rotation.rotation_events); then Pulumi
  adopts it by id. Otherwise it is reported by name.
* Ids come from names (`Platform primary` -> `platform-primary`), unique by a numeric suffix
  in PagerDuty-id order, so the same account always yields the same ids. Given the org config
  from Git (`hints`), objects with the same email or name keep their Git ids (drift needs it).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from pydantic import ValidationError

from oncall.live import Snapshot
from oncall.rotation import ShiftEvent, rotation_events
from orgconfig.model import DAYS_OF_WEEK, TIMEOUT_LIMITS, OrgConfig, Schedule
from orgconfig.units import format_duration

Json = dict[str, Any]
EVENTS_V2 = "events_api_v2_inbound_integration"
TARGET_KINDS = {
    "schedule_reference": "schedule",
    "schedule": "schedule",
    "user_reference": "person",
    "user": "person",
}
RESTRICTION_TYPES = {"daily_restriction": "daily", "weekly_restriction": "weekly"}


@dataclass(frozen=True)
class Finding:
    """Something in the account the config cannot say (or says differently)."""

    subject: str  # "schedule Platform primary"
    message: str
    # When the next `pulumi up` would undo it: (drift area, config id, sentence for drift).
    drift: tuple[str, str, str] | None = None

    def __str__(self) -> str:
        return f"{self.subject}: {self.message}"


@dataclass
class ImportResult:
    config: Json  # the org config, ready for yaml.safe_dump
    unsupported: list[Finding] = field(default_factory=list)
    notes: list[Finding] = field(default_factory=list)
    # (pulumi type, pulumi resource name) -> PagerDuty import id
    import_ids: dict[tuple[str, str], str] = field(default_factory=dict)
    pagerduty_ids: dict[tuple[str, str], str] = field(default_factory=dict)  # (kind, id) -> PD id
    # Git schedule id -> the events of the shift-based schedule PagerDuty holds for it.
    live_v3: dict[str, list[ShiftEvent]] = field(default_factory=dict)


def slug(name: str, fallback: str) -> str:
    """A readable config id from a display name (see orgconfig.model.ID_PATTERN)."""
    text = re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")[:60].strip("-")
    if not text or not text[0].isalpha():
        text = f"{fallback}-{text}" if text else fallback
    return text


class _Ids:
    """Config ids per kind: Git's id for a known key, else a unique slug of the name."""

    def __init__(self) -> None:
        self.taken: dict[str, set[str]] = {}
        self.by_pd: dict[tuple[str, str], str] = {}

    def assign(self, kind: str, pd_id: str, name: str, preferred: str | None) -> str:
        taken = self.taken.setdefault(kind, set())
        base = preferred if preferred and preferred not in taken else slug(name, kind)
        candidate, n = base, 2
        while candidate in taken:
            candidate = f"{base}-{n}"
            n += 1
        taken.add(candidate)
        self.by_pd[(kind, pd_id)] = candidate
        return candidate

    def get(self, kind: str, pd_id: str) -> str | None:
        return self.by_pd.get((kind, pd_id))


def _hint_ids(hints: OrgConfig | None) -> dict[str, dict[str, str]]:
    if hints is None:
        return {}
    return {
        "person": {p.email.lower(): p.id for p in hints.people},
        "team": {t.name: t.id for t in hints.teams},
        "schedule": {s.name: s.id for s in hints.schedules},
        "escalation_policy": {p.name: p.id for p in hints.escalation_policies},
        "service": {s.name: s.id for s in hints.services},
    }


def _sorted(items: Iterable[Json]) -> list[Json]:
    return sorted(items, key=lambda item: str(item["id"]))


def _local(moment: str, zone: str) -> datetime:
    return datetime.fromisoformat(moment.replace("Z", "+00:00")).astimezone(ZoneInfo(zone))


def _duration(seconds: int | float) -> str:
    return format_duration(timedelta(seconds=int(seconds)))


class _Importer:
    def __init__(self, snap: Snapshot, hints: OrgConfig | None, now: datetime) -> None:
        self.snap = snap
        self.now = now
        self.hints = _hint_ids(hints)
        self.ids = _Ids()
        self.result = ImportResult(config={})
        self.result_overrides: list[Json] = []

    def unsupported(
        self, subject: str, message: str, drift: tuple[str, str, str] | None = None
    ) -> None:
        self.result.unsupported.append(Finding(subject, message, drift))

    def note(self, subject: str, message: str) -> None:
        self.result.notes.append(Finding(subject, message))

    def import_id(self, pulumi_type: str, name: str, pd_id: str) -> None:
        self.result.import_ids[(f"pagerduty:index/{pulumi_type}", name)] = pd_id

    def assign(self, kind: str, obj: Json, key: str) -> str:
        config_id = self.ids.assign(kind, obj["id"], obj["name"], self.hints.get(kind, {}).get(key))
        self.result.pagerduty_ids[(kind, config_id)] = obj["id"]
        return config_id

    # ------------------------------------------------------------------ people and teams

    def people(self) -> list[Json]:
        out = []
        for user in _sorted(self.snap.users):
            pid = self.assign("person", user, str(user["email"]).lower())
            role = (user.get("job_title") or "").strip()
            if not role:
                role = "Responder"
                self.note(
                    f"person {user['name']}",
                    "has no job title in PagerDuty; role set to 'Responder'",
                )
            out.append({"id": pid, "name": user["name"], "email": user["email"], "role": role})
        return out

    def teams(self) -> list[Json]:
        out = []
        for team in _sorted(self.snap.teams):
            tid = self.assign("team", team, team["name"])
            members = []
            for member in self.snap.members.get(team["id"], []):
                person = self.ids.get("person", member["user"]["id"])
                if person is None:
                    self.unsupported(
                        f"team {team['name']}",
                        f"member {member['user'].get('summary')} is not a known user",
                    )
                    continue
                members.append({"person": person, "role": member.get("role", "responder")})
                self.import_id(
                    "teamMembership:TeamMembership",
                    f"{tid}-{person}",
                    f"{member['user']['id']}:{team['id']}",
                )
            entry = self.head(tid, team, None)
            entry["members"] = members
            out.append(entry)
            self.import_id("team:Team", tid, team["id"])
        return out

    def head(self, config_id: str, obj: Json, subject: str | None) -> Json:
        """The fields every config object starts with: id, name, description, team."""
        entry: Json = {"id": config_id, "name": obj["name"]}
        if obj.get("description"):
            entry["description"] = obj["description"]
        if subject is not None and (team := self.team_of(subject, obj.get("teams", []))):
            entry["team"] = team
        return entry

    def team_of(self, subject: str, teams: list[Json]) -> str | None:
        known = [self.ids.get("team", t["id"]) for t in teams]
        found = [t for t in known if t]
        if len(teams) > len(found):
            self.unsupported(
                subject, "belongs to a team outside the import (--team); team left out"
            )
        if len(found) > 1:
            self.unsupported(
                subject, f"belongs to {len(found)} teams; the config keeps one: {found[0]}"
            )
        return found[0] if found else None

    # ------------------------------------------------------------------ schedules

    def restriction(self, subject: str, raw: Json) -> Json | None:
        kind = RESTRICTION_TYPES.get(raw.get("type", ""))
        if kind is None:
            self.unsupported(subject, f"restriction type {raw.get('type')!r} is not supported")
            return None
        hh, mm, ss = (int(x) for x in str(raw["start_time_of_day"]).split(":"))
        if ss:
            self.unsupported(
                subject,
                f"restriction starts at {raw['start_time_of_day']}; the config has whole "
                "minutes: seconds dropped",
            )
        out: Json = {"type": kind}
        if kind == "weekly":
            out["start_day"] = DAYS_OF_WEEK[int(raw["start_day_of_week"]) - 1]
        out["start_time"] = f"{hh:02d}:{mm:02d}"
        out["duration"] = _duration(raw["duration_seconds"])
        return out

    def active_layers(self, schedule: Json, subject: str) -> list[Json]:
        layers = []
        # The API lists the top layer first; the config lists layers bottom first (as the UI).
        for layer in reversed(schedule.get("schedule_layers", [])):
            end = layer.get("end")
            if end and datetime.fromisoformat(end.replace("Z", "+00:00")) <= self.now:
                self.note(subject, f"layer {layer.get('name')!r} ended {end}; not imported")
                continue
            start = layer.get("start")
            if start and _local(start, "UTC") > max(self.now, _local(
                    layer["rotation_virtual_start"], "UTC")):  # fmt: skip
                self.unsupported(
                    subject,
                    f"layer {layer.get('name')!r} starts {start}; the config starts a layer at "
                    "its hand-off (rotation_virtual_start): imported from its hand-off",
                )
            if end:
                self.unsupported(
                    subject,
                    f"layer {layer.get('name')!r} ends {end}; the config cannot end a "
                    "rotation: imported without its end",
                )
            layers.append(layer)
        return layers

    def schedules(self) -> list[Json]:
        out = []
        managed_v3 = {
            s["name"]: self.hints["schedule"][s["name"]]
            for s in self.snap.v3_schedules
            if s["name"] in self.hints.get("schedule", {})
        }
        for schedule in _sorted(self.snap.schedules):
            subject = f"schedule {schedule['name']}"
            if schedule["name"] in managed_v3:
                self.unsupported(
                    subject,
                    "a legacy schedule of this name still exists next to the shift-based one",
                    (
                        "Schedules",
                        managed_v3[schedule["name"]],
                        f"{schedule['name']}: the legacy (layered) schedule still exists in "
                        "PagerDuty next to the shift-based one Git manages: delete it",
                    ),
                )
                continue
            layers = self.active_layers(schedule, subject)
            if not layers:
                self.unsupported(subject, "has no active layer; not imported")
                continue
            sid = self.assign("schedule", schedule, schedule["name"])
            zone = schedule["time_zone"]
            entry = self.head(sid, schedule, subject)
            entry["time_zone"] = zone
            # Every layer, bottom first, kept as PagerDuty has it: later layers take precedence.
            entry["layers"] = [
                {"name": layer.get("name") or f"Layer {n}", **self.rotation(layer, zone, subject)}
                for n, layer in enumerate(layers, start=1)
            ]
            out.append(entry)
            self.import_id("schedule:Schedule", sid, schedule["id"])
            self.overrides(schedule, sid, subject)
        for schedule in _sorted(self.snap.v3_schedules):
            managed = self.hints.get("schedule", {}).get(schedule["name"])
            if managed is not None and managed not in self.result.live_v3:
                # A shift-based schedule Git manages (what `pulumi up` created): drift compares
                # its events and overrides with Git's.
                self.ids.by_pd[("schedule", schedule["id"])] = managed  # policies target it
                self.result.live_v3[managed] = self.v3_events(schedule, managed)
                self.v3_overrides(schedule, managed)
                continue
            shift_based = self.v3_schedule(schedule)
            if shift_based is not None:
                out.append(shift_based)
                continue
            self.unsupported(
                f"schedule {schedule['name']}",
                "is a shift-based (v3) schedule whose events no config rotation reproduces "
                "exactly: not imported",
            )
        return out

    def v3_schedule(self, schedule: Json) -> Json | None:
        """A shift-based schedule as config rotations, only when rendering those rotations
        gives back exactly the schedule's events (so adopting it changes nothing)."""
        zones = {
            moment.get("time_zone")
            for rotation in schedule.get("rotations") or []
            for event in rotation.get("events") or []
            for moment in (event.get("start_time"), event.get("end_time"))
            if isinstance(moment, dict)
        }
        if zones - {schedule["time_zone"]}:
            return None  # events keep their own zone's wall clock; the config uses the schedule's
        live = self.v3_events(schedule, "")
        rotations = [_rotation_from_events([e for e in live if e.rotation == index])
                     for index in sorted({e.rotation for e in live})]  # fmt: skip
        if not live or any(r is None for r in rotations):
            return None
        candidate: Json = {"id": "candidate", "name": schedule["name"],
                           "time_zone": schedule["time_zone"], "rotations": rotations}  # fmt: skip
        try:
            again = rotation_events(Schedule.model_validate(candidate))
        except ValidationError:
            return None
        if [_event_key(e) for e in again] != [_event_key(e) for e in live]:
            return None
        sid = self.assign("schedule", schedule, schedule["name"])
        entry = self.head(sid, schedule, f"schedule {schedule['name']}")
        entry["time_zone"] = schedule["time_zone"]
        entry["rotations"] = rotations
        self.import_id("schedulev2:Schedulev2", sid, schedule["id"])
        self.v3_overrides(schedule, sid)
        return entry

    def v3_events(self, schedule: Json, config_id: str) -> list[ShiftEvent]:
        """The schedule's events as the project's engine expands them (oncall.rotation)."""
        zone = schedule["time_zone"]
        events: list[ShiftEvent] = []
        for index, rotation in enumerate(schedule.get("rotations") or []):
            for event in rotation.get("events") or []:
                start, end = _wall(event["start_time"], zone), _wall(event["end_time"], zone)
                strategy = event.get("assignment_strategy") or {}
                members = tuple(
                    self.ids.get("person", m.get("user_id", "")) or f"?{m.get('user_id')}"
                    for m in strategy.get("members") or []
                    if m.get("type") == "user_member"
                )
                rules = [r for r in event.get("recurrence") or [] if r.startswith("RRULE:")]
                events.append(
                    ShiftEvent(
                        config_id,
                        index,
                        str(event.get("name", "")),
                        zone,
                        start,
                        end - start,
                        _rrule(rules[0]) if rules else "FREQ=DAILY;COUNT=1",
                        int(strategy.get("shifts_per_member") or 1),
                        members,
                        len(events),
                    )
                )
        return events

    def v3_overrides(self, schedule: Json, config_id: str) -> None:
        for override in self.snap.v3_overrides.get(schedule["id"], []):
            user = (override.get("overriding_member") or {}).get("user_id")
            person = self.ids.get("person", user or "")
            if person is None:
                continue
            self.result_overrides.append(
                {
                    "schedule": config_id,
                    "person": person,
                    "from": override["start_time"],
                    "to": override["end_time"],
                }
            )

    def rotation(self, layer: Json, zone: str, subject: str) -> Json:
        """One layer as a config rotation (participants, turn, hand-off, restrictions)."""
        virtual_start = _local(layer["rotation_virtual_start"], zone)
        if virtual_start.second:
            self.unsupported(subject, "hand-off has seconds; rounded down to the minute")
        participants = []
        for layer_user in layer["users"]:
            person = self.ids.get("person", layer_user["user"]["id"])
            if person is None:
                self.unsupported(
                    subject,
                    f"layer user {layer_user['user'].get('summary')} is not a known user; left out",
                )
                continue
            participants.append(person)
        out: Json = {
            "participants": participants,
            "turn": _duration(layer["rotation_turn_length_seconds"]),
            "first_handoff": virtual_start.date().isoformat(),
            "handoff_time": virtual_start.strftime("%H:%M"),
        }
        restrictions = [
            r
            for raw in layer.get("restrictions") or []
            if (r := self.restriction(subject, raw)) is not None
        ]
        if restrictions:
            out["restrictions"] = restrictions
        return out

    def overrides(self, schedule: Json, sid: str, subject: str) -> None:
        for override in self.snap.overrides.get(schedule["id"], []):
            person = self.ids.get("person", override["user"]["id"])
            if person is None:
                self.unsupported(
                    subject,
                    f"override for {override['user'].get('summary')} {override['start']}: not a "
                    "known user; left out",
                )
                continue
            self.result_overrides.append(
                {
                    "schedule": sid,
                    "person": person,
                    "from": override["start"],
                    "to": override["end"],
                }
            )

    # ------------------------------------------------------------------ escalation policies

    def policies(self) -> list[Json]:
        out = []
        for policy in _sorted(self.snap.policies):
            subject = f"escalation policy {policy['name']}"
            rules = policy.get("escalation_rules", [])
            if not rules:
                self.unsupported(subject, "has no rules; not imported")
                continue
            pid = self.assign("escalation_policy", policy, policy["name"])
            tiers, after = [], 0
            for index, rule in enumerate(rules, start=1):
                targets = []
                for target in rule.get("targets", []):
                    kind = TARGET_KINDS.get(target["type"])
                    ref = None
                    if kind == "schedule":
                        ref = self.ids.get("schedule", target["id"])
                    elif kind == "person":
                        ref = self.ids.get("person", target["id"])
                    if ref is None:
                        self.unsupported(
                            subject,
                            f"tier {index} target {target.get('summary', target['id'])} "
                            f"({target['type']}) is not imported",
                        )
                        continue
                    targets.append({kind: ref})
                if not targets:
                    self.unsupported(
                        subject, f"tier {index} has no importable target; tier left out"
                    )
                else:
                    tiers.append(
                        {"after": _duration(after * 60) if after else "0m", "targets": targets}
                    )
                after += int(rule["escalation_delay_in_minutes"])
            if not tiers:
                continue
            entry = self.head(pid, policy, subject)
            entry["repeat"] = int(policy.get("num_loops") or 0)
            entry["loop_after"] = _duration(int(rules[-1]["escalation_delay_in_minutes"]) * 60)
            entry["tiers"] = tiers
            if policy.get("on_call_handoff_notifications", "if_has_services") != "if_has_services":
                self.unsupported(
                    subject,
                    "on-call hand-off notifications "
                    f"{policy['on_call_handoff_notifications']!r} are not in the config",
                )
            out.append(entry)
            self.import_id("escalationPolicy:EscalationPolicy", pid, policy["id"])
        return out

    # ------------------------------------------------------------------ services

    def timeout(self, subject: str, name: str, seconds: Any) -> str | None:
        if seconds is None:
            return None
        value = timedelta(seconds=int(seconds))
        low, high = TIMEOUT_LIMITS[name]
        if not low <= value <= high or value.total_seconds() % 60:
            self.unsupported(
                subject,
                f"{name} of {int(seconds)} s is outside what the config accepts; left unset",
            )
            return None
        return format_duration(value)

    def urgency(self, subject: str, service: Json, sid: str) -> str:
        rule = service.get("incident_urgency_rule") or {"type": "constant", "urgency": "high"}
        if rule.get("type") == "constant" and rule.get("urgency") in ("high", "low"):
            return str(rule["urgency"])
        if rule.get("type") == "use_support_hours":
            during = (rule.get("during_support_hours") or {}).get("urgency", "high")
            outside = (rule.get("outside_support_hours") or {}).get("urgency", "low")
            hours = service.get("support_hours") or {}
            days = ",".join(DAYS_OF_WEEK[int(d) - 1] for d in hours.get("days_of_week", []))
            self.unsupported(
                subject,
                f"urgency follows support hours ({days} {hours.get('start_time')}-"
                f"{hours.get('end_time')} {hours.get('time_zone')}: {during} inside, {outside} "
                f"outside); the config has one urgency: imported as {during}",
                (
                    "Services",
                    sid,
                    f"{service['name']}: urgency is {during} in support hours and {outside} "
                    f"outside them in PagerDuty, always {during} in Git",
                ),
            )
            return str(during) if during in ("high", "low") else "high"
        self.unsupported(subject, f"urgency rule {rule!r} is not supported; imported as high")
        return "high"

    def services(self, policies: set[str]) -> list[Json]:
        out = []
        for service in _sorted(self.snap.services):
            subject = f"service {service['name']}"
            policy = self.ids.get("escalation_policy", service["escalation_policy"]["id"])
            if policy is None or policy not in policies:
                self.unsupported(
                    subject, "its escalation policy was not imported; service left out"
                )
                continue
            sid = self.assign("service", service, service["name"])
            entry = self.head(sid, service, subject)
            entry["escalation_policy"] = policy
            for name in ("acknowledgement_timeout", "auto_resolve_timeout"):
                value = self.timeout(subject, name, service.get(name))
                if value is not None:
                    entry[name] = value
            entry["urgency"] = self.urgency(subject, service, sid)
            # PagerDuty does not say which metrics feed a service: it comes in without alert
            # rules (the team wires alerting later, docs/adopt.md), which also keeps
            # PagerDuty's auto-resolve valid (orgconfig/alerting.py `alerting_problems`).
            entry["alerts"] = {"enabled": False}
            self.note(
                subject,
                "imported with `alerts: {enabled: false}`: PagerDuty does not say which metrics "
                "feed it; wire its alerting in Git (and drop auto_resolve_timeout then)",
            )
            events = [i for i in service.get("integrations", []) if i.get("type") == EVENTS_V2]
            for other in service.get("integrations", []):
                if other.get("type") != EVENTS_V2:
                    self.unsupported(
                        subject,
                        f"integration {other.get('name') or other.get('summary')!r} "
                        f"({other.get('type')}) is not in the config",
                    )
            if events:
                self.import_id(
                    "serviceIntegration:ServiceIntegration",
                    f"{sid}-events-v2",
                    f"{service['id']}.{events[0]['id']}",
                )
                for extra in events[1:]:
                    self.unsupported(
                        subject,
                        f"second Events API v2 integration {extra.get('name')!r}: the config "
                        "has one per service",
                    )
            else:
                self.note(subject, "has no Events API v2 integration; `pulumi up` will create one")
            for setting in ("scheduled_actions",):
                if service.get(setting):
                    self.unsupported(subject, f"{setting} are not in the config")
            out.append(entry)
            self.import_id("service:Service", sid, service["id"])
        names = {s["id"]: s["name"] for s in self.snap.services}
        for relation in self.snap.dependencies:
            supporting = names.get(
                relation["supporting_service"]["id"], relation["supporting_service"]["id"]
            )
            dependent = names.get(
                relation["dependent_service"]["id"], relation["dependent_service"]["id"]
            )
            self.unsupported(
                f"service {dependent}",
                f"depends on {supporting} (service dependency); not in the config",
            )
        return out


def _wall(value: Any, zone: str) -> datetime:
    """A v3 event time (`{date_time, time_zone}` or an ISO string) as naive wall-clock time
    in the schedule's zone."""
    if isinstance(value, dict):
        moment = datetime.fromisoformat(str(value["date_time"]).replace("Z", "+00:00"))
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=ZoneInfo(value.get("time_zone") or zone))
    else:
        moment = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=ZoneInfo(zone))
    return moment.astimezone(ZoneInfo(zone)).replace(tzinfo=None)


RRULE_WEEKDAYS = ("MO", "TU", "WE", "TH", "FR", "SA", "SU")


def _rrule(text: str) -> str:
    """An RRULE without its prefix and without the default `INTERVAL=1` (RFC 5545)."""
    parts = text.removeprefix("RRULE:").split(";")
    return ";".join(p for p in parts if p.upper() != "INTERVAL=1")


def _event_key(event: ShiftEvent) -> tuple[Any, ...]:
    return (event.rotation, event.start, event.length, event.rrule,
            event.shifts_per_member, event.members)  # fmt: skip


def _rotation_from_events(events: list[ShiftEvent]) -> Json | None:
    """The config rotation whose events (oncall.rotation.rotation_events) these are, if one
    plainly is: one back-to-back event, or one event per weekly/daily window."""
    first = events[0]
    if any(e.members != first.members or e.rotation != first.rotation for e in events):
        return None
    if any(m.startswith("?") for m in first.members) or not first.members:
        return None
    rotation: Json = {"name": re.sub(r" \(\d+\)$", "", first.name) or None,
                      "participants": list(first.members)}  # fmt: skip
    if len(events) == 1 and "BYDAY" not in first.rrule and first.rrule != "FREQ=DAILY":
        rotation.update(turn=format_duration(first.length),
                        first_handoff=first.start.date().isoformat(),
                        handoff_time=first.start.strftime("%H:%M"))  # fmt: skip
        if first.shifts_per_member != 1:
            rotation["shifts_per_member"] = first.shifts_per_member
        return rotation
    restrictions, turns = [], set()
    for event in events:
        weekly = re.fullmatch(r"FREQ=WEEKLY;BYDAY=(MO|TU|WE|TH|FR|SA|SU)", event.rrule)
        if weekly is None and event.rrule != "FREQ=DAILY":
            return None
        restriction: Json = {"type": "weekly" if weekly else "daily"}
        if weekly:
            restriction["start_day"] = DAYS_OF_WEEK[RRULE_WEEKDAYS.index(weekly.group(1))]
        restriction["start_time"] = event.start.strftime("%H:%M")
        restriction["duration"] = format_duration(event.length)
        restrictions.append(restriction)
        turns.add(timedelta(days=7 if weekly else 1) * event.shifts_per_member)
    if len(turns) != 1:
        return None
    handoff = min(e.start for e in events)
    rotation.update(turn=format_duration(turns.pop()), first_handoff=handoff.date().isoformat(),
                    handoff_time=handoff.strftime("%H:%M"), restrictions=restrictions)  # fmt: skip
    return rotation


def import_snapshot(
    snap: Snapshot,
    *,
    org_name: str,
    time_zone: str = "UTC",
    hints: OrgConfig | None = None,
    now: datetime,
) -> ImportResult:
    """The org config for `snap`, what it could not express, and the ids to adopt."""
    importer = _Importer(snap, hints, now)
    people = importer.people()
    teams = importer.teams()
    schedules = importer.schedules()
    policies = importer.policies()
    services = importer.services({p["id"] for p in policies})
    config: Json = {"org": {"name": org_name, "time_zone": time_zone}, "people": people}
    if teams:
        config["teams"] = teams
    if schedules:
        config["schedules"] = schedules
    config["escalation_policies"] = policies
    config["services"] = services
    if importer.result_overrides:
        config["overrides"] = importer.result_overrides
    importer.result.config = config
    return importer.result


@dataclass(frozen=True)
class Registered:
    """One resource the program registers (from the recording mocks' plan)."""

    type: str
    name: str
    parent: str | None  # "type::name" of its parent, None under the stack
    custom: bool


def bulk_import_file(
    registered: list[Registered], import_ids: dict[tuple[str, str], str], provider_version: str
) -> tuple[Json, list[Registered]]:
    """Pulumi's bulk import file (`pulumi import --file`) for the PagerDuty resources the
    program registers, and the registered PagerDuty resources that have no PagerDuty object
    to adopt (the first `pulumi up` creates those).

    Format (Pulumi docs, "pulumi import", bulk import; engine >= 3.94 imports the component
    parents in the same file): each entry has `type`, `name` (the file's own reference, unique
    here), `logicalName` (the Pulumi resource name the program uses), `id` (the provider's
    import id, e.g. `SERVICE.INTEGRATION` or `USER:TEAM`), `parent` (another entry's `name`)
    and `version`; parents are `"component": true` entries, so every URN equals the one the
    program registers and `pulumi up` afterwards creates nothing new.
    """
    by_key = {f"{r.type}::{r.name}": r for r in registered}
    refs: dict[str, str] = {}
    entries: list[Json] = []
    missing: list[Registered] = []

    def ref(resource: Registered) -> str:
        key = f"{resource.type}::{resource.name}"
        if key in refs:
            return refs[key]
        parent = by_key.get(resource.parent) if resource.parent else None
        parent_ref = ref(parent) if parent is not None else None
        kind = resource.type.rsplit(":", 1)[-1]
        name = f"{resource.name}-{kind}{'' if resource.custom else '-component'}".lower()
        while name in refs.values():
            name += "-x"
        refs[key] = name
        entry: Json = {"type": resource.type, "name": name, "logicalName": resource.name}
        if resource.custom:
            entry["id"] = import_ids[(resource.type, resource.name)]
            entry["version"] = provider_version
        else:
            entry["component"] = True
        if parent_ref is not None:
            entry["parent"] = parent_ref
        entries.append(entry)
        return name

    for resource in registered:
        if not (resource.custom and resource.type.startswith("pagerduty:")):
            continue
        if (resource.type, resource.name) not in import_ids:
            missing.append(resource)
            continue
        ref(resource)
    return {"resources": entries}, missing
