"""The scheduled test page's second half: wait for a human to acknowledge it.

A low-urgency incident never escalates (PagerDuty's urgency docs), so a test page that proves
the real path must be high urgency and go through the real first tier; to keep it from
escalating to the whole ladder it is resolved as soon as someone acknowledges it, or after
`--resolve-after` seconds if nobody does. Whether and when it was acknowledged is recorded for
`irctl metrics` (`learning/records.py`: `acknowledged`, `ack_seconds`).
"""

from __future__ import annotations

import time
from typing import Any

# Event severity per wanted urgency: services with severity-based urgency rules make
# critical/error high and warning/info low; a `constant` rule ignores it (then the
# service's own urgency decides, `urgency: high` in the org config).
URGENCY_SEVERITY = {"high": "critical", "low": "info"}
HANDLED = ("acknowledged", "resolved")


def wait_for_acknowledgement(
    rest: Any, incident_id: str, started: float, timeout_seconds: float, poll_seconds: float
) -> float | None:
    """Seconds from `started` (time.monotonic) to the first acknowledgement (or a resolve by a
    person), or None when nobody handled the incident within `timeout_seconds` of `started`."""
    deadline = started + timeout_seconds
    while True:
        response = rest.get(f"/incidents/{incident_id}")
        if response.is_success:
            status = response.json().get("incident", {}).get("status")
            if status in HANDLED:
                return time.monotonic() - started
        if time.monotonic() >= deadline:
            return None
        time.sleep(poll_seconds)
