"""The running service: state in the store, rendered files in memory, background loops.

All replicas serve and poll the database's revision counter to re-render after another
replica's write. One replica, the holder of a PostgreSQL advisory lock (always the only
one on SQLite), runs the synthetic checks and publishes the S3 copy.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
import threading
import time
from datetime import UTC, datetime
from typing import Any

import httpx
from sqlalchemy import Connection, text

from statuspage import cache
from statuspage.checks import ComponentChecks, run_http, run_tcp
from statuspage.config import Component, HttpCheck, StatusPageConfig
from statuspage.metrics import Metrics
from statuspage.outbox import Sender, record_effects
from statuspage.publish import Background, S3Publisher
from statuspage.render import File, render_files
from statuspage.store import Store
from statuspage.subscriptions import SubscriptionSettings

log = logging.getLogger("statuspage")
LEADER_LOCK_KEY = 0x5354_4154_5553_0003


class Leadership:
    """Session-level advisory lock on a dedicated connection: whoever holds it leads, and
    PostgreSQL releases it by itself when that replica's connection dies."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self._conn: Connection | None = None

    @property
    def held(self) -> bool:
        return self._conn is not None or not self.store.is_postgres

    def try_acquire(self) -> bool:
        if not self.store.is_postgres:
            return True
        conn = self.store.engine.connect()
        got = conn.execute(text("SELECT pg_try_advisory_lock(:k)"), {"k": LEADER_LOCK_KEY})
        if got.scalar():
            conn.commit()
            self._conn = conn
            return True
        conn.close()
        return False

    def still_held(self) -> bool:
        if self._conn is None:
            return not self.store.is_postgres
        try:
            self._conn.execute(text("SELECT 1"))
            self._conn.commit()
            return True
        except Exception:
            self.release()
            return False

    def release(self) -> None:
        if self._conn is not None:
            with contextlib.suppress(Exception):
                self._conn.close()
            self._conn = None


