"""HTTP routes: the cached public files (fast path), the webhook and the responder API."""

from __future__ import annotations

import hmac
import logging
import os
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Route

from statuspage import api, cache, inputs
from statuspage import uptime as uptime_api
from statuspage.alertmanager import PayloadError, parse_notification
from statuspage.config import load_config
from statuspage.openapi import openapi_document
from statuspage.render import incident_document
from statuspage.service import StatusService
from statuspage.store import DEFAULT_DATABASE_URL, Conflict, NotFound
from statuspage.subscribe_http import subscription_routes
from statuspage.subscriptions import SubscriptionSettings

log = logging.getLogger("statuspage.http")
B = TypeVar("B", bound=BaseModel)
Handler = Callable[[Request], Awaitable[Response]]


def _error(status: int, reason: str) -> JSONResponse:
    return JSONResponse({"error": reason}, status_code=status)


async def _read_body(request: Request, limit: int) -> bytes:
    declared = request.headers.get("content-length")
    if declared is not None:
        if not declared.isdigit():
            raise HTTPException(400, "Content-Length is not a number")
        if int(declared) > limit:
            raise HTTPException(413, f"request body is larger than {limit} bytes")
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > limit:
            raise HTTPException(413, f"request body is larger than {limit} bytes")
    return bytes(body)


async def _json(request: Request, limit: int) -> Any:
    return _parse(await _read_body(request, limit))


def _parse(raw: bytes) -> Any:
    try:
        return inputs.parse_json(raw)
    except inputs.InputError as exc:
        raise HTTPException(exc.status, str(exc)) from None


def _record_id(request: Request) -> str:
    """An incident or maintenance id from the path; anything else cannot exist."""
    value = str(request.path_params["id"])
    if not inputs.ID_RE.match(value):
        raise HTTPException(404, "no such incident or maintenance: ids are 1-32 of a-z and 0-9")
    return value


def _model(model: type[B], data: Any) -> B:
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        reasons = "; ".join(
            f"{'.'.join(str(p) for p in e['loc']) or 'body'}: {e['msg']}" for e in exc.errors()
        )
        # Unknown keys are the client's text: keep the answer printable and short.
        raise HTTPException(422, inputs.clean_text(reasons)[:2000]) from None


def _authorised(service: StatusService, request: Request) -> None:
    if service.api_token is None:
        raise HTTPException(503, "the API is disabled: STATUSPAGE_API_TOKEN is not set")
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    expected = service.api_token.encode()
    # compare_digest runs in time independent of where the strings differ.
    if scheme.lower() != "bearer" or not hmac.compare_digest(token.strip().encode(), expected):
        raise HTTPException(401, "a valid bearer token is required")


