"""What a notification says: events, e-mail words and the webhook body. No I/O here.

Webhook bodies follow Statuspage's webhook notifications (`meta`, `page`, `incident` with
the v2 incident object; https://support.atlassian.com/statuspage/docs/enable-webhook-notifications/),
so receivers written for Statuspage read them unchanged.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from statuspage.config import StatusPageConfig
from statuspage.render import incident_document, overall_status
from statuspage.state import Incident, IncidentUpdate, PageView

# Events a subscriber is told about, by (kind, status); the first update of an incident
# is its creation whatever its status.
EVENT_OF_STATUS: dict[tuple[str, str], str] = {
    ("incident", "resolved"): "incident.resolved",
    ("incident", "postmortem"): "incident.postmortem",
    ("maintenance", "scheduled"): "maintenance.scheduled",
    ("maintenance", "in_progress"): "maintenance.started",
    ("maintenance", "verifying"): "maintenance.verifying",
    ("maintenance", "completed"): "maintenance.completed",
}
# These happen once per maintenance however they come about (by the clock or by hand).
ONCE_PER_INCIDENT = {"maintenance.started", "maintenance.completed"}
SUBJECT_PREFIX: dict[str, str] = {
    "incident.created": "New incident",
    "incident.updated": "Update",
    "incident.resolved": "Resolved",
    "incident.postmortem": "Postmortem",
    "maintenance.scheduled": "Maintenance scheduled",
    "maintenance.started": "Maintenance started",
    "maintenance.verifying": "Maintenance verifying",
    "maintenance.completed": "Maintenance completed",
}
STATUS_HEADLINE: dict[str, str] = {
    "investigating": "Investigating",
    "identified": "Identified",
    "monitoring": "Monitoring",
    "resolved": "Resolved",
    "postmortem": "Postmortem",
    "scheduled": "Scheduled",
    "in_progress": "In progress",
    "verifying": "Verifying",
    "completed": "Completed",
}
# A clock-driven maintenance start or end older than this is history, not news (say, a
# window that ended before subscriptions existed, or while no replica was running).
CLOCK_NEWS_WINDOW = timedelta(hours=1)


def event_for_update(kind: str, status: str, first: bool) -> str:
    if first and kind == "incident":
        return "incident.created"
    return EVENT_OF_STATUS.get((kind, status), f"{kind}.updated")


def notification_key(incident_id: str, event: str, update_id: str | None) -> str:
    """The de-duplication key: a maintenance started both by the clock and by hand still
    tells subscribers once; every incident update is news of its own."""
    if event in ONCE_PER_INCIDENT or update_id is None:
        return f"{incident_id}:{event}"
    return f"{incident_id}:update:{update_id}"


def clock_events(maintenance: Incident, now: datetime) -> list[str]:
    """Maintenance starts and ends that the clock made and that are still news."""
    out: list[str] = []
    status = maintenance.status_at(now)
    start, end = maintenance.scheduled_for, maintenance.scheduled_until
    if start and status in ("in_progress", "completed") and now - start <= CLOCK_NEWS_WINDOW:
        out.append("maintenance.started")
    if end and status == "completed" and now - end <= CLOCK_NEWS_WINDOW and now >= end:
        out.append("maintenance.completed")
    return out


def follows(subscribed: list[str], incident_components: list[str]) -> bool:
    """A subscriber with no components follows everything."""
    return not subscribed or bool(set(subscribed) & set(incident_components))


@dataclass(frozen=True)
class Notice:
    subject: str
    headline: str
    body: str
    components: list[str]
    window: str | None
    link: str


def _update_for(inc: Incident, update_id: str | None) -> IncidentUpdate | None:
    if update_id is not None:
        found = next((u for u in inc.updates if u.id == update_id), None)
        if found is not None:
            return found
    return inc.updates[0] if inc.updates else None  # newest first


def notice(config: StatusPageConfig, inc: Incident, event: str, update_id: str | None) -> Notice:
    update = _update_for(inc, update_id)
    status = update.status if update else inc.status
    if event in ("maintenance.started", "maintenance.completed"):
        status = "in_progress" if event == "maintenance.started" else "completed"
    names = {c.id: c.name for c in config.all_components()}
    zone = ZoneInfo(config.page.time_zone)

    def local(moment: datetime) -> str:
        return moment.astimezone(zone).strftime("%d %b %Y, %H:%M %Z")

    window = None
    if inc.kind == "maintenance" and inc.scheduled_for and inc.scheduled_until:
        window = f"Window: {local(inc.scheduled_for)} to {local(inc.scheduled_until)}"
    body = update.body if update and update_id is not None else ""
    return Notice(
        subject=f"{SUBJECT_PREFIX.get(event, 'Update')}: {inc.name}",
        headline=f"{STATUS_HEADLINE.get(status, status)} - {inc.name}",
        body=body,
        components=[names.get(c, c) for c in inc.components],
        window=window,
        link=incident_document(config, _now_view(inc), inc)["shortlink"],
    )


def _now_view(inc: Incident) -> PageView:
    return PageView(
        now=inc.updated_at,
        updated_at=inc.updated_at,
        components={},
        incidents=[],
        maintenances=[],
        uptime={},
    )


def webhook_body(
    config: StatusPageConfig, view: PageView, inc: Incident, event: str, unsubscribe_url: str
) -> dict[str, Any]:
    status = overall_status(view)
    return {
        "meta": {
            "unsubscribe": unsubscribe_url,
            "documentation": f"{config.page.url.rstrip('/')}/subscribe#webhooks",
            "event": event,
        },
        "page": {
            "id": config.page.id,
            "status_indicator": status["indicator"],
            "status_description": status["description"],
        },
        "incident": incident_document(config, view, inc),
    }
