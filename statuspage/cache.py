"""Pre-rendered responses served from memory, and the raw-ASGI fast path in front of them.

The hot paths (the page and the v2 JSON) never reach Starlette, a template or the
database: a dict lookup and two `send` calls, so an incident-time spike costs little.
"""

from __future__ import annotations

import gzip
import hashlib
from collections.abc import Awaitable, Callable, MutableMapping
from dataclasses import dataclass, replace
from datetime import datetime
from email.utils import format_datetime
from typing import Any

from statuspage.render import File

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

# Served paths for each file key; the HTML also answers without its extension.
ALIASES = {"index.html": ["/", "/index.html"], "history.html": ["/history", "/history.html"]}
CSP = (
    "default-src 'none'; style-src 'unsafe-inline'; img-src 'self' data:; "
    "base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
)


# Below this a gzip member costs more than it saves.
GZIP_MIN_BYTES = 1024


@dataclass(frozen=True)
class Cached:
    body: bytes
    etag: bytes
    last_modified: datetime
    start: Message  # the http.response.start message for a 200
    not_modified: Message  # and for a 304
    rsgi_headers: list[tuple[str, str]]  # the same headers for granian's RSGI (no length)
    rsgi_not_modified: list[tuple[str, str]]
    gzip: Cached | None = None  # the same response compressed, for clients that accept it


def _etag(body: bytes) -> bytes:
    return b'"' + hashlib.blake2b(body, digest_size=12).hexdigest().encode() + b'"'


def build(
    files: list[File],
    now: datetime,
    cache_control: str,
    previous: dict[str, Cached] | None = None,
) -> dict[str, Cached]:
    """Responses by path; unchanged bodies keep their ETag and Last-Modified."""
    previous = previous or {}
    out: dict[str, Cached] = {}
    for f in files:
        etag = _etag(f.body)
        paths = ALIASES.get(f.key) or _paths(f.key)
        old = previous.get(paths[0])
        if old is not None and old.etag == etag:
            # Unchanged (most incident pages on most renders): keep the entry and its gzip.
            for path in paths:
                out[path] = old
            continue
        modified = now
        entry = _entry(f, f.body, etag, modified, cache_control, compressed=False)
        if len(f.body) >= GZIP_MIN_BYTES:
            packed = gzip.compress(f.body, compresslevel=9, mtime=0)
            gz = _entry(f, packed, _etag(packed), modified, cache_control, compressed=True)
            entry = replace(entry, gzip=gz)
        for path in paths:
            out[path] = entry
    return out


def _paths(key: str) -> list[str]:
    # Pages in folders (incidents/<id>.html, history/2.html) also answer without ".html":
    # /incidents/<id> is the permalink.
    if key.endswith(".html"):
        return [f"/{key}", f"/{key.removesuffix('.html')}"]
    return [f"/{key}"]


def _entry(
    f: File, body: bytes, etag: bytes, modified: datetime, cache_control: str, compressed: bool
) -> Cached:
    common = [
        (b"etag", etag),
        (b"last-modified", format_datetime(modified, usegmt=True).encode()),
        (b"cache-control", cache_control.encode()),
        (b"x-content-type-options", b"nosniff"),
    ]
    if f.content_type.startswith("application/json"):
        common.append((b"access-control-allow-origin", b"*"))
    if f.content_type.startswith("text/html"):
        common.append((b"content-security-policy", CSP.encode()))
        common.append((b"referrer-policy", b"no-referrer"))
    if len(f.body) >= GZIP_MIN_BYTES:
        common.append((b"vary", b"Accept-Encoding"))
    headers = [
        (b"content-type", f.content_type.encode()),
        (b"content-length", str(len(body)).encode()),
        *common,
    ]
    if compressed:
        headers.append((b"content-encoding", b"gzip"))
    return Cached(
        body=body,
        etag=etag,
        last_modified=modified,
        start={"type": "http.response.start", "status": 200, "headers": headers},
        not_modified={"type": "http.response.start", "status": 304, "headers": common},
        rsgi_headers=[(k.decode(), v.decode()) for k, v in headers if k != b"content-length"],
        rsgi_not_modified=[(k.decode(), v.decode()) for k, v in common],
    )


def etag_matches(header: bytes, etag: bytes) -> bool:
    if header.strip() == b"*":
        return True
    return any(tag.strip().removeprefix(b"W/") == etag for tag in header.split(b","))


class FastPath:
    """ASGI app answering GET/HEAD for cached paths; everything else goes to `fallback`."""

    def __init__(self, fallback: ASGIApp) -> None:
        self.fallback = fallback
        self.responses: dict[str, Cached] = {}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["method"] in ("GET", "HEAD"):
            entry = self.responses.get(scope["path"])
            if entry is not None:
                validator = None
                for name, value in scope["headers"]:
                    if name == b"if-none-match":
                        validator = value
                    elif name == b"accept-encoding" and entry.gzip and b"gzip" in value:
                        entry = entry.gzip
                if validator is not None and etag_matches(validator, entry.etag):
                    await send(entry.not_modified)
                    await send({"type": "http.response.body", "body": b""})
                    return
                await send(entry.start)
                body = entry.body if scope["method"] == "GET" else b""
                await send({"type": "http.response.body", "body": body})
                return
        await self.fallback(scope, receive, send)
