"""Pure renderers: a PageView in, the public files out (Statuspage v2 JSON, HTML, Atom).

The same bytes are served from memory and copied to S3, so links between pages are
relative and nothing here depends on the request.
"""

from __future__ import annotations

import json
import logging
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
from statuspage.outages import day_fraction, outages
from statuspage.state import (
    IMPACT_OF_STATUS,
    IMPACT_WORDS,
    STATUS_OF_IMPACT,
    STATUS_WORDS,
    Incident,
    PageView,
    worst,
    worst_impact,
)

log = logging.getLogger("statuspage.render")
INDICATOR_WORDS = {
    "none": "All Systems Operational",
    "minor": "Minor Service Outage",
    "major": "Partial System Outage",
    "critical": "Major System Outage",
    "maintenance": "Service Under Maintenance",
}
UPTIME_DAYS = 90
PAST_DAYS = 15  # the front page's "past incidents", as on Statuspage
HISTORY_PAGE_SIZE = 20


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


def incident_document(
    config: StatusPageConfig,
    view: PageView,
    inc: Incident,
    all_components: list[dict[str, Any]] | None = None,
) -> dict[str, Any]:
    every = all_components if all_components is not None else _components(config, view)
    components = [c for c in every if c["id"] in inc.components]
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
        "shortlink": permalink(config, inc),
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
        return [incident_document(config, view, i, components) for i in items]

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
    """90 daily bars from check results and incident downtime, and the summary under them."""
    days = view.uptime.get(component_id, {})
    state = view.components.get(component_id)
    tracked_since = state.created_at if state else view.now
    found = outages(view.incidents, component_id, view.now)
    today = view.now.astimezone(UTC).date()
    bars: list[UptimeBar] = []
    fractions: list[float] = []
    for offset in range(UPTIME_DAYS - 1, -1, -1):
        day = today - timedelta(days=offset)
        fraction = day_fraction(day, days.get(day), found, view.now, tracked_since)
        if fraction is None:
            bars.append(UptimeBar(day, "none", f"{day:%d %b}: no data"))
            continue
        fractions.append(fraction)
        css = "up" if fraction >= 0.999 else "minor" if fraction >= 0.99 else "down"
        bars.append(UptimeBar(day, css, f"{day:%d %b}: {_percent(fraction)} uptime"))
    summary = (
        f"{_percent(sum(fractions) / len(fractions))} uptime over the last {UPTIME_DAYS} days"
        if fractions
        else "No data yet"
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


def duration_words(delta: timedelta) -> str:
    """ "1 hour 5 minutes", "2 days 3 hours", "less than a minute": two units at most."""
    minutes = int(delta.total_seconds() // 60)
    if minutes < 1:
        return "less than a minute"
    days, rest = divmod(minutes, 24 * 60)
    hours, minutes = divmod(rest, 60)
    units = [(days, "day"), (hours, "hour"), (minutes, "minute")]
    words = [f"{n} {unit}{'' if n == 1 else 's'}" for n, unit in units if n]
    return " ".join(words[:2])


def _start(inc: Incident) -> datetime:
    if inc.kind == "maintenance" and inc.scheduled_for is not None:
        return inc.scheduled_for
    return inc.started_at or inc.created_at


def _common(config: StatusPageConfig, view: PageView, root: str = "") -> dict[str, Any]:
    """What every HTML page needs; `root` leads back to the page root from a subfolder."""
    local = _local(config)
    names = {c.id: c.name for c in config.all_components()}

    def timing(inc: Incident) -> str:
        if inc.kind == "maintenance":
            return f"Scheduled for {local(inc.scheduled_for)} until {local(inc.scheduled_until)}"
        if inc.duration is not None:
            return f"Resolved after {duration_words(inc.duration)}"
        return f"Ongoing for {duration_words(view.now - _start(inc))}"

    def affected(inc: Incident) -> list[dict[str, str]]:
        """Each affected component with the worst status the incident gave it, in words."""
        out = []
        for cid in inc.components:
            if cid not in names:
                continue
            seen = [
                a.get("new_status", "")
                for u in inc.updates
                for a in u.affected_components
                if a.get("code") == cid
            ]
            if inc.kind == "maintenance":
                status = "under_maintenance"
            else:
                candidates = [x for x in seen if x in STATUS_WORDS and x != "under_maintenance"]
                status = worst(*candidates, STATUS_OF_IMPACT.get(inc.impact, "operational"))
            out.append(
                {"id": cid, "name": names[cid], "status": status, "words": STATUS_WORDS[status]}
            )
        return out

    def impact(inc: Incident) -> str:
        return IMPACT_WORDS["maintenance" if inc.kind == "maintenance" else inc.impact]

    return {
        "page": config.page,
        "root": root,
        "now": view.now,
        "updated_at": view.updated_at,
        "local": local,
        "day_of": lambda moment: moment.astimezone(ZoneInfo(config.page.time_zone)).date(),
        "iso": iso,
        "status_words": STATUS_WORDS,
        "component_names": names,
        "timing": timing,
        "affected": affected,
        "impact_words": impact,
    }


def _past_days(config: StatusPageConfig, view: PageView) -> list[dict[str, Any]]:
    """The last PAST_DAYS days in the page's zone, newest first, each with the incidents
    (and finished maintenance) that began on it, as Statuspage's front page lists them."""
    zone = ZoneInfo(config.page.time_zone)
    today = view.now.astimezone(zone).date()
    finished = [m for m in view.maintenances if m.status_at(view.now) == "completed"]
    by_day: dict[date, list[Incident]] = {}
    for inc in view.incidents + finished:
        by_day.setdefault(_start(inc).astimezone(zone).date(), []).append(inc)
    days = []
    for offset in range(PAST_DAYS):
        day = today - timedelta(days=offset)
        items = sorted(by_day.get(day, []), key=_start, reverse=True)
        days.append({"day": day, "label": f"{day:%b} {day.day}, {day:%Y}", "items": items})
    return days


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
        **_common(config, view),
        "status": overall_status(view),
        "groups": groups,
        "active_incidents": view.unresolved_incidents(),
        "active_maintenance": view.maintenances_with_status("in_progress", "verifying"),
        "upcoming_maintenance": view.maintenances_with_status("scheduled"),
        "past_days": _past_days(config, view),
    }


def _shown(view: PageView, component: Component) -> bool:
    if not component.only_show_if_degraded:
        return True
    state = view.components.get(component.id)
    return state is not None and state.status != "operational"


HTML = "text/html; charset=utf-8"


def _history_files(config: StatusPageConfig, view: PageView) -> list[File]:
    """history.html, history/2.html, ...: every listed incident and maintenance, newest
    first, HISTORY_PAGE_SIZE a page, grouped by month."""
    entries = sorted(view.incidents + view.maintenances, key=_start, reverse=True)
    chunks = [
        entries[i : i + HISTORY_PAGE_SIZE] for i in range(0, len(entries), HISTORY_PAGE_SIZE)
    ] or [[]]
    zone = ZoneInfo(config.page.time_zone)

    def name(number: int, root: str) -> str | None:
        if not 1 <= number <= len(chunks):
            return None
        return f"{root}history.html" if number == 1 else f"{root}history/{number}.html"

    files = []
    for number, chunk in enumerate(chunks, start=1):
        root = "" if number == 1 else "../"
        months: dict[str, list[Incident]] = {}
        for inc in chunk:
            months.setdefault(f"{_start(inc).astimezone(zone):%B %Y}", []).append(inc)
        context = {
            **_common(config, view, root),
            "months": months,
            "number": number,
            "pages": len(chunks),
            "newer": name(number - 1, root),
            "older": name(number + 1, root),
        }
        key = "history.html" if number == 1 else f"history/{number}.html"
        files.append(File(key, HTML, _html("history.html", context)))
    return files


def _incident_files(config: StatusPageConfig, view: PageView) -> list[File]:
    """incidents/<id>.html for every listed incident and maintenance (served also as
    /incidents/<id>, the permalink). A page changes only when its incident does."""
    files = []
    common = _common(config, view, "../")
    shown_config = (config.page, tuple(common["component_names"].items()))
    for inc in view.incidents + view.maintenances:
        # Rendering a page is most of a refresh's cost and most pages never change: reuse
        # the bytes while everything the page shows is the same.
        key = (
            shown_config,
            inc.id,
            inc.updated_at,
            len(inc.updates),
            inc.status_at(view.now),
            common["timing"](inc),
        )
        body = _page_memo.get(key)
        if body is None:
            context = {
                **common,
                "inc": inc,
                "updated_at": inc.updated_at,
                "permalink": permalink(config, inc),
            }
            try:
                body = _html("incident.html", context)
            except Exception:
                # One page that cannot be drawn must not cost the rest of the page.
                log.exception("skipping the page of %s %r", inc.kind, inc.id)
                continue
            if len(_page_memo) >= _PAGE_MEMO_SIZE:
                _page_memo.clear()
            _page_memo[key] = body
        files.append(File(f"incidents/{inc.id}.html", HTML, body))
    return files


_PAGE_MEMO_SIZE = 2000
_page_memo: dict[tuple[Any, ...], bytes] = {}


def permalink(config: StatusPageConfig, inc: Incident) -> str:
    return f"{config.page.url.rstrip('/')}/incidents/{inc.id}"


def render_files(config: StatusPageConfig, view: PageView) -> list[File]:
    context = _context(config, view)
    files = [
        File("index.html", HTML, _html("index.html", context)),
        *_history_files(config, view),
        *_incident_files(config, view),
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
