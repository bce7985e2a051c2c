"""The schedule engine: RFC 5545 events in the schedule's zone, hand-offs on local wall-clock time.

The DST expectations are computed by hand from the 2027 transitions:
- Europe/Berlin: CET (UTC+1) -> CEST (UTC+2) on Sun 2027-03-28, back on Sun 2027-10-31;
- America/New_York: EST (UTC-5) -> EDT (UTC-4) on Sun 2027-03-14, back on Sun 2027-11-07;
- Asia/Singapore: UTC+8 all year.
A 09:00 daily hand-off is therefore 08:00Z/07:00Z in Berlin, 14:00Z/13:00Z in New York and
always 01:00Z in Singapore, and the shift that spans the change lasts 23 h or 25 h.
"""

from __future__ import annotations

import itertools
from datetime import UTC, date, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from oncall.coverage import gaps
from oncall.rotation import OVERRIDE, on_call, on_call_at, rotation_events, shifts
from orgconfig.load import load_config
from orgconfig.model import FollowTheSun, Override, Restriction, Rotation, Schedule
from tests.conftest import PROD


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)  # type: ignore[misc]


def make_schedule(
    participants: list[str], turn: timedelta, tz: str = "UTC", first: date = date(2026, 1, 5), **kw
) -> Schedule:
    rotation = Rotation(
        participants=participants,
        turn=turn,
        first_handoff=first,
        handoff_time=kw.pop("handoff_time", "09:00"),
        restrictions=kw.pop("restrictions", []),
        shifts_per_member=kw.pop("shifts_per_member", 1),
    )
    return Schedule(id="s", name="S", time_zone=tz, rotation=rotation, **kw)


def handoffs(schedule: Schedule, start: datetime, end: datetime) -> list[tuple[datetime, str]]:
    return [(s.start, s.person_id) for s in shifts(schedule, start, end) if s.start > start]


def test_example_org_primary_alternates_two_week_turns() -> None:
    primary = load_config(PROD).schedule("platform-primary")
    (event,) = rotation_events(primary)
    assert (event.rrule, event.start, event.length) == (
        "FREQ=WEEKLY;INTERVAL=2",
        datetime(2026, 1, 5, 9, 0),
        timedelta(weeks=2),
    )
    first = utc(2026, 1, 5, 8)  # 09:00 Berlin in winter
    people = [on_call_at(primary, first + timedelta(weeks=w, hours=1)) for w in range(6)]
    assert people == ["alex-rivera"] * 2 + ["sam-okafor"] * 2 + ["alex-rivera"] * 2


@pytest.mark.parametrize(
    ("zone", "spring", "autumn"),
    [
        # (Sat hand-off, Sun hand-off, Mon hand-off) in UTC around each change
        (
            "Europe/Berlin",
            [utc(2027, 3, 27, 8), utc(2027, 3, 28, 7), utc(2027, 3, 29, 7)],
            [utc(2027, 10, 30, 7), utc(2027, 10, 31, 8), utc(2027, 11, 1, 8)],
        ),
        (
            "America/New_York",
            [utc(2027, 3, 13, 14), utc(2027, 3, 14, 13), utc(2027, 3, 15, 13)],
            [utc(2027, 11, 6, 13), utc(2027, 11, 7, 14), utc(2027, 11, 8, 14)],
        ),
        (
            "Asia/Singapore",
            [utc(2027, 3, 27, 1), utc(2027, 3, 28, 1), utc(2027, 3, 29, 1)],
            [utc(2027, 10, 30, 1), utc(2027, 10, 31, 1), utc(2027, 11, 1, 1)],
        ),
    ],
)
def test_daily_handoff_keeps_local_time_across_both_dst_changes(
    zone: str, spring: list[datetime], autumn: list[datetime]
) -> None:
    schedule = make_schedule(["a", "b"], timedelta(days=1), tz=zone, first=date(2027, 1, 4))
    for expected in (spring, autumn):
        window = (expected[0] - timedelta(hours=1), expected[-1] + timedelta(hours=1))
        found = handoffs(schedule, *window)
        assert [at for at, _ in found] == expected
        assert {person for _, person in found} == {"a", "b"}  # they alternate daily


def test_berlin_weekly_turn_spanning_the_change_is_an_hour_short_or_long() -> None:
    schedule = make_schedule(["a", "b"], timedelta(weeks=1), tz="Europe/Berlin")
    spring = shifts(schedule, utc(2027, 3, 22, 12), utc(2027, 3, 22, 13))[0]
    found = shifts(schedule, utc(2027, 3, 22), utc(2027, 4, 6))
    assert [(s.start, s.end) for s in found[1:3]] == [
        (utc(2027, 3, 22, 8), utc(2027, 3, 29, 7)),  # 167 h
        (utc(2027, 3, 29, 7), utc(2027, 4, 5, 7)),
    ]
    assert spring.person_id == found[1].person_id
    autumn = shifts(schedule, utc(2027, 10, 25), utc(2027, 11, 2))
    assert [s.start for s in autumn[1:]] == [utc(2027, 10, 25, 7), utc(2027, 11, 1, 8)]


