"""Versioned schema migrations: each version runs once, in order, and only ever adds.

A small version table instead of alembic: the schema is a handful of tables and the
service must migrate itself at start-up, from several replicas at once, without a CLI step.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

from sqlalchemy import Connection, Engine, func, insert, inspect, select, text

from statuspage import schema


def _v1(conn: Connection) -> None:
    for table in (
        schema.revision,
        schema.component_state,
        schema.alert,
        schema.incident,
        schema.incident_update,
    ):
        table.create(conn, checkfirst=True)
    conn.execute(insert(schema.revision).values(id=1, value=0))


def _v2(conn: Connection) -> None:
    schema.uptime_day.create(conn, checkfirst=True)


def _v3(conn: Connection) -> None:
    # v1 creates tables from today's models, so a new database has these columns already.
    present = {c["name"] for c in inspect(conn).get_columns("incident")}
    if "started_at" not in present:
        conn.execute(text("ALTER TABLE incident ADD COLUMN started_at VARCHAR(27)"))
    if "published" not in present:
        # `true` is understood by PostgreSQL and by SQLite (3.23 and later).
        conn.execute(
            text("ALTER TABLE incident ADD COLUMN published BOOLEAN NOT NULL DEFAULT true")
        )
    # Until now only a person's update changed a maintenance's stored status, so one still
    # "scheduled" was never moved by hand: the clock drives it (see statuspage/transitions.py).
    conn.execute(
        text(
            "UPDATE incident SET automated = true "
            "WHERE kind = 'maintenance' AND status = 'scheduled'"
        )
    )


def _v4(conn: Connection) -> None:
    for table in (schema.subscriber, schema.notification, schema.outbox):
        table.create(conn, checkfirst=True)


MIGRATIONS: dict[int, Callable[[Connection], None]] = {1: _v1, 2: _v2, 3: _v3, 4: _v4}
LATEST = max(MIGRATIONS)
# Arbitrary constant shared by all replicas: serialises concurrent start-ups on PostgreSQL.
MIGRATION_LOCK_KEY = 0x5354_4154_5553_0001


class SchemaTooNew(RuntimeError):
    pass


def current_version(conn: Connection) -> int:
    if not conn.dialect.has_table(conn, schema.schema_version.name):
        return 0
    return int(conn.execute(select(func.max(schema.schema_version.c.version))).scalar() or 0)


def migrate(engine: Engine, target: int = LATEST) -> int:
    """Bring the database up to `target`; returns the version it is at afterwards."""
    with engine.begin() as conn:
        if conn.dialect.name == "postgresql":
            conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": MIGRATION_LOCK_KEY})
        schema.schema_version.create(conn, checkfirst=True)
        version = current_version(conn)
        if version > LATEST:
            raise SchemaTooNew(
                f"the database is at schema version {version} but this build only knows up "
                f"to {LATEST}; run a newer statuspage"
            )
        # Versions are numbered by the change that introduced them; a number no change
        # took is simply not there.
        for step in sorted(v for v in MIGRATIONS if version < v <= target):
            MIGRATIONS[step](conn)
            conn.execute(
                insert(schema.schema_version).values(version=step, applied_at=datetime.now(UTC))
            )
        return max(version, target)
