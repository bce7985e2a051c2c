"""Property: any order and any number of deliveries of two alert episodes ends in the state
the latest episode says, with at most one incident per episode and never two open."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from live_service import make_config
from sqlalchemy import delete

from statuspage import schema
from statuspage.store import AlertEvent, Store

EPISODES = [datetime(2026, 1, 1, 10, tzinfo=UTC), datetime(2026, 1, 1, 12, tzinfo=UTC)]


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


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Store]:
    store = Store(f"sqlite:///{tmp_path_factory.mktemp('ordering') / 's.db'}", make_config())
    store.migrate()
    yield store
    store.dispose()


deliveries = st.lists(st.tuples(st.integers(0, 1), st.booleans()), min_size=1, max_size=8)


@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(deliveries)
def test_any_delivery_order_converges(store: Store, sequence: list[tuple[int, bool]]) -> None:
    with store.engine.begin() as conn:
        for table in (schema.alert, schema.incident, schema.incident_update):
            conn.execute(delete(table))
    for episode, firing in sequence:
        store.apply_alerts([_event(episode, firing)])
        assert len(store.read_view().unresolved_incidents()) <= 1
    view = store.read_view()
    latest = max(e for e, _ in sequence)
    if (latest, False) in sequence:
        assert view.components["api"].status == "operational"
        assert view.unresolved_incidents() == []
    else:
        assert view.components["api"].status == "major_outage"
        assert len(view.unresolved_incidents()) == 1
    fired_episodes = {e for e, firing in sequence if firing}
    assert len(view.incidents) <= len(fired_episodes)
