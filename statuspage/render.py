"""Pure renderers: a PageView in, the public files out (Statuspage v2 JSON, HTML, Atom).

The same bytes are served from memory and copied to S3, so links between pages are
relative and nothing here depends on the request.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

from jinja2 import Environment, PackageLoader
from markupsafe import Markup

from statuspage.config import Component, StatusPageConfig
from statuspage.inputs import clean_text
from statuspage.state import (
    IMPACT_OF_STATUS,
    STATUS_WORDS,
    Incident,
    PageView,
    UptimeDay,
    UptimeTotal,
    worst,
    worst_impact,
)

INDICATOR_WORDS = {
    "none": "All Systems Operational",
    "minor": "Minor Service Outage",
    "major": "Partial System Outage",
    "critical": "Major System Outage",
    "maintenance": "Service Under Maintenance",
}
UPTIME_DAYS = 90


@dataclass(frozen=True)
class File:
    key: str  # path relative to the page root, as in S3
    content_type: str
    body: bytes


def iso(moment: datetime | None) -> str | None:
    if moment is None:
        return None
    return (
        moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"
    )


# ---- Statuspage v2 JSON --------------------------------------------------------------


def page_document(config: StatusPageConfig, updated_at: datetime) -> dict[str, Any]:
    page = config.page
    return {
        "id": page.id,
        "name": page.name,
        "url": page.url,
        "time_zone": page.time_zone,
        "updated_at": iso(updated_at),
    }


def _components(config: StatusPageConfig, view: PageView) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    position = 0
    page_id = config.page.id

    def component(c: Component, group_id: str | None) -> dict[str, Any]:
        nonlocal position
        position += 1
        state = view.components.get(c.id)
        return {
            "id": c.id,
            "name": c.name,
            "status": state.status if state else "operational",
            "created_at": iso(state.created_at if state else view.now),
            "updated_at": iso(state.updated_at if state else view.now),
            "position": position,
            "description": c.description or None,
            "showcase": True,
            "start_date": None,
            "group_id": group_id,
            "page_id": page_id,
            "group": False,
            "only_show_if_degraded": c.only_show_if_degraded,
        }

    for group in config.groups:
        position += 1
        children = [component(c, group.id) for c in group.components]
        out.append(
            {
                "id": group.id,
                "name": group.name,
                "status": worst(*(c["status"] for c in children)),
                "created_at": min(c["created_at"] for c in children),
                "updated_at": max(c["updated_at"] for c in children),
                "position": position - len(children),
                "description": group.description or None,
                "showcase": False,
                "start_date": None,
                "group_id": None,
                "page_id": page_id,
                "group": True,
                "only_show_if_degraded": False,
                "components": [c["id"] for c in children],
            }
        )
        out.extend(children)
    out.extend(component(c, None) for c in config.components)
    return out


def incident_document(config: StatusPageConfig, view: PageView, inc: Incident) -> dict[str, Any]:
    components = [c for c in _components(config, view) if c["id"] in inc.components]
    status = inc.status_at(view.now)
    data: dict[str, Any] = {
        "id": inc.id,
        "name": inc.name,
        "status": status,
        "created_at": iso(inc.created_at),
        "updated_at": iso(inc.updated_at),
        "monitoring_at": iso(inc.monitoring_at),
        "resolved_at": iso(inc.resolved_at),
        # Statuspage gives every scheduled maintenance the impact "maintenance".
        "impact": "maintenance" if inc.kind == "maintenance" else inc.impact,
        "shortlink": f"{config.page.url.rstrip('/')}/history.html#{inc.kind}-{inc.id}",
        "started_at": iso(inc.started_at or inc.created_at),
        "page_id": config.page.id,
        "incident_updates": [
            {
                "id": u.id,
                "status": u.status,
                "body": u.body,
                "incident_id": inc.id,
                "created_at": iso(u.created_at),
                "updated_at": iso(u.created_at),
                "display_at": iso(u.created_at),
                "affected_components": u.affected_components,
                "deliver_notifications": True,
                "custom_tweet": None,
                "tweet_id": None,
            }
            for u in inc.updates
        ],
        "components": components,
    }
    if inc.kind == "maintenance":
        data["scheduled_for"] = iso(inc.scheduled_for)
        data["scheduled_until"] = iso(inc.scheduled_until)
    return data


def overall_status(view: PageView) -> dict[str, str]:
    impacts = [IMPACT_OF_STATUS[c.status] for c in view.components.values()]
    impacts += [i.impact for i in view.unresolved_incidents()]
    indicator: str = worst_impact(*impacts)
    if indicator == "none" and any(
        c.status == "under_maintenance" for c in view.components.values()
    ):
        # Atlassian documents none/minor/major/critical, but live Statuspage pages answer
        # "maintenance" / "Service Under Maintenance" while a maintenance is in progress and
        # nothing is worse (observed on real summary.json files, e.g. Asana's; listed as an
        # indicator value in docs.rootly.com/configuration/status-page-public-api).
        indicator = "maintenance"
    return {"indicator": indicator, "description": INDICATOR_WORDS[indicator]}


def _newest_and_unresolved(incidents: list[Incident], limit: int) -> list[Incident]:
    """The `limit` newest incidents and every unresolved one, however old, newest first."""
    shown = incidents[:limit]
    shown += [i for i in incidents[limit:] if i.is_open]
    return sorted(shown, key=lambda i: i.created_at, reverse=True)


def api_documents(config: StatusPageConfig, view: PageView) -> dict[str, Any]:
    page = page_document(config, view.updated_at)
    components = _components(config, view)

    def incidents(items: list[Incident]) -> list[dict[str, Any]]:
        return [incident_document(config, view, i) for i in items]

    unresolved = incidents(view.unresolved_incidents())
    upcoming = incidents(view.maintenances_with_status("scheduled"))
    active = incidents(view.maintenances_with_status("in_progress", "verifying"))
    status = overall_status(view)
    return {
        "summary.json": {
            "page": page,
            "components": components,
            "incidents": unresolved,
            "scheduled_maintenances": active + upcoming,
            "status": status,
        },
        "status.json": {"page": page, "status": status},
        "components.json": {"page": page, "components": components},
        "incidents.json": {
            "page": page,
            "incidents": incidents(_newest_and_unresolved(view.incidents, 50)),
        },
        "incidents/unresolved.json": {"page": page, "incidents": unresolved},
        "scheduled-maintenances.json": {
            "page": page,
            "scheduled_maintenances": incidents(view.maintenances[:50]),
        },
        "scheduled-maintenances/upcoming.json": {"page": page, "scheduled_maintenances": upcoming},
        "scheduled-maintenances/active.json": {"page": page, "scheduled_maintenances": active},
    }


# ---- HTML and Atom -------------------------------------------------------------------


def _printable(value: Any) -> Any:
    # Rows written before the edge checked text (or by hand) may hold control characters,
    # which are not allowed in XML: every value leaves the templates without them.
    if not isinstance(value, str):
        return value
    cleaned = clean_text(value)
    # Markup (a macro's output) is already escaped; it must stay Markup.
    return Markup(cleaned) if isinstance(value, Markup) else cleaned


_env = Environment(
    loader=PackageLoader("statuspage", "templates"),
    autoescape=True,
    trim_blocks=True,
    lstrip_blocks=True,
    finalize=_printable,
)


@dataclass(frozen=True)
class UptimeBar:
    day: date
    css: str
    label: str


def _uptime(view: PageView, component_id: str) -> tuple[list[UptimeBar], str]:
    days = view.uptime.get(component_id, {})
    today = view.now.astimezone(UTC).date()
    bars: list[UptimeBar] = []
    shown: list[UptimeDay] = []
    for offset in range(UPTIME_DAYS - 1, -1, -1):
        day = today - timedelta(days=offset)
        record = days.get(day)
        fraction = record.fraction if record else None
        if record is None or fraction is None:
            bars.append(UptimeBar(day, "none", f"{day:%d %b}: no data"))
            continue
        shown.append(record)
        css = "up" if fraction >= 0.999 else "minor" if fraction >= 0.99 else "down"
        bars.append(UptimeBar(day, css, f"{day:%d %b}: {_percent(fraction)} uptime"))
    total = UptimeTotal.of(shown).fraction
    summary = (
        f"{_percent(total)} uptime over the last {UPTIME_DAYS} days"
        if total is not None
        else "No check data yet"
    )
    return bars, summary


def _percent(fraction: float) -> str:
    text = f"{fraction * 100:.2f}".rstrip("0").rstrip(".")
    return f"{text}%"


def _local(config: StatusPageConfig) -> Callable[[datetime | None], str]:
    zone = ZoneInfo(config.page.time_zone)

    def fmt(moment: datetime | None) -> str:
        if moment is None:
            return ""
        return moment.astimezone(zone).strftime("%d %b %Y, %H:%M %Z")

    return fmt


def _context(config: StatusPageConfig, view: PageView) -> dict[str, Any]:
    groups: list[dict[str, Any]] = []

    def row(c: Component) -> dict[str, Any]:
        state = view.components.get(c.id)
        status = state.status if state else "operational"
        bars, summary = _uptime(view, c.id)
        return {
            "id": c.id,
            "name": c.name,
            "description": c.description,
            "status": status,
            "words": STATUS_WORDS[status],
            "bars": bars,
            "uptime": summary,
        }

    for group in config.groups:
        rows = [row(c) for c in group.components if _shown(view, c)]
        if rows:
            status = worst(*(r["status"] for r in rows))
            groups.append(
                {
                    "name": group.name,
                    "description": group.description,
                    "components": rows,
                    "status": status,
                    "words": STATUS_WORDS[status],
                }
            )
    loose = [row(c) for c in config.components if _shown(view, c)]
    if loose:
        groups.append({"name": None, "description": "", "components": loose})
    return {
        "page": config.page,
        "status": overall_status(view),
        "groups": groups,
        "active_incidents": view.unresolved_incidents(),
        "active_maintenance": view.maintenances_with_status("in_progress", "verifying"),
        "upcoming_maintenance": view.maintenances_with_status("scheduled"),
        "incidents": view.incidents,
        "maintenances": view.maintenances,
        "now": view.now,
        "updated_at": view.updated_at,
        "local": _local(config),
        "iso": iso,
        "status_words": STATUS_WORDS,
        "component_names": {c.id: c.name for c in config.all_components()},
    }


def _shown(view: PageView, component: Component) -> bool:
    if not component.only_show_if_degraded:
        return True
    state = view.components.get(component.id)
    return state is not None and state.status != "operational"


def render_files(config: StatusPageConfig, view: PageView) -> list[File]:
    context = _context(config, view)
    files = [
        File("index.html", "text/html; charset=utf-8", _html("index.html", context)),
        File("history.html", "text/html; charset=utf-8", _html("history.html", context)),
        File("history.atom", "application/atom+xml; charset=utf-8", _feed(config, view)),
    ]
    for name, document in api_documents(config, view).items():
        body = json.dumps(document, ensure_ascii=False, separators=(",", ":")).encode()
        files.append(File(f"api/v2/{name}", "application/json; charset=utf-8", body))
    return files


def _html(template: str, context: dict[str, Any]) -> bytes:
    return _env.get_template(template).render(context).encode()


def html_page(template: str, context: dict[str, Any]) -> bytes:
    """One of the package's HTML templates, for pages answered per request."""
    return _html(template, context)


def _feed(config: StatusPageConfig, view: PageView) -> bytes:
    entries = sorted(view.incidents + view.maintenances, key=lambda i: i.updated_at, reverse=True)
    host = urlsplit(config.page.url).hostname or config.page.id
    return (
        _env.get_template("history.atom.j2")
        .render(
            page=config.page,
            entries=entries[:50],
            updated_at=view.updated_at,
            iso=iso,
            tag=f"tag:{host},2024:{config.page.id}",
            base=config.page.url.rstrip("/"),
            now=view.now,
            component_names={c.id: c.name for c in config.all_components()},
        )
        .encode()
    )
