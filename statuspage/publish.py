"""The copy that survives the cluster: every changed file uploaded to S3 with its headers.

Credentials come only from the environment (boto3's usual chain: AWS_ACCESS_KEY_ID, ...,
or the pod's web identity), never from the config file.
"""

from __future__ import annotations

import hashlib
import logging
import threading
from collections.abc import Callable
from typing import Any

import boto3

from statuspage.config import S3Publish
from statuspage.render import File

log = logging.getLogger("statuspage.publish")


class S3Publisher:
    def __init__(self, settings: S3Publish, cache_control: str, client: Any = None) -> None:
        self.settings = settings
        self.cache_control = cache_control
        self.client = client or boto3.client(
            "s3", endpoint_url=settings.endpoint_url, region_name=settings.region
        )
        self._uploaded: dict[str, str] = {}

    def publish(self, files: list[File]) -> int:
        """Uploads files whose bytes changed since the last successful upload."""
        count = 0
        for f in files:
            digest = hashlib.sha256(f.body).hexdigest()
            for key in _keys(self.settings.prefix, f.key):
                if self._uploaded.get(key) == digest:
                    continue
                self.client.put_object(
                    Bucket=self.settings.bucket,
                    Key=key,
                    Body=f.body,
                    ContentType=f.content_type,
                    CacheControl=self.cache_control,
                )
                self._uploaded[key] = digest
                count += 1
        return count


def _keys(prefix: str, key: str) -> list[str]:
    # The permalink /incidents/<id> has no extension: the copy answers it too.
    if key.startswith("incidents/") and key.endswith(".html"):
        return [prefix + key, prefix + key.removesuffix(".html")]
    return [prefix + key]


class Background:
    """Runs the latest publish job on its own thread so requests never wait for S3.

    Only the newest file set matters: if several changes land during one upload, the next
    round uploads the last of them once. Failures retry with a back-off.
    """

    def __init__(self, publish: Callable[[list[File]], int], on_error: Callable[[], None]) -> None:
        self._publish = publish
        self._on_error = on_error
        self._pending: list[File] | None = None
        self._wake = threading.Condition()
        self._stopped = False
        self.published = threading.Event()
        self._thread = threading.Thread(target=self._run, name="s3-publish", daemon=True)
        self._thread.start()

    def submit(self, files: list[File]) -> None:
        with self._wake:
            self._pending = files
            self.published.clear()
            self._wake.notify()

    def stop(self) -> None:
        with self._wake:
            self._stopped = True
            self._wake.notify()
        self._thread.join(timeout=10)

    def _run(self) -> None:
        delay = 1.0
        while True:
            with self._wake:
                while self._pending is None and not self._stopped:
                    self._wake.wait()
                if self._stopped:
                    return
                files, self._pending = self._pending, None
            try:
                assert files is not None
                uploaded = self._publish(files)
                log.info("published %d changed file(s) to S3", uploaded)
                delay = 1.0
                with self._wake:
                    if self._pending is None:
                        self.published.set()
            except Exception as exc:
                self._on_error()
                log.warning("S3 publish failed (%s); retrying in %.0fs", exc, delay)
                with self._wake:
                    if self._pending is None:
                        self._pending = files
                    self._wake.wait(delay)
                delay = min(delay * 2, 60.0)
