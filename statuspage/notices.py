"""What a notification says: events, e-mail words and the webhook body. No I/O here.

Webhook bodies follow Statuspage's webhook notifications (`meta`, `page`, `incident` with
the v2 incident object; https://support.atlassian.com/statuspage/docs/enable-webhook-notifications/),
so receivers written for Statuspage read them unchanged.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from statuspage.config import StatusPageConfig
from statuspage.render import incident_document, overall_status
from statuspage.state import Incident, IncidentUpdate, PageView

# The events subscribers hear about, named as in webhook bodies (`meta.event`), by the
# effect of the state transition (statuspage/transitions.py decides which effects happen).
EVENT_OF_EFFECT: dict[str, str] = {
    "incident_created": "incident.created",
    "incident_updated": "incident.updated",
    "incident_resolved": "incident.resolved",
    "maintenance_scheduled": "maintenance.scheduled",
    "maintenance_updated": "maintenance.updated",
    "maintenance_started": "maintenance.started",
    "maintenance_ended": "maintenance.completed",
}
SUBJECT_PREFIX: dict[str, str] = {
    "incident.created": "New incident",
    "incident.updated": "Update",
    "incident.resolved": "Resolved",
    "maintenance.scheduled": "Maintenance scheduled",
    "maintenance.updated": "Maintenance update",
    "maintenance.started": "Maintenance started",
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


def notification_key(incident_id: str, event: str, update_id: str | None) -> str:
    """Each event is recorded once, even if its transaction's effects were replayed."""
    return f"{incident_id}:{event}:{update_id or '-'}"


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
    config: StatusPageConfig,
    view: PageView,
    inc: Incident,
    event: str,
    update_id: str | None,
    unsubscribe_url: str,
) -> dict[str, Any]:
    """`meta.event` and `meta.update_id` (the update that made the news) identify a
    delivery; the incident is as it stands when sent."""
    status = overall_status(view)
    return {
        "meta": {
            "unsubscribe": unsubscribe_url,
            "documentation": f"{config.page.url.rstrip('/')}/subscribe#webhooks",
            "event": event,
            "update_id": update_id,
        },
        "page": {
            "id": config.page.id,
            "status_indicator": status["indicator"],
            "status_description": status["description"],
        },
        "incident": incident_document(config, view, inc),
    }
