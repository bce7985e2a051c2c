"""Storage: every read and write of the page's state, on SQLite or PostgreSQL.

Writes are serialised (a PostgreSQL transaction-level advisory lock, or a process lock on
SQLite) because Alertmanager in HA mode may deliver the same notification to several
replicas at once; the alert rules below are only order-safe if applied one at a time.
"""

from __future__ import annotations

import json
import logging
import secrets
import string
import threading
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy import (
    Connection,
    Engine,
    Row,
    and_,
    create_engine,
    delete,
    event,
    insert,
    select,
    text,
    update,
)
from sqlalchemy.dialects import postgresql, sqlite

from statuspage import schema, transitions
from statuspage.config import StatusPageConfig
from statuspage.inputs import in_window
from statuspage.migrations import migrate
from statuspage.state import (
    COMPONENT_STATUSES,
    IMPACT_OF_STATUS,
    IMPACTS,
    INCIDENT_STATUSES,
    MAINTENANCE_STATUSES,
    ComponentState,
    Impact,
    Incident,
    IncidentUpdate,
    PageView,
    UptimeDay,
    worst,
)
from statuspage.transitions import Change, Conflict, Effect

log = logging.getLogger("statuspage.store")
WRITE_LOCK_KEY = 0x5354_4154_5553_0002
DEFAULT_DATABASE_URL = "sqlite:///statuspage.db"
_ID_ALPHABET = string.ascii_lowercase + string.digits
# The page lists this many of the newest incidents and maintenances (each with its own
# page), plus every unresolved incident however old.
HISTORY_LIMIT = 100
# Called inside the writing transaction with the effects of its transitions, so a listener
# (notifications) can record them atomically with the change itself.
EffectListener = Callable[[Connection, list[Effect]], None]


class NotFound(LookupError):
    pass


class BadRow(ValueError):
    """A stored row that cannot be shown (written by an older version, or by hand)."""


@dataclass(frozen=True)
class AlertEvent:
    """One alert of an Alertmanager notification, already mapped to a component."""

    fingerprint: str
    component_id: str
    severity: str  # critical | warning
    firing: bool
    starts_at: datetime
    ends_at: datetime | None
    title: str | None
    message: str | None


@dataclass(frozen=True)
class AlertResult:
    applied: int
    stale: int


def new_id() -> str:
    return "".join(secrets.choice(_ID_ALPHABET) for _ in range(12))


def normalise_url(url: str) -> str:
    # psycopg 3 is the installed driver; SQLAlchemy would otherwise pick psycopg2.
    for prefix in ("postgresql://", "postgres://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url


def make_engine(url: str) -> Engine:
    url = normalise_url(url)
    if url.startswith("sqlite"):
        engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 10})

        @event.listens_for(engine, "connect")
        def _pragmas(dbapi_conn: Any, _record: Any) -> None:
            cursor = dbapi_conn.cursor()
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA synchronous=NORMAL")
            cursor.execute("PRAGMA busy_timeout=10000")
            cursor.close()

        return engine
    return create_engine(url, pool_pre_ping=True, pool_size=5, max_overflow=5)