def build_app(service: StatusService) -> cache.FastPath:
    limit = service.max_body_bytes
    store = service.store

    def guarded(handler: Handler) -> Handler:
        async def wrapper(request: Request) -> Response:
            _authorised(service, request)
            try:
                return await handler(request)
            except NotFound as exc:
                return _error(404, str(exc))
            except Conflict as exc:
                return _error(409, str(exc))

        return wrapper

    async def changed() -> None:
        await run_in_threadpool(service.refresh, True)

    async def incident_response(incident_id: str, kind: str, status: int = 200) -> Response:
        inc = await run_in_threadpool(store.get_incident, incident_id, kind)
        view = await run_in_threadpool(store.read_view)
        document = incident_document(service.config, view, inc)
        document["published"] = inc.published  # responders also see drafts
        return JSONResponse(document, status_code=status)

    async def alertmanager(request: Request) -> Response:
        mode = request.query_params.get("mode", "publish")
        if mode not in ("publish", "draft"):
            return _error(400, f"mode={inputs.clean_text(mode)[:40]!r}: use draft or publish")
        payload = await _json(request, limit)
        try:
            events, ignored = parse_notification(payload, service.config)
        except PayloadError as exc:
            return _error(422 if isinstance(payload, dict) else 400, str(exc))
        draft = mode == "draft"
        if draft:
            # A draft waits for a person: a warning (which opens no incident) would move the
            # page by itself, so drafts only record criticals.
            critical = [e for e in events if e.severity == "critical"]
            ignored += len(events) - len(critical)
            events = critical
        result = await run_in_threadpool(store.apply_alerts, events, None, draft=draft)
        await changed()
        service.metrics.webhook_alerts.labels("applied").inc(result.applied)
        service.metrics.webhook_alerts.labels("stale").inc(result.stale)
        service.metrics.webhook_alerts.labels("ignored").inc(ignored)
        return JSONResponse({"applied": result.applied, "stale": result.stale, "ignored": ignored})

    async def create_incident(request: Request) -> Response:
        body = _model(api.IncidentCreate, await _json(request, limit))
        incident_id = await run_in_threadpool(
            store.create_incident, body.name, body.status, body.body, body.impact, body.components
        )
        await changed()
        return await incident_response(incident_id, "incident", 201)

    async def get_incident(request: Request) -> Response:
        return await incident_response(_record_id(request), "incident")

    async def update_incident(request: Request) -> Response:
        body = _model(api.IncidentUpdate, await _json(request, limit))
        incident_id = _record_id(request)
        await run_in_threadpool(store.update_incident, incident_id, body.status, body.body)
        await changed()
        return await incident_response(incident_id, "incident")

    async def resolve_incident(request: Request) -> Response:
        raw = await _read_body(request, limit)
        body = _model(api.IncidentResolve, _parse(raw) if raw.strip() else {})
        incident_id = _record_id(request)
        await run_in_threadpool(store.update_incident, incident_id, body.status, body.body)
        await changed()
        return await incident_response(incident_id, "incident")

    async def hand_back_incident(request: Request) -> Response:
        incident_id = _record_id(request)
        await run_in_threadpool(store.hand_back_incident, incident_id)
        await changed()
        return await incident_response(incident_id, "incident")

    async def publish_incident(request: Request) -> Response:
        incident_id = _record_id(request)
        await run_in_threadpool(store.publish_incident, incident_id)
        await changed()
        return await incident_response(incident_id, "incident")

    async def drafts(request: Request) -> Response:
        found = await run_in_threadpool(store.drafts)
        view = await run_in_threadpool(store.read_view)
        documents = [
            {**incident_document(service.config, view, inc), "published": False} for inc in found
        ]
        return JSONResponse({"incidents": documents})

    async def openapi(request: Request) -> Response:
        return JSONResponse(openapi_document(service.config))

    async def schedule_maintenance(request: Request) -> Response:
        body = _model(api.MaintenanceCreate, await _json(request, limit))
        maintenance_id = await run_in_threadpool(
            store.schedule_maintenance,
            body.name,
            body.body,
            api.as_utc(body.scheduled_for),
            api.as_utc(body.scheduled_until),
            body.components,
        )
        await changed()
        return await incident_response(maintenance_id, "maintenance", 201)

    async def update_maintenance(request: Request) -> Response:
        body = _model(api.MaintenanceUpdate, await _json(request, limit))
        maintenance_id = _record_id(request)
        await run_in_threadpool(store.update_maintenance, maintenance_id, body.status, body.body)
        await changed()
        return await incident_response(maintenance_id, "maintenance")

    async def override_component(request: Request) -> Response:
        component_id = request.path_params["id"]
        if request.method == "DELETE":
            await run_in_threadpool(store.set_override, component_id, None, None)
        else:
            body = _model(api.ComponentOverride, await _json(request, limit))
            await run_in_threadpool(store.set_override, component_id, body.status, body.reason)
        await changed()
        view = await run_in_threadpool(store.read_view)
        state = view.components[component_id]
        return JSONResponse(
            {
                "id": component_id,
                "status": state.status,
                "automated_status": state.automated_status,
                "overridden": state.overridden,
            }
        )

    async def uptime(request: Request) -> Response:
        # Dynamic, so not pre-rendered; what bounds its cost is the window cap and the
        # indexed read of at most that many rows per component.
        now = datetime.now(UTC)
        try:
            window = uptime_api.parse_window(request.query_params, now)
        except uptime_api.WindowError as exc:
            return _error(400, str(exc))
        days = await run_in_threadpool(store.uptime_days, window.first_day, window.end_day)
        document = uptime_api.uptime_document(
            service.config, service.updated_at or now, window, days
        )
        return JSONResponse(
            document,
            headers={
                "cache-control": service.cache_control,
                "access-control-allow-origin": "*",
                "x-content-type-options": "nosniff",
            },
        )

    async def healthz(request: Request) -> Response:
        # A database outage must not take the page down: while a render exists this replica
        # keeps serving it (stale status beats no status) and only says so here.
        headers = {"cache-control": "no-store"}
        if not service.files:
            return PlainTextResponse("starting: nothing rendered yet\n", 503, headers=headers)
        if service.last_error is not None:
            text = f"degraded: cannot refresh ({service.last_error}); serving the last render\n"
            return PlainTextResponse(text, headers=headers)
        return PlainTextResponse("ok\n", headers=headers)

    async def metrics(request: Request) -> Response:
        from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

        return Response(generate_latest(service.metrics.registry), media_type=CONTENT_TYPE_LATEST)

    async def http_error(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, HTTPException)
        headers = {"www-authenticate": "Bearer"} if exc.status_code == 401 else None
        response = _error(exc.status_code, exc.detail)
        if headers:
            response.headers.update(headers)
        return response

    async def server_error(request: Request, exc: Exception) -> Response:
        log.exception("unhandled error on %s %s", request.method, request.url.path)
        return _error(500, "internal error; the details are in the service log")

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        await service.start()
        try:
            yield
        finally:
            await service.stop()

    routes = [
        Route("/api/v2/uptime.json", uptime, methods=["GET"]),
        Route("/healthz", healthz),
        Route("/metrics", metrics),
        Route("/api/v1/alertmanager", guarded(alertmanager), methods=["POST"]),
        Route("/api/v1/incidents", guarded(create_incident), methods=["POST"]),
        Route("/api/v1/incidents/{id}", guarded(get_incident), methods=["GET"]),
        Route("/api/v1/incidents/{id}/updates", guarded(update_incident), methods=["POST"]),
        Route("/api/v1/incidents/{id}/resolve", guarded(resolve_incident), methods=["POST"]),
        Route("/api/v1/incidents/{id}/hand-back", guarded(hand_back_incident), methods=["POST"]),
        Route("/api/v1/incidents/{id}/publish", guarded(publish_incident), methods=["POST"]),
        Route("/api/openapi.json", openapi, methods=["GET"]),
        Route("/api/v1/drafts", guarded(drafts), methods=["GET"]),
        Route("/api/v1/maintenances", guarded(schedule_maintenance), methods=["POST"]),
        Route("/api/v1/maintenances/{id}/updates", guarded(update_maintenance), methods=["POST"]),
        Route(
            "/api/v1/components/{id}/override",
            guarded(override_component),
            methods=["PUT", "DELETE"],
        ),
    ]
    routes += subscription_routes(service, _read_body)
    starlette = Starlette(
        routes=routes,
        lifespan=lifespan,
        exception_handlers={HTTPException: http_error, Exception: server_error},
    )
    fast = cache.FastPath(starlette)
    service.fast_path = fast
    return fast


def service_from_env() -> StatusService:
    """Settings for a server process: the config path and secrets come from the environment."""

    config = load_config(os.environ["STATUSPAGE_CONFIG"])
    return StatusService(
        config,
        os.environ.get("STATUSPAGE_DATABASE_URL") or DEFAULT_DATABASE_URL,
        os.environ.get("STATUSPAGE_API_TOKEN"),
        max_body_bytes=int(os.environ.get("STATUSPAGE_MAX_BODY_BYTES", "1048576")),
        subscriptions=SubscriptionSettings.from_env(os.environ),
    )


def app_from_env() -> cache.FastPath:
    """ASGI factory for `granian --factory` and `uvicorn --factory`."""
    return build_app(service_from_env())
