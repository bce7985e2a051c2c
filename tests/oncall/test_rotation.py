"""Rotation expansion behaves like a PagerDuty layer: turns in order, no overlaps, no holes."""

from __future__ import annotations

import itertools
from datetime import UTC, date, datetime, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from oncall.coverage import gaps
from oncall.rotation import first_handoff_utc, on_call_at, shifts
from orgconfig.load import load_config
from orgconfig.model import Restriction, Rotation, Schedule
from tests.conftest import PROD


def make_schedule(participants: list[str], turn_hours: int, tz: str = "UTC", **kw) -> Schedule:
    return Schedule(
        id="s",
        name="S",
        time_zone=tz,
        rotation=Rotation(
            participants=participants,
            turn=timedelta(hours=turn_hours),
            first_handoff=date(2026, 1, 5),
            handoff_time="09:00",
        ),
        **kw,
    )


def test_example_org_primary_alternates_two_week_turns() -> None:
    primary = load_config(PROD).schedule("platform-primary")
    # Weeks 1-2 DevOps Team Lead, weeks 3-4 Senior SRE, from the first hand-off on.
    start = first_handoff_utc(primary)
    assert start == datetime(2026, 1, 5, 8, 0, tzinfo=UTC)  # 09:00 Berlin in winter
    people = [on_call_at(primary, start + timedelta(weeks=w, hours=1)) for w in range(6)]
    assert people == ["alex-rivera"] * 2 + ["sam-okafor"] * 2 + ["alex-rivera"] * 2


@settings(max_examples=60, deadline=None)
@given(
    count=st.integers(min_value=1, max_value=5),
    turn_hours=st.integers(min_value=1, max_value=24 * 21),
    offset_hours=st.integers(min_value=0, max_value=24 * 400),
    span_hours=st.integers(min_value=1, max_value=24 * 60),
)
def test_turns_cover_the_window_in_rotation_order(
    count: int, turn_hours: int, offset_hours: int, span_hours: int
) -> None:
    people = [f"p{i}" for i in range(count)]
    schedule = make_schedule(people, turn_hours)
    start = first_handoff_utc(schedule) + timedelta(hours=offset_hours)
    end = start + timedelta(hours=span_hours)
    found = shifts(schedule, start, end)
    assert gaps([(s.start, s.end) for s in found], start, end) == []
    for before, after in itertools.pairwise(found):
        assert before.end == after.start
        assert people.index(after.person_id) == (people.index(before.person_id) + 1) % count
    assert all(s.end - s.start <= timedelta(hours=turn_hours) for s in found)


def test_business_hours_restriction_leaves_nights_and_weekends_uncovered() -> None:
    schedule = make_schedule(
        ["p0"],
        24 * 7,
        tz="Europe/Berlin",
        restrictions=[
            Restriction(type="daily", start_time="09:00", duration=timedelta(hours=8)),
        ],
    )
    start = datetime(2026, 3, 2, tzinfo=UTC)  # a Monday
    found = shifts(schedule, start, start + timedelta(days=1))
    assert [(s.start.hour, s.end.hour) for s in found] == [(8, 16)]  # 09-17 Berlin = 08-16 UTC
