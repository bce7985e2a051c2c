"""Reading incidents from the PagerDuty REST API v2 with the official client (7.2.0)."""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

import pagerduty

from learning.incidents import IncidentRecord, parse_time, record_from_api

DEFAULT_API_URL = "https://api.pagerduty.com"
# PagerDuty refuses an incident query whose since..until spans more than 6 months.
MAX_QUERY_WINDOW = timedelta(days=179)


class RateLimitedClient(pagerduty.RestApiV2Client):
    """The official REST client, waiting as PagerDuty asks instead of blind back-off.

    On 429 it waits ``Retry-After`` (else ``ratelimit-reset``) seconds, at most
    ``max_wait_seconds``; when a successful answer says ``ratelimit-remaining: 0`` it
    waits for ``ratelimit-reset`` before the next call. After ``max_429_retries``
    consecutive 429s the request fails with the client's ``HttpError``.
    """

    def __init__(
        self,
        api_key: str,
        *,
        base_url: str = DEFAULT_API_URL,
        default_from: str | None = None,
        sleep: Callable[[float], None] = time.sleep,
        max_wait_seconds: float = 60.0,
        max_429_retries: int = 10,
        page_size: int = 100,
    ) -> None:
        super().__init__(api_key, default_from=default_from)
        # 7.2.0's url setter accepts only https://; loopback fakes and test servers
        # speak plain HTTP, so the base URL is set on the private attribute then.
        if base_url.startswith("https://"):
            self.url = base_url.rstrip("/")
        else:
            self._url = base_url.rstrip("/")
        self._wait = sleep
        self.max_wait_seconds = max_wait_seconds
        self.sleep_timer = 0.0  # the client's own back-off; we wait per the headers
        self.retry = {429: max_429_retries}
        self.waits: list[float] = []
        self.default_page_size = page_size

    def postprocess(self, response: Any, suffix: str | None = None) -> None:
        super().postprocess(response, suffix)
        headers = response.headers
        wait: float | None = None
        if response.status_code == 429:
            wait = _seconds(headers.get("retry-after")) or _seconds(headers.get("ratelimit-reset"))
            wait = wait if wait is not None else 1.0
        elif headers.get("ratelimit-remaining") == "0":
            wait = _seconds(headers.get("ratelimit-reset"))
        if wait is not None:
            wait = min(wait, self.max_wait_seconds)
            self.waits.append(wait)
            self._wait(wait)


def _seconds(value: str | None) -> float | None:
    if value is None:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        return None


def format_api_time(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def resolve_service_ids(client: pagerduty.RestApiV2Client, wanted: Sequence[str]) -> list[str]:
    """Service ids for ids or names given on the command line (case-insensitive names)."""
    if not wanted:
        return []
    services = client.list_all("services")
    found: list[str] = []
    for item in wanted:
        match = [s for s in services if item in (s["id"],) or s["name"].lower() == item.lower()]
        if not match:
            known = ", ".join(sorted(f"{s['name']} ({s['id']})" for s in services))
            raise LookupError(f"no PagerDuty service {item!r}; services are: {known}")
        found.extend(s["id"] for s in match)
    return found


def fetch_incidents(
    client: pagerduty.RestApiV2Client,
    since: datetime,
    until: datetime,
    *,
    service_ids: Sequence[str] = (),
    team_ids: Sequence[str] = (),
) -> list[dict[str, Any]]:
    """All incidents created in [since, until), across as many 6-month windows as needed."""
    incidents: dict[str, dict[str, Any]] = {}
    start = since
    while start < until:
        end = min(until, start + MAX_QUERY_WINDOW)
        params: dict[str, Any] = {
            "since": format_api_time(start),
            "until": format_api_time(end),
            "sort_by": "created_at:asc",
        }
        if service_ids:
            params["service_ids[]"] = list(service_ids)
        if team_ids:
            params["team_ids[]"] = list(team_ids)
        for incident in client.iter_all("incidents", params=params):
            incidents[incident["id"]] = incident
        start = end
    return sorted(incidents.values(), key=lambda i: (i["created_at"], i.get("incident_number", 0)))


def fetch_log_entries(
    client: pagerduty.RestApiV2Client, incident: dict[str, Any]
) -> list[dict[str, Any]]:
    """Every log entry of an incident.

    The window is passed explicitly, starting just before the incident was created: list
    endpoints otherwise default to a recent window, which would drop old incidents' logs.
    """
    opened = parse_time(incident["created_at"])
    since = opened - timedelta(minutes=1)
    # Not capped at "now": a sped-up local PagerDuty's clock runs ahead of ours.
    until = since + MAX_QUERY_WINDOW
    return client.list_all(
        f"incidents/{incident['id']}/log_entries",
        params={"since": format_api_time(since), "until": format_api_time(until)},
    )


def load_records(
    client: pagerduty.RestApiV2Client,
    since: datetime,
    until: datetime,
    *,
    service_ids: Sequence[str] = (),
    team_ids: Sequence[str] = (),
) -> list[IncidentRecord]:
    return [
        record_from_api(incident, fetch_log_entries(client, incident))
        for incident in fetch_incidents(
            client, since, until, service_ids=service_ids, team_ids=team_ids
        )
    ]


def load_record(client: pagerduty.RestApiV2Client, incident_id: str) -> IncidentRecord:
    incident = client.rget(f"incidents/{incident_id}")
    return record_from_api(incident, fetch_log_entries(client, incident))
