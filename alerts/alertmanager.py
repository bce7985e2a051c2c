"""The Alertmanager configuration (0.25) from the org config.

Routing, top to bottom (first match wins unless `continue`):

1. the status page webhook, when enabled: every alert but Watchdog, `continue: true`;
2. `Watchdog` to the heartbeat receiver (a dead man's switch expects it every minute);
3. per service: `severity="critical"` to the service's own PagerDuty Events API v2
   receiver, grouped by alertname and service with a short group_wait, then
   `severity="warning"` to Slack;
4. anything else (unknown services, other severities) falls through to a last catch-all
   route to the `default` receiver (the unrouted Slack channel), so nothing vanishes even
   when the status page route matched first.

A critical inhibits the warning of the same alertname and service. Secrets never appear
here: routing keys, the Slack URL and the status page token are files under
`/etc/alertmanager/config/` (prometheus-operator mounts the other keys of the
`alertmanager-<name>` Secret there). Alertmanager 0.25 has no `url_file` for webhooks, so
the heartbeat URL is inline and the whole file must be treated as a secret.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from orgconfig.alerting import MaintenanceWindow, Timings
from orgconfig.model import OrgConfig
from orgconfig.units import format_duration

SECRETS_DIR = "/etc/alertmanager/config"
CONFIG_KEY = "alertmanager.yaml"
TEMPLATE_KEY = "incident-response.tmpl"
SLACK_KEY = "slack-webhook-url"
STATUSPAGE_TOKEN_KEY = "statuspage-token"
GROUP_BY = ["alertname", "service"]

DEFAULT_RECEIVER = "default"
SLACK_RECEIVER = "slack"
HEARTBEAT_RECEIVER = "heartbeat"
STATUSPAGE_RECEIVER = "statuspage"


def pagerduty_receiver(service: str) -> str:
    return f"pagerduty-{service}"


def routing_key_name(service: str) -> str:
    """The Secret key (and file name) holding a service's Events API v2 routing key."""
    return f"pagerduty-{service}-routing-key"


@dataclass(frozen=True)
class StatusPageHook:
    """Where Alertmanager posts every alert for the status page (`POST /api/v1/alertmanager`).

    The bearer token is read from `credentials_key` under the secrets directory.
    """

    url: str
    credentials_key: str = STATUSPAGE_TOKEN_KEY


def secret_keys(org: OrgConfig, statuspage: StatusPageHook | None = None) -> dict[str, str]:
    """Secret key -> what it holds, for every `*_file` the config reads."""
    keys = {routing_key_name(s.id): f"Events API v2 routing key of {s.name}" for s in org.services}
    keys[SLACK_KEY] = "Slack incoming-webhook URL"
    if statuspage is not None:
        keys[statuspage.credentials_key] = "bearer token for the status page webhook"
    return keys


def _duration(delta: timedelta) -> str:
    return format_duration(delta)


def _timings(timings: Timings) -> dict[str, str]:
    return {
        "group_wait": _duration(timings.group_wait),
        "group_interval": _duration(timings.group_interval),
        "repeat_interval": _duration(timings.repeat_interval),
    }


def _time_interval(window: MaintenanceWindow) -> dict[str, Any]:
    spec: dict[str, Any] = {}
    if window.times:
        spec["times"] = [{"start_time": r.start, "end_time": r.end} for r in window.times]
    if window.weekdays:
        spec["weekdays"] = list(window.weekdays)
    spec["location"] = window.time_zone
    return {"name": window.name, "time_intervals": [spec]}


def _muted(org: OrgConfig, service: str, severity: str) -> list[str]:
    return [
        w.name
        for w in org.alerting.maintenance
        if (not w.services or service in w.services) and severity in w.severities
    ]


def _slack_config(path: str, channel: str) -> dict[str, Any]:
    return {
        "api_url_file": path,
        "channel": channel,
        "send_resolved": True,  # Slack's default is false in 0.25
        "title": '{{ template "ir.title" . }}',
        "title_link": '{{ template "ir.runbook" . }}',
        "text": '{{ template "ir.slack.text" . }}',
    }


