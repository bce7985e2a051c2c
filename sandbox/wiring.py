"""Pure functions that wire the sandbox: the org config plus loopback addresses in, each
program's config out (plain dicts). The generated artifacts come from the same builders the
production stack uses (`alerts`, `deploy`); this module only points them at local endpoints.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from oncall.escalation import rules
from oncall.rotation import on_call_at
from orgconfig.model import OrgConfig
from sandbox.scrape import KubeService, Overrides, scrape_configs

# Placeholders in config/dev.yaml, replaced by the addresses the sandbox picked.
DEMO_ORIGIN = "http://demo.sandbox.invalid"
S3_ORIGIN = "http://s3.sandbox.invalid"


@dataclass(frozen=True)
class Addresses:
    """Where each part of the sandbox listens (``http://127.0.0.1:PORT``)."""

    demo: str
    pagerduty: str
    slack: str
    statuspage: str
    prometheus: str
    alertmanager: str
    s3: str

    def as_dict(self) -> dict[str, str]:
        return dict(vars(self))


@dataclass(frozen=True)
class ScrapeTimings:
    """Prometheus timings; the sandbox's are short, `KUBE_PROMETHEUS` is the usual default.

    `scrape_interval` None keeps the intervals of the rendered ServiceMonitor and Probe
    objects (the prod timings: probes of paged services every 15 s, apps every 30 s)."""

    scrape_interval: timedelta | None = timedelta(seconds=1)
    evaluation_interval: timedelta = timedelta(seconds=1)

    @classmethod
    def for_rules(cls, org: OrgConfig) -> ScrapeTimings:
        """1 s scrapes, and rules evaluated at the config's `alerting.evaluation_interval`
        (the pace its `for` durations are multiples of)."""
        every = org.alerting.evaluation_interval
        return cls(min(timedelta(seconds=1), every), every)


KUBE_PROMETHEUS = ScrapeTimings(timedelta(seconds=30), timedelta(seconds=30))
# kube-prometheus scrapes what a ServiceMonitor does not pace itself every 30 s.
DEFAULT_SCRAPE_INTERVAL = timedelta(seconds=30)
# The namespace the demo app's services play in, as an app team's own namespace would be.
DEMO_NAMESPACE = "apps"


def _seconds(delta: timedelta) -> str:
    return f"{int(delta.total_seconds())}s"


def hostport(url: str) -> str:
    return url.split("://", 1)[1].rstrip("/")


def routing_keys(service_ids: Iterable[str]) -> dict[str, str]:
    """A fresh 32-character Events API v2 routing key per service (what PagerDuty issues)."""
    return {sid: secrets.token_hex(16) for sid in service_ids}


def pagerduty_data(
    org: OrgConfig, keys: Mapping[str, str], now: datetime | None = None, clock_speed: float = 1
) -> dict[str, Any]:
    """The local PagerDuty's services, users and tiers, from the org's escalation policies.

    A schedule target becomes whoever is on call on it right now, as PagerDuty resolves it.
    """
    now = now or datetime.now(UTC)
    users = [{"id": p.id, "name": p.name, "email": p.email} for p in org.people]
    services = []
    for service in org.services:
        if service.id not in keys:
            continue
        tiers = []
        for rule in rules(org.policy(service.escalation_policy)):
            targets = []
            for kind, ref in rule.targets:
                schedule = org.schedule(ref) if kind == "schedule" else None
                person = on_call_at(schedule, now, org.overrides) if schedule else ref
                if person is not None:
                    targets.append(org.person(person).name)
            tiers.append({"delay_minutes": rule.delay_minutes, "targets": targets})
        services.append(
            {
                "id": service.id,
                "name": service.name,
                "routing_keys": [keys[service.id]],
                "team_ids": [service.team] if service.team else [],
                "urgency": service.urgency,
                "tiers": tiers,
            }
        )
    return {"services": services, "users": users, "clock_speed": clock_speed}


# Series the demo app plays for the cluster (cAdvisor through the kubelet, kube-state-metrics,
# kubelet volume stats), with the namespace/pod/container labels of the workload they describe.
CLUSTER_SERIES = "(container|kube|kubelet)_.*"


def demo_service_monitors(service_ids: Iterable[str]) -> list[dict[str, Any]]:
    """What selects each demo service in a cluster. The app team's own ServiceMonitor scrapes
    `/services/<id>/metrics` of the Service named after the service id (its `service` target
    label); the same page also plays the kubelet and kube-state-metrics, whose kube-prometheus
    ServiceMonitors set `honorLabels: true` so the workload's `namespace`/`pod` labels stay."""
    monitors = []
    for sid in service_ids:
        app = {"port": "http", "path": f"/services/{sid}/metrics", "interval": "30s"}
        drop = {"sourceLabels": ["__name__"], "regex": CLUSTER_SERIES, "action": "drop"}
        keep = {"sourceLabels": ["__name__"], "regex": CLUSTER_SERIES, "action": "keep"}
        for name, endpoint in (
            (sid, {**app, "metricRelabelings": [drop]}),
            (f"{sid}-cluster", {**app, "honorLabels": True, "metricRelabelings": [keep]}),
        ):
            monitors.append(
                {
                    "apiVersion": "monitoring.coreos.com/v1",
                    "kind": "ServiceMonitor",
                    "metadata": {"name": name, "namespace": DEMO_NAMESPACE},
                    "spec": {
                        "selector": {"matchLabels": {"app.kubernetes.io/name": sid}},
                        "endpoints": [endpoint],
                    },
                }
            )
    return monitors


def rendered_monitoring(org: OrgConfig) -> list[dict[str, Any]]:
    """The status page's objects exactly as the prod stack renders them (one replica, no
    secrets): its Service, ServiceMonitor and any Probe."""
    from deploy.kubernetes import statuspage_manifests
    from deploy.settings import DeploySettings

    if org.status_page is None:
        return []
    settings = DeploySettings(stack="sandbox", statuspage_replicas=1)
    kinds = ("Service", "ServiceMonitor", "Probe")
    return [m for m in statuspage_manifests(org, settings, {}) if m["kind"] in kinds]


def kube_services(
    addresses: Addresses, service_ids: Iterable[str], rendered: Iterable[dict[str, Any]]
) -> list[KubeService]:
    """What service discovery would find: the rendered status page Service on the sandbox's
    status page, and one Service per demo service on the demo app."""
    found = [
        KubeService(
            name=m["metadata"]["name"],
            namespace=m["metadata"]["namespace"],
            labels=m["metadata"]["labels"],
            address=hostport(addresses.statuspage),
            port=m["spec"]["ports"][0]["name"],
            pod=f"{m['metadata']['name']}-sandbox",
            container=m["metadata"]["name"],
        )
        for m in rendered
        if m["kind"] == "Service"
    ]
    found += [
        KubeService(sid, DEMO_NAMESPACE, {"app.kubernetes.io/name": sid}, hostport(addresses.demo),
                    pod=f"{sid}-sandbox", container=sid)
        for sid in service_ids
    ]  # fmt: skip
    return found


def prometheus_config(
    addresses: Addresses,
    org: OrgConfig,
    rule_files: Iterable[Path],
    timings: ScrapeTimings = ScrapeTimings(),
) -> dict[str, Any]:
    """Prometheus scraping what the rendered ServiceMonitor and Probe objects (and the apps'
    own ServiceMonitors) select, as prometheus-operator would configure it (`sandbox.scrape`),
    evaluating the generated rules and sending to the sandbox Alertmanager."""
    service_ids = [s.id for s in org.services]
    rendered = rendered_monitoring(org)
    objects = [m for m in rendered if m["kind"] != "Service"]
    overrides = Overrides(scrape_interval=timings.scrape_interval)
    every = timings.scrape_interval or DEFAULT_SCRAPE_INTERVAL
    return {
        "global": {
            "scrape_interval": _seconds(every),
            "scrape_timeout": _seconds(min(every, timedelta(seconds=10))),
            "evaluation_interval": _seconds(timings.evaluation_interval),
            "external_labels": {"environment": "sandbox"},
        },
        "rule_files": [str(path) for path in rule_files],
        "alerting": {
            "alertmanagers": [{"static_configs": [{"targets": [hostport(addresses.alertmanager)]}]}]
        },
        "scrape_configs": scrape_configs(
            [*objects, *demo_service_monitors(service_ids)],
            kube_services(addresses, service_ids, rendered),
            overrides,
        ),
    }


def _replace_origin(value: Any, old: str, new: str) -> Any:
    if isinstance(value, str):
        return new + value[len(old) :] if value.startswith(old) else value
    if isinstance(value, list):
        return [_replace_origin(v, old, new) for v in value]
    if isinstance(value, dict):
        return {k: _replace_origin(v, old, new) for k, v in value.items()}
    return value


def statuspage_config(org: OrgConfig, addresses: Addresses) -> dict[str, Any]:
    """The status page config the production stack renders, with the sandbox's addresses."""
    from deploy.statuspage_config import statuspage_config as render

    config = _replace_origin(render(org), DEMO_ORIGIN, addresses.demo.rstrip("/"))
    return _replace_origin(config, S3_ORIGIN, addresses.s3.rstrip("/"))


def prometheus_rules(org: OrgConfig, timings: ScrapeTimings | None = None) -> dict[str, Any]:
    """The generated rule file, exactly as production gets it.

    Timings that evaluate at another pace than the config (the benchmark's kube-prometheus
    profile) take the groups' own `interval` away, so Prometheus' global one applies.
    """
    from alerts.rules import rule_file

    rules = rule_file(org)
    if timings is not None and timings.evaluation_interval != org.alerting.evaluation_interval:
        for group in rules["groups"]:
            group.pop("interval", None)
    return rules


def alertmanager_config(
    org: OrgConfig, addresses: Addresses, secrets_dir: Path, *, with_statuspage: bool = True
) -> dict[str, Any]:
    """The generated Alertmanager config, with PagerDuty's Events endpoint, Slack (through the
    secret URL file), the heartbeat and the status page webhook all on loopback."""
    from alerts.alertmanager import StatusPageHook, build_config

    hook = (
        StatusPageHook(f"{addresses.statuspage}/api/v1/alertmanager") if with_statuspage else None
    )
    return build_config(
        org,
        heartbeat_url=f"{addresses.slack}/heartbeat",
        statuspage=hook,
        secrets_dir=str(secrets_dir.resolve()),
        pagerduty_url=f"{addresses.pagerduty}/v2/enqueue",
    )


def alertmanager_secrets(
    org: OrgConfig, addresses: Addresses, keys: Mapping[str, str], statuspage_token: str | None
) -> dict[str, str]:
    """File name -> content for every `*_file` and template the generated config reads."""
    from alerts.alertmanager import (
        STATUSPAGE_TOKEN_KEY,
        TEMPLATE_KEY,
        channel_key,
        routing_key_name,
    )
    from alerts.templates import TEMPLATE

    files = {routing_key_name(sid): key for sid, key in keys.items()}
    # One incoming-webhook URL per channel, each reaching the local Slack.
    slack = org.alerting.slack
    for channel in slack.channels():
        files[channel_key(channel, slack.channel)] = (
            f"{addresses.slack}/services/T0SANDBOX/B0SANDBOX/sandbox"
        )
    files[TEMPLATE_KEY] = TEMPLATE
    if statuspage_token is not None:
        files[STATUSPAGE_TOKEN_KEY] = statuspage_token
    return files
