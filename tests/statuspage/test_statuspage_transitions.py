"""The incident and maintenance state machines as plain functions: no database, no server."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from statuspage import transitions as t
from statuspage.state import Incident

T0 = datetime(2030, 1, 1, 9, 0, tzinfo=UTC)
WINDOW = (T0 + timedelta(hours=1), T0 + timedelta(hours=3))  # 10:00-12:00


def _incident(**kw: object) -> Incident:
    change = t.open_incident(
        incident_id="inc1",
        update_id="u1",
        name="Orders are failing",
        status="investigating",
        body="Looking.",
        impact="critical",
        components=["api"],
        now=T0,
        automated=True,
        affected=[],
        **kw,  # type: ignore[arg-type]
    )
    return change.incident


def _update(inc: Incident, status: str, at: datetime, by_person: bool = True) -> t.Change:
    return t.post_update(
        inc,
        status=status,
        body=status,
        now=at,
        update_id=f"u-{status}",
        affected=[],
        by_person=by_person,
    )


def _maintenance() -> Incident:
    return t.schedule_maintenance(
        maintenance_id="m1",
        update_id="u1",
        name="Database upgrade",
        body="Planned.",
        scheduled_for=WINDOW[0],
        scheduled_until=WINDOW[1],
        components=["db"],
        now=T0,
        affected=[],
    ).incident


def _kinds(change: t.Change) -> list[str]:
    return [e.kind for e in change.effects]


def test_opening_announces_creation_and_starts_when_the_alert_did() -> None:
    change = t.open_incident(
        incident_id="inc1",
        update_id="u1",
        name="n",
        status="investigating",
        body="b",
        impact="critical",
        components=["api"],
        now=T0,
        automated=True,
        affected=[],
        started_at=T0 - timedelta(minutes=7),
    )
    assert change.created and change.update is not None
    assert change.incident.started_at == T0 - timedelta(minutes=7)
    assert _kinds(change) == ["incident_created"]


def test_resolving_twice_adds_one_update() -> None:
    resolved = _update(_incident(), "resolved", T0 + timedelta(minutes=30))
    assert _kinds(resolved) == ["incident_resolved"]
    assert resolved.incident.resolved_at == T0 + timedelta(minutes=30)
    again = _update(resolved.incident, "resolved", T0 + timedelta(minutes=40))
    assert again.update is None and again.effects == ()
    assert again.incident.resolved_at == T0 + timedelta(minutes=30)
    assert resolved.incident.duration == timedelta(minutes=30)


def test_reopening_clears_resolved_at_and_lists_it_again() -> None:
    resolved = _update(_incident(), "resolved", T0 + timedelta(minutes=30)).incident
    reopened = _update(resolved, "identified", T0 + timedelta(minutes=45))
    assert reopened.incident.resolved_at is None and reopened.incident.is_open
    assert reopened.incident.status == "identified"
    assert _kinds(reopened) == ["incident_updated"]


def test_a_postmortem_keeps_the_resolution_time() -> None:
    resolved = _update(_incident(), "resolved", T0 + timedelta(minutes=30)).incident
    postmortem = _update(resolved, "postmortem", T0 + timedelta(days=2))
    assert postmortem.incident.resolved_at == T0 + timedelta(minutes=30)
    assert postmortem.update is not None and postmortem.update.status == "postmortem"


def test_a_person_takes_over_and_hands_back() -> None:
    taken = _update(_incident(), "identified", T0 + timedelta(minutes=5)).incident
    assert taken.automated is False
    assert t.hand_back(taken, T0 + timedelta(minutes=6)).incident.automated is True


def test_drafts_tell_nobody_until_published() -> None:
    draft = _incident(published=False)
    assert (
        t.open_incident(
            incident_id="d",
            update_id="u",
            name="n",
            status="investigating",
            body="b",
            impact="critical",
            components=[],
            now=T0,
            automated=True,
            affected=[],
            published=False,
        ).effects
        == ()
    )
    assert _update(draft, "identified", T0).effects == ()
    published = t.publish(draft, T0 + timedelta(minutes=3))
    assert published.incident.published and _kinds(published) == ["incident_created"]
    assert t.publish(published.incident, T0 + timedelta(minutes=4)).effects == ()


def test_maintenance_follows_its_window_by_the_clock() -> None:
    m = _maintenance()
    assert m.status_at(WINDOW[0] - timedelta(seconds=1)) == "scheduled"
    assert m.status_at(WINDOW[0]) == "in_progress"
    started = t.advance_maintenance(
        m, now=WINDOW[0] + timedelta(seconds=3), update_id="u2", affected=[]
    )
    assert _kinds(started) == ["maintenance_started"]
    assert started.update is not None and started.update.created_at == WINDOW[0]
    assert (
        t.advance_maintenance(
            started.incident, now=WINDOW[0] + timedelta(minutes=1), update_id="u3", affected=[]
        ).update
        is None
    )
    ended = t.advance_maintenance(started.incident, now=WINDOW[1], update_id="u4", affected=[])
    assert ended.incident.status == "completed" and ended.incident.resolved_at == WINDOW[1]
    assert _kinds(ended) == ["maintenance_ended"]


def test_a_manual_start_before_the_window_is_honoured() -> None:
    early = WINDOW[0] - timedelta(minutes=20)
    moved = t.move_maintenance(
        _maintenance(),
        status="in_progress",
        body="Starting early.",
        now=early,
        update_id="u2",
        affected=[],
    )
    assert _kinds(moved) == ["maintenance_started"]
    assert moved.incident.status_at(early + timedelta(minutes=1)) == "in_progress"
    assert moved.incident.status_at(WINDOW[1]) == "completed"  # the end still applies


def test_a_manual_move_back_during_the_window_holds_until_the_end() -> None:
    during = WINDOW[0] + timedelta(minutes=30)
    moved = t.move_maintenance(
        _maintenance(),
        status="scheduled",
        body="Postponed a bit.",
        now=during,
        update_id="u2",
        affected=[],
    )
    assert moved.incident.status_at(during + timedelta(minutes=10)) == "scheduled"
    verifying = t.move_maintenance(
        moved.incident,
        status="verifying",
        body="Checking.",
        now=during + timedelta(minutes=20),
        update_id="u3",
        affected=[],
    )
    assert verifying.incident.status_at(WINDOW[1] - timedelta(seconds=1)) == "verifying"
    assert verifying.incident.status_at(WINDOW[1]) == "completed"


def test_completing_twice_adds_one_update() -> None:
    done = t.move_maintenance(
        _maintenance(), status="completed", body="Done.", now=T0, update_id="u2", affected=[]
    )
    assert _kinds(done) == ["maintenance_ended"]
    again = t.move_maintenance(
        done.incident, status="completed", body="Done!", now=T0, update_id="u3", affected=[]
    )
    assert again.update is None and again.effects == ()


def test_alert_steps() -> None:
    assert t.alert_step(None, T0, True) == "insert"
    assert t.alert_step((T0, True), T0, True) == "resend"
    assert t.alert_step((T0, True), T0, False) == "resolve"
    assert t.alert_step((T0, False), T0, True) == "stale"  # a replay after the resolve
    assert t.alert_step((T0, True), T0 - timedelta(minutes=1), False) == "stale"
    assert t.alert_step((T0, False), T0 + timedelta(minutes=1), True) == "new_episode"


STATUSES = st.sampled_from(["investigating", "identified", "monitoring", "resolved", "postmortem"])


@settings(max_examples=200, deadline=None)
@given(st.lists(STATUSES, max_size=12))
def test_any_sequence_of_updates_keeps_resolved_at_consistent(statuses: list[str]) -> None:
    inc = _incident()
    updates = 1
    for minute, status in enumerate(statuses, start=1):
        change = _update(inc, status, T0 + timedelta(minutes=minute))
        updates += change.update is not None
        inc = change.incident
        # Listed as unresolved exactly while an active status is shown.
        assert inc.is_open == (inc.status in t.ACTIVE_STATUSES)
        if not inc.is_open:
            assert inc.resolved_at is not None and inc.resolved_at <= T0 + timedelta(minutes=minute)
    # Only a resolve of a resolved incident is dropped.
    assert updates <= 1 + len(statuses)
