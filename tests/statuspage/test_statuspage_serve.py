"""`python -m statuspage serve` as an operator runs it: a real process on each server."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest
from live_service import TOKEN, alert, notification, served


# The default server; uvicorn runs the same ASGI app in every other test (and the benchmark
# starts both through this command).
@pytest.mark.parametrize("server", ["granian"])
def test_serve_runs_lifespan_and_answers(server: str, tmp_path: Path) -> None:
    with served(tmp_path, server) as base:
        hook = httpx.post(
            f"{base}/api/v1/alertmanager",
            json=notification(alert()),
            headers={"authorization": f"Bearer {TOKEN}"},
        )
        assert hook.status_code == 200
        summary = httpx.get(f"{base}/api/v2/summary.json").json()
        assert summary["incidents"][0]["name"] == "Orders are failing"
        page = httpx.get(f"{base}/", headers={"accept-encoding": "identity"})
        assert "Major outage" in page.text
        assert (tmp_path / "status.db").exists()

        # Same caching and input rules on both servers (granian answers through RSGI).
        etag = page.headers["etag"]
        assert (
            httpx.get(
                f"{base}/", headers={"if-none-match": etag, "accept-encoding": "identity"}
            ).status_code
            == 304
        )
        packed = httpx.get(f"{base}/", headers={"accept-encoding": "gzip"})
        assert packed.headers["content-encoding"] == "gzip" and packed.text == page.text
        plain = {"accept-encoding": "identity"}
        head = httpx.head(f"{base}/api/v2/summary.json", headers=plain)
        assert head.status_code == 200 and head.content == b""
        assert int(head.headers["content-length"]) == len(
            httpx.get(f"{base}/api/v2/summary.json", headers=plain).content
        )
        assert httpx.post(f"{base}/api/v1/incidents", json={}).status_code == 401
        big = httpx.post(
            f"{base}/api/v1/alertmanager",
            content=b"x" * 1_100_000,
            headers={"authorization": f"Bearer {TOKEN}"},
        )
        assert big.status_code == 413
        assert httpx.get(f"{base}/missing").status_code == 404
        # The uptime API is dynamic: its query string must survive the RSGI bridge.
        uptime = httpx.get(
            f"{base}/api/v2/uptime.json", params={"since": "2026-11-01", "until": "2026-11-30"}
        )
        assert uptime.status_code == 200 and uptime.json()["window"]["days"] == 30
        bad = httpx.get(f"{base}/api/v2/uptime.json", params={"since": "soon"})
        assert bad.status_code == 400 and "since='soon'" in bad.json()["error"]
