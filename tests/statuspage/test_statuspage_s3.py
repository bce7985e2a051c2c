"""The copy that survives the cluster, against moto's S3 server over HTTP."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from live_service import free_port, make_config, start_service
from moto.server import ThreadedMotoServer

XSS = "<script>alert(1)</script>"


@pytest.fixture
def s3(monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[str, Any]]:
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    port = free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    endpoint = f"http://127.0.0.1:{port}"
    client = boto3.client("s3", endpoint_url=endpoint, region_name="eu-central-1")
    client.create_bucket(
        Bucket="status-copy", CreateBucketConfiguration={"LocationConstraint": "eu-central-1"}
    )
    try:
        yield endpoint, client
    finally:
        server.stop()


def _wait_for(predicate: Any, seconds: float = 10) -> None:
    deadline = time.monotonic() + seconds
    while not predicate():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.1)


def test_every_change_is_published_with_cache_headers(s3: tuple[str, Any], tmp_path: Path) -> None:
    endpoint, client = s3
    config = make_config(
        publish={
            "s3": {
                "bucket": "status-copy",
                "prefix": "/status/",
                "endpoint_url": endpoint,
                "region": "eu-central-1",
            }
        }
    )
    for live in start_service(config, f"sqlite:///{tmp_path / 's.db'}")():
        publisher = live.service.publisher
        assert publisher is not None
        _wait_for(publisher.published.is_set)
        keys = {o["Key"] for o in client.list_objects_v2(Bucket="status-copy")["Contents"]}
        assert {
            "status/index.html",
            "status/history.html",
            "status/history.atom",
            "status/api/v2/summary.json",
            "status/api/v2/incidents/unresolved.json",
            "status/api/v2/scheduled-maintenances/active.json",
        } <= keys
        head = client.head_object(Bucket="status-copy", Key="status/index.html")
        assert (
            head["CacheControl"]
            == "public, max-age=10, stale-while-revalidate=60, stale-if-error=86400"
        )
        assert head["ContentType"] == "text/html; charset=utf-8"

        live.post(
            "/api/v1/incidents", {"name": XSS, "body": "Looking into it.", "components": ["api"]}
        )

        def copy_has_incident() -> bool:
            body = client.get_object(Bucket="status-copy", Key="status/index.html")["Body"].read()
            return b"&lt;script&gt;alert(1)&lt;/script&gt;" in body

        _wait_for(copy_has_incident)
        _wait_for(publisher.published.is_set)
        for key in ["status/index.html", "status/history.html", "status/history.atom"]:
            body = client.get_object(Bucket="status-copy", Key=key)["Body"].read().decode()
            assert XSS not in body, key
        # Each incident's page is copied too, also under its extensionless permalink.
        [incident] = live.incidents()
        for key in (
            f"status/incidents/{incident['id']}.html",
            f"status/incidents/{incident['id']}",
        ):
            page = client.get_object(Bucket="status-copy", Key=key)
            assert page["ContentType"] == "text/html; charset=utf-8"
            assert b"&lt;script&gt;alert(1)&lt;/script&gt;" in page["Body"].read()
        served = live.client.get("/api/v2/summary.json").content
        copied = client.get_object(Bucket="status-copy", Key="status/api/v2/summary.json")
        assert copied["Body"].read() == served
        assert copied["ContentType"] == "application/json; charset=utf-8"
