"""Round trip: import the seeded account and compare the imported config with what the
account holds: the same person on call at every minute of the next 12 months, the same
escalation order and timings, the same service wiring (the last two as the program renders
them under the recording mocks).

The account side is evaluated by a small evaluator of PagerDuty's legacy layer semantics
written here (wall-clock turns in the schedule's zone, restrictions, layers, overrides on
top); the config side by the project's own expansion (`oncall.rotation.on_call`, RFC 5545 in
the schedule's zone). An importer mistake in hand-off, zone, turn, order, restriction or
override shows as a moment where they differ.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, datetime, time, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from irctl.plan import Plan, record_program
from oncall.rotation import on_call
from orgconfig.load import load_config
from orgconfig.model import OrgConfig
from sandbox.pagerduty import FakePagerDutyServer
from sandbox.pagerduty_account import Account, account_from_data
from tests.adopt.conftest import import_account, realistic_account, seeded

START = datetime(2026, 12, 7, tzinfo=UTC)
END = START + timedelta(days=365)
SCHEDULES = ("pagerduty:index/schedulev2:Schedulev2", "pagerduty:index/schedule:Schedule")
POLICY = "pagerduty:index/escalationPolicy:EscalationPolicy"
SERVICE = "pagerduty:index/service:Service"
INTEGRATION = "pagerduty:index/serviceIntegration:ServiceIntegration"
RoundTrip = tuple[Account, Plan, str, OrgConfig]


def _at(moment: str) -> datetime:
    return datetime.fromisoformat(moment.replace("Z", "+00:00"))


def _windows(restriction: dict[str, Any], zone: ZoneInfo) -> Iterator[tuple[datetime, datetime]]:
    """A restriction's open windows in UTC, over the comparison period (plus margins)."""
    hh, mm, ss = (int(x) for x in str(restriction["start_time_of_day"]).split(":"))
    day = (START - timedelta(days=8)).astimezone(zone).date()
    while day <= END.astimezone(zone).date():
        weekly = restriction["type"] == "weekly_restriction"
        if not weekly or day.isoweekday() == int(restriction["start_day_of_week"]):
            opens = datetime.combine(day, time(hh, mm, ss), zone)
            closes = opens + timedelta(seconds=int(restriction["duration_seconds"]))
            yield opens.astimezone(UTC), closes.astimezone(UTC)
        day += timedelta(days=1)


