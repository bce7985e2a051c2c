"""The outbox: notifications written in the transaction of the change, sent by the leader.

A change and its messages commit together, so a crash after the commit loses nothing: the
rows wait in the database for whichever replica leads next. Each row is one message to one
recipient with its own attempts and backoff; a sender claims rows with a lease before
sending (a conditional UPDATE, so two senders never take the same row) and marks them
sent, retried or dead afterwards. A sender killed between sending and marking re-sends
that row once its lease ends: delivery is at least once in that narrow window, exactly
once otherwise.
"""

from __future__ import annotations

import asyncio
import json
import logging
import secrets
import smtplib
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from typing import Any, Literal

import httpx
from sqlalchemy import Connection, and_, delete, insert, or_, select, update

from statuspage import schema
from statuspage.config import StatusPageConfig
from statuspage.notices import (
    EVENT_OF_EFFECT,
    follows,
    notice,
    notification_key,
    webhook_body,
)
from statuspage.notify_mail import (
    MailSession,
    PermanentFailure,
    SmtpSettings,
    confirmation_mail,
    notification_mail,
)
from statuspage.notify_webhook import TIMEOUT_SECONDS as WEBHOOK_TIMEOUT_SECONDS
from statuspage.notify_webhook import TargetError, check_resolves_public, post
from statuspage.state import Incident, PageView
from statuspage.transitions import Effect

log = logging.getLogger("statuspage.outbox")
MAX_ATTEMPTS = 12  # with the backoff below: given up after about 2.5 hours
BACKOFF_FIRST = timedelta(seconds=5)
BACKOFF_MAX = timedelta(hours=1)
LEASE = timedelta(minutes=2)
KEEP_DONE = timedelta(days=30)
BATCH = 50
CONCURRENCY = 8
Outcome = Literal["sent", "retry", "dead"]


def backoff(attempts: int, first: timedelta = BACKOFF_FIRST) -> timedelta:
    """Wait before attempt `attempts + 1`: 5 s, 10 s, 20 s ... at most an hour."""
    return min(first * 2 ** max(0, attempts - 1), BACKOFF_MAX)


def http_outcome(status: int) -> Outcome:
    """2xx is delivered; 408, 429 and 5xx may pass later; any other answer (a redirect,
    a refusal) will not change by retrying."""
    if 200 <= status < 300:
        return "sent"
    if status in (408, 429) or status >= 500:
        return "retry"
    return "dead"


# ---- writing: inside the caller's transaction ------------------------------------------


def notify(
    conn: Connection,
    incident_id: str,
    kind: str,
    event: str,
    components: list[str],
    now: datetime,
    update_id: str | None = None,
) -> bool:
    """Record an event once and queue one message per confirmed subscriber following any
    of `components`; returns False when the event was recorded before."""
    key = notification_key(incident_id, event, update_id)
    table = schema.notification
    if conn.execute(select(table.c.id).where(table.c.key == key)).first() is not None:
        return False
    notification_id = secrets.token_hex(12)
    conn.execute(
        insert(table).values(
            id=notification_id,
            key=key,
            event=event,
            kind=kind,
            incident_id=incident_id,
            update_id=update_id,
            created_at=now,
        )
    )
    subscribers = schema.subscriber
    rows = [
        _outbox_row(s.id, "notify", now, notification_id)
        for s in conn.execute(
            select(subscribers.c.id, subscribers.c.components).where(
                subscribers.c.confirmed_at.is_not(None)
            )
        )
        if follows(json.loads(s.components), components)
    ]
    if rows:
        conn.execute(insert(schema.outbox), rows)
    return True


def record_effects(conn: Connection, effects: list[Effect]) -> None:
    """The store's effect listener: runs inside the transaction that made the change."""
    now = datetime.now(UTC)
    table = schema.incident
    ids = {e.incident_id for e in effects}
    rows = {
        r.id: r
        for r in conn.execute(
            select(table.c.id, table.c.kind, table.c.components).where(table.c.id.in_(ids))
        )
    }
    for effect in effects:
        row = rows.get(effect.incident_id)
        event = EVENT_OF_EFFECT.get(effect.kind)
        if row is None or event is None:
            continue
        components = json.loads(row.components)
        notify(conn, row.id, row.kind, event, components, now, effect.update_id)


def enqueue_confirmation(conn: Connection, subscriber_id: str, now: datetime) -> None:
    conn.execute(insert(schema.outbox).values(**_outbox_row(subscriber_id, "confirm", now, None)))


