"""Alertmanager webhook payloads (version 4) turned into alert events for the store."""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime
from typing import Any

from statuspage.config import StatusPageConfig
from statuspage.inputs import check_moment, clean_text
from statuspage.store import AlertEvent

CRITICAL_SEVERITIES = {"critical", "page"}
WARNING_SEVERITIES = {"warning"}
_MAX_TEXT = 2000


class PayloadError(ValueError):
    """The body is not a notification this endpoint can use; the message says why."""


def _time(value: Any, field: str) -> datetime | None:
    if value in (None, ""):
        return None
    if not isinstance(value, str):
        raise PayloadError(f"{field} must be an RFC 3339 timestamp")
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise PayloadError(f"{field} {value[:40]!r} is not an RFC 3339 timestamp") from None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    # Alertmanager writes Go's zero time (0001-01-01) for "not ended yet".
    if parsed.year <= 1:
        return None
    try:
        return check_moment(parsed)
    except ValueError as exc:
        raise PayloadError(f"{field}: {exc}") from None


def _text(value: Any) -> str | None:
    # Annotations come from alert templates we do not control: strip what the page cannot
    # show rather than refuse the notification (refusing would keep an outage off the page).
    if not isinstance(value, str):
        return None
    text = clean_text(value).strip()
    return text[:_MAX_TEXT] or None


def parse_notification(payload: Any, config: StatusPageConfig) -> tuple[list[AlertEvent], int]:
    """Returns the events this page cares about and how many alerts were ignored
    (no matching component, or a severity that does not move the page)."""
    if not isinstance(payload, dict):
        raise PayloadError("expected a JSON object")
    version = payload.get("version")
    if version != "4":
        raise PayloadError(f'unsupported payload version {version!r}; expected "4"')
    alerts = payload.get("alerts")
    if not isinstance(alerts, list):
        raise PayloadError("`alerts` must be a list")
    events: list[AlertEvent] = []
    ignored = 0
    settings = config.alertmanager
    for index, alert in enumerate(alerts):
        where = f"alerts[{index}]"
        if not isinstance(alert, dict):
            raise PayloadError(f"{where} must be an object")
        labels = alert.get("labels") or {}
        annotations = alert.get("annotations") or {}
        if not isinstance(labels, dict) or not isinstance(annotations, dict):
            raise PayloadError(f"{where}: labels and annotations must be objects")
        status = alert.get("status")
        if status not in ("firing", "resolved"):
            raise PayloadError(f'{where}.status must be "firing" or "resolved"')
        starts_at = _time(alert.get("startsAt"), f"{where}.startsAt")
        if starts_at is None:
            raise PayloadError(f"{where}.startsAt is required")
        ends_at = _time(alert.get("endsAt"), f"{where}.endsAt")
        severity = str(labels.get("severity", "")).lower()
        component = None
        if isinstance(labels.get("component"), str):
            component = config.component(labels["component"])
        if component is None and isinstance(labels.get("service"), str):
            component = config.component_for_service(labels["service"])
        if component is None or severity not in CRITICAL_SEVERITIES | WARNING_SEVERITIES:
            ignored += 1
            continue
        fingerprint = alert.get("fingerprint")
        if isinstance(fingerprint, str):
            fingerprint = clean_text(fingerprint)
        if not isinstance(fingerprint, str) or not fingerprint:
            canonical = json.dumps(labels, sort_keys=True, default=str)
            fingerprint = hashlib.sha256(canonical.encode()).hexdigest()[:16]
        events.append(
            AlertEvent(
                fingerprint=fingerprint[:128],
                component_id=component.id,
                severity="critical" if severity in CRITICAL_SEVERITIES else "warning",
                firing=status == "firing",
                starts_at=starts_at,
                ends_at=ends_at,
                title=_text(annotations.get(settings.title_annotation)),
                message=_text(annotations.get(settings.message_annotation)),
            )
        )
    return events, ignored