class Layer:
    """PagerDuty's legacy layer semantics: turn `floor((t - virtual start) / turn) mod n`
    counted in the schedule's wall-clock time (a 09:00 hand-off stays 09:00 across DST, see
    FACTS.md), only between `start` and `end`, only inside the restrictions."""

    def __init__(self, raw: dict[str, Any], users: list[str], zone: str) -> None:
        self.tz = ZoneInfo(zone)
        self.start = _at(raw["start"])
        self.end = _at(raw["end"]) if raw.get("end") else None
        self.origin = self.wall(_at(raw.get("rotation_virtual_start", raw["start"])))
        self.turn = timedelta(seconds=int(raw["rotation_turn_length_seconds"]))
        self.users = users
        self.windows = [w for r in raw.get("restrictions") or [] for w in _windows(r, self.tz)]

    def wall(self, moment: datetime) -> datetime:
        return moment.astimezone(self.tz).replace(tzinfo=None)

    def who(self, moment: datetime) -> str | None:
        if moment < self.start or (self.end is not None and moment >= self.end):
            return None
        if self.windows and not any(lo <= moment < hi for lo, hi in self.windows):
            return None
        return self.users[((self.wall(moment) - self.origin) // self.turn) % len(self.users)]

    def changes(self) -> set[datetime]:
        points = {self.start, *(edge for w in self.windows for edge in w)}
        index = (self.wall(START) - self.origin) // self.turn - 1
        while (at := (self.origin + index * self.turn).replace(tzinfo=self.tz)) < END:
            points.add(at.astimezone(UTC))
            index += 1
        return points


def account_on_call(
    account: Account, schedule: dict[str, Any]
) -> tuple[Callable[[datetime], str | None], set[datetime]]:
    """Who the account has on call (an override on top, else the highest layer with
    somebody on call) and the moments where that can change."""
    email = {u["id"]: u["email"] for u in account.users.values()}
    layers = [
        Layer(r, [email[u] for u in r["users"]], schedule["time_zone"])
        for r in reversed(schedule["layers"])
    ]
    overrides = [
        (_at(o["start"]), _at(o["end"]), email[o["user"]])
        for o in account.overrides
        if o["schedule"] == schedule["id"]
    ]

    def who(moment: datetime) -> str | None:
        for lo, hi, person in overrides:
            if lo <= moment < hi:
                return person
        for layer in layers:
            if (person := layer.who(moment)) is not None:
                return person
        return None

    edges = {edge for lo, hi, _ in overrides for edge in (lo, hi)}
    return who, edges.union(*(layer.changes() for layer in layers))


@pytest.fixture(scope="module")
def round_trip(tmp_path_factory: pytest.TempPathFactory) -> RoundTrip:
    account = realistic_account()
    config_file = tmp_path_factory.mktemp("round-trip") / "acme.yaml"
    with FakePagerDutyServer(seeded(account)) as server:
        code, output = import_account(server.url, config_file, "--org-name", "Acme")
    assert code == 0, output
    plan = record_program(
        "prod", Path(config_file), {"incident-response:pageTestService": "public-api"}
    )
    return account, plan, output, load_config(config_file)


def _plan_emails(account: Account) -> dict[str, str]:
    # The recording mocks answer get_user(email) with id "user-<local part>".
    return {f"user-{u['email'].split('@')[0]}": u["email"] for u in account.users.values()}


@pytest.mark.parametrize("schedule_id", ["PSCH002", "PSCH003", "PSCH001"])
def test_the_same_person_is_on_call_at_every_minute_for_12_months(
    round_trip: RoundTrip, schedule_id: str
) -> None:
    account, _, output, org = round_trip
    schedule = account.schedules[schedule_id]
    theirs, changes = account_on_call(account, schedule)
    config_schedule = next(s for s in org.schedules if s.name == schedule["name"])
    ours = [
        (s.start, s.end, org.person(s.person_id).email)
        for s in on_call(config_schedule, org.overrides, START, END)
    ]

    def config_who(moment: datetime) -> str | None:
        found = [person for lo, hi, person in ours if lo <= moment < hi]
        assert len(found) <= 1, f"two people at once at {moment}: {found}"
        return found[0] if found else None

    # Both sides are constant between consecutive change points of either side.
    moments = sorted(
        m
        for m in {START, *changes, *(edge for lo, hi, _ in ours for edge in (lo, hi))}
        if START <= m < END
    )
    differing = [m for m in moments if theirs(m) != config_who(m)]
    assert differing == [], f"{schedule['name']}: first differences at {differing[:3]}"
    assert len(moments) > 50  # the comparison really walked the year's hand-offs
    # Every layer is kept, in order (PSCH001: three layers with restrictions, across both
    # Berlin DST changes of 2027), and none is reported as left out.
    assert [layer.name for layer in config_schedule.layers] == [
        layer["name"] for layer in schedule["layers"]
    ]
    for layer in schedule["layers"]:
        assert f"layer '{layer['name']}'" not in output


def test_escalation_order_and_timings_are_the_same(round_trip: RoundTrip) -> None:
    account, plan, _, _ = round_trip
    emails = _plan_emails(account)
    schedule_names = {
        f"{r.name}-id": r.inputs["name"] for kind in SCHEDULES for r in plan.of_type(kind)
    }
    for policy in account.escalation_policies.values():
        rendered = next(r for r in plan.of_type(POLICY) if r.inputs["name"] == policy["name"])
        ours = [
            (
                int(rule["escalationDelayInMinutes"]),
                [
                    schedule_names[t["id"]]
                    if t["type"] == "schedule_reference"
                    else emails[t["id"]]
                    for t in rule["targets"]
                ],
            )
            for rule in rendered.inputs["rules"]
        ]
        theirs = [
            (
                rule["escalation_delay_in_minutes"],
                [
                    account.schedules[t["id"]]["name"]
                    if t["type"] == "schedule_reference"
                    else account.users[t["id"]]["email"]
                    for t in rule["targets"]
                ],
            )
            for rule in policy["rules"]
        ]
        assert ours == theirs, policy["name"]
        assert int(rendered.inputs["numLoops"]) == policy["num_loops"]


def test_services_are_wired_the_same(round_trip: RoundTrip) -> None:
    account, plan, output, _ = round_trip
    policy_names = {f"{r.name}-id": r.inputs["name"] for r in plan.of_type(POLICY)}
    integrations = {r.parent for r in plan.of_type(INTEGRATION)}
    for service in account.services.values():
        rendered = next(r for r in plan.of_type(SERVICE) if r.inputs["name"] == service["name"])
        inputs = rendered.inputs
        policy = account.escalation_policies[service["escalation_policy"]]["name"]
        assert policy_names[inputs["escalationPolicy"]] == policy
        for ours, theirs in (
            (inputs["acknowledgementTimeout"], service["acknowledgement_timeout"]),
            (inputs["autoResolveTimeout"], service["auto_resolve_timeout"]),
        ):
            assert ours == ("null" if theirs is None else str(theirs))
        rule = service["incident_urgency_rule"]
        if rule["type"] == "constant":
            assert inputs["incidentUrgencyRule"] == rule
        else:  # support hours: one urgency in the config, the rest reported by name
            assert (
                inputs["incidentUrgencyRule"]["urgency"] == rule["during_support_hours"]["urgency"]
            )
            assert f"service {service['name']}: urgency follows support hours" in output
        # Each service keeps an Events API v2 integration next to it.
        assert rendered.parent in integrations


WEEKDAY_WEEKEND = {
    "users": [
        {"id": "PU1", "name": "Ann Berg", "email": "ann@x.example", "job_title": "SRE"},
        {"id": "PU2", "name": "Bo Chan", "email": "bo@x.example", "job_title": "SRE"},
        {"id": "PU3", "name": "Cy Dunn", "email": "cy@x.example", "job_title": "SRE"},
    ],
    "schedules": [
        {"id": "PS1", "name": "Weekday and weekend", "time_zone": "Europe/Berlin", "layers": [
            {"id": "PL1", "name": "Weekdays", "start": "2026-01-05T09:00:00+01:00",
             "rotation_turn_length_seconds": 604800, "users": ["PU1", "PU2"],
             "restrictions": [{"type": "weekly_restriction", "start_day_of_week": 1,
                               "start_time_of_day": "09:00:00", "duration_seconds": 432000}]},
            {"id": "PL2", "name": "Weekends", "start": "2026-01-10T09:00:00+01:00",
             "rotation_turn_length_seconds": 604800, "users": ["PU3", "PU2"],
             "restrictions": [{"type": "weekly_restriction", "start_day_of_week": 6,
                               "start_time_of_day": "09:00:00", "duration_seconds": 172800}]},
        ]},
    ],
    "escalation_policies": [
        {"id": "PP1", "name": "Ops", "rules": [{"escalation_delay_in_minutes": 30, "targets": [
            {"type": "schedule_reference", "id": "PS1"}]}]}
    ],
    "services": [{"id": "PV1", "name": "Api", "escalation_policy": "PP1"}],
}  # fmt: skip


def test_layers_that_never_overlap_are_kept_as_layers(tmp_path: Path) -> None:
    account = account_from_data(WEEKDAY_WEEKEND)
    config_file = tmp_path / "ww.yaml"
    with FakePagerDutyServer(seeded(account)) as server:
        code, output = import_account(server.url, config_file)
    assert code == 0, output
    assert "not imported" not in output
    org = load_config(config_file)
    (schedule,) = org.schedules
    assert [(r.name, r.participants) for r in schedule.layers] == [
        ("Weekdays", ["ann-berg", "bo-chan"]),
        ("Weekends", ["cy-dunn", "bo-chan"]),
    ]
    theirs, changes = account_on_call(account, account.schedules["PS1"])
    ours = [
        (s.start, s.end, org.person(s.person_id).email) for s in on_call(schedule, [], START, END)
    ]
    moments = sorted(
        m
        for m in {START, *changes, *(e for lo, hi, _ in ours for e in (lo, hi))}
        if START <= m < END
    )
    for moment in moments:
        found = [person for lo, hi, person in ours if lo <= moment < hi]
        assert found == [theirs(moment)], moment
    assert len(moments) > 100