def _outbox_row(
    subscriber_id: str, message: str, now: datetime, notification_id: str | None
) -> dict[str, Any]:
    return {
        "subscriber_id": subscriber_id,
        "message": message,
        "notification_id": notification_id,
        "created_at": now,
        "attempts": 0,
        "next_attempt_at": now,
    }


# ---- sending: the leader's loop ----------------------------------------------------------


@dataclass(frozen=True)
class Claimed:
    id: int
    attempts: int
    message: str
    kind: str
    address: str
    token: str
    secret: str | None
    event: str | None
    incident_id: str | None
    incident_kind: str | None
    update_id: str | None


@dataclass(frozen=True)
class Result:
    id: int
    attempts: int
    outcome: Outcome
    error: str | None = None


class Sender:
    """Claims due rows, sends them concurrently, records what happened."""

    def __init__(
        self,
        store: Any,  # statuspage.store.Store; Any keeps this module below the store
        config: StatusPageConfig,
        smtp: SmtpSettings | None,
        allow_private_webhooks: bool,
        on_result: Callable[[str, Outcome], None] = lambda channel, outcome: None,
    ) -> None:
        self.store = store
        self.config = config
        self.smtp = smtp
        self.allow_private_webhooks = allow_private_webhooks
        self.on_result = on_result
        self.base_url = config.page.url.rstrip("/")
        self.first_retry = BACKOFF_FIRST
        self.webhook_timeout_seconds = WEBHOOK_TIMEOUT_SECONDS

    def link(self, action: str, token: str) -> str:
        return f"{self.base_url}/subscriptions/{action}/{token}"

    async def run(self, poll_seconds: float) -> None:
        pruned_at = 0.0
        async with httpx.AsyncClient() as client:
            while True:
                try:
                    if time.monotonic() - pruned_at > 3600:
                        await asyncio.to_thread(self.prune, datetime.now(UTC))
                        pruned_at = time.monotonic()
                    while await self.tick(client) == BATCH:
                        pass
                except asyncio.CancelledError:
                    raise
                except Exception:
                    log.exception("delivering notifications failed; retrying")
                await asyncio.sleep(poll_seconds)

    async def tick(self, client: httpx.AsyncClient, now: datetime | None = None) -> int:
        """One pass: send what is due; returns how many rows it took."""
        now = now or datetime.now(UTC)
        claimed = await asyncio.to_thread(self.claim, now)
        if not claimed:
            return 0
        incidents = await asyncio.to_thread(self._incidents, claimed)
        mails = [r for r in claimed if r.kind == "email"]
        hooks = [r for r in claimed if r.kind != "email"]
        view = await asyncio.to_thread(self.store.read_view) if hooks else None
        limit = asyncio.Semaphore(CONCURRENCY)

        async def one(row: Claimed) -> Result:
            async with limit:
                try:
                    outcome = await self._post_webhook(row, client, view, incidents)
                except Exception as exc:
                    return self._judge(row, None, exc)
                return self._judge(row, outcome, None)

        # Mails go one after another over one connection, webhooks side by side.
        mailing = asyncio.create_task(asyncio.to_thread(self.send_mails, mails, incidents))
        posted = await asyncio.gather(*(one(r) for r in hooks))
        results = [*await mailing, *posted]
        await asyncio.to_thread(self.finish, results, datetime.now(UTC))
        return len(claimed)

    def claim(self, now: datetime) -> list[Claimed]:
        out, sub, note = schema.outbox, schema.subscriber, schema.notification
        free = or_(out.c.claimed_until.is_(None), out.c.claimed_until < now)
        # With e-mail switched off its rows wait (unclaimed) for it to come back.
        mail_off = [sub.c.kind != "email"] if self.smtp is None else []
        with self.store.engine.begin() as conn:
            candidates = conn.execute(
                select(
                    out.c.id,
                    out.c.attempts,
                    out.c.message,
                    sub.c.kind,
                    sub.c.address,
                    sub.c.token,
                    sub.c.secret,
                    note.c.event,
                    note.c.incident_id,
                    note.c.kind.label("incident_kind"),
                    note.c.update_id,
                )
                .join(sub, sub.c.id == out.c.subscriber_id)
                .outerjoin(note, note.c.id == out.c.notification_id)
                .where(and_(out.c.next_attempt_at <= now, free, *mail_off))
                .order_by(out.c.next_attempt_at, out.c.id)
                .limit(BATCH)
            ).all()
            claimed = []
            for row in candidates:
                # Re-checked under the row lock: only one sender wins a row.
                won = conn.execute(
                    update(out)
                    .where(and_(out.c.id == row.id, out.c.next_attempt_at.is_not(None), free))
                    .values(claimed_until=now + LEASE)
                ).rowcount
                if won:
                    claimed.append(Claimed(**row._asdict()))
        return claimed

    def _incidents(self, claimed: list[Claimed]) -> dict[str, Incident]:
        found: dict[str, Incident] = {}
        for row in claimed:
            if row.incident_id and row.incident_kind and row.incident_id not in found:
                try:
                    found[row.incident_id] = self.store.get_incident(
                        row.incident_id, row.incident_kind
                    )
                except LookupError:  # deleted since; its rows go dead
                    continue
        return found

    def _judge(self, row: Claimed, outcome: Outcome | None, exc: Exception | None) -> Result:
        attempts = row.attempts + 1
        error = None
        if isinstance(exc, PermanentFailure | TargetError):
            outcome, error = "dead", str(exc)
        elif exc is not None:
            outcome, error = "retry", f"{type(exc).__name__}: {exc}"
            if not isinstance(exc, OSError | smtplib.SMTPException | httpx.HTTPError):
                log.error("outbox row %s failed unexpectedly", row.id, exc_info=exc)
        assert outcome is not None
        if outcome == "retry" and attempts >= MAX_ATTEMPTS:
            outcome = "dead"
        if error:
            log.warning("outbox row %s (%s): %s, %s", row.id, row.kind, outcome, error)
        self.on_result(row.kind, outcome)
        return Result(row.id, attempts, outcome, error)

    def send_mails(self, rows: list[Claimed], incidents: dict[str, Incident]) -> list[Result]:
        if not rows:
            return []
        assert self.smtp is not None  # claim() leaves e-mail rows alone without SMTP
        results = []
        with MailSession(self.smtp) as session:
            for row in rows:
                try:
                    msg = self._mail(row, self.smtp.mail_from, incidents)
                    if msg is None:
                        results.append(self._judge(row, "dead", None))  # the incident is gone
                        continue
                    session.send(msg)
                except Exception as exc:
                    results.append(self._judge(row, None, exc))
                else:
                    results.append(self._judge(row, "sent", None))
        return results

    def _mail(
        self, row: Claimed, mail_from: str, incidents: dict[str, Incident]
    ) -> EmailMessage | None:
        unsubscribe = self.link("unsubscribe", row.token)
        page_name = self.config.page.name
        if row.message == "confirm":
            confirm_url = self.link("confirm", row.token)
            return confirmation_mail(page_name, mail_from, row.address, confirm_url, unsubscribe)
        inc = incidents.get(row.incident_id or "")
        if inc is None or row.event is None:
            return None
        text = notice(self.config, inc, row.event, row.update_id)
        return notification_mail(page_name, mail_from, row.address, text, unsubscribe)

    async def _post_webhook(
        self,
        row: Claimed,
        client: httpx.AsyncClient,
        view: PageView | None,
        incidents: dict[str, Incident],
    ) -> Outcome:
        inc = incidents.get(row.incident_id or "")
        if inc is None or row.event is None or row.secret is None or view is None:
            return "dead"
        unsubscribe = self.link("unsubscribe", row.token)
        body = webhook_body(self.config, view, inc, row.event, row.update_id, unsubscribe)
        await check_resolves_public(row.address, self.allow_private_webhooks)
        raw = json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode()
        status = await post(client, row.address, row.secret, raw, self.webhook_timeout_seconds)
        return http_outcome(status)

    def prune(self, now: datetime, keep: timedelta = KEEP_DONE) -> int:
        """Forget rows sent or given up on longer ago than `keep` (who got what, when, is
        subscriber data too); returns how many went."""
        out = schema.outbox
        with self.store.engine.begin() as conn:
            gone = conn.execute(
                delete(out).where(
                    and_(
                        out.c.next_attempt_at.is_(None),
                        or_(out.c.sent_at < now - keep, out.c.dead_at < now - keep),
                    )
                )
            )
            return int(gone.rowcount)

    def finish(self, results: list[Result], now: datetime) -> None:
        out = schema.outbox
        with self.store.engine.begin() as conn:
            for r in results:
                values: dict[str, Any] = {
                    "attempts": r.attempts,
                    "claimed_until": None,
                    "last_error": r.error,
                }
                if r.outcome == "sent":
                    values.update(sent_at=now, next_attempt_at=None)
                elif r.outcome == "dead":
                    values.update(dead_at=now, next_attempt_at=None)
                else:
                    values.update(next_attempt_at=now + backoff(r.attempts, self.first_retry))
                conn.execute(update(out).where(out.c.id == r.id).values(**values))
