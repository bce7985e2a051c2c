"""Routes for subscribers: `GET|POST /subscribe`, `/subscriptions/confirm/<token>` and
`/subscriptions/unsubscribe/<token>` (GET from the mail's link, POST from mail clients'
RFC 8058 one-click). JSON in, JSON out; a form in, an HTML page out."""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response
from starlette.routing import Route

from statuspage import inputs
from statuspage.cache import CSP
from statuspage.notify_webhook import SIGNATURE_HEADER, TIMESTAMP_HEADER
from statuspage.render import html_page, iso
from statuspage.subscriptions import (
    SubscribeError,
    confirm,
    parse_request,
    subscribe,
    unsubscribe,
)

if TYPE_CHECKING:
    from statuspage.service import StatusService

BODY_LIMIT = 16 * 1024
TOKEN_RE = re.compile(r"^[A-Za-z0-9_-]{43}$")  # secrets.token_urlsafe(32)
HEADERS = {
    "cache-control": "no-store",
    "content-security-policy": CSP,
    # The path holds a capability token: never leak it in a Referer.
    "referrer-policy": "no-referrer",
    "x-content-type-options": "nosniff",
}
UNKNOWN_LINK = "There is no subscription for this link (anymore)."
ReadBody = Callable[[Request, int], Awaitable[bytes]]


def client_address(request: Request, forwarded_hops: int) -> str:
    """The client's IP; behind `forwarded_hops` trusted proxies, the address the
    outermost of them saw (X-Forwarded-For is appended to from the right)."""
    direct = request.client.host if request.client else "unknown"
    if forwarded_hops <= 0:
        return direct
    chain = [p.strip() for p in request.headers.get("x-forwarded-for", "").split(",") if p.strip()]
    return chain[-forwarded_hops] if len(chain) >= forwarded_hops else direct


def _form(raw: bytes) -> dict[str, Any]:
    try:
        fields = parse_qs(raw.decode(), keep_blank_values=False, max_num_fields=100)
    except (UnicodeDecodeError, ValueError):
        raise SubscribeError("the form could not be read") from None
    data: dict[str, Any] = {k: v[0] for k, v in fields.items()}
    data["components"] = fields.get("components", [])
    return data


def subscription_routes(service: StatusService, read_body: ReadBody) -> list[Route]:
    config = service.config
    settings = service.subscriptions
    base = config.page.url.rstrip("/")
    names = {c.id: c.name for c in config.all_components()}

    def page(status: int, heading: str, *lines: str, root: str = "", **extra: Any) -> HTMLResponse:
        now = datetime.now(UTC)
        context = {
            "page": config.page,
            "heading": heading,
            "lines": lines,
            "root": root,
            "updated_at": now,
            "iso": iso,
            "local": lambda moment: iso(moment) or "",
            "component_names": names,
            **extra,
        }
        return HTMLResponse(html_page("subscribe.html", context), status, headers=HEADERS)

    async def subscribe_form(request: Request) -> Response:
        return page(200, "Get notified", show_form=True)

    async def post_subscribe(request: Request) -> Response:
        wants_json = request.headers.get("content-type", "").startswith("application/json")

        def refuse(status: int, reason: str, **headers: str) -> Response:
            if wants_json:
                return JSONResponse({"error": reason}, status, headers={**HEADERS, **headers})
            response = page(status, "Not subscribed", show_form=True, error=reason)
            response.headers.update(headers)
            return response

        client = client_address(request, settings.forwarded_hops)
        if not service.subscribe_limiter.allow(client):
            retry = str(service.subscribe_limiter.retry_after_seconds())
            return refuse(
                429, "too many subscription requests; try again later", **{"retry-after": retry}
            )
        raw = await read_body(request, BODY_LIMIT)
        try:
            if wants_json:
                try:
                    data = inputs.parse_json(raw)
                except inputs.InputError as exc:
                    return refuse(exc.status, str(exc))
                if not isinstance(data, dict):
                    raise SubscribeError("the body must be a JSON object")
            else:
                data = _form(raw)
            wanted = parse_request(data, config, settings)
        except SubscribeError as exc:
            return refuse(422, str(exc))
        result = await run_in_threadpool(subscribe, service.store, wanted, datetime.now(UTC))
        if result is None:
            return refuse(409, "this webhook URL is subscribed already")
        if result.kind == "email":
            message = (
                f"We sent a confirmation link to {wanted.address}. Nothing else will arrive "
                "until you open it."
            )
            if wants_json:
                return JSONResponse(
                    {"status": "pending_confirmation", "message": message}, 202, headers=HEADERS
                )
            return page(202, "Check your inbox", message)
        unsubscribe_url = f"{base}/subscriptions/unsubscribe/{result.token}"
        if wants_json:
            return JSONResponse(
                {
                    "status": "subscribed",
                    "secret": result.secret,
                    "unsubscribe_url": unsubscribe_url,
                    "signature_header": SIGNATURE_HEADER,
                    "timestamp_header": TIMESTAMP_HEADER,
                },
                201,
                headers=HEADERS,
            )
        return page(
            201,
            "Webhook subscribed",
            f"Notifications will be POSTed to {wanted.address}.",
            secret=result.secret,
            unsubscribe_url=unsubscribe_url,
        )

    async def confirm_route(request: Request) -> Response:
        token = request.path_params["token"]
        if not TOKEN_RE.match(token) or not await run_in_threadpool(
            confirm, service.store, token, datetime.now(UTC)
        ):
            return page(404, "Link not valid", UNKNOWN_LINK, root="../../")
        return page(
            200,
            "Subscription confirmed",
            "You will receive a message when an incident starts, changes or ends, and when "
            "maintenance starts or ends.",
            root="../../",
        )

    async def unsubscribe_route(request: Request) -> Response:
        token = request.path_params["token"]
        gone = bool(TOKEN_RE.match(token)) and await run_in_threadpool(
            unsubscribe, service.store, token
        )
        if request.method == "POST":  # RFC 8058 one-click from a mail client
            return JSONResponse({"unsubscribed": gone}, 200 if gone else 404, headers=HEADERS)
        if not gone:
            return page(404, "Link not valid", UNKNOWN_LINK, root="../../")
        return page(200, "Unsubscribed", "You will receive no more messages.", root="../../")

    return [
        Route("/subscribe", subscribe_form, methods=["GET"]),
        Route("/subscribe", post_subscribe, methods=["POST"]),
        Route("/subscriptions/confirm/{token}", confirm_route, methods=["GET"]),
        Route("/subscriptions/unsubscribe/{token}", unsubscribe_route, methods=["GET", "POST"]),
    ]