class Store:
    def __init__(self, url: str, config: StatusPageConfig) -> None:
        self.config = config
        self.engine = make_engine(url)
        self.is_postgres = self.engine.dialect.name == "postgresql"
        self._lock = threading.Lock()
        self.effect_listeners: list[EffectListener] = []
        self._effects: list[Effect] = []

    def migrate(self) -> None:
        migrate(self.engine)
        now = datetime.now(UTC)
        with self._write() as conn:
            known = {r[0] for r in conn.execute(select(schema.component_state.c.component_id))}
            for component in self.config.all_components():
                if component.id not in known:
                    conn.execute(
                        insert(schema.component_state).values(
                            component_id=component.id,
                            check_status="operational",
                            created_at=now,
                            updated_at=now,
                        )
                    )

    def dispose(self) -> None:
        self.engine.dispose()

    @contextmanager
    def _write(self, now: datetime | None = None) -> Iterator[Connection]:
        """One serialised transaction. With `now`, every component whose shown status the
        transaction changes gets `updated_at = now` (alerts and the clock move it too)."""
        with self._lock, self.engine.begin() as conn:
            if self.is_postgres:
                conn.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": WRITE_LOCK_KEY})
            self._effects = []
            before = None if now is None else self._shown_statuses(conn, now)
            yield conn
            if before is not None and now is not None:
                self._touch_components(conn, before, now)
            effects, self._effects = self._effects, []
            if effects:
                for listener in self.effect_listeners:
                    listener(conn, effects)
            conn.execute(update(schema.revision).values(value=schema.revision.c.value + 1))

    @contextmanager
    def transaction(self) -> Iterator[Connection]:
        """A serialised write that changes nothing on the page (no re-render)."""
        with self._lock, self.engine.begin() as conn:
            if self.is_postgres:
                conn.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": WRITE_LOCK_KEY})
            yield conn

    def revision(self) -> int:
        with self.engine.connect() as conn:
            return int(conn.execute(select(schema.revision.c.value)).scalar_one())

    # ---- reads -------------------------------------------------------------------------

    def read_view(self, now: datetime | None = None) -> PageView:
        now = now or datetime.now(UTC)
        with self.engine.connect() as conn:
            incidents = self._incidents(conn, "incident", limit=HISTORY_LIMIT)
            maintenances = self._incidents(conn, "maintenance", limit=HISTORY_LIMIT)
            components = self._component_states(conn, now)
            today = now.astimezone(UTC).date()
            uptime = self._uptime_days(conn, today - timedelta(days=89), today + timedelta(days=1))
        stamps = [c.updated_at for c in components.values()]
        stamps += [i.updated_at for i in incidents + maintenances]
        return PageView(
            now=now,
            updated_at=max(stamps, default=now),
            components=components,
            incidents=incidents,
            maintenances=maintenances,
            uptime=uptime,
        )

    def uptime_days(self, first_day: date, end_day: date) -> dict[str, dict[date, UptimeDay]]:
        """Daily check counts per configured component over [first_day, end_day)."""
        with self.engine.connect() as conn:
            return self._uptime_days(conn, first_day, end_day)

    def _uptime_days(
        self, conn: Connection, first_day: date, end_day: date
    ) -> dict[str, dict[date, UptimeDay]]:
        table = schema.uptime_day
        # Naming the components keeps this a range search on the (component_id, day) key.
        query = select(table).where(
            and_(
                table.c.component_id.in_([c.id for c in self.config.all_components()]),
                table.c.day >= first_day.isoformat(),
                table.c.day < end_day.isoformat(),
            )
        )
        uptime: dict[str, dict[date, UptimeDay]] = {}
        for row in conn.execute(query):
            try:
                day = date.fromisoformat(row.day)
                record = UptimeDay(day, int(row.checks_total), int(row.checks_ok))
            except (TypeError, ValueError):
                log.warning("skipping unreadable uptime row %r", tuple(row))
                continue
            if 0 <= record.checks_ok <= record.checks_total:
                uptime.setdefault(row.component_id, {})[day] = record
        return uptime

    def _incidents(
        self, conn: Connection, kind: str, limit: int, public: bool = True
    ) -> list[Incident]:
        table = schema.incident
        order = table.c.scheduled_for if kind == "maintenance" else table.c.created_at
        where = [table.c.kind == kind]
        if public:
            where.append(table.c.published.is_(True))
        rows = list(conn.execute(select(table).where(*where).order_by(order.desc()).limit(limit)))
        if kind == "incident":
            # Unresolved incidents stay on the page however many newer ones there are.
            ids = {r.id for r in rows}
            rows += [
                r
                for r in conn.execute(select(table).where(*where, table.c.resolved_at.is_(None)))
                if r.id not in ids
            ]
        return self._with_updates(conn, _readable(rows))

    def _with_updates(self, conn: Connection, incidents: list[Incident]) -> list[Incident]:
        updates: dict[str, list[IncidentUpdate]] = {}
        if incidents:
            upd = schema.incident_update
            for u in conn.execute(
                select(upd)
                .where(upd.c.incident_id.in_([i.id for i in incidents]))
                .order_by(upd.c.created_at.desc(), upd.c.id)
            ):
                try:
                    updates.setdefault(u.incident_id, []).append(_update_of(u))
                except BadRow as exc:
                    log.warning("skipping a stored update: %s", exc)
        return [replace(i, updates=updates.get(i.id, [])) for i in incidents]

    def _shown_statuses(self, conn: Connection, now: datetime) -> dict[str, str]:
        return {c.id: c.status for c in self._component_states(conn, now).values()}

    def _touch_components(self, conn: Connection, before: dict[str, str], now: datetime) -> None:
        after = self._shown_statuses(conn, now)
        moved = [cid for cid, status in after.items() if before.get(cid, status) != status]
        if moved:
            table = schema.component_state
            conn.execute(
                update(table).where(table.c.component_id.in_(moved)).values(updated_at=now)
            )

    def _component_states(self, conn: Connection, now: datetime) -> dict[str, ComponentState]:
        table = schema.incident
        open_maintenance = conn.execute(
            select(table).where(and_(table.c.kind == "maintenance", table.c.resolved_at.is_(None)))
        ).all()
        in_maintenance = {
            c
            for m in _readable(open_maintenance)
            if m.status_at(now) == "in_progress"
            for c in m.components
        }
        drafts = {
            r.id for r in conn.execute(select(table.c.id).where(table.c.published.is_(False))).all()
        }
        alert_status: dict[str, list[str]] = {}
        critical: str = self.config.alertmanager.critical_status
        for a in conn.execute(select(schema.alert).where(schema.alert.c.status == "firing")):
            if a.incident_id in drafts or not in_window(a.starts_at):
                continue  # a draft shows nothing until a responder publishes it
            status = critical if a.severity == "critical" else "degraded_performance"
            alert_status.setdefault(a.component_id, []).append(status)
        states: dict[str, ComponentState] = {}
        for row in conn.execute(select(schema.component_state)):
            if self.config.component(row.component_id) is None:
                continue  # removed from the config; its history stays in the database
            if (
                row.check_status not in COMPONENT_STATUSES
                or row.override_status not in (None, *COMPONENT_STATUSES)
                or not (in_window(row.created_at) and in_window(row.updated_at))
            ):
                log.warning("skipping unreadable component state %r", row.component_id)
                continue
            automated = worst(row.check_status, *alert_status.get(row.component_id, []))
            if row.component_id in in_maintenance:
                automated = "under_maintenance"
            states[row.component_id] = ComponentState(
                id=row.component_id,
                status=row.override_status or automated,
                automated_status=automated,
                overridden=row.override_status is not None,
                created_at=row.created_at,
                updated_at=row.updated_at,
            )
        return states

    # ---- saving transitions ----------------------------------------------------------------

    def _save(self, conn: Connection, change: Change) -> None:
        inc = change.incident
        values = {
            "name": inc.name,
            "status": inc.status,
            "impact": inc.impact,
            "components": json.dumps(inc.components),
            "automated": inc.automated,
            "updated_at": inc.updated_at,
            "monitoring_at": inc.monitoring_at,
            "resolved_at": inc.resolved_at,
            "scheduled_for": inc.scheduled_for,
            "scheduled_until": inc.scheduled_until,
            "started_at": inc.started_at,
            "published": inc.published,
        }
        table = schema.incident
        if change.created:
            conn.execute(
                insert(table).values(id=inc.id, kind=inc.kind, created_at=inc.created_at, **values)
            )
        else:
            conn.execute(update(table).where(table.c.id == inc.id).values(**values))
        if change.update is not None:
            u = change.update
            conn.execute(
                insert(schema.incident_update).values(
                    id=u.id,
                    incident_id=u.incident_id,
                    status=u.status,
                    body=u.body,
                    created_at=u.created_at,
                    affected_components=json.dumps(u.affected_components),
                )
            )
        self._effects.extend(change.effects)

    def _affected(
        self,
        conn: Connection,
        component_ids: Iterable[str],
        now: datetime,
        new_status: str | None,
        old_status: str | None = None,
    ) -> list[dict[str, str]]:
        """The `affected_components` of an update: each component's status before and after."""
        states = self._component_states(conn, now)
        affected = []
        for cid in component_ids:
            component = self.config.component(cid)
            if component is None:
                continue
            old = old_status or (states[cid].status if cid in states else "operational")
            affected.append(
                {
                    "code": cid,
                    "name": component.name,
                    "old_status": old,
                    "new_status": new_status or old,
                }
            )
        return affected

    # ---- alerts ------------------------------------------------------------------------

    def apply_alerts(
        self, events: list[AlertEvent], now: datetime | None = None, *, draft: bool = False
    ) -> AlertResult:
        """Record alert transitions and reconcile incidents; safe to replay in any order
        (the rule is `transitions.alert_step`). With `draft`, incidents this opens are
        unpublished until a responder publishes them."""
        now = now or datetime.now(UTC)
        applied = stale = 0
        table = schema.alert
        with self._write(now) as conn:
            before = self._shown_statuses(conn, now)
            for ev in events:
                row = conn.execute(
                    select(table).where(table.c.fingerprint == ev.fingerprint)
                ).first()
                stored = None
                if row is not None and in_window(row.starts_at):
                    stored = (row.starts_at, row.status == "firing")
                step = transitions.alert_step(stored, ev.starts_at, ev.firing)
                values = {
                    "component_id": ev.component_id,
                    "severity": ev.severity,
                    "status": "firing" if ev.firing else "resolved",
                    "starts_at": ev.starts_at,
                    "ends_at": ev.ends_at,
                    "title": ev.title,
                    "message": ev.message,
                    "updated_at": now,
                }
                where = table.c.fingerprint == ev.fingerprint
                if step == "stale":
                    stale += 1
                    continue
                if step == "insert" and row is None:
                    conn.execute(insert(table).values(fingerprint=ev.fingerprint, **values))
                elif step in ("insert", "new_episode"):
                    # A new episode stays with the previous one's incident while that is
                    # open (we may have missed the resolve in between); a resolve of it
                    # then closes that incident rather than orphaning it.
                    linked = self._open_or_none(conn, row.incident_id) if row else None
                    conn.execute(update(table).where(where).values(incident_id=linked, **values))
                elif step == "resolve":
                    conn.execute(
                        update(table)
                        .where(where)
                        .values(status="resolved", ends_at=ev.ends_at, updated_at=now)
                    )
                applied += 1
            self._reconcile(conn, now, before, draft=draft)
        return AlertResult(applied=applied, stale=stale)

    def _open_or_none(self, conn: Connection, incident_id: str | None) -> str | None:
        if incident_id is None:
            return None
        table = schema.incident
        still_open = conn.execute(
            select(table.c.id).where(and_(table.c.id == incident_id, table.c.resolved_at.is_(None)))
        ).first()
        return incident_id if still_open else None

    def _reconcile(
        self,
        conn: Connection,
        now: datetime,
        before: dict[str, str] | None = None,
        draft: bool = False,
    ) -> None:
        """Open one incident per component held down by a critical alert that has none,
        and resolve automated incidents whose alerts have all resolved."""
        alerts = schema.alert
        unlinked = conn.execute(
            select(alerts)
            .where(
                and_(
                    alerts.c.status == "firing",
                    alerts.c.severity == "critical",
                    alerts.c.incident_id.is_(None),
                )
            )
            .order_by(alerts.c.starts_at, alerts.c.fingerprint)
        ).all()
        by_component: dict[str, list[Row[Any]]] = {}
        state = schema.component_state
        pinned = {
            r.component_id
            for r in conn.execute(
                select(state.c.component_id).where(state.c.override_status.is_not(None))
            )
        }
        for a in unlinked:
            # A pinned component is a responder's call: automation announces nothing for it
            # until it is handed back (then this runs again and catches up).
            if a.component_id not in pinned and in_window(a.starts_at):
                by_component.setdefault(a.component_id, []).append(a)
        if by_component:
            open_incidents = self._incidents_open(conn)
            for component_id, held in by_component.items():
                target = next((i for i in open_incidents if component_id in i.components), None)
                if target is None:
                    target_id = self._open_automated_incident(
                        conn, component_id, held, now, (before or {}).get(component_id), draft
                    )
                else:
                    target_id = target.id
                conn.execute(
                    update(alerts)
                    .where(alerts.c.fingerprint.in_([a.fingerprint for a in held]))
                    .values(incident_id=target_id)
                )
                open_incidents = self._incidents_open(conn)
        for inc in self._incidents_open(conn):
            if not inc.automated:
                continue
            linked = conn.execute(
                select(alerts.c.status).where(alerts.c.incident_id == inc.id)
            ).all()
            if linked and all(s.status != "firing" for s in linked):
                affected = self._affected(conn, inc.components, now, "operational")
                self._save(
                    conn,
                    transitions.resolve_automated(
                        inc, now=now, update_id=new_id(), affected=affected
                    ),
                )

    def _incidents_open(self, conn: Connection) -> list[Incident]:
        table = schema.incident
        rows = conn.execute(
            select(table)
            .where(and_(table.c.kind == "incident", table.c.resolved_at.is_(None)))
            .order_by(table.c.created_at.desc())
        ).all()
        return _readable(rows)

    def _open_automated_incident(
        self,
        conn: Connection,
        component_id: str,
        held: list[Row[Any]],
        now: datetime,
        old_status: str | None,
        draft: bool,
    ) -> str:
        component = self.config.component(component_id)
        name = component.name if component else component_id
        critical = self.config.alertmanager.critical_status
        first = held[0]  # the earliest startsAt
        change = transitions.open_incident(
            incident_id=new_id(),
            update_id=new_id(),
            name=first.title or f"Service disruption: {name}",
            status="investigating",
            body=first.message or f"We are investigating a problem affecting {name}.",
            impact=IMPACT_OF_STATUS[critical],
            components=[component_id],
            now=now,
            automated=True,
            affected=self._affected(conn, [component_id], now, critical, old_status),
            started_at=first.starts_at,
            published=not draft,
        )
        self._save(conn, change)
        return change.incident.id

    # ---- responders ----------------------------------------------------------------------

    def _get(self, conn: Connection, incident_id: str, kind: str) -> Incident:
        row = conn.execute(
            select(schema.incident).where(
                and_(schema.incident.c.id == incident_id, schema.incident.c.kind == kind)
            )
        ).first()
        if row is None:
            raise NotFound(f"no {kind} with id {incident_id!r}")
        try:
            return _incident(row)
        except BadRow as exc:
            log.warning("%s", exc)
            raise Conflict(
                f"{kind} {incident_id!r} is stored in a form this version cannot read; "
                "see the service log"
            ) from None

    def _check_components(self, component_ids: list[str]) -> None:
        unknown = [c for c in component_ids if self.config.component(c) is None]
        if unknown:
            raise NotFound(f"unknown component(s): {', '.join(unknown)}")

    def get_incident(self, incident_id: str, kind: str = "incident") -> Incident:
        """Any incident, drafts included (the token API shows them to responders)."""
        with self.engine.connect() as conn:
            return self._with_updates(conn, [self._get(conn, incident_id, kind)])[0]

    def create_incident(
        self,
        name: str,
        status: str,
        body: str,
        impact: Impact,
        component_ids: list[str],
        now: datetime | None = None,
    ) -> str:
        now = now or datetime.now(UTC)
        self._check_components(component_ids)
        with self._write(now) as conn:
            change = transitions.open_incident(
                incident_id=new_id(),
                update_id=new_id(),
                name=name,
                status=status,
                body=body,
                impact=impact,
                components=component_ids,
                now=now,
                automated=False,
                affected=self._affected(conn, component_ids, now, None),
            )
            self._save(conn, change)
        return change.incident.id

    def update_incident(
        self, incident_id: str, status: str, body: str, now: datetime | None = None
    ) -> None:
        """A responder's update: from now on automation leaves this incident alone."""
        now = now or datetime.now(UTC)
        with self._write(now) as conn:
            inc = self._get(conn, incident_id, "incident")
            affected = self._affected(conn, inc.components, now, None)
            change = transitions.post_update(
                inc,
                status=status,
                body=body,
                now=now,
                update_id=new_id(),
                affected=affected,
                by_person=True,
            )
            self._save(conn, change)

    def hand_back_incident(self, incident_id: str, now: datetime | None = None) -> None:
        now = now or datetime.now(UTC)
        with self._write(now) as conn:
            inc = self._get(conn, incident_id, "incident")
            self._save(conn, transitions.hand_back(inc, now))
            self._reconcile(conn, now)

    def drafts(self) -> list[Incident]:
        """Unpublished incidents (opened through `?mode=draft`), newest first."""
        table = schema.incident
        query = (
            select(table)
            .where(and_(table.c.kind == "incident", table.c.published.is_(False)))
            .order_by(table.c.created_at.desc())
            .limit(HISTORY_LIMIT)
        )
        with self.engine.connect() as conn:
            return self._with_updates(conn, _readable(conn.execute(query).all()))

    def publish_incident(self, incident_id: str, now: datetime | None = None) -> None:
        """Make a draft public (its alerts then move its components too)."""
        now = now or datetime.now(UTC)
        with self._write(now) as conn:
            inc = self._get(conn, incident_id, "incident")
            self._save(conn, transitions.publish(inc, now))

    def schedule_maintenance(
        self,
        name: str,
        body: str,
        scheduled_for: datetime,
        scheduled_until: datetime,
        component_ids: list[str],
        now: datetime | None = None,
    ) -> str:
        now = now or datetime.now(UTC)
        self._check_components(component_ids)
        with self._write(now) as conn:
            change = transitions.schedule_maintenance(
                maintenance_id=new_id(),
                update_id=new_id(),
                name=name,
                body=body,
                scheduled_for=scheduled_for,
                scheduled_until=scheduled_until,
                components=component_ids,
                now=now,
                affected=self._affected(conn, component_ids, now, None),
            )
            self._save(conn, change)
            self._advance(conn, change.incident, now)  # a window that has already begun
        return change.incident.id

    def update_maintenance(
        self, maintenance_id: str, status: str, body: str, now: datetime | None = None
    ) -> None:
        now = now or datetime.now(UTC)
        with self._write(now) as conn:
            m = self._get(conn, maintenance_id, "maintenance")
            new_status = {"in_progress": "under_maintenance", "completed": "operational"}
            change = transitions.move_maintenance(
                m,
                status=status,
                body=body,
                now=now,
                update_id=new_id(),
                affected=self._affected(conn, m.components, now, new_status.get(status)),
            )
            self._save(conn, change)

    def _advance(self, conn: Connection, m: Incident, now: datetime) -> bool:
        target = transitions.clock_status(m, now)
        if target is None:
            return False
        new_status = "operational" if target == "completed" else "under_maintenance"
        affected = self._affected(conn, m.components, now, new_status)
        self._save(
            conn,
            transitions.advance_maintenance(m, now=now, update_id=new_id(), affected=affected),
        )
        return True

    def advance_maintenances(self, now: datetime | None = None) -> int:
        """Record what the clock did to maintenance windows (started, ended), each with its
        update and effects; returns how many moved. The leader runs this every few seconds;
        it writes (and so re-renders) only when a window edge has passed."""
        now = now or datetime.now(UTC)
        table = schema.incident
        query = select(table).where(
            and_(table.c.kind == "maintenance", table.c.resolved_at.is_(None))
        )
        with self.engine.connect() as conn:
            due = [
                m.id for m in _readable(conn.execute(query).all()) if m.status_at(now) != m.status
            ]
        if not due:
            return 0
        moved = 0
        with self._write(now) as conn:
            for m in _readable(conn.execute(query.where(table.c.id.in_(due))).all()):
                moved += self._advance(conn, m, now)
        return moved

    def set_override(
        self, component_id: str, status: str | None, reason: str | None, now: datetime | None = None
    ) -> None:
        """Pin a component's status (None hands it back to checks and alerts)."""
        now = now or datetime.now(UTC)
        self._check_components([component_id])
        with self._write(now) as conn:
            conn.execute(
                update(schema.component_state)
                .where(schema.component_state.c.component_id == component_id)
                .values(override_status=status, override_reason=reason, updated_at=now)
            )
            if status is None:
                self._reconcile(conn, now)

    def prune_alerts(self, older_than: timedelta = timedelta(days=30)) -> int:
        """Forget resolved alerts long past any resend. Alertmanager stops resending a
        resolved alert within minutes; 30 days is far beyond any replay."""
        cutoff = datetime.now(UTC) - older_than
        table = schema.alert
        with self._lock, self.engine.begin() as conn:
            return int(
                conn.execute(
                    delete(table).where(
                        and_(table.c.status == "resolved", table.c.updated_at < cutoff)
                    )
                ).rowcount
            )

    # ---- checks --------------------------------------------------------------------------

    def record_check(
        self, component_id: str, status: str, ok: bool, now: datetime | None = None
    ) -> bool:
        """Count one check result for the uptime bars; returns whether the status changed."""
        now = now or datetime.now(UTC)
        day = now.date().isoformat()
        table = schema.uptime_day
        with self._lock, self.engine.begin() as conn:
            dialect_insert = postgresql.insert if self.is_postgres else sqlite.insert
            stmt = dialect_insert(table).values(
                component_id=component_id, day=day, checks_total=1, checks_ok=int(ok)
            )
            conn.execute(
                stmt.on_conflict_do_update(
                    index_elements=[table.c.component_id, table.c.day],
                    set_={
                        "checks_total": table.c.checks_total + 1,
                        "checks_ok": table.c.checks_ok + int(ok),
                    },
                )
            )
            changed = conn.execute(
                update(schema.component_state)
                .where(
                    and_(
                        schema.component_state.c.component_id == component_id,
                        schema.component_state.c.check_status != status,
                    )
                )
                .values(check_status=status, updated_at=now)
            ).rowcount
            if changed:
                conn.execute(update(schema.revision).values(value=schema.revision.c.value + 1))
        return bool(changed)


