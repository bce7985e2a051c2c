"""Prometheus rule groups from the alert catalog: one group per service, plus the Watchdog."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from alerts.catalog import WATCHDOG_SERVICE, ServiceAlert, runbook_url, service_alerts
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


def group_name(service: str) -> str:
    return f"{service}.alerts"


def alert_rules(org: OrgConfig, alert: ServiceAlert) -> list[dict[str, Any]]:
    """The rules of one alert name: one per severity, labels severity and service."""
    rules = []
    for level in alert.levels:
        rule: dict[str, Any] = {"alert": alert.alert, "expr": level.expr}
        if level.for_:
            rule["for"] = format_duration(level.for_)
        rule["labels"] = {"severity": level.severity, "service": alert.service}
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


def rule_groups(org: OrgConfig) -> list[dict[str, Any]]:
    """Rule groups in the shape of a Prometheus rule file and a PrometheusRule spec.

    Groups carry `interval` when rules must evaluate at another pace than 1m (the usual
    global `evaluation_interval`), so every `for` lands on an evaluation wherever they run.
    """
    interval = org.alerting.evaluation_interval
    pace = {} if interval == DEFAULT_INTERVAL else {"interval": format_duration(interval)}
    by_service: dict[str, list[dict[str, Any]]] = {}
    for alert in service_alerts(org):
        by_service.setdefault(alert.service, []).extend(alert_rules(org, alert))
    groups = [{"name": group_name(s), **pace, "rules": rules} for s, rules in by_service.items()]
    groups.append({"name": WATCHDOG_GROUP, **pace, "rules": [watchdog_rule(org)]})
    return groups


def rule_file(org: OrgConfig) -> dict[str, Any]:
    return {"groups": rule_groups(org)}
