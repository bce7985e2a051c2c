"""The Alertmanager configuration (0.25) from the org config.

Routing, top to bottom (first match wins unless `continue`):

1. `Watchdog` to the heartbeat receiver (a dead man's switch expects it every minute);
2. the status page webhook, when enabled: criticals of services whose component opted in
   (`alerts.status_page: publish`, or `draft` to a second receiver whose URL adds
   `?mode=draft`), `continue: true`, with the service's maintenance mutes; warnings never;
3. per service: `severity="critical"` to the service's own PagerDuty Events API v2
   receiver, grouped by service (one incident per outage) with a short group_wait, then
   `severity="warning"` to the Slack channel of its team;
4. criticals nobody else took (unknown service, no service label) page the catch-all
   service (`alerting.catch_all_service`);
5. anything else falls through to the `default` receiver (the unrouted Slack channel).

A critical inhibits the warning of the same alertname and service, and ServiceDown inhibits
its service's other alerts; sources must carry a service label. Secrets never appear
here: routing keys, each channel's Slack URL and the status page token are files under
`/etc/alertmanager/config/` (prometheus-operator mounts the other keys of the
`alertmanager-<name>` Secret there). Alertmanager 0.25 has no `url_file` for webhooks, so
the heartbeat URL is inline and the whole file must be treated as a secret.

Delivery: the whole config goes into Secret `alertmanager-<alertmanagerName>` in
`alertmanagerNamespace` (kube-prometheus: `monitoring`/`main`), the only place the operator
reads it. `AlertmanagerConfig` objects are not rendered: the operator would prefix their
routes with `namespace="<their namespace>"` (matcher strategy `OnNamespace`), which alerts
about services elsewhere do not carry, and inhibit rules, templates and the root route
cannot be expressed there.
"""

from __future__ import annotations

import re
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
# One PagerDuty incident per service outage: every critical of a service joins one group.
PAGE_GROUP_BY = ["service"]
# Labels every generated rule sets; a source alert without them must never inhibit.
PRESENT = 'service=~".+"'

DEFAULT_RECEIVER = "default"
SLACK_RECEIVER = "slack"
HEARTBEAT_RECEIVER = "heartbeat"
# A plain annotation on the config Secret saying whether the heartbeat URL is set (the policy
# pack, published on its own, keeps its own copy of this name).
HEARTBEAT_ANNOTATION = "incident-response.modulo.example.com/heartbeat"
STATUSPAGE_RECEIVER = "statuspage"
STATUSPAGE_DRAFT_RECEIVER = "statuspage-draft"


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


def draft_url(url: str) -> str:
    """The status page webhook that opens DRAFT incidents (published with `irctl status`)."""
    return f"{url}{'&' if '?' in url else '?'}mode=draft"


def channel_key(channel: str, default_channel: str) -> str:
    """The Secret key (and file name) of a Slack channel's incoming-webhook URL."""
    if channel == default_channel:
        return SLACK_KEY
    slug = re.sub(r"[^a-z0-9]+", "-", channel.lstrip("#@").lower()).strip("-")
    return f"{SLACK_KEY}-{slug}"


def slack_receiver(channel: str, default_channel: str, unrouted_channel: str) -> str:
    if channel == default_channel:
        return SLACK_RECEIVER
    if channel == unrouted_channel:
        return DEFAULT_RECEIVER
    return f"slack-{channel_key(channel, default_channel).removeprefix(SLACK_KEY + '-')}"


def secret_keys(org: OrgConfig, statuspage: StatusPageHook | None = None) -> dict[str, str]:
    """Secret key -> what it holds, for every `*_file` the config reads."""
    keys = {routing_key_name(s.id): f"Events API v2 routing key of {s.name}" for s in org.services}
    slack = org.alerting.slack
    for channel in slack.channels():
        keys[channel_key(channel, slack.channel)] = f"Slack incoming-webhook URL of {channel}"
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


def _statuspage_receiver(name: str, url: str, secrets: str, key: str) -> dict[str, Any]:
    return {
        "name": name,
        "webhook_configs": [
            {
                "url": url,
                "send_resolved": True,
                "http_config": {
                    "authorization": {"type": "Bearer", "credentials_file": f"{secrets}/{key}"}
                },
            }
        ],
    }


def _pagerduty_config(service_id: str, secrets: str, url: str | None) -> dict[str, Any]:
    config: dict[str, Any] = {
        # send_resolved (true) and client ("Alertmanager") are Alertmanager 0.25's defaults
        # for pagerduty_configs: left out, since this block repeats once per service and the
        # whole config must fit the operator's Secret (1 MiB) at 1,000 services.
        "routing_key_file": f"{secrets}/{routing_key_name(service_id)}",
        "severity": "critical",
        "description": '{{ template "ir.pagerduty.description" . }}',
        "client_url": '{{ template "ir.runbook" . }}',
        "class": "{{ .CommonLabels.alertname }}",
        "component": service_id,
        "group": "{{ .CommonLabels.service }}",
        "details": {
            "alerts": "{{ range .Alerts }}{{ .Labels.alertname }} {{ end }}",
            "description": "{{ .CommonAnnotations.description }}",
            "runbook_url": "{{ .CommonAnnotations.runbook_url }}",
        },
    }
    if url:
        config["url"] = url
    return config


