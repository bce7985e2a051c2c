"""Live paging drill: a real, clearly marked test page on the dedicated drill service.

It proves the whole paging path end to end (integration key, escalation policy, phone
notifications, a human acknowledging) and measures how long acknowledgement took.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import pagerduty

from learning.incidents import parse_time
from learning.metrics import Targets, format_duration
from learning.pagerduty_api import DEFAULT_API_URL, RateLimitedClient
from learning.records import PageTestRecord
from learning.scope import DRILL_MARK

DEFAULT_EVENTS_URL = "https://events.pagerduty.com"


@dataclass
class DrillResult:
    scenario: str
    dedup_key: str
    sent_at: datetime
    incident_id: str | None = None
    incident_number: int | None = None
    incident_url: str | None = None
    service_name: str | None = None
    delivered_after: timedelta | None = None  # sent -> incident visible in the REST API
    opened_at: datetime | None = None  # PagerDuty's created_at
    acknowledged_at: datetime | None = None
    acknowledged_by: str | None = None
    resolved_at: datetime | None = None
    error: str | None = None

    @property
    def time_to_acknowledge(self) -> timedelta | None:
        if self.acknowledged_at is None or self.opened_at is None:
            return None
        return self.acknowledged_at - self.opened_at

    @property
    def delivered(self) -> bool:
        return self.incident_id is not None


def events_client(routing_key: str, events_url: str) -> pagerduty.EventsApiV2Client:
    client = pagerduty.EventsApiV2Client(routing_key)
    # 7.2.0's url setter accepts only https://; a loopback fake speaks plain HTTP.
    if events_url.startswith("https://"):
        client.url = events_url.rstrip("/")
    else:
        client._url = events_url.rstrip("/")
    client.retry = {429: 3, 500: 3, 502: 3, 503: 3}
    return client


def run_live_drill(
    scenario: str,
    *,
    routing_key: str,
    token: str,
    api_url: str = DEFAULT_API_URL,
    events_url: str = DEFAULT_EVENTS_URL,
    ack_timeout: timedelta = timedelta(minutes=15),
    poll_seconds: float = 5.0,
    now: Callable[[], datetime] = lambda: datetime.now(UTC),
    sleep: Callable[[float], None] = time.sleep,
    progress: Callable[[str], None] = lambda message: None,
) -> DrillResult:
    """Trigger a [DRILL] incident, wait for a human to acknowledge it, then resolve it."""
    sent_at = now()
    dedup_key = f"drill-{scenario}-{sent_at:%Y%m%dT%H%M%SZ}"
    result = DrillResult(scenario=scenario, dedup_key=dedup_key, sent_at=sent_at)
    events = events_client(routing_key, events_url)
    rest = RateLimitedClient(token, base_url=api_url, sleep=sleep)
    try:
        events.trigger(
            f"{DRILL_MARK} {scenario}: test page, please acknowledge it as you would a real one",
            "irctl drill --live",
            dedup_key=dedup_key,
            severity="critical",
            payload={"timestamp": sent_at.isoformat(), "class": "drill"},
            custom_details={
                "drill": True,
                "scenario": scenario,
                "what to do": "Acknowledge in PagerDuty. Do not escalate. The drill resolves it.",
            },
        )
    except pagerduty.Error as exc:
        result.error = f"the Events API refused the test page: {exc}"
        return result
    progress(f"test page sent at {sent_at:%H:%M:%S} UTC; waiting for the incident")

    deadline = sent_at + ack_timeout
    incident: dict[str, Any] | None = None
    try:
        while incident is None:
            found = rest.list_all(
                "incidents",
                # The dedup key is unique to this drill, so no time window is needed.
                params={"incident_key": dedup_key, "date_range": "all"},
            )
            if found:
                incident = found[0]
                break
            if now() >= deadline:
                result.error = "no incident was opened by the test page"
                return result
            sleep(poll_seconds)
        result.delivered_after = now() - sent_at
        result.incident_id = incident["id"]
        result.incident_number = incident.get("incident_number")
        result.incident_url = incident.get("html_url")
        result.service_name = (incident.get("service") or {}).get("summary")
        result.opened_at = parse_time(incident["created_at"])
        progress(
            f"incident #{result.incident_number} open after "
            f"{format_duration(result.delivered_after)}; waiting for acknowledgement"
        )
        while result.acknowledged_at is None:
            entries = rest.list_all(f"incidents/{result.incident_id}/log_entries")
            acks = sorted(
                (e for e in entries if e.get("type") == "acknowledge_log_entry"),
                key=lambda e: parse_time(e["created_at"]),
            )
            if acks:
                result.acknowledged_at = parse_time(acks[0]["created_at"])
                result.acknowledged_by = (acks[0].get("agent") or {}).get("summary")
                break
            if now() >= deadline:
                result.error = (
                    f"nobody acknowledged within {format_duration(ack_timeout)}; "
                    "check notification rules and the escalation policy"
                )
                break
            sleep(poll_seconds)
        if result.acknowledged_at:
            progress(
                f"acknowledged by {result.acknowledged_by} after "
                f"{format_duration(result.time_to_acknowledge)}"
            )
    except pagerduty.Error as exc:
        result.error = f"reading the incident from the REST API failed: {exc}"
    finally:
        try:
            events.resolve(dedup_key)
            result.resolved_at = now()
            progress("drill incident resolved")
        except pagerduty.Error as exc:
            note = f"could not resolve the drill incident (resolve it by hand): {exc}"
            result.error = f"{result.error}; {note}" if result.error else note
    return result


def drill_record(result: DrillResult) -> PageTestRecord:
    return PageTestRecord(
        kind="drill",
        at=result.sent_at,
        service=result.service_name or "drill",
        delivered=result.delivered,
        delivery_seconds=(
            round(result.delivered_after.total_seconds(), 3) if result.delivered_after else None
        ),
        acknowledged=result.acknowledged_at is not None,
        ack_seconds=(
            round(result.time_to_acknowledge.total_seconds(), 3)
            if result.time_to_acknowledge is not None
            else None
        ),
        incident_id=result.incident_id,
        scenario=result.scenario,
        error=result.error,
    )


def drill_report(result: DrillResult, targets: Targets | None = None) -> str:
    targets = targets or Targets()
    tta = result.time_to_acknowledge
    if tta is None:
        verdict = "FAIL: not acknowledged"
    elif tta < targets.mtta:
        verdict = f"PASS: acknowledged in {format_duration(tta)} (target under 5 minutes)"
    else:
        verdict = f"FAIL: acknowledged in {format_duration(tta)} (target under 5 minutes)"
    if not result.delivered:
        verdict = "FAIL: the page never arrived"

    def when(moment: datetime | None) -> str:
        return f"{moment:%Y-%m-%d %H:%M:%S} UTC" if moment else "-"

    rows = [
        ("Scenario", f"[{result.scenario}](../{result.scenario}.md)"),
        ("Test page sent", when(result.sent_at)),
        ("Dedup key", f"`{result.dedup_key}`"),
        ("Service", result.service_name or "-"),
        (
            "Incident",
            f"#{result.incident_number} {result.incident_id}" if result.incident_id else "-",
        ),
        ("Page delivered after", format_duration(result.delivered_after)),
        ("Incident opened (PagerDuty)", when(result.opened_at)),
        ("Acknowledged", when(result.acknowledged_at)),
        ("Acknowledged by", result.acknowledged_by or "-"),
        ("Time to acknowledge", format_duration(tta)),
        ("Resolved by the drill", when(result.resolved_at)),
        ("Problems", result.error or "none"),
    ]
    table = "\n".join(f"| {name} | {value} |" for name, value in rows)
    return (
        f"# Drill report: {result.scenario}, {result.sent_at:%Y-%m-%d}\n\n"
        f"**Result: {verdict}**\n\n"
        "| | |\n|---|---|\n"
        f"{table}\n\n"
        "## Debrief\n\n"
        "- What did the person paged see, and was it clear this was a drill?\n"
        "- Did the page reach the right person on the first tier?\n"
        "- What would have been slower in a real incident at 03:00?\n\n"
        "## Follow-ups\n\n"
        "| Action | Owner | Due | Ticket |\n|---|---|---|---|\n"
    )
