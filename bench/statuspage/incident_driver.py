"""An incident for the benchmark: seeds confirmed e-mail subscribers, then changes the page's
status every second through the Alertmanager webhook (a critical alert fires, resolves,
fires again as a new episode ...), so every second renders the page anew and queues one
mail per subscriber.

    incident_driver.py seed DATABASE_URL CONFIG N       # N confirmed subscribers
    incident_driver.py drive BASE_URL TOKEN READY_FILE  # until SIGTERM; prints what it did
    incident_driver.py sent DATABASE_URL                # outbox rows sent / still due
"""

from __future__ import annotations

import signal
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import func, select

from statuspage import schema
from statuspage.config import load_config
from statuspage.store import Store, make_engine
from statuspage.subscriptions import SubscribeRequest, confirm, subscribe


def seed(database_url: str, config_path: str, count: int) -> None:
    store = Store(database_url, load_config(config_path))
    store.migrate()
    now = datetime.now(UTC)
    for i in range(count):
        subscribe(store, SubscribeRequest("email", f"reader{i}@example.com", []), now)
    with store.engine.begin() as conn:
        # The confirmation mails were "sent" long ago: only incident mails load the bench.
        conn.execute(schema.outbox.delete())
    with store.engine.connect() as conn:
        tokens = [r.token for r in conn.execute(select(schema.subscriber.c.token))]
    for token in tokens:
        confirm(store, token, now)
    store.dispose()


def notification(firing: bool, starts_at: datetime) -> dict[str, Any]:
    ends = starts_at + timedelta(seconds=1) if not firing else None
    return {
        "version": "4",
        "status": "firing" if firing else "resolved",
        "receiver": "statuspage",
        "groupKey": "{}:{alertname=\"WebDown\"}",
        "alerts": [
            {
                "status": "firing" if firing else "resolved",
                "labels": {"alertname": "WebDown", "service": "web", "severity": "critical"},
                "annotations": {"statuspage_title": "Web app failing"},
                "startsAt": starts_at.isoformat().replace("+00:00", "Z"),
                "endsAt": (ends.isoformat().replace("+00:00", "Z") if ends else
                           "0001-01-01T00:00:00Z"),
                "fingerprint": "bench-web-down",
            }
        ],
    }  # fmt: skip


def drive(base_url: str, token: str, ready_file: str) -> None:
    running = True

    def stop(*_: Any) -> None:
        nonlocal running
        running = False

    signal.signal(signal.SIGTERM, stop)
    changes = errors = 0
    firing = False
    starts_at = datetime.now(UTC)
    with httpx.Client(base_url=base_url, headers={"authorization": f"Bearer {token}"}) as client:
        while running:
            tick = time.monotonic()
            firing = not firing
            if firing:
                starts_at = datetime.now(UTC)  # a new episode: a new incident
            try:
                answer = client.post("/api/v1/alertmanager", json=notification(firing, starts_at))
                changes += answer.status_code == 200
                errors += answer.status_code != 200
            except httpx.HTTPError:
                errors += 1
            if changes + errors == 1:
                Path(ready_file).touch()  # the load starts with the first change
            time.sleep(max(0.0, 1.0 - (time.monotonic() - tick)))
    print(f"{changes} status changes, {errors} errors", flush=True)


def sent(database_url: str) -> None:
    out = schema.outbox
    with make_engine(database_url).connect() as conn:
        done = conn.execute(select(func.count()).where(out.c.sent_at.is_not(None))).scalar()
        due = conn.execute(select(func.count()).where(out.c.next_attempt_at.is_not(None))).scalar()
    print(f"{done} {due}")


if __name__ == "__main__":
    command = sys.argv[1]
    if command == "seed":
        seed(sys.argv[2], sys.argv[3], int(sys.argv[4]))
    elif command == "drive":
        drive(sys.argv[2], sys.argv[3], sys.argv[4])
    else:
        sent(sys.argv[2])