def _route(receiver: str, matchers: list[str], timings: Timings, **extra: Any) -> dict[str, Any]:
    route: dict[str, Any] = {"receiver": receiver, "matchers": matchers, **extra}
    route.update(_timings(timings))
    if not route.get("mute_time_intervals"):
        route.pop("mute_time_intervals", None)
    return route


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
            "name": slack_receiver(channel, slack.channel, slack.unrouted_channel),
            "slack_configs": [
                _slack_config(f"{secrets}/{channel_key(channel, slack.channel)}", channel)
            ],
        }
        for channel in [slack.unrouted_channel, *slack.channels()]
    ]
    receivers = list({r["name"]: r for r in receivers}.values())
    receivers.append(
        {
            "name": HEARTBEAT_RECEIVER,
            **(
                {"webhook_configs": [{"url": heartbeat_url, "send_resolved": False}]}
                if heartbeat_url
                else {}
            ),
        }
    )
    # Watchdog first: nothing else may swallow the dead man's switch.
    routes: list[dict[str, Any]] = [
        _route(HEARTBEAT_RECEIVER, ['alertname="Watchdog"'], timings.heartbeat)
    ]
    if statuspage is not None:
        key = statuspage.credentials_key
        receivers.append(_statuspage_receiver(STATUSPAGE_RECEIVER, statuspage.url, secrets, key))
        receivers.append(
            _statuspage_receiver(STATUSPAGE_DRAFT_RECEIVER, draft_url(statuspage.url), secrets, key)
        )
        # Only criticals of services whose component opted in; warnings never.
        hook_receiver = {"publish": STATUSPAGE_RECEIVER, "draft": STATUSPAGE_DRAFT_RECEIVER}
        for service in org.services:
            mode = service.alerts.status_page
            if mode == "off" or not service.status_page_component:
                continue
            routes.append(
                _route(
                    hook_receiver[mode],
                    [f'service="{service.id}"', 'severity="critical"'],
                    timings.page,
                    group_by=PAGE_GROUP_BY,
                    mute_time_intervals=_muted(org, service.id, "critical"),
                    **{"continue": True},
                )
            )
    for service in org.services:
        receivers.append(
            {
                "name": pagerduty_receiver(service.id),
                "pagerduty_configs": [_pagerduty_config(service.id, secrets, pagerduty_url)],
            }
        )
        channel = slack.team_channels.get(service.team or "", slack.channel)
        for severity, receiver, timing, group_by in (
            ("critical", pagerduty_receiver(service.id), timings.page, PAGE_GROUP_BY),
            (
                "warning",
                slack_receiver(channel, slack.channel, slack.unrouted_channel),
                timings.warning,
                GROUP_BY,
            ),
        ):
            routes.append(
                _route(
                    receiver,
                    [f'service="{service.id}"', f'severity="{severity}"'],
                    timing,
                    group_by=group_by,
                    mute_time_intervals=_muted(org, service.id, severity),
                )
            )
    catch_all = org.alerting.catch_all_service
    if catch_all is not None:
        # Criticals of unknown services, or without a service label, still wake a person.
        routes.append(
            _route(
                pagerduty_receiver(catch_all), ['severity="critical"'], timings.page,
                group_by=GROUP_BY, mute_time_intervals=_muted(org, "", "critical"),
            )
        )  # fmt: skip
    # Alertmanager sends an alert to the root's receiver only when no child matched; the
    # status page routes (continue: true) match first, so catch the rest explicitly.
    last: dict[str, Any] = {"receiver": DEFAULT_RECEIVER}
    if everywhere := _muted(org, "", "warning"):  # windows that mute every service
        last["mute_time_intervals"] = everywhere
    routes.append(last)

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
            # Alertmanager's `equal` treats two missing labels as equal: sources must carry
            # a service label, so an unlabelled alert can never inhibit every other one.
            {
                "source_matchers": ['severity="critical"', PRESENT],
                "target_matchers": ['severity="warning"'],
                "equal": ["alertname", "service"],
            },
            # A service that is down explains its errors, latency and missing metrics.
            {
                "source_matchers": ['alertname="ServiceDown"', PRESENT],
                "target_matchers": ['alertname!="ServiceDown"', 'alertname!="Watchdog"'],
                "equal": ["service"],
            },
        ],
        "receivers": receivers,
    }
    if org.alerting.maintenance:
        config["time_intervals"] = [_time_interval(w) for w in org.alerting.maintenance]
    return config
