"""Prometheus rule groups from the alert registry: two groups per service, plus the Watchdog.

`<service>.alerts` holds what pages (criticals, and the burn-rate recording rules they read,
first, so they read this evaluation's ratios) and evaluates every
`paging_evaluation_interval` (15s); `<service>.warnings` holds the rest at
`evaluation_interval`. The names sort paging first: promtool evaluates groups in name order,
so the warnings read the ratios recorded at the same step."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

from alerts.catalog import (
    BURN_WINDOWS,
    ERROR_RATIO,
    WATCHDOG_SERVICE,
    ServiceAlert,
    recording_rules,
    runbook_url,
    service_alerts,
)
from orgconfig.model import OrgConfig
from orgconfig.units import format_duration

WATCHDOG_GROUP = "watchdog"
DEFAULT_INTERVAL = timedelta(minutes=1)
WATCHDOG_SEVERITY = "none"
WATCHDOG_SUMMARY = "The alerting pipeline is alive (this alert always fires)."
WATCHDOG_DESCRIPTION = (
    "Watchdog fires all the time (value {{ $value }}) so that the dead man's switch hears "
    "from Prometheus and Alertmanager; if its heartbeat stops, alerting itself is broken."
)


PAGING = "alerts"
WARNINGS = "warnings"
PAGING_WINDOWS = {w for _, long, short in BURN_WINDOWS["critical"] for w in (long, short)}


def group_name(service: str, kind: str = PAGING) -> str:
    return f"{service}.{kind}"


def group_names(service: str) -> list[str]:
    return [group_name(service, PAGING), group_name(service, WARNINGS)]


def alert_rules(org: OrgConfig, alert: ServiceAlert) -> list[dict[str, Any]]:
    """The rules of one alert name: one per severity, labels severity and service."""
    rules = []
    for level in alert.levels:
        rule: dict[str, Any] = {"alert": alert.alert, "expr": level.expr}
        if level.for_:
            rule["for"] = format_duration(level.for_)
        rule["labels"] = {
            "severity": level.severity,
            "service": alert.service,
            **alert.extra_labels,
        }
        rule["annotations"] = {
            "summary": level.summary,
            "description": alert.description,
            "runbook_url": runbook_url(org.alerting, alert.alert),
        }
        rules.append(rule)
    return rules


def watchdog_rule(org: OrgConfig) -> dict[str, Any]:
    return {
        "alert": "Watchdog",
        "expr": "vector(1)",
        "labels": {"severity": WATCHDOG_SEVERITY, "service": WATCHDOG_SERVICE},
        "annotations": {
            "summary": WATCHDOG_SUMMARY,
            "description": WATCHDOG_DESCRIPTION,
            "runbook_url": runbook_url(org.alerting, "Watchdog"),
        },
    }


def _pace(every: timedelta) -> dict[str, str]:
    return {} if every == DEFAULT_INTERVAL else {"interval": format_duration(every)}


def rule_groups(org: OrgConfig) -> list[dict[str, Any]]:
    """Rule groups in the shape of a Prometheus rule file and a PrometheusRule spec.

    Groups carry `interval` when rules must evaluate at another pace than 1m (the usual
    global `evaluation_interval`), so every `for` lands on an evaluation wherever they run.
    """
    paces = {
        PAGING: _pace(org.alerting.paging_interval()),
        WARNINGS: _pace(org.alerting.evaluation_interval),
    }
    rules: dict[str, dict[str, list[dict[str, Any]]]] = {}
    for service in org.services:
        recorded = recording_rules(service, org.alerting)
        paging = [
            r for r in recorded if str(r["record"]).removeprefix(ERROR_RATIO) in PAGING_WINDOWS
        ]
        rules[service.id] = {
            PAGING: paging,
            WARNINGS: [r for r in recorded if r not in paging],
        }
    for alert in service_alerts(org):
        for rule in alert_rules(org, alert):
            kind = PAGING if rule["labels"]["severity"] == "critical" else WARNINGS
            rules[alert.service][kind].append(rule)
    groups = [
        {"name": group_name(service, kind), **paces[kind], "rules": found}
        for service, kinds in rules.items()
        for kind, found in kinds.items()
        if found
    ]
    groups.append({"name": WATCHDOG_GROUP, **paces[WARNINGS], "rules": [watchdog_rule(org)]})
    return groups


# etcd refuses requests over about 1.5 MiB and a ConfigMap (the operator copies rules into
# one) holds at most 1 MiB: keep each PrometheusRule well below, and fail validation above.
MAX_RULE_OBJECT_BYTES = 1024 * 1024
SPLIT_RULE_OBJECT_BYTES = 256 * 1024
RULE_OBJECT_PREFIX = "incident-response-alerts"


def _size(groups: list[dict[str, Any]]) -> int:
    # The API server stores the object as JSON: measure that (and it is fast).
    return len(json.dumps(groups, separators=(",", ":")).encode())


def rule_objects(
    org: OrgConfig, limit: int = SPLIT_RULE_OBJECT_BYTES
) -> list[tuple[str, list[dict[str, Any]]]]:
    """PrometheusRule name -> its groups: one object per team (services without a team and
    the Watchdog share `incident-response-alerts`), split into numbered parts of at most
    `limit` bytes of rules each."""
    team_of = {name: s.team for s in org.services for name in group_names(s.id)}
    by_team: dict[str, list[dict[str, Any]]] = {}
    for group in rule_groups(org):
        team = team_of.get(group["name"])
        name = f"{RULE_OBJECT_PREFIX}-{team}" if team else RULE_OBJECT_PREFIX
        by_team.setdefault(name, []).append(group)
    objects: list[tuple[str, list[dict[str, Any]]]] = []
    for name, groups in by_team.items():
        parts: list[list[dict[str, Any]]] = [[]]
        used = 0
        for group in groups:
            size = _size([group])
            if parts[-1] and used + size > limit:
                parts.append([])
                used = 0
            parts[-1].append(group)
            used += size
        for index, part in enumerate(parts):
            objects.append((name if index == 0 else f"{name}-{index + 1}", part))
    return objects


def oversized(manifest: dict[str, Any], text: str) -> list[str]:
    """A problem when a rendered PrometheusRule is over what etcd and the operator accept."""
    if manifest.get("kind") != "PrometheusRule" or len(text.encode()) <= MAX_RULE_OBJECT_BYTES:
        return []
    name = (manifest.get("metadata") or {}).get("name", "?")
    return [
        f"PrometheusRule {name!r} is {len(text.encode()) / 1024 / 1024:.2f} MiB; at most 1 MiB "
        "fits a Kubernetes object (etcd): split the rules (one object per team is automatic)"
    ]


def rule_file(org: OrgConfig) -> dict[str, Any]:
    return {"groups": rule_groups(org)}
