"""The service's OpenAPI 3.0 description (`GET /api/openapi.json`): the token API and the
public read API. Request bodies come from the pydantic models that validate them
(statuspage/api.py), so the document cannot drift from what the service accepts; the
property test (tests/statuspage/test_statuspage_fuzz.py) generates requests from it."""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from pydantic import BaseModel

from statuspage import api
from statuspage.config import StatusPageConfig

_REF = "#/components/schemas/{model}"
_ERROR = {
    "description": "Refused; `error` says why",
    "content": {
        "application/json": {
            "schema": {
                "type": "object",
                "properties": {"error": {"type": "string"}},
                "required": ["error"],
            }
        }
    },
}
_OBJECT = {"content": {"application/json": {"schema": {"type": "object"}}}}
_ID = {
    "name": "id",
    "in": "path",
    "required": True,
    "schema": {"type": "string", "pattern": "^[a-z0-9]{1,32}$"},
}
_COMPONENT_ID = {"name": "id", "in": "path", "required": True, "schema": {"type": "string"}}

# Alertmanager's webhook payload, version 4 (the fields the service reads; Alertmanager
# sends more, which are allowed).
_NOTIFICATION: dict[str, Any] = {
    "type": "object",
    "required": ["version", "alerts"],
    "properties": {
        "version": {"type": "string", "enum": ["4"]},
        "status": {"type": "string", "enum": ["firing", "resolved"]},
        "receiver": {"type": "string"},
        "groupKey": {"type": "string"},
        "alerts": {
            "type": "array",
            "maxItems": 20,
            "items": {
                "type": "object",
                "required": ["status", "labels", "startsAt"],
                "properties": {
                    "status": {"type": "string", "enum": ["firing", "resolved"]},
                    "labels": {"type": "object", "additionalProperties": {"type": "string"}},
                    "annotations": {
                        "type": "object",
                        "additionalProperties": {"type": "string"},
                    },
                    "startsAt": {"type": "string", "format": "date-time"},
                    "endsAt": {"type": "string", "format": "date-time"},
                    "fingerprint": {"type": "string"},
                },
            },
        },
    },
}


def _body(model: type[BaseModel], required: bool = True) -> dict[str, Any]:
    ref = {"$ref": _REF.format(model=model.__name__)}
    return {"required": required, "content": {"application/json": {"schema": ref}}}


def _write(
    summary: str,
    body: dict[str, Any] | None = None,
    params: list[dict[str, Any]] | None = None,
    ok: str = "200",
) -> dict[str, Any]:
    operation: dict[str, Any] = {
        "summary": summary,
        "security": [{"bearer": []}],
        "parameters": params or [],
        "responses": {ok: {"description": "Done", **_OBJECT}, "4XX": _ERROR},
    }
    if body is not None:
        operation["requestBody"] = body
    return operation


def _read(summary: str, params: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    return {
        "get": {
            "summary": summary,
            "parameters": params or [],
            "responses": {"200": {"description": "OK", **_OBJECT}, "4XX": _ERROR},
        }
    }


_V2_FILES = {
    "summary.json": "Components, unresolved incidents, maintenance and the overall status",
    "status.json": "The overall status indicator",
    "components.json": "Every component and group",
    "incidents.json": "The 50 newest incidents and every unresolved one",
    "incidents/unresolved.json": "Unresolved incidents",
    "scheduled-maintenances.json": "The 50 newest maintenances",
    "scheduled-maintenances/upcoming.json": "Maintenance not yet begun",
    "scheduled-maintenances/active.json": "Maintenance in progress or verifying",
}


@lru_cache(maxsize=4)
def _document(page_name: str, page_url: str) -> dict[str, Any]:
    models: list[type[BaseModel]] = [
        api.IncidentCreate,
        api.IncidentUpdate,
        api.IncidentResolve,
        api.MaintenanceCreate,
        api.MaintenanceUpdate,
        api.ComponentOverride,
    ]
    schemas: dict[str, Any] = {"AlertmanagerNotification": _NOTIFICATION}
    for model in models:
        schemas[model.__name__] = model.model_json_schema(ref_template=_REF)
    mode = {
        "name": "mode",
        "in": "query",
        "required": False,
        "description": "`draft`: incidents this opens stay unpublished until "
        "`POST /api/v1/incidents/{id}/publish`",
        "schema": {"type": "string", "enum": ["publish", "draft"]},
    }
    notification = {
        "required": True,
        "content": {
            "application/json": {"schema": {"$ref": _REF.format(model="AlertmanagerNotification")}}
        },
    }
    window = [
        {"name": name, "in": "query", "required": False, "schema": {"type": "string"}}
        for name in ("since", "until")
    ]
    paths: dict[str, Any] = {
        "/api/v1/alertmanager": {
            "post": _write("Alertmanager webhook (payload version 4)", notification, [mode])
        },
        "/api/v1/incidents": {
            "post": _write("Open an incident", _body(api.IncidentCreate), ok="201")
        },
        "/api/v1/incidents/{id}": {
            "get": _write("An incident, drafts included", params=[_ID]),
        },
        "/api/v1/incidents/{id}/updates": {
            "post": _write("Post an update", _body(api.IncidentUpdate), [_ID])
        },
        "/api/v1/incidents/{id}/resolve": {
            "post": _write("Resolve", _body(api.IncidentResolve, required=False), [_ID])
        },
        "/api/v1/incidents/{id}/hand-back": {
            "post": _write("Let automation own it again", params=[_ID])
        },
        "/api/v1/incidents/{id}/publish": {"post": _write("Publish a draft", params=[_ID])},
        "/api/v1/drafts": {"get": _write("Unpublished incidents, newest first")},
        "/api/v1/maintenances": {
            "post": _write("Schedule maintenance", _body(api.MaintenanceCreate), ok="201")
        },
        "/api/v1/maintenances/{id}/updates": {
            "post": _write("Post a maintenance update", _body(api.MaintenanceUpdate), [_ID])
        },
        "/api/v1/components/{id}/override": {
            "put": _write("Pin a status", _body(api.ComponentOverride), [_COMPONENT_ID]),
            "delete": _write("Hand the component back", params=[_COMPONENT_ID]),
        },
        "/api/v2/uptime.json": _read("Measured uptime per component over a window", window),
    }
    for name, summary in _V2_FILES.items():
        paths[f"/api/v2/{name}"] = _read(summary)
    return {
        "openapi": "3.0.3",
        "info": {
            "title": f"{page_name} API",
            "version": "1",
            "description": "Statuspage v2 compatible read API and the responder API. "
            "See statuspage/README.md.",
        },
        "servers": [{"url": page_url.rstrip("/")}],
        "paths": paths,
        "components": {
            "schemas": schemas,
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
        },
    }


def openapi_document(config: StatusPageConfig) -> dict[str, Any]:
    return _document(config.page.name, config.page.url)
