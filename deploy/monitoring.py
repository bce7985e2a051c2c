"""How Prometheus (prometheus-operator, kube-prometheus) sees this namespace, as plain dicts.

- The status page's ServiceMonitor keeps the `service` label its probe series carry
  (`honorLabels: true`): with the default `false` the operator's own `service` target label
  (the Kubernetes Service's name, `statuspage`) would rename it `exported_service` and
  `ServiceDown` for `api` would match nothing.
- kube-prometheus grants its Prometheus RBAC only in `default`, `kube-system` and `monitoring`;
  a Role and RoleBinding here let its ServiceAccount discover and scrape this namespace
  (kube-prometheus docs, "Monitoring other namespaces").
- Synthetic checks of paged services come either from the status page (its own checks,
  exported as `probe_success{service=...}`) or from `Probe` objects run by a blackbox
  exporter (`syntheticChecks: blackbox`), each with a static `service` label; either way they
  run every 15 s.

Operator behaviour modelled here: prometheus-operator `pkg/prometheus/promcfg.go`
(`generateServiceMonitorConfig`, `generateProbeConfig`).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from deploy.settings import DeploySettings
from orgconfig.model import OrgConfig, Service
from orgconfig.statuspage import HttpCheck, TcpCheck

Manifest = dict[str, Any]

MONITORING_API = "monitoring.coreos.com/v1"
PAGED_PROBE_INTERVAL = timedelta(seconds=15)
# The status page's own probe series, dropped from its scrape when a blackbox exporter owns them.
PROBE_SERIES = "probe_(success|duration_seconds)"
# blackbox exporter modules (its default config) by check type.
BLACKBOX_MODULES = {"http": "http_2xx", "tcp": "tcp_connect"}
# What discovering and scraping a namespace needs (kube-prometheus' per-namespace Role).
DISCOVERY_RULES = [
    {
        "apiGroups": [""],
        "resources": ["services", "endpoints", "pods"],
        "verbs": ["get", "list", "watch"],
    },
    {
        "apiGroups": ["discovery.k8s.io"],
        "resources": ["endpointslices"],
        "verbs": ["get", "list", "watch"],
    },
    {
        "apiGroups": ["networking.k8s.io"],
        "resources": ["ingresses"],
        "verbs": ["get", "list", "watch"],
    },
]


@dataclass(frozen=True)
class SyntheticTarget:
    """One synthetic check of a paged service."""

    service: str
    check: HttpCheck | TcpCheck

    @property
    def target(self) -> str:
        if isinstance(self.check, TcpCheck):
            return f"{self.check.host}:{self.check.port}"
        return self.check.url


def duration_text(delta: timedelta) -> str:
    """A duration as Prometheus and the CRDs write it: whole seconds or milliseconds."""
    millis = round(delta.total_seconds() * 1000)
    return f"{millis // 1000}s" if millis % 1000 == 0 else f"{millis}ms"


INTERVAL = duration_text(PAGED_PROBE_INTERVAL)


def paged_services(org: OrgConfig) -> list[Service]:
    """Services whose ServiceDown alert pages: alerts on and the `down` signal on."""
    return [s for s in org.services if s.alerts.enabled and s.alerts.down.enabled]


def synthetic_targets(org: OrgConfig) -> list[SyntheticTarget]:
    """Every check of the status page component each paged service drives."""
    components = {
        component.id: component
        for group in (org.status_page.groups if org.status_page else [])
        for component in group.components
    }
    out = []
    for service in paged_services(org):
        component = components.get(service.status_page_component or "")
        for check in component.checks if component else []:
            out.append(SyntheticTarget(service.id, check))
    return out


def synthetic_check_problems(org: OrgConfig) -> list[str]:
    """A paged service without a synthetic check never pages for an outage; one probed less
    often than every 15 s pages late. Both are problems `irctl validate` lists."""
    probed = {t.service for t in synthetic_targets(org)}
    problems = [
        f"services.{s.id}: a paged service needs a synthetic check (an http or tcp check on "
        f"its status page component {s.status_page_component or '(none set)'}) or "
        "alerts.down.enabled: false"
        for s in paged_services(org)
        if s.id not in probed
    ]
    problems += [
        f"status_page check {t.check.id} of paged service {t.service} runs every "
        f"{t.check.interval.total_seconds():g}s: paged services are probed at least every "
        f"{PAGED_PROBE_INTERVAL.total_seconds():g}s"
        for t in synthetic_targets(org)
        if t.check.interval > PAGED_PROBE_INTERVAL
    ]
    return problems


def service_monitor(
    name: str, settings: DeploySettings, labels: dict[str, str], selector: dict[str, str]
) -> Manifest:
    """The status page's ServiceMonitor: `/metrics` every 15 s with the exported labels kept."""
    endpoint: dict[str, Any] = {
        "port": "http",
        "path": "/metrics",
        "interval": INTERVAL,
        "honorLabels": True,
    }
    if settings.synthetic_checks == "blackbox":
        endpoint["metricRelabelings"] = [
            {"sourceLabels": ["__name__"], "regex": PROBE_SERIES, "action": "drop"}
        ]
    return {
        "apiVersion": MONITORING_API,
        "kind": "ServiceMonitor",
        "metadata": {"name": name, "namespace": settings.namespace, "labels": labels},
        "spec": {
            "selector": {"matchLabels": selector},
            "namespaceSelector": {"matchNames": [settings.namespace]},
            "endpoints": [endpoint],
        },
    }


def prometheus_rbac(settings: DeploySettings, labels: dict[str, str]) -> list[Manifest]:
    """Role + RoleBinding for the configured Prometheus ServiceAccount in this namespace."""
    name = settings.prometheus_service_account
    meta = {"name": name, "namespace": settings.namespace, "labels": labels}
    return [
        {
            "apiVersion": "rbac.authorization.k8s.io/v1",
            "kind": "Role",
            "metadata": meta,
            "rules": DISCOVERY_RULES,
        },
        {
            "apiVersion": "rbac.authorization.k8s.io/v1",
            "kind": "RoleBinding",
            "metadata": meta,
            "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": name},
            "subjects": [
                {
                    "kind": "ServiceAccount",
                    "name": name,
                    "namespace": settings.prometheus_namespace,
                }
            ],
        },
    ]


def probe_manifests(
    org: OrgConfig, settings: DeploySettings, labels: dict[str, str]
) -> list[Manifest]:
    """`Probe` objects for a blackbox exporter (only with `syntheticChecks: blackbox`): one
    per check of a paged service, with a static `service` label and a 15 s interval."""
    if settings.synthetic_checks != "blackbox":
        return []
    return [
        {
            "apiVersion": MONITORING_API,
            "kind": "Probe",
            "metadata": {
                "name": f"{t.service}-{t.check.id}",
                "namespace": settings.namespace,
                "labels": labels,
            },
            "spec": {
                "interval": INTERVAL,
                "scrapeTimeout": duration_text(min(t.check.timeout, PAGED_PROBE_INTERVAL)),
                "module": BLACKBOX_MODULES[t.check.type],
                "prober": {"url": settings.blackbox_exporter_url, "path": "/probe"},
                "targets": {
                    "staticConfig": {"static": [t.target], "labels": {"service": t.service}}
                },
            },
        }
        for t in synthetic_targets(org)
    ]
