"""The ceiling for comparison: a bare RSGI app on granian returning the same bytes from a
dict, with no framework, no cache logic and no background work."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

ROOT = Path(os.environ["BENCH_WWW"])
FILES = {
    "/": (ROOT / "index.html").read_bytes(),
    "/api/v2/summary.json": (ROOT / "api" / "v2" / "summary.json").read_bytes(),
}
HEADERS = {
    "/": [("content-type", "text/html; charset=utf-8")],
    "/api/v2/summary.json": [("content-type", "application/json; charset=utf-8")],
}


async def app(scope: Any, protocol: Any) -> None:
    protocol.response_bytes(200, HEADERS[scope.path], FILES[scope.path])
