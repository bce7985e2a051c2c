"""A local Slack incoming webhook, and the heartbeat endpoint Watchdog pings.

Alertmanager's ``slack_configs`` post to ``/services/<anything>`` (the shape of a Slack
incoming-webhook URL) and get Slack's plain ``ok``. Messages are kept in memory and shown
on a small inbox page at ``/``; ``GET /_sink/messages`` returns them as JSON (optionally
``?since=<seq>``), ``POST /_sink/reset`` forgets them. ``POST /heartbeat`` counts the dead
man's switch pings (Alertmanager webhook payloads) without treating them as messages.
"""

from __future__ import annotations

import html
import itertools
import json
import threading
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, PlainTextResponse, Response
from starlette.routing import Route


@dataclass
class SlackMessage:
    seq: int
    received_at: datetime
    path: str
    channel: str | None
    title: str
    text: str
    color: str | None
    body: Any

    @property
    def resolved(self) -> bool:
        """Alertmanager's default Slack title starts with [RESOLVED]; a green bar says the same."""
        return self.title.upper().startswith("[RESOLVED") or self.color == "good"

    def to_json(self) -> dict[str, Any]:
        return {
            "seq": self.seq,
            "received_at": self.received_at.isoformat(),
            "path": self.path,
            "channel": self.channel,
            "title": self.title,
            "text": self.text,
            "color": self.color,
            "resolved": self.resolved,
            "body": self.body,
        }


def _texts(value: Any) -> list[str]:
    """Every human-readable string in a Slack payload (attachments, fields, blocks)."""
    if isinstance(value, str):
        return [value]
    if isinstance(value, list):
        return [t for item in value for t in _texts(item)]
    if isinstance(value, dict):
        keys = ("pretext", "title", "text", "fallback", "value", "fields", "blocks", "elements")
        return [t for key in keys if key in value for t in _texts(value[key])]
    return []


def message_from_payload(seq: int, path: str, body: Any) -> SlackMessage:
    """Read the parts a person sees from a Slack webhook payload."""
    if not isinstance(body, dict):
        raise ValueError("the payload must be a JSON object")
    attachments = body.get("attachments") or []
    if not isinstance(attachments, list):
        raise ValueError("attachments must be a list")
    first = attachments[0] if attachments and isinstance(attachments[0], dict) else {}
    title = str(first.get("title") or body.get("text") or "")
    parts = _texts(body.get("text")) + _texts(attachments) + _texts(body.get("blocks"))
    if not parts:
        raise ValueError("the payload has no text, attachments or blocks")
    channel = body.get("channel")
    return SlackMessage(
        seq=seq,
        received_at=datetime.now(UTC),
        path=path,
        channel=str(channel) if channel else None,
        title=title,
        text="\n".join(dict.fromkeys(p for p in parts if p)),
        color=str(first["color"]) if first.get("color") else None,
        body=body,
    )


@dataclass
class SlackSink:
    """Received messages and heartbeats; thread-safe."""

    messages: list[SlackMessage] = field(default_factory=list)
    heartbeats: list[datetime] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _seq: itertools.count[int] = field(default_factory=lambda: itertools.count(1))

    def receive(self, path: str, body: Any) -> SlackMessage:
        with self._lock:
            message = message_from_payload(next(self._seq), path, body)
            self.messages.append(message)
            return message

    def heartbeat(self) -> None:
        with self._lock:
            self.heartbeats.append(datetime.now(UTC))

    def since(self, seq: int = 0) -> list[SlackMessage]:
        with self._lock:
            return [m for m in self.messages if m.seq > seq]

    def reset(self) -> None:
        with self._lock:
            self.messages.clear()
            self.heartbeats.clear()


def create_app(sink: SlackSink) -> Starlette:
    async def webhook(request: Request) -> Response:
        raw = await request.body()
        try:
            body = json.loads(raw)
            sink.receive(request.url.path, body)
        except ValueError as exc:
            # Slack answers a malformed payload with 400 and a short reason in plain text.
            return PlainTextResponse(f"invalid_payload: {exc}", status_code=400)
        return PlainTextResponse("ok")

    async def heartbeat(request: Request) -> Response:
        await request.body()
        sink.heartbeat()
        return PlainTextResponse("ok")

    async def messages(request: Request) -> Response:
        since = int(request.query_params.get("since", "0") or 0)
        with sink._lock:
            beats = len(sink.heartbeats)
            last = sink.heartbeats[-1].isoformat() if sink.heartbeats else None
        return JSONResponse(
            {
                "messages": [m.to_json() for m in sink.since(since)],
                "heartbeats": beats,
                "last_heartbeat": last,
            }
        )

    async def reset(request: Request) -> Response:
        sink.reset()
        return JSONResponse({"ok": True})

    async def inbox(request: Request) -> Response:
        return HTMLResponse(render_inbox(sink))

    return Starlette(
        routes=[
            Route("/", inbox),
            Route("/services/{rest:path}", webhook, methods=["POST"]),
            Route("/heartbeat", heartbeat, methods=["POST"]),
            Route("/_sink/messages", messages),
            Route("/_sink/reset", reset, methods=["POST"]),
        ]
    )


def render_inbox(sink: SlackSink) -> str:
    """The inbox page: newest message first, every value escaped, no JavaScript."""
    e = html.escape
    with sink._lock:
        rows = "".join(
            f'<article class="{"resolved" if m.resolved else "firing"}">'
            f"<header><strong>{e(m.title or '(no title)')}</strong> "
            f"<span>{'resolved' if m.resolved else 'firing'}</span> "
            f"<time>{m.received_at:%H:%M:%S}</time>"
            f"{' in ' + e(m.channel) if m.channel else ''}</header>"
            f"<pre>{e(m.text)}</pre></article>"
            for m in reversed(sink.messages[-200:])
        )
        beats = len(sink.heartbeats)
        last = f"{sink.heartbeats[-1]:%H:%M:%S}" if sink.heartbeats else "never"
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="refresh" content="5">
<title>Local Slack inbox</title>
<style>body{{font-family:sans-serif;margin:2em;max-width:60em}}
article{{border-left:.4em solid #c33;padding:.2em .8em;margin:1em 0}}
article.resolved{{border-color:#393}}pre{{white-space:pre-wrap}}
@media (prefers-color-scheme: dark){{body{{background:#111;color:#eee}}}}</style></head>
<body><h1>Local Slack inbox</h1>
<p>Warnings land here, never in PagerDuty. Nothing here reaches the real Slack.
Watchdog heartbeats received: {beats} (last: {last}).</p>
<div role="status">{rows or "<p>No messages yet.</p>"}</div>
</body></html>
"""
