"""Tables, as SQLAlchemy Core, shared by SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Boolean, Column, Index, Integer, MetaData, String, Table, Text, true
from sqlalchemy.engine import Dialect
from sqlalchemy.types import TypeDecorator

from statuspage.inputs import check_moment

_FORMAT = "%Y-%m-%dT%H:%M:%S.%fZ"
UNREADABLE = datetime(1, 1, 1, tzinfo=UTC)


class UtcDateTime(TypeDecorator[datetime]):
    """Aware UTC datetimes stored as fixed-width ISO text: sorts right and survives SQLite."""

    impl = String(27)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> str | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to the database")
        # The edge refuses such dates; this keeps any other path from storing one.
        return check_moment(value).strftime(_FORMAT)

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        try:
            return datetime.strptime(value, _FORMAT).replace(tzinfo=UTC)
        except (TypeError, ValueError):
            # Raising here would abort the whole query, taking every good row with it. An
            # unreadable value reads as UNREADABLE, outside the window, and the row holding it
            # is skipped (and logged) when it is turned into a domain value.
            return UNREADABLE


metadata = MetaData()

schema_version = Table(
    "statuspage_schema_version",
    metadata,
    Column("version", Integer, primary_key=True),
    Column("applied_at", UtcDateTime, nullable=False),
)

# Bumped on every change that alters what the page shows, so other replicas re-render.
revision = Table(
    "statuspage_revision",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("value", Integer, nullable=False),
)

component_state = Table(
    "component_state",
    metadata,
    Column("component_id", String(63), primary_key=True),
    Column("check_status", String(32), nullable=False),
    Column("override_status", String(32)),
    Column("override_reason", Text),
    Column("created_at", UtcDateTime, nullable=False),
    Column("updated_at", UtcDateTime, nullable=False),
)

alert = Table(
    "alert",
    metadata,
    Column("fingerprint", String(128), primary_key=True),
    Column("component_id", String(63), nullable=False),
    Column("severity", String(32), nullable=False),
    Column("status", String(16), nullable=False),
    Column("starts_at", UtcDateTime, nullable=False),
    Column("ends_at", UtcDateTime),
    Column("title", Text),
    Column("message", Text),
    Column("incident_id", String(32)),
    Column("updated_at", UtcDateTime, nullable=False),
)

incident = Table(
    "incident",
    metadata,
    Column("id", String(32), primary_key=True),
    Column("kind", String(16), nullable=False),  # incident | maintenance
    Column("name", Text, nullable=False),
    Column("status", String(32), nullable=False),
    Column("impact", String(16), nullable=False),
    Column("components", Text, nullable=False),  # JSON list of component ids
    Column("automated", Boolean, nullable=False),  # False once a human took it over
    Column("created_at", UtcDateTime, nullable=False),
    Column("updated_at", UtcDateTime, nullable=False),
    Column("monitoring_at", UtcDateTime),
    Column("resolved_at", UtcDateTime),
    Column("scheduled_for", UtcDateTime),
    Column("scheduled_until", UtcDateTime),
    # Added in schema version 3: when the trouble began (an alert's startsAt), and whether
    # the public sees it (incidents opened by `?mode=draft` wait for a responder).
    Column("started_at", UtcDateTime),
    Column("published", Boolean, nullable=False, server_default=true()),
)

incident_update = Table(
    "incident_update",
    metadata,
    Column("id", String(32), primary_key=True),
    Column("incident_id", String(32), nullable=False),
    Column("status", String(32), nullable=False),
    Column("body", Text, nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
    Column("affected_components", Text, nullable=False),  # JSON list of {code, name, status}
)

# Added in schema version 2: one row per component and UTC day, for the 90-day bars.
uptime_day = Table(
    "uptime_day",
    metadata,
    Column("component_id", String(63), primary_key=True),
    Column("day", String(10), primary_key=True),
    Column("checks_total", Integer, nullable=False),
    Column("checks_ok", Integer, nullable=False),
)

Index("ix_incident_update_incident", incident_update.c.incident_id)
Index("ix_alert_incident", alert.c.incident_id)

# Added in schema version 4: subscriptions and their delivery. None of these tables is
# read by the renderers, so nothing in them can reach a public file or the S3 copy.
subscriber = Table(
    "subscriber",
    metadata,
    Column("id", String(32), primary_key=True),
    Column("kind", String(16), nullable=False),  # email | webhook
    Column("address", String(2048), nullable=False),  # normalised e-mail address or URL
    Column("components", Text, nullable=False),  # JSON list of component ids; [] = all
    # Capability for confirm/unsubscribe links: whoever holds it owns the subscription.
    Column("token", String(64), nullable=False, unique=True),
    Column("secret", String(64)),  # webhook signing key, shown once at subscription
    Column("created_at", UtcDateTime, nullable=False),
    Column("confirmed_at", UtcDateTime),
)

# One row per event worth telling subscribers about; `key` makes each event happen once
# (an incident update, or a maintenance window's start or end by the clock or by hand).
notification = Table(
    "notification",
    metadata,
    Column("id", String(32), primary_key=True),
    Column("key", String(200), nullable=False, unique=True),
    Column("event", String(32), nullable=False),
    Column("kind", String(16), nullable=False),  # incident | maintenance
    Column("incident_id", String(32), nullable=False),
    Column("update_id", String(32)),
    Column("created_at", UtcDateTime, nullable=False),
)

# The outbox: one row per message and recipient, written in the transaction of the change.
# `next_attempt_at` is NULL once the row is done (sent or dead), so the due scan stays small.
outbox = Table(
    "outbox",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("subscriber_id", String(32), nullable=False),
    Column("message", String(16), nullable=False),  # confirm | notify
    Column("notification_id", String(32)),
    Column("created_at", UtcDateTime, nullable=False),
    Column("attempts", Integer, nullable=False),
    Column("next_attempt_at", UtcDateTime),
    Column("claimed_until", UtcDateTime),
    Column("sent_at", UtcDateTime),
    Column("dead_at", UtcDateTime),
    Column("last_error", Text),
)

Index("ix_subscriber_address", subscriber.c.kind, subscriber.c.address, unique=True)
Index("ix_outbox_due", outbox.c.next_attempt_at)
Index("ix_outbox_subscriber", outbox.c.subscriber_id)