class StatusService:
    def __init__(
        self,
        config: StatusPageConfig,
        database_url: str,
        api_token: str | None,
        *,
        poll_seconds: float = 2.0,
        rerender_seconds: float = 60.0,
        leader_seconds: float = 5.0,
        max_body_bytes: int = 1_048_576,
        s3_client: Any = None,
        subscriptions: SubscriptionSettings | None = None,
    ) -> None:
        self.config = config
        self.store = Store(database_url, config)
        self.api_token = api_token or None
        self.max_body_bytes = max_body_bytes
        self.poll_seconds = poll_seconds
        self.rerender_seconds = rerender_seconds
        self.leader_seconds = leader_seconds
        self.metrics = Metrics()
        self.cache_control = config.caching.header()
        self.leadership = Leadership(self.store)
        self.fast_path: cache.FastPath | None = None
        self.files: list[File] = []
        self.updated_at: datetime | None = None  # the page's updated_at in the last render
        self.last_refresh_ok: float = 0.0
        self.last_error: str | None = None
        self._revision = -1
        self._rendered_at = 0.0
        self._refresh_lock = threading.Lock()
        self._publisher: Background | None = None
        if config.publish.s3 is not None:
            s3 = S3Publisher(config.publish.s3, self.cache_control, client=s3_client)
            self._publisher = Background(s3.publish, self.metrics.publish_errors.inc)
        self._tasks: list[asyncio.Task[None]] = []
        self._check_tasks: list[asyncio.Task[None]] = []
        self.subscriptions = subscriptions or SubscriptionSettings(smtp=None)
        self.subscribe_limiter = self.subscriptions.limiter()
        self.sender = Sender(
            self.store,
            config,
            self.subscriptions.smtp,
            self.subscriptions.allow_private_webhooks,
            lambda channel, outcome: self.metrics.notifications.labels(channel, outcome).inc(),
        )
        # Subscribers' messages are written in the transaction of the change they announce.
        self.store.effect_listeners.append(record_effects)

    @property
    def publisher(self) -> Background | None:
        return self._publisher

    @property
    def runs_checks(self) -> bool:
        return bool(self._check_tasks)

    # ---- rendering ---------------------------------------------------------------------

    def refresh(self, force: bool = False) -> bool:
        """Re-render if the state changed (or when forced); returns whether it rendered."""
        with self._refresh_lock:
            try:
                revision = self.store.revision()
                if not force and revision == self._revision:
                    self.last_refresh_ok = time.monotonic()
                    return False
                view = self.store.read_view()
                files = render_files(self.config, view)
            except Exception as exc:
                # Keep serving the last good render: stale status beats no status.
                self.last_error = type(exc).__name__
                log.exception("refresh failed")
                return False
            previous = self.fast_path.responses if self.fast_path else None
            responses = cache.build(files, view.now, self.cache_control, previous)
            if self.fast_path is not None:
                self.fast_path.responses = responses
            self.files = files
            self.updated_at = view.updated_at
            self._revision = revision
            self._rendered_at = time.monotonic()
            self.last_refresh_ok = self._rendered_at
            self.last_error = None
            self.metrics.set_component_statuses(
                {cid: c.status for cid, c in view.components.items()}
            )
            if self._publisher is not None and self.leadership.held:
                self._publisher.submit(files)
            return True

    # ---- lifecycle -----------------------------------------------------------------------

    def start_sync(self) -> None:
        self.store.migrate()
        self.refresh(force=True)

    async def start(self) -> None:
        await asyncio.to_thread(self.start_sync)
        # Libraries and config are loaded for good: keep them out of the collector's full
        # passes, whose pauses would otherwise show up in the p99 of the hot paths.
        gc.collect()
        gc.freeze()
        self._tasks = [
            asyncio.create_task(self._refresh_loop(), name="refresh"),
            asyncio.create_task(self._leader_loop(), name="leader"),
        ]

    async def _stop_checks(self) -> None:
        for task in self._check_tasks:
            task.cancel()
        for task in self._check_tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        self._check_tasks = []
        # The last probe values would otherwise be exported for ever: a stale 1 from a
        # replica that no longer checks can hold max(probe_success) up during an outage.
        self.metrics.clear_probes()

    async def stop(self) -> None:
        await self._stop_checks()
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        self.leadership.release()
        if self._publisher is not None:
            self._publisher.stop()
        self.store.dispose()

    async def _refresh_loop(self) -> None:
        while True:
            await asyncio.sleep(self.poll_seconds)
            stale = time.monotonic() - self._rendered_at >= self.rerender_seconds
            await asyncio.to_thread(self.refresh, stale)

    async def _leader_loop(self) -> None:
        pruned_at = 0.0
        while True:
            try:
                if self._check_tasks and time.monotonic() - pruned_at > 3600:
                    await asyncio.to_thread(self.store.prune_alerts)
                    pruned_at = time.monotonic()
                if self._check_tasks:
                    # Maintenance windows start and end by the clock: the leader records it.
                    moved = await asyncio.to_thread(self.store.advance_maintenances, None)
                    if moved:
                        await asyncio.to_thread(self.refresh)
                if not self._check_tasks:
                    if await asyncio.to_thread(self.leadership.try_acquire):
                        log.info("this replica runs the checks and publishes the copy")
                        self._start_checks()
                        if self._publisher is not None and self.files:
                            self._publisher.submit(self.files)
                elif not await asyncio.to_thread(self.leadership.still_held):
                    log.warning("lost the checks lock; another replica takes over")
                    await self._stop_checks()
            except Exception:
                log.exception("leader election failed; retrying")
            await asyncio.sleep(self.leader_seconds)

    # ---- synthetic checks ----------------------------------------------------------------

    def _start_checks(self) -> None:
        # The leader also delivers the outbox: one sender, however many replicas.
        outbox = self.sender.run(self.subscriptions.poll_seconds)
        self._check_tasks.append(asyncio.create_task(outbox, name="outbox"))
        client = httpx.AsyncClient(
            follow_redirects=False, headers={"user-agent": "statuspage-check"}
        )
        for component in self.config.all_components():
            tracker = ComponentChecks(component)
            for check in component.checks:
                self._check_tasks.append(
                    asyncio.create_task(self._check_loop(component, check, tracker, client))
                )
        if not self._check_tasks:
            # Nothing to check; a placeholder marks leadership as taken.
            self._check_tasks.append(asyncio.create_task(_forever()))

    async def _check_loop(
        self, component: Component, check: Any, tracker: ComponentChecks, client: httpx.AsyncClient
    ) -> None:
        service = check.service or (component.services[0] if component.services else component.id)
        labels = (component.id, service, check.id)
        while True:
            started = time.monotonic()
            try:
                if isinstance(check, HttpCheck):
                    result = await run_http(check, client)
                else:
                    result = await run_tcp(check)
                self.metrics.probe_success.labels(*labels).set(int(result.ok))
                self.metrics.probe_duration.labels(*labels).set(result.duration_seconds)
                status = tracker.record(check.id, result)
                changed = await asyncio.to_thread(
                    self.store.record_check, component.id, status, result.ok, datetime.now(UTC)
                )
                if changed:
                    await asyncio.to_thread(self.refresh)
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("check %s failed to run", check.id)
            elapsed = time.monotonic() - started
            await asyncio.sleep(max(0.0, check.interval.total_seconds() - elapsed))


async def _forever() -> None:
    await asyncio.Event().wait()
