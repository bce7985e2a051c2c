"""Storage: every read and write of the page's state, on SQLite or PostgreSQL.

Writes are serialised (a PostgreSQL transaction-level advisory lock, or a process lock on
SQLite) because Alertmanager in HA mode may deliver the same notification to several
replicas at once; the alert rules below are only order-safe if applied one at a time.
"""

from __future__ import annotations

import json
import secrets
import string
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
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

from statuspage import outbox, schema
from statuspage.config import StatusPageConfig
from statuspage.migrations import migrate
from statuspage.state import (
    IMPACT_OF_STATUS,
    ComponentState,
    Impact,
    Incident,
    IncidentUpdate,
    PageView,
    UptimeDay,
    worst,
)

WRITE_LOCK_KEY = 0x5354_4154_5553_0002
DEFAULT_DATABASE_URL = "sqlite:///statuspage.db"
RESOLVED_BODY = "This incident has been resolved."
_ID_ALPHABET = string.ascii_lowercase + string.digits


class NotFound(LookupError):
    pass


class Conflict(ValueError):
    pass


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
    def _write(self) -> Iterator[Connection]:
        with self._lock, self.engine.begin() as conn:
            if self.is_postgres:
                conn.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": WRITE_LOCK_KEY})
            yield conn
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
            incidents = self._incidents(conn, "incident", limit=50)
            maintenances = self._incidents(conn, "maintenance", limit=50)
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
            day = date.fromisoformat(row.day)
            uptime.setdefault(row.component_id, {})[day] = UptimeDay(
                day, row.checks_total, row.checks_ok
            )
        return uptime

    def _incidents(self, conn: Connection, kind: str, limit: int) -> list[Incident]:
        table = schema.incident
        order = table.c.scheduled_for if kind == "maintenance" else table.c.created_at
        rows = list(
            conn.execute(
                select(table).where(table.c.kind == kind).order_by(order.desc()).limit(limit)
            )
        )
        if kind == "incident":
            # Unresolved incidents stay on the page however many newer ones there are.
            ids = {r.id for r in rows}
            rows += [
                r
                for r in conn.execute(
                    select(table).where(and_(table.c.kind == kind, table.c.resolved_at.is_(None)))
                )
                if r.id not in ids
            ]
        return self._with_updates(conn, rows)

    def _with_updates(self, conn: Connection, rows: list[Row[Any]]) -> list[Incident]:
        updates: dict[str, list[IncidentUpdate]] = {}
        if rows:
            upd = schema.incident_update
            for u in conn.execute(
                select(upd)
                .where(upd.c.incident_id.in_([r.id for r in rows]))
                .order_by(upd.c.created_at.desc(), upd.c.id)
            ):
                updates.setdefault(u.incident_id, []).append(
                    IncidentUpdate(
                        id=u.id,
                        incident_id=u.incident_id,
                        status=u.status,
                        body=u.body,
                        created_at=u.created_at,
                        affected_components=json.loads(u.affected_components),
                    )
                )
        return [_incident(r, updates.get(r.id, [])) for r in rows]

    def _component_states(self, conn: Connection, now: datetime) -> dict[str, ComponentState]:
        table = schema.incident
        windows = conn.execute(
            select(table).where(
                and_(
                    table.c.kind == "maintenance",
                    table.c.scheduled_for <= now,
                    table.c.scheduled_until > now,
                )
            )
        )
        in_maintenance = {
            c
            for m in (_incident(r, []) for r in windows)
            if m.status_at(now) == "in_progress"
            for c in m.components
        }
        alert_status: dict[str, list[str]] = {}
        critical: str = self.config.alertmanager.critical_status
        for a in conn.execute(select(schema.alert).where(schema.alert.c.status == "firing")):
            status = critical if a.severity == "critical" else "degraded_performance"
            alert_status.setdefault(a.component_id, []).append(status)
        states: dict[str, ComponentState] = {}
        for row in conn.execute(select(schema.component_state)):
            if self.config.component(row.component_id) is None:
                continue  # removed from the config; its history stays in the database
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

    # ---- alerts ------------------------------------------------------------------------

    def apply_alerts(self, events: list[AlertEvent], now: datetime | None = None) -> AlertResult:
        """Record alert transitions and reconcile incidents; safe to replay in any order.

        Alertmanager keeps an alert's `startsAt` across resends, and a new firing episode
        gets a newer one. So per fingerprint: an older `startsAt` is stale, the same one can
        only move firing -> resolved (a firing that arrives after its resolve is a replay),
        and a newer one starts over.
        """
        now = now or datetime.now(UTC)
        applied = stale = 0
        table = schema.alert
        with self._write() as conn:
            before: dict[str, str] = {
                c.id: c.status for c in self._component_states(conn, now).values()
            }
            for ev in events:
                row = conn.execute(
                    select(table).where(table.c.fingerprint == ev.fingerprint)
                ).first()
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
                if row is None:
                    conn.execute(insert(table).values(fingerprint=ev.fingerprint, **values))
                elif ev.starts_at > row.starts_at:
                    # A new episode stays with the previous one's incident while that is
                    # open (we may have missed the resolve in between); a resolve of it
                    # then closes that incident rather than orphaning it.
                    conn.execute(
                        update(table)
                        .where(table.c.fingerprint == ev.fingerprint)
                        .values(incident_id=self._open_or_none(conn, row.incident_id), **values)
                    )
                elif ev.starts_at == row.starts_at and not ev.firing and row.status == "firing":
                    conn.execute(
                        update(table)
                        .where(table.c.fingerprint == ev.fingerprint)
                        .values(status="resolved", ends_at=ev.ends_at, updated_at=now)
                    )
                elif ev.starts_at == row.starts_at and ev.firing and row.status == "firing":
                    pass  # the usual resend on every group_interval
                else:
                    stale += 1
                    continue
                applied += 1
            self._reconcile(conn, now, before)
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
        self, conn: Connection, now: datetime, before: dict[str, str] | None = None
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
            if a.component_id not in pinned:
                by_component.setdefault(a.component_id, []).append(a)
        if by_component:
            open_incidents = self._incidents_open(conn)
            for component_id, held in by_component.items():
                target = next((i for i in open_incidents if component_id in i.components), None)
                if target is None:
                    target_id = self._open_automated_incident(
                        conn, component_id, held[0], now, (before or {}).get(component_id)
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
                self._add_update(conn, inc, "resolved", RESOLVED_BODY, now, "operational")

    def _incidents_open(self, conn: Connection) -> list[Incident]:
        table = schema.incident
        rows = conn.execute(
            select(table)
            .where(and_(table.c.kind == "incident", table.c.resolved_at.is_(None)))
            .order_by(table.c.created_at.desc())
        ).all()
        return [_incident(r, []) for r in rows]

    def _open_automated_incident(
        self,
        conn: Connection,
        component_id: str,
        alert: Row[Any],
        now: datetime,
        old_status: str | None,
    ) -> str:
        component = self.config.component(component_id)
        name = component.name if component else component_id
        critical = self.config.alertmanager.critical_status
        incident_id = new_id()
        conn.execute(
            insert(schema.incident).values(
                id=incident_id,
                kind="incident",
                name=alert.title or f"Service disruption: {name}",
                status="investigating",
                impact=IMPACT_OF_STATUS[critical],
                components=json.dumps([component_id]),
                automated=True,
                created_at=now,
                updated_at=now,
            )
        )
        body = alert.message or f"We are investigating a problem affecting {name}."
        self._insert_update(
            conn, incident_id, "investigating", body, now, [component_id], critical, old_status
        )
        return incident_id

    def _insert_update(
        self,
        conn: Connection,
        incident_id: str,
        status: str,
        body: str,
        now: datetime,
        component_ids: list[str],
        new_status: str | None,
        old_status: str | None = None,
    ) -> None:
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
        update_id = new_id()
        conn.execute(
            insert(schema.incident_update).values(
                id=update_id,
                incident_id=incident_id,
                status=status,
                body=body,
                created_at=now,
                affected_components=json.dumps(affected),
            )
        )
        # Subscribers' messages commit with the update or not at all.
        outbox.notify_update(conn, incident_id, update_id, status, component_ids, now)

    def _add_update(
        self,
        conn: Connection,
        inc: Incident,
        status: str,
        body: str,
        now: datetime,
        new_status: str | None = None,
        automated: bool | None = None,
    ) -> None:
        values: dict[str, Any] = {"status": status, "updated_at": now}
        if status in ("resolved", "completed", "postmortem") and inc.resolved_at is None:
            values["resolved_at"] = now
        if status == "monitoring" and inc.monitoring_at is None:
            values["monitoring_at"] = now
        if automated is not None:
            values["automated"] = automated
        self._insert_update(conn, inc.id, status, body, now, inc.components, new_status)
        conn.execute(update(schema.incident).where(schema.incident.c.id == inc.id).values(**values))

    # ---- responders ----------------------------------------------------------------------

    def _get(self, conn: Connection, incident_id: str, kind: str) -> Incident:
        row = conn.execute(
            select(schema.incident).where(
                and_(schema.incident.c.id == incident_id, schema.incident.c.kind == kind)
            )
        ).first()
        if row is None:
            raise NotFound(f"no {kind} with id {incident_id!r}")
        return _incident(row, [])

    def _check_components(self, component_ids: list[str]) -> None:
        unknown = [c for c in component_ids if self.config.component(c) is None]
        if unknown:
            raise NotFound(f"unknown component(s): {', '.join(unknown)}")

    def get_incident(self, incident_id: str, kind: str = "incident") -> Incident:
        table = schema.incident
        with self.engine.connect() as conn:
            row = conn.execute(
                select(table).where(and_(table.c.id == incident_id, table.c.kind == kind))
            ).first()
            if row is None:
                raise NotFound(f"no {kind} with id {incident_id!r}")
            return self._with_updates(conn, [row])[0]

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
        incident_id = new_id()
        with self._write() as conn:
            resolved = status in ("resolved", "postmortem")
            conn.execute(
                insert(schema.incident).values(
                    id=incident_id,
                    kind="incident",
                    name=name,
                    status=status,
                    impact=impact,
                    components=json.dumps(component_ids),
                    automated=False,
                    created_at=now,
                    updated_at=now,
                    monitoring_at=now if status == "monitoring" else None,
                    resolved_at=now if resolved else None,
                )
            )
            self._insert_update(conn, incident_id, status, body, now, component_ids, None)
        return incident_id

    def update_incident(
        self, incident_id: str, status: str, body: str, now: datetime | None = None
    ) -> None:
        """A responder's update: from now on automation leaves this incident alone."""
        now = now or datetime.now(UTC)
        with self._write() as conn:
            inc = self._get(conn, incident_id, "incident")
            self._add_update(conn, inc, status, body, now, automated=False)

    def hand_back_incident(self, incident_id: str, now: datetime | None = None) -> None:
        now = now or datetime.now(UTC)
        with self._write() as conn:
            inc = self._get(conn, incident_id, "incident")
            if not inc.is_open:
                raise Conflict(
                    f"incident {incident_id!r} is resolved; there is nothing to hand back"
                )
            conn.execute(
                update(schema.incident)
                .where(schema.incident.c.id == incident_id)
                .values(automated=True, updated_at=now)
            )
            self._reconcile(conn, now)

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
        maintenance_id = new_id()
        with self._write() as conn:
            conn.execute(
                insert(schema.incident).values(
                    id=maintenance_id,
                    kind="maintenance",
                    name=name,
                    status="scheduled",
                    impact="none",
                    components=json.dumps(component_ids),
                    automated=False,
                    created_at=now,
                    updated_at=now,
                    scheduled_for=scheduled_for,
                    scheduled_until=scheduled_until,
                )
            )
            self._insert_update(conn, maintenance_id, "scheduled", body, now, component_ids, None)
        return maintenance_id

    def update_maintenance(
        self, maintenance_id: str, status: str, body: str, now: datetime | None = None
    ) -> None:
        now = now or datetime.now(UTC)
        with self._write() as conn:
            inc = self._get(conn, maintenance_id, "maintenance")
            self._add_update(conn, inc, status, body, now)

    def set_override(
        self, component_id: str, status: str | None, reason: str | None, now: datetime | None = None
    ) -> None:
        """Pin a component's status (None hands it back to checks and alerts)."""
        now = now or datetime.now(UTC)
        self._check_components([component_id])
        with self._write() as conn:
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


def _incident(row: Row[Any], updates: list[IncidentUpdate]) -> Incident:
    return Incident(
        id=row.id,
        kind=row.kind,
        name=row.name,
        status=row.status,
        impact=row.impact,
        components=json.loads(row.components),
        automated=bool(row.automated),
        created_at=row.created_at,
        updated_at=row.updated_at,
        monitoring_at=row.monitoring_at,
        resolved_at=row.resolved_at,
        scheduled_for=row.scheduled_for,
        scheduled_until=row.scheduled_until,
        updates=updates,
    )
