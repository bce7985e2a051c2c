"""The uptime API (`GET /api/v2/uptime.json`), an extension beside the Statuspage v2 files:
measured uptime per component over a window, from the same daily check counts as the bars.

Check results are counted per component and UTC day, so a window covers whole UTC days:
every day it touches. The answer says which days it covered.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from statuspage.config import Component, StatusPageConfig
from statuspage.render import iso, page_document
from statuspage.state import UptimeDay, UptimeTotal

# A calendar quarter (92 days at most) fits in one request; the query reads at most this
# many rows per component, through the (component_id, day) primary key.
MAX_WINDOW_DAYS = 92
DEFAULT_WINDOW_DAYS = 90
PARAMETERS = ("since", "until")
_FORMAT_HELP = "a date (2026-11-01) or a date-time with an offset (2026-11-01T09:00:00Z)"


class WindowError(ValueError):
    """A query the API refuses; the message is the reason given to the client."""


@dataclass(frozen=True)
class UptimeWindow:
    first_day: date
    end_day: date  # exclusive

    @property
    def days(self) -> int:
        return (self.end_day - self.first_day).days

    def start(self) -> datetime:
        return datetime.combine(self.first_day, time(), UTC)

    def end(self) -> datetime:
        return datetime.combine(self.end_day, time(), UTC)


def _moment(name: str, text: str) -> tuple[datetime, bool]:
    """The parsed moment and whether it was a bare date."""
    value = text.strip()
    try:
        if len(value) == 10:
            return datetime.combine(date.fromisoformat(value), time(), UTC), True
        moment = datetime.fromisoformat(value.replace("Z", "+00:00").replace("z", "+00:00"))
    except ValueError:
        raise WindowError(f"{name}={text!r} is not {_FORMAT_HELP}") from None
    if moment.tzinfo is None:
        raise WindowError(f"{name}={text!r} has no offset; add Z for UTC or +HH:MM")
    return moment.astimezone(UTC), False


def parse_window(query: Mapping[str, str], now: datetime) -> UptimeWindow:
    """`since` and `until` (both optional: the last 90 days up to now) as the UTC days they
    touch. A bare date as `until` includes that day, like `irctl metrics --until`."""
    try:
        return _window(query, now)
    except OverflowError:
        raise WindowError("since and until must lie between the years 1 and 9999") from None


def _window(query: Mapping[str, str], now: datetime) -> UptimeWindow:
    unknown = sorted(set(query) - set(PARAMETERS))
    if unknown:
        raise WindowError(f"unknown parameter(s) {', '.join(unknown)}; known: since, until")
    if "until" in query:
        until, bare = _moment("until", query["until"])
        if bare:
            until += timedelta(days=1)
    else:
        until = now
    if "since" in query:
        since, _ = _moment("since", query["since"])
    else:
        since = until - timedelta(days=DEFAULT_WINDOW_DAYS)
    if since >= until:
        raise WindowError(f"since ({iso(since)}) must be before until ({iso(until)})")
    first = since.date()
    last = until.date() if until.time() != time() else until.date() - timedelta(days=1)
    window = UptimeWindow(first, last + timedelta(days=1))
    if window.days > MAX_WINDOW_DAYS:
        raise WindowError(
            f"the window covers {window.days} UTC days ({window.first_day} to {last}); "
            f"at most {MAX_WINDOW_DAYS} per request, so ask for longer periods in parts"
        )
    return window


def uptime_document(
    config: StatusPageConfig,
    updated_at: datetime,
    window: UptimeWindow,
    days: Mapping[str, Mapping[date, UptimeDay]],
) -> dict[str, Any]:
    # Same order as components.json: the groups' components, then the ungrouped ones.
    members: list[tuple[Component, str | None]] = [
        (c, g.id) for g in config.groups for c in g.components
    ]
    members += [(c, None) for c in config.components]
    components: list[dict[str, Any]] = []
    for c, group_id in members:
        total = UptimeTotal.of(days.get(c.id, {}).values())
        components.append(
            {
                "id": c.id,
                "name": c.name,
                "group_id": group_id,
                "services": list(c.services),
                "uptime": total.fraction,
                "checks_total": total.checks_total,
                "checks_ok": total.checks_ok,
                "days_with_data": total.days_with_data,
            }
        )
    return {
        "page": page_document(config, updated_at),
        "window": {
            "since": iso(window.start()),
            "until": iso(window.end()),
            "days": window.days,
        },
        "components": components,
    }