def build_config(
    org: OrgConfig,
    *,
    heartbeat_url: str | None,
    statuspage: StatusPageHook | None = None,
    secrets_dir: str = SECRETS_DIR,
    pagerduty_url: str | None = None,
) -> dict[str, Any]:
    """The Alertmanager config as a dict; `pagerduty_url` overrides the Events endpoint."""
    if not secrets_dir.startswith("/"):
        raise ValueError(f"secrets_dir {secrets_dir!r} must be absolute (Alertmanager *_file)")
    timings = org.alerting.timings
    slack = org.alerting.slack
    secrets = secrets_dir.rstrip("/")

    receivers: list[dict[str, Any]] = [
        {
            "name": DEFAULT_RECEIVER,
            "slack_configs": [_slack_config(f"{secrets}/{SLACK_KEY}", slack.unrouted_channel)],
        },
        {
            "name": SLACK_RECEIVER,
            "slack_configs": [_slack_config(f"{secrets}/{SLACK_KEY}", slack.channel)],
        },
        {
            "name": HEARTBEAT_RECEIVER,
            **(
                {"webhook_configs": [{"url": heartbeat_url, "send_resolved": False}]}
                if heartbeat_url
                else {}
            ),
        },
    ]
    routes: list[dict[str, Any]] = []
    if statuspage is not None:
        receivers.append(
            {
                "name": STATUSPAGE_RECEIVER,
                "webhook_configs": [
                    {
                        "url": statuspage.url,
                        "send_resolved": True,
                        "http_config": {
                            "authorization": {
                                "type": "Bearer",
                                "credentials_file": f"{secrets}/{statuspage.credentials_key}",
                            }
                        },
                    }
                ],
            }
        )
        routes.append(
            {
                "receiver": STATUSPAGE_RECEIVER,
                "matchers": ['alertname!="Watchdog"'],
                "continue": True,
                **_timings(timings.page),
            }
        )
    routes.append(
        {
            "receiver": HEARTBEAT_RECEIVER,
            "matchers": ['alertname="Watchdog"'],
            **_timings(timings.heartbeat),
        }
    )
    for service in org.services:
        pagerduty: dict[str, Any] = {
            "routing_key_file": f"{secrets}/{routing_key_name(service.id)}",
            "send_resolved": True,
            "severity": "critical",
            "description": '{{ template "ir.pagerduty.description" . }}',
            "client": "Alertmanager",
            "client_url": '{{ template "ir.runbook" . }}',
            "class": "{{ .CommonLabels.alertname }}",
            "component": service.id,
            "group": "{{ .CommonLabels.service }}",
            "details": {
                "description": "{{ .CommonAnnotations.description }}",
                "runbook_url": "{{ .CommonAnnotations.runbook_url }}",
            },
        }
        if pagerduty_url:
            pagerduty["url"] = pagerduty_url
        receivers.append({"name": pagerduty_receiver(service.id), "pagerduty_configs": [pagerduty]})
        for severity, receiver, timing in (
            ("critical", pagerduty_receiver(service.id), timings.page),
            ("warning", SLACK_RECEIVER, timings.warning),
        ):
            route: dict[str, Any] = {
                "receiver": receiver,
                "matchers": [f'service="{service.id}"', f'severity="{severity}"'],
                "group_by": GROUP_BY,
                **_timings(timing),
            }
            if muted := _muted(org, service.id, severity):
                route["mute_time_intervals"] = muted
            routes.append(route)

    # Alertmanager sends an alert to the root's receiver only when no child matched; the
    # status page route (continue: true) matches everything, so catch the rest explicitly.
    routes.append({"receiver": DEFAULT_RECEIVER})

    config: dict[str, Any] = {
        "global": {"resolve_timeout": "5m"},
        "templates": [f"{secrets}/*.tmpl"],
        "route": {
            "receiver": DEFAULT_RECEIVER,
            "group_by": GROUP_BY,
            **_timings(timings.default),
            "routes": routes,
        },
        "inhibit_rules": [
            {
                "source_matchers": ['severity="critical"'],
                "target_matchers": ['severity="warning"'],
                "equal": ["alertname", "service"],
            }
        ],
        "receivers": receivers,
    }
    if org.alerting.maintenance:
        config["time_intervals"] = [_time_interval(w) for w in org.alerting.maintenance]
    return config