def test_business_hours_restriction_follows_local_time() -> None:
    schedule = make_schedule(
        ["p0"],
        timedelta(weeks=1),
        tz="Europe/Berlin",
        restrictions=[Restriction(type="daily", start_time="09:00", duration=timedelta(hours=8))],
    )
    winter = shifts(schedule, utc(2027, 3, 1), utc(2027, 3, 2))
    summer = shifts(schedule, utc(2027, 7, 5), utc(2027, 7, 6))
    assert [(s.start.hour, s.end.hour) for s in winter] == [(8, 16)]  # 09-17 CET
    assert [(s.start.hour, s.end.hour) for s in summer] == [(7, 15)]  # 09-17 CEST


def test_restricted_rotation_keeps_a_member_for_the_whole_turn() -> None:
    schedule = make_schedule(
        ["a", "b"],
        timedelta(weeks=1),
        restrictions=[
            Restriction(type="weekly", start_day="mon", start_time="09:00", duration="5d")
        ],
    )
    (event,) = rotation_events(schedule)
    assert (event.rrule, event.shifts_per_member) == ("FREQ=WEEKLY;BYDAY=MO", 1)
    weekdays = shifts(schedule, utc(2026, 1, 5), utc(2026, 1, 19))
    assert [(s.start, s.end, s.person_id) for s in weekdays] == [
        (utc(2026, 1, 5, 9), utc(2026, 1, 10, 9), "a"),
        (utc(2026, 1, 12, 9), utc(2026, 1, 17, 9), "b"),
    ]
    daily = make_schedule(
        ["a", "b"],
        timedelta(weeks=1),
        restrictions=[Restriction(type="daily", start_time="09:00", duration="8h")],
    )
    (event,) = rotation_events(daily)
    assert (event.rrule, event.shifts_per_member) == ("FREQ=DAILY", 7)
    people = [s.person_id for s in shifts(daily, utc(2026, 1, 5), utc(2026, 1, 19))]
    assert people == ["a"] * 7 + ["b"] * 7


def test_shifts_per_member_keeps_each_person_for_several_turns() -> None:
    schedule = make_schedule(["a", "b"], timedelta(days=1), shifts_per_member=3)
    people = [s.person_id for s in shifts(schedule, utc(2026, 1, 5, 9), utc(2026, 1, 17, 9))]
    assert people == ["a"] * 3 + ["b"] * 3 + ["a"] * 3 + ["b"] * 3


def test_several_rotations_weekday_and_weekend() -> None:
    schedule = Schedule(
        id="s",
        name="S",
        time_zone="UTC",
        rotations=[
            Rotation(
                name="Weekdays",
                participants=["a", "b"],
                turn="1w",
                first_handoff=date(2026, 1, 5),
                handoff_time="00:00",
                restrictions=[
                    Restriction(type="weekly", start_day="mon", start_time="00:00", duration="5d")
                ],
            ),
            Rotation(
                name="Weekends",
                participants=["c"],
                turn="1w",
                first_handoff=date(2026, 1, 10),
                handoff_time="00:00",
                restrictions=[
                    Restriction(type="weekly", start_day="sat", start_time="00:00", duration="2d")
                ],
            ),
        ],
    )
    found = shifts(schedule, utc(2026, 1, 5), utc(2026, 1, 19))
    assert gaps([(s.start, s.end) for s in found], utc(2026, 1, 5), utc(2026, 1, 19)) == []
    assert [s.person_id for s in found] == ["a", "c", "b", "c"]


def test_follow_the_sun_expands_to_one_daily_rotation_per_region() -> None:
    template = FollowTheSun(
        first_handoff=date(2027, 1, 4),
        regions=[
            {
                "name": "APAC",
                "participants": ["a1", "a2"],
                "start_time": "00:00",
                "end_time": "08:00",
            },
            {"name": "EMEA", "participants": ["e1"], "start_time": "08:00", "end_time": "16:00"},
            {"name": "AMER", "participants": ["u1"], "start_time": "16:00", "end_time": "00:00"},
        ],
    )
    schedule = Schedule(id="s", name="S", time_zone="UTC", follow_the_sun=template)
    events = rotation_events(schedule)
    assert [(e.name, e.rrule, e.length, e.shifts_per_member) for e in events] == [
        ("APAC", "FREQ=DAILY", timedelta(hours=8), 7),
        ("EMEA", "FREQ=DAILY", timedelta(hours=8), 7),
        ("AMER", "FREQ=DAILY", timedelta(hours=8), 7),
    ]
    day = shifts(schedule, utc(2027, 1, 4), utc(2027, 1, 5))
    assert [(s.start.hour, s.person_id) for s in day] == [(0, "a1"), (8, "e1"), (16, "u1")]


