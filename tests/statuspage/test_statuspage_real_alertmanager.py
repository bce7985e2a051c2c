"""A real Alertmanager (Debian's 0.25) notifying the real service: what it really sends,
with its real bearer-token config, opens and then closes one incident."""

from __future__ import annotations

import shutil
import subprocess
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest
import yaml
from live_service import TOKEN, Live, free_port, require

BINARY = "prometheus-alertmanager"


@pytest.fixture
def alertmanager(live: Live, tmp_path: Path) -> Iterator[str]:
    require("prometheus-alertmanager", shutil.which(BINARY) is not None)
    config = {
        "route": {
            "receiver": "statuspage",
            "group_by": ["alertname", "service"],
            "group_wait": "0s",
            "group_interval": "1s",
            "repeat_interval": "1h",
        },
        "receivers": [
            {
                "name": "statuspage",
                "webhook_configs": [
                    {
                        "url": f"{live.url}/api/v1/alertmanager",
                        "send_resolved": True,
                        "http_config": {"authorization": {"type": "Bearer", "credentials": TOKEN}},
                    }
                ],
            }
        ],
    }
    (tmp_path / "am.yaml").write_text(yaml.safe_dump(config))
    port = free_port()
    process = subprocess.Popen(
        [
            BINARY,
            f"--config.file={tmp_path / 'am.yaml'}",
            f"--storage.path={tmp_path / 'am'}",
            f"--web.listen-address=127.0.0.1:{port}",
            "--cluster.listen-address=",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        _until(lambda: _ready(url), "alertmanager did not start")
        yield url
    finally:
        process.terminate()
        process.wait(timeout=10)


def _ready(url: str) -> bool:
    try:
        return httpx.get(f"{url}/-/ready").status_code == 200
    except httpx.HTTPError:
        return False


def _until(predicate: Callable[[], bool], message: str, seconds: float = 15) -> None:
    deadline = time.monotonic() + seconds
    while not predicate():
        assert time.monotonic() < deadline, message
        time.sleep(0.1)


def _post_alert(url: str, ends_at: datetime | None, starts_at: datetime) -> None:
    body = {
        "labels": {"alertname": "OrdersDown", "service": "orders", "severity": "critical"},
        "annotations": {"statuspage_title": "Orders are failing"},
        "startsAt": starts_at.isoformat(),
    }
    if ends_at is not None:
        body["endsAt"] = ends_at.isoformat()
    assert httpx.post(f"{url}/api/v2/alerts", json=[body]).status_code == 200


def test_alertmanager_opens_and_closes_one_incident(live: Live, alertmanager: str) -> None:
    started = datetime.now(UTC) - timedelta(minutes=1)
    _post_alert(alertmanager, None, started)
    _until(lambda: live.component("api")["status"] == "major_outage", "the alert never arrived")
    time.sleep(2)  # a couple of group_interval ticks: Alertmanager may resend meanwhile
    [incident] = live.incidents()
    assert incident["name"] == "Orders are failing" and incident["status"] == "investigating"

    _post_alert(alertmanager, datetime.now(UTC) - timedelta(seconds=1), started)
    _until(lambda: live.component("api")["status"] == "operational", "the resolve never arrived")
    [incident] = live.incidents()
    assert incident["status"] == "resolved"
