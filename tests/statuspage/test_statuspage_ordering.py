"""Property: any order and any number of deliveries of two alert episodes ends in the state
the latest episode says, with at most one incident per episode and never two open."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from live_service import make_config

from statuspage.store import AlertEvent, Store

EPISODES = [datetime(2026, 1, 1, 10, tzinfo=UTC), datetime(2026, 1, 1, 12, tzinfo=UTC)]
_counter = itertools.count()


def _event(episode: int, firing: bool) -> AlertEvent:
    starts = EPISODES[episode]
    return AlertEvent(
        fingerprint="f1",
        component_id="api",
        severity="critical",
        firing=firing,
        starts_at=starts,
        ends_at=None if firing else starts + timedelta(minutes=30),
        title="Orders are failing",
        message=None,
    )


deliveries = st.lists(st.tuples(st.integers(0, 1), st.booleans()), min_size=1, max_size=12)


@settings(
    max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(deliveries)
def test_any_delivery_order_converges(tmp_path: Path, sequence: list[tuple[int, bool]]) -> None:
    store = Store(f"sqlite:///{tmp_path / f'{next(_counter)}.db'}", make_config())
    store.migrate()
    try:
        for episode, firing in sequence:
            store.apply_alerts([_event(episode, firing)])
            view = store.read_view()
            assert len(view.unresolved_incidents()) <= 1
        view = store.read_view()
        latest = max(e for e, _ in sequence)
        latest_resolved = (latest, False) in sequence
        if latest_resolved:
            assert view.components["api"].status == "operational"
            assert view.unresolved_incidents() == []
        else:
            assert view.components["api"].status == "major_outage"
            assert len(view.unresolved_incidents()) == 1
        fired_episodes = {e for e, firing in sequence if firing}
        assert len(view.incidents) <= len(fired_episodes)
    finally:
        store.dispose()