@pytest.mark.parametrize(
    ("rotation", "message"),
    [
        (
            {
                "handoff_time": "12:00",
                "restrictions": [{"type": "daily", "start_time": "09:00", "duration": "8h"}],
            },
            "the hand-off at 12:00 falls inside the restriction window",
        ),
        (
            {
                "turn": "36h",
                "restrictions": [{"type": "daily", "start_time": "09:00", "duration": "8h"}],
            },
            "turn 1d12h is not a whole number of days",
        ),
        (
            {
                "restrictions": [
                    {"type": "daily", "start_time": f"{h:02d}:00", "duration": "1h"}
                    for h in range(9, 15)
                ]
            },
            "6 restrictions; each becomes a PagerDuty event and a rotation holds at most 5",
        ),
        (
            {
                "restrictions": [
                    {"type": "daily", "start_time": "09:00", "duration": "8h"},
                    {"type": "weekly", "start_day": "sat", "start_time": "10:00", "duration": "2h"},
                ]
            },
            "restriction windows overlap",
        ),
        (
            {"participants": [f"p{i}" for i in range(21)]},
            "21 participants; PagerDuty allows at most 20",
        ),
    ],
)
def test_rotations_pagerduty_cannot_hold_are_refused(rotation: dict, message: str) -> None:
    data = {"participants": ["a"], "turn": "1w", "first_handoff": "2026-01-05", **rotation}
    with pytest.raises(ValidationError, match=message):
        Rotation.model_validate(data)


def test_override_replaces_whoever_the_rotation_has_on_call() -> None:
    schedule = make_schedule(["a", "b"], timedelta(weeks=1))
    swap = Override.model_validate(
        {"schedule": "s", "person": "c", "from": "2026-01-06 12:00", "to": "2026-01-07 12:00"}
    )
    found = on_call(schedule, [swap], utc(2026, 1, 6), utc(2026, 1, 8))
    assert [(s.start, s.end, s.person_id, s.rotation == OVERRIDE) for s in found] == [
        (utc(2026, 1, 6), utc(2026, 1, 6, 12), "a", False),
        (utc(2026, 1, 6, 12), utc(2026, 1, 7, 12), "c", True),
        (utc(2026, 1, 7, 12), utc(2026, 1, 8), "a", False),
    ]


@settings(max_examples=60, deadline=None)
@given(
    count=st.integers(min_value=1, max_value=5),
    turn_hours=st.integers(min_value=1, max_value=24 * 21),
    offset_hours=st.integers(min_value=0, max_value=24 * 400),
    span_hours=st.integers(min_value=1, max_value=24 * 60),
    zone=st.sampled_from(["UTC", "Europe/Berlin", "America/New_York", "Asia/Singapore"]),
)
def test_turns_cover_the_window_in_rotation_order(
    count: int, turn_hours: int, offset_hours: int, span_hours: int, zone: str
) -> None:
    people = [f"p{i}" for i in range(count)]
    schedule = make_schedule(people, timedelta(hours=turn_hours), tz=zone, handoff_time="12:00")
    start = utc(2026, 1, 6) + timedelta(hours=offset_hours)
    end = start + timedelta(hours=span_hours)
    found = shifts(schedule, start, end)
    assert gaps([(s.start, s.end) for s in found], start, end) == []
    for before, after in itertools.pairwise(found):
        assert before.end == after.start
        assert people.index(after.person_id) == (people.index(before.person_id) + 1) % count
    # wall-clock turns: at most an hour longer than nominal across a DST change
    assert all(s.end - s.start <= timedelta(hours=turn_hours + 1) for s in found)


@settings(max_examples=60, deadline=None)
@given(
    count=st.integers(min_value=1, max_value=4),
    turn_minutes=st.integers(min_value=60, max_value=60 * 24 * 30),
    offset_minutes=st.integers(min_value=0, max_value=60 * 24 * 500),
)
def test_original_rotation_form_gives_the_same_turns_as_before_in_utc(
    count: int, turn_minutes: int, offset_minutes: int
) -> None:
    """Existing files are a contract: in a zone without DST the engine picks exactly the
    person the layer formula did, participant floor((t - first hand-off) / turn) mod n."""
    people = [f"p{i}" for i in range(count)]
    schedule = make_schedule(people, timedelta(minutes=turn_minutes))
    origin = utc(2026, 1, 5, 9)
    moment = origin + timedelta(minutes=offset_minutes, seconds=30)
    expected = people[int((moment - origin) / timedelta(minutes=turn_minutes)) % count]
    assert on_call_at(schedule, moment) == expected


def test_an_override_where_nobody_is_on_call_adds_nobody() -> None:
    schedule = make_schedule(
        ["a"],
        timedelta(weeks=1),
        restrictions=[Restriction(type="daily", start_time="09:00", duration="8h")],
    )
    night = Override.model_validate(
        {"schedule": "s", "person": "c", "from": "2026-01-06 15:00", "to": "2026-01-07 03:00"}
    )
    found = on_call(schedule, [night], utc(2026, 1, 6), utc(2026, 1, 7))
    assert [(s.start.hour, s.end.hour, s.person_id) for s in found] == [(9, 15, "a"), (15, 17, "c")]
