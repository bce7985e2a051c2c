"""Subscribers: settings, request parsing and validation, subscribe/confirm/unsubscribe.

E-mail uses double opt-in: a subscription sends one confirmation mail and nothing else
until its link is opened. A webhook is live at once; its signing secret is shown once.
Answers never tell whether an e-mail address was subscribed already.
"""

from __future__ import annotations

import json
import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Literal

from email_validator import EmailNotValidError, validate_email
from sqlalchemy import Connection, and_, delete, insert, select, update

from statuspage import inputs, schema
from statuspage.config import StatusPageConfig
from statuspage.notify_mail import SettingsError, SmtpSettings, smtp_settings
from statuspage.notify_webhook import TargetError, check_url
from statuspage.outbox import enqueue_confirmation
from statuspage.ratelimit import Rate, RateLimiter
from statuspage.store import Store, new_id

Kind = Literal["email", "webhook"]
# A second confirmation mail to the same address is sent at most this often, so the form
# cannot be used to flood someone's inbox.
CONFIRMATION_RESEND = timedelta(hours=1)
TRUE = ("1", "true", "yes", "on")


@dataclass(frozen=True)
class SubscriptionSettings:
    smtp: SmtpSettings | None
    allow_private_webhooks: bool = False
    subscribe_rate: Rate = field(default_factory=lambda: Rate(10, 3600.0))
    poll_seconds: float = 2.0
    forwarded_hops: int = 0  # trusted proxies in front (X-Forwarded-For), for rate limits

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> SubscriptionSettings:
        rate_text = env.get("STATUSPAGE_SUBSCRIBE_RATE", "10/1h")
        try:
            rate = Rate.parse(rate_text)
        except ValueError as exc:
            raise SettingsError(f"STATUSPAGE_SUBSCRIBE_RATE: {exc}") from None
        poll_seconds = _number(env, "STATUSPAGE_OUTBOX_POLL_SECONDS", "2")
        hops = _number(env, "STATUSPAGE_FORWARDED_HOPS", "0")
        return cls(
            smtp=smtp_settings(env),
            allow_private_webhooks=env.get("STATUSPAGE_WEBHOOKS_ALLOW_PRIVATE", "").lower() in TRUE,
            subscribe_rate=rate,
            poll_seconds=poll_seconds,
            forwarded_hops=int(hops),
        )

    def limiter(self) -> RateLimiter:
        return RateLimiter(self.subscribe_rate)


def _number(env: Mapping[str, str], name: str, default: str) -> float:
    text = env.get(name, default)
    try:
        value = float(text)
    except ValueError:
        value = -1.0
    if value < 0:
        raise SettingsError(f"{name}: {text!r} is not a number >= 0")
    return value


class SubscribeError(ValueError):
    """Bad subscription input; the message is for the person who typed it."""


@dataclass(frozen=True)
class SubscribeRequest:
    kind: Kind
    address: str
    components: list[str]


@dataclass(frozen=True)
class Subscribed:
    kind: Kind
    token: str | None  # only for webhooks: e-mail tokens travel by mail only
    secret: str | None


def parse_request(
    data: Mapping[str, Any], config: StatusPageConfig, settings: SubscriptionSettings
) -> SubscribeRequest:
    """`email` or `webhook_url`, and optional `components` (ids; none = everything)."""
    email = str(data.get("email") or "").strip()
    url = str(data.get("webhook_url") or "").strip()
    raw_components = data.get("components") or []
    if isinstance(raw_components, str):
        raw_components = [raw_components]
    if not isinstance(raw_components, list) or not all(isinstance(c, str) for c in raw_components):
        raise SubscribeError("components: a list of component ids")
    known = [c.id for c in config.all_components()]
    unknown = sorted(set(raw_components) - set(known))
    if unknown:
        raise SubscribeError(
            f"components: unknown {', '.join(unknown)} (known: {', '.join(known)})"
        )
    components = [c for c in known if c in raw_components]
    for field_name, value in (("email", email), ("webhook_url", url)):
        problem = inputs.bad_character(value)
        if problem is not None:
            raise SubscribeError(f"{field_name}: contains a {problem}")
    if bool(email) == bool(url):
        raise SubscribeError("give either an e-mail address (email) or a webhook URL (webhook_url)")
    if email:
        if settings.smtp is None:
            raise SubscribeError("e-mail subscriptions are not available on this page")
        try:
            normalised = validate_email(email, check_deliverability=False).normalized
        except EmailNotValidError as exc:
            raise SubscribeError(f"email: {exc}") from None
        return SubscribeRequest("email", normalised, components)
    try:
        return SubscribeRequest(
            "webhook", check_url(url, settings.allow_private_webhooks), components
        )
    except TargetError as exc:
        raise SubscribeError(f"webhook_url: {exc}") from None


def _token() -> str:
    return secrets.token_urlsafe(32)


def subscribe(store: Store, request: SubscribeRequest, now: datetime) -> Subscribed | None:
    """Store the subscription and queue its confirmation mail in the same transaction.
    Returns None for a webhook URL that is subscribed already."""
    table = schema.subscriber
    with store.transaction() as conn:
        row = conn.execute(
            select(table).where(
                and_(table.c.kind == request.kind, table.c.address == request.address)
            )
        ).first()
        if request.kind == "webhook":
            if row is not None:
                return None
            token, secret = _token(), secrets.token_hex(32)
            conn.execute(
                insert(table).values(
                    id=new_id(),
                    kind="webhook",
                    address=request.address,
                    components=json.dumps(request.components),
                    token=token,
                    secret=secret,
                    created_at=now,
                    confirmed_at=now,
                )
            )
            return Subscribed("webhook", token, secret)
        if row is None:
            subscriber_id = new_id()
            conn.execute(
                insert(table).values(
                    id=subscriber_id,
                    kind="email",
                    address=request.address,
                    components=json.dumps(request.components),
                    token=_token(),
                    created_at=now,
                )
            )
            enqueue_confirmation(conn, subscriber_id, now)
        elif row.confirmed_at is None and _may_resend(conn, row.id, now):
            conn.execute(
                update(table)
                .where(table.c.id == row.id)
                .values(components=json.dumps(request.components))
            )
            enqueue_confirmation(conn, row.id, now)
        return Subscribed("email", None, None)


def _may_resend(conn: Connection, subscriber_id: str, now: datetime) -> bool:
    out = schema.outbox
    last = conn.execute(
        select(out.c.created_at)
        .where(and_(out.c.subscriber_id == subscriber_id, out.c.message == "confirm"))
        .order_by(out.c.created_at.desc())
        .limit(1)
    ).scalar()
    return last is None or now - last >= CONFIRMATION_RESEND


def confirm(store: Store, token: str, now: datetime) -> bool:
    """Confirm by the mailed token; opening the link again is harmless."""
    table = schema.subscriber
    with store.transaction() as conn:
        row = conn.execute(select(table).where(table.c.token == token)).first()
        if row is None:
            return False
        if row.confirmed_at is None:
            conn.execute(update(table).where(table.c.id == row.id).values(confirmed_at=now))
        return True


def unsubscribe(store: Store, token: str) -> bool:
    """Forget the subscriber and everything still queued for it."""
    table = schema.subscriber
    with store.transaction() as conn:
        row = conn.execute(select(table.c.id).where(table.c.token == token)).first()
        if row is None:
            return False
        conn.execute(delete(schema.outbox).where(schema.outbox.c.subscriber_id == row.id))
        conn.execute(delete(table).where(table.c.id == row.id))
        return True
