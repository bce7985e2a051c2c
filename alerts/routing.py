"""Which receiver each service x severity reaches: the routing tree, read back as a table.

`receiver_table` walks the generated Alertmanager route tree the way Alertmanager does
(first matching child wins, `continue: true` keeps looking), so the table is derived from
the very config that ships; the amtool tests check that it agrees with `amtool config
routes test`.
"""

from __future__ import annotations

import re
from typing import Any

from alerts.alertmanager import build_config
from alerts.catalog import WATCHDOG_SERVICE
from orgconfig.model import OrgConfig

UNKNOWN_SERVICE = "no-such-service"
_MATCHER = re.compile(r'^\s*([a-zA-Z_][a-zA-Z0-9_]*)\s*(=~|!~|!=|=)\s*"(.*)"\s*$')


def _matches(matcher: str, labels: dict[str, str]) -> bool:
    parsed = _MATCHER.match(matcher)
    if not parsed:
        raise ValueError(f"cannot read matcher {matcher!r}")
    name, op, value = parsed.groups()
    actual = labels.get(name, "")
    if op == "=":
        return actual == value
    if op == "!=":
        return actual != value
    found = re.fullmatch(value, actual) is not None
    return found if op == "=~" else not found


def receivers_for(route: dict[str, Any], labels: dict[str, str]) -> list[str]:
    """The receivers an alert with `labels` is sent to, in tree order."""
    found: list[str] = []
    for child in route.get("routes", []):
        if all(_matches(m, labels) for m in child.get("matchers", [])):
            found.extend(receivers_for(child, labels))
            if not child.get("continue", False):
                break
    # As in Alertmanager's Route.Match: a node is the match only when no child matched,
    # even if the only matching child had `continue: true`.
    return found or [route["receiver"]]


def probes(org: OrgConfig) -> list[tuple[str, str, dict[str, str]]]:
    """(service, severity, labels) for every service x severity, Watchdog, an unknown service."""
    services = [s.id for s in org.services] + [UNKNOWN_SERVICE]
    rows = [
        (
            service,
            severity,
            {"alertname": "HighErrorRate", "service": service, "severity": severity},
        )
        for service in services
        for severity in ("critical", "warning")
    ]
    watchdog = {"alertname": "Watchdog", "service": WATCHDOG_SERVICE, "severity": "none"}
    rows.insert(-2, (WATCHDOG_SERVICE, "none", watchdog))
    return rows


def receiver_table(
    org: OrgConfig, config: dict[str, Any] | None = None
) -> list[tuple[str, str, str]]:
    """(service, severity, receivers comma-joined) for the routing-tree summary."""
    route = (config or build_config(org, heartbeat_url=None))["route"]
    return [
        (service, severity, ",".join(receivers_for(route, labels)))
        for service, severity, labels in probes(org)
    ]
