"""Cumulative `after` times become PagerDuty's per-rule delays, and back."""

from __future__ import annotations

from datetime import timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from oncall.escalation import cumulative_afters, rule_delays, rules
from orgconfig.load import load_config
from tests.conftest import PROD

minutes = st.integers(min_value=1, max_value=24 * 60)


def test_example_org_ladder_becomes_15_15_30_and_the_loop_delay() -> None:
    policy = load_config(PROD).policy("platform")
    assert [r.delay_minutes for r in rules(policy)] == [15, 15, 30, 30]
    assert [r.targets for r in rules(policy)] == [
        (("schedule", "platform-primary"),),
        (("schedule", "platform-backup"),),
        (("person", "morgan-chen"),),
        (("person", "casey-novak"),),
    ]


@given(gaps=st.lists(minutes, min_size=0, max_size=9), loop=minutes)
def test_delays_round_trip_to_the_configured_afters(gaps: list[int], loop: int) -> None:
    afters = [timedelta(0)]
    for gap in gaps:
        afters.append(afters[-1] + timedelta(minutes=gap))
    delays = rule_delays(afters, timedelta(minutes=loop))
    assert len(delays) == len(afters)
    assert all(d >= 1 for d in delays)
    assert delays[-1] == loop
    assert cumulative_afters(delays) == afters
    # The incident reaches tier k exactly at the sum of the delays before it.
    assert sum(delays[:-1]) == afters[-1].total_seconds() // 60


def test_rejects_a_ladder_not_starting_at_zero() -> None:
    with pytest.raises(ValueError, match="first tier"):
        rule_delays([timedelta(minutes=5)], timedelta(minutes=30))
