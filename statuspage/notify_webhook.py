"""Webhooks: who may be a target, how bodies are signed, and one POST.

Signature (documented in statuspage/README.md, "Webhook subscriptions"):
`X-Statuspage-Timestamp: <unix seconds>` and
`X-Statuspage-Signature: sha256=<hex HMAC-SHA256 of "<timestamp>." + raw body>` keyed with
the subscriber's secret, shown once when the webhook was subscribed. Receivers recompute it
over the raw bytes, compare in constant time and refuse timestamps older than 5 minutes.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import ipaddress
import socket
import time
from urllib.parse import urlsplit

import httpx

SIGNATURE_HEADER = "X-Statuspage-Signature"
TIMESTAMP_HEADER = "X-Statuspage-Timestamp"
MAX_URL_LENGTH = 2048
TIMEOUT_SECONDS = 10.0  # Statuspage allows its receivers 30 s; ours must not hold the queue


class TargetError(ValueError):
    """A URL we will not send to; the message says why."""


def sign(secret: str, timestamp: int, body: bytes) -> str:
    mac = hmac.new(secret.encode(), str(timestamp).encode() + b"." + body, hashlib.sha256)
    return "sha256=" + mac.hexdigest()


def check_url(url: str, allow_private: bool) -> str:
    """The URL as it will be used, or TargetError: https only (http too when private
    targets are allowed, for tests and dev), no credentials, no private or loopback IPs."""
    if len(url) > MAX_URL_LENGTH:
        raise TargetError(f"a webhook URL has at most {MAX_URL_LENGTH} characters")
    if any(c.isspace() for c in url.strip()):
        raise TargetError("a webhook URL cannot contain spaces or line breaks")
    try:
        parts = urlsplit(url.strip())
    except ValueError as exc:  # such as an unclosed [IPv6 literal
        raise TargetError(f"not a URL: {exc}") from None
    allowed = ("https", "http") if allow_private else ("https",)
    if parts.scheme not in allowed:
        schemes = " or ".join(f"{s}://" for s in allowed)
        raise TargetError(f"a webhook URL must start with {schemes}")
    if parts.username or parts.password:
        raise TargetError("a webhook URL must not contain credentials (user:password@)")
    if not parts.hostname:
        raise TargetError("a webhook URL needs a host name")
    try:
        parts.port  # noqa: B018 - raises on a bad port
    except ValueError:
        raise TargetError("the webhook URL's port is not a number from 1 to 65535") from None
    if not allow_private:
        host = parts.hostname
        if host == "localhost" or host.endswith((".localhost", ".local", ".internal")):
            raise TargetError(f"{host} is not a public host")
        try:
            address = ipaddress.ip_address(host)
        except ValueError:
            address = None
        if address is not None and not address.is_global:
            raise TargetError(f"{host} is not a public address")
    return parts.geturl()


async def check_resolves_public(url: str, allow_private: bool) -> None:
    """At send time: a name that resolves to a private address (it may have changed since
    the subscription) is refused, so the service cannot be steered at its own network."""
    if allow_private:
        return
    host = urlsplit(url).hostname or ""
    loop = asyncio.get_running_loop()
    try:
        infos = await loop.getaddrinfo(host, None, type=socket.SOCK_STREAM)
    except OSError as exc:
        raise ConnectionError(f"cannot resolve {host}: {exc}") from None
    for info in infos:
        if not ipaddress.ip_address(info[4][0]).is_global:
            raise TargetError(f"{host} resolves to a non-public address")


async def post(
    client: httpx.AsyncClient,
    url: str,
    secret: str,
    body: bytes,
    timeout_seconds: float = TIMEOUT_SECONDS,
) -> int:
    """POST a signed body; returns the HTTP status (redirects are not followed)."""
    timestamp = int(time.time())
    response = await client.post(
        url,
        content=body,
        headers={
            "content-type": "application/json",
            "user-agent": "statuspage-webhook",
            TIMESTAMP_HEADER: str(timestamp),
            SIGNATURE_HEADER: sign(secret, timestamp, body),
        },
        timeout=timeout_seconds,
        follow_redirects=False,
    )
    return response.status_code