_ALLOWED_STATUSES = {"incident": INCIDENT_STATUSES, "maintenance": MAINTENANCE_STATUSES}
_MOMENTS = (
    "created_at",
    "updated_at",
    "monitoring_at",
    "resolved_at",
    "scheduled_for",
    "scheduled_until",
    "started_at",
)


def _incident(row: Row[Any], updates: list[IncidentUpdate] | None = None) -> Incident:
    """A stored incident or maintenance as a domain value; BadRow if it cannot be shown."""
    problems: list[str] = []
    if row.status not in _ALLOWED_STATUSES.get(row.kind, ()):
        problems.append(f"status {row.status!r} of kind {row.kind!r}")
    if row.impact not in IMPACTS:
        problems.append(f"impact {row.impact!r}")
    try:
        components = json.loads(row.components)
    except (TypeError, ValueError):
        components = None
    if not isinstance(components, list) or not all(isinstance(c, str) for c in components):
        problems.append("components (not a JSON list of ids)")
    bad_moments = [name for name in _MOMENTS if not in_window(getattr(row, name))]
    if row.created_at is None or row.updated_at is None:
        bad_moments.append("created_at/updated_at missing")
    if row.kind == "maintenance" and (row.scheduled_for is None or row.scheduled_until is None):
        bad_moments.append("window missing")
    if bad_moments:
        problems.append("dates " + ", ".join(bad_moments))
    if not isinstance(row.name, str) or not row.name:
        problems.append("name")
    if problems:
        raise BadRow(f"{row.kind} {row.id!r} cannot be shown: {'; '.join(problems)}")
    return Incident(
        id=row.id,
        kind=row.kind,
        name=row.name,
        status=row.status,
        impact=row.impact,
        components=components or [],
        automated=bool(row.automated),
        created_at=row.created_at,
        updated_at=row.updated_at,
        monitoring_at=row.monitoring_at,
        resolved_at=row.resolved_at,
        scheduled_for=row.scheduled_for,
        scheduled_until=row.scheduled_until,
        updates=updates or [],
        started_at=row.started_at,
        published=bool(row.published),
    )


def _readable(rows: Iterable[Row[Any]]) -> list[Incident]:
    """The rows that can be shown; each one that cannot is logged and skipped, so one bad
    row never takes the page (or the writes that read it) down."""
    out = []
    for row in rows:
        try:
            out.append(_incident(row))
        except BadRow as exc:
            log.warning("%s; skipped", exc)
    return out


def _update_of(u: Row[Any]) -> IncidentUpdate:
    try:
        affected = json.loads(u.affected_components)
    except (TypeError, ValueError):
        affected = None
    if (
        u.status not in (*INCIDENT_STATUSES, *MAINTENANCE_STATUSES)
        or not in_window(u.created_at)
        or not isinstance(u.body, str)
        or not isinstance(affected, list)
        or not all(isinstance(a, dict) for a in affected)
    ):
        raise BadRow(f"update {u.id!r} of {u.incident_id!r} cannot be shown")
    return IncidentUpdate(
        id=u.id,
        incident_id=u.incident_id,
        status=u.status,
        body=u.body,
        created_at=u.created_at,
        affected_components=affected,
    )
