"""What a person watching the sandbox sees: pages, escalations, Slack messages and status
page changes, read over HTTP from each part (so `irctl drill` in another terminal sees the
same as the sandbox's own live log)."""

from __future__ import annotations

import contextlib
import json
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Literal

import httpx

from sandbox.wiring import Addresses

Kind = Literal["page", "escalation", "slack", "status", "incident"]
REST_TOKEN = "sandbox"  # the local PagerDuty accepts any token; the header must be there


@dataclass(frozen=True)
class LoopEvent:
    kind: Kind
    at: datetime
    text: str
    service: str | None = None
    data: dict[str, Any] = field(default_factory=dict, compare=False)


@dataclass
class StatusSnapshot:
    components: dict[str, str]
    unresolved: list[dict[str, Any]]
    incidents: list[dict[str, Any]]


class LoopObserver:
    """Polls each part and returns what changed since the last poll."""

    def __init__(self, addresses: Addresses, keys: dict[str, str]) -> None:
        self.addresses = addresses
        self.service_of_key = {key: sid for sid, key in keys.items()}
        self.client = httpx.Client(timeout=5)
        self._pd_events = 0
        self._log_entries: set[str] = set()
        self._slack_seq = 0
        self._components: dict[str, str] = {}
        self._incident_status: dict[str, str] = {}
        self.pages: list[dict[str, Any]] = []  # every accepted Events API request
        self.slack: list[dict[str, Any]] = []
        self.status: StatusSnapshot | None = None

    def close(self) -> None:
        self.client.close()

    def poll(self) -> list[LoopEvent]:
        events: list[LoopEvent] = []
        for source in (self._poll_pagerduty, self._poll_escalations, self._poll_slack):
            try:
                events.extend(source())
            except httpx.HTTPError:
                continue
        if self.addresses.statuspage:
            with contextlib.suppress(httpx.HTTPError, ValueError, KeyError):
                events.extend(self._poll_statuspage())
        return events

    def _poll_pagerduty(self) -> list[LoopEvent]:
        got = self.client.get(f"{self.addresses.pagerduty}/_fake/events").json()["events"]
        new, self._pd_events = got[self._pd_events :], len(got)
        events = []
        for event in new:
            body = event.get("body") or {}
            summary = str((body.get("payload") or {}).get("summary", "")).strip()
            service = event.get("service_id") or self.service_of_key.get(event.get("routing_key"))
            at = datetime.fromisoformat(event["received_at_wall"])
            if event["accepted"]:
                self.pages.append(event)
            verb = {"trigger": "PAGE", "resolve": "resolved", "acknowledge": "acknowledged"}
            action = verb.get(str(event.get("event_action")), str(event.get("event_action")))
            status = "" if event["accepted"] else f" (HTTP {event['status_code']}, retried)"
            events.append(
                LoopEvent("page", at, f"PagerDuty {action} [{service}] {summary}{status}", service,
                          event)
            )  # fmt: skip
        return events

    def _poll_escalations(self) -> list[LoopEvent]:
        answer = self.client.get(
            f"{self.addresses.pagerduty}/log_entries",
            params={"limit": 100},
            headers={"Authorization": f"Token token={REST_TOKEN}", "From": "sandbox@example.com"},
        )
        if answer.status_code != 200:
            return []
        events = []
        for entry in reversed(answer.json().get("log_entries", [])):
            if entry["id"] in self._log_entries:
                continue
            self._log_entries.add(entry["id"])
            if entry["type"] not in ("escalate_log_entry", "notify_log_entry"):
                continue
            incident = (entry.get("incident") or {}).get("summary", "").strip()
            service = (entry.get("service") or {}).get("id")
            events.append(
                LoopEvent(
                    "escalation",
                    datetime.now(UTC),
                    f"PagerDuty {entry.get('summary', '')} ({incident[:60].strip()})",
                    service,
                    entry,
                )
            )
        return events

    def _poll_slack(self) -> list[LoopEvent]:
        got = self.client.get(
            f"{self.addresses.slack}/_sink/messages", params={"since": self._slack_seq}
        ).json()["messages"]
        events = []
        for message in got:
            self._slack_seq = max(self._slack_seq, message["seq"])
            self.slack.append(message)
            first_line = (message["title"] or message["text"]).splitlines()[0][:160]
            events.append(
                LoopEvent(
                    "slack",
                    datetime.fromisoformat(message["received_at"]),
                    f"Slack {message.get('channel') or ''} {first_line}".replace("  ", " "),
                    None,
                    message,
                )
            )
        return events

    def _poll_statuspage(self) -> list[LoopEvent]:
        summary = self.client.get(f"{self.addresses.statuspage}/api/v2/summary.json").json()
        incidents = self.client.get(f"{self.addresses.statuspage}/api/v2/incidents.json").json()
        now = datetime.now(UTC)
        components = {
            c["id"]: c["status"] for c in summary["components"] if not c.get("group", False)
        }
        self.status = StatusSnapshot(components, summary["incidents"], incidents["incidents"])
        events = []
        for cid, status in components.items():
            before = self._components.get(cid)
            if before is not None and before != status:
                events.append(
                    LoopEvent("status", now, f"Status page: {cid} {before} -> {status}", cid)
                )
        self._components = components
        for incident in incidents["incidents"]:
            before = self._incident_status.get(incident["id"])
            if before != incident["status"]:
                affected = ", ".join(c["id"] for c in incident.get("components", []))
                events.append(
                    LoopEvent(
                        "incident",
                        now,
                        f"Status page incident {incident['status']}: {incident['name']} "
                        f"({affected})",
                        None,
                        incident,
                    )
                )
            self._incident_status[incident["id"]] = incident["status"]
        return events


def mentions(data: Any, *words: str) -> bool:
    """Whether every word appears somewhere in a JSON-able payload."""
    text = json.dumps(data, default=str)
    return all(word in text for word in words)
