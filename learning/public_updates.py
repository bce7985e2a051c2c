"""Time to first public update: PagerDuty trigger to the first status page update.

The status page's public API (``/api/v2/incidents.json``, Atlassian Statuspage v2 shape:
incidents with ``components`` and ``incident_updates``; the 50 most recent) is matched to
paging incidents by component: the org config maps a service to its
``status_page_component``. A status page incident counts for a paging incident when it
affects that component and was opened between ``BEFORE`` ahead of the trigger and the
incident's resolution. An update posted before the page counts as zero.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any

import httpx

from learning.incidents import IncidentRecord, parse_time
from orgconfig.model import OrgConfig

BEFORE = timedelta(minutes=30)


def components_by_service(org: OrgConfig) -> dict[str, str]:
    """Lower-case service name and id -> status page component id."""
    found: dict[str, str] = {}
    for service in org.services:
        if service.status_page_component:
            found[service.name.lower()] = service.status_page_component
            found[service.id.lower()] = service.status_page_component
    return found


def component_of(record: IncidentRecord, components: Mapping[str, str]) -> str | None:
    return components.get(record.service_name.lower()) or components.get(record.service_id.lower())


def matching_incidents(
    record: IncidentRecord,
    statuspage_incidents: Sequence[Mapping[str, Any]],
    component: str,
    until: datetime,
) -> list[Mapping[str, Any]]:
    """The status page incidents about ``record``: on its component, opened from ``BEFORE``
    ahead of the trigger until the incident's resolution."""
    end = record.resolved_at or until
    found = []
    for incident in statuspage_incidents:
        ids = {str(c.get("id")) for c in incident.get("components") or []}
        for update in incident.get("incident_updates") or []:
            for item in update.get("affected_components") or []:  # [{code, name, status}]
                ids.add(str(item.get("code") if isinstance(item, Mapping) else item))
        opened = parse_time(str(incident["created_at"]))
        if component in ids and record.triggered_at - BEFORE <= opened <= end:
            found.append(incident)
    return found


def first_updates(
    records: Sequence[IncidentRecord],
    statuspage_incidents: Sequence[Mapping[str, Any]],
    components: Mapping[str, str],
    until: datetime,
) -> dict[str, timedelta]:
    """Incident id -> trigger to the first public update, for incidents that had one."""
    found: dict[str, timedelta] = {}
    for record in records:
        component = component_of(record, components)
        if component is None:
            continue
        firsts = []
        for incident in matching_incidents(record, statuspage_incidents, component, until):
            updates = incident.get("incident_updates") or []
            times = [parse_time(str(u["created_at"])) for u in updates]
            firsts.append(min(times, default=parse_time(str(incident["created_at"]))))
        if firsts:
            found[record.id] = max(timedelta(0), min(firsts) - record.triggered_at)
    return found


def fetch_statuspage_incidents(
    url: str, client: httpx.Client | None = None
) -> list[dict[str, Any]]:
    http = client or httpx.Client(timeout=30)
    try:
        answer = http.get(url.rstrip("/") + "/api/v2/incidents.json")
        if answer.status_code != 200:
            raise RuntimeError(f"{url}/api/v2/incidents.json answered {answer.status_code}")
        return list(answer.json()["incidents"])
    finally:
        if client is None:
            http.close()
