"""Prometheus scrape configuration made the way prometheus-operator makes it, from the
rendered ServiceMonitor and Probe objects, for the sandbox's Prometheus.

There is no Kubernetes here, so each Kubernetes Service a ServiceMonitor could select is a
`KubeService`: its namespace, labels and the one ready pod behind it. Everything else follows
the operator (prometheus-operator `pkg/prometheus/promcfg.go`, `generateServiceMonitorConfig`
and `generateProbeConfig`):

- a ServiceMonitor selects Services by `selector.matchLabels` in the namespaces of its
  `namespaceSelector` (its own namespace when unset); each endpoint becomes the job
  `serviceMonitor/<ns>/<name>/<i>` whose targets carry the labels `namespace`, `service` (the
  Service's name), `pod`, `container`, `endpoint` (the port name) and `job` (the Service's
  name);
- `honorLabels` becomes `honor_labels`: with the default `false`, Prometheus itself renames a
  scraped label that clashes with a target label to `exported_<name>`;
- a Probe becomes the job `probe/<ns>/<name>` (or its `jobName`), its static targets passed to
  the prober as `target`, with its static labels plus `namespace`, `instance` = the target.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from deploy.monitoring import duration_text

Manifest = dict[str, Any]


@dataclass(frozen=True)
class KubeService:
    """A Kubernetes Service as service discovery would see it, with one ready pod."""

    name: str
    namespace: str
    labels: Mapping[str, str]
    address: str  # host:port where the pod's named port answers
    port: str = "http"
    pod: str = ""
    container: str = ""


@dataclass(frozen=True)
class Overrides:
    """What the sandbox changes on the objects: a faster pace and where the prober runs."""

    scrape_interval: timedelta | None = None
    probers: Mapping[str, str] = field(default_factory=dict)  # prober URL -> host:port


def _seconds(text: str) -> float:
    total = 0.0
    units = {"ms": 0.001, "s": 1, "m": 60, "h": 3600, "d": 86400}
    for number, unit in re.findall(r"(\d+)(ms|s|m|h|d)", text):
        total += int(number) * units[unit]
    return total


def _pace(interval: str | None, timeout: str | None, overrides: Overrides) -> dict[str, str]:
    out: dict[str, str] = {}
    if overrides.scrape_interval is not None:
        out["scrape_interval"] = duration_text(overrides.scrape_interval)
        every = overrides.scrape_interval.total_seconds()
        wanted = _seconds(timeout) if timeout else every
        out["scrape_timeout"] = duration_text(timedelta(seconds=min(wanted, every)))
        return out
    if interval:
        out["scrape_interval"] = interval
    if timeout:
        out["scrape_timeout"] = timeout
    return out


def _snake(name: str) -> str:
    return re.sub(r"(?<!^)([A-Z])", r"_\1", name).lower()


def relabel_configs(relabelings: Iterable[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """The CRD's camelCase relabelings as Prometheus' relabel_configs."""
    out = []
    for rule in relabelings:
        converted = {_snake(k): v for k, v in rule.items()}
        if "action" in converted:
            converted["action"] = str(converted["action"]).lower()
        out.append(converted)
    return out


def _selects(monitor: Manifest, service: KubeService) -> bool:
    spec = monitor["spec"]
    namespaces = spec.get("namespaceSelector", {})
    if namespaces.get("any") is not True:
        allowed = namespaces.get("matchNames") or [monitor["metadata"].get("namespace")]
        if service.namespace not in allowed:
            return False
    wanted = spec.get("selector", {}).get("matchLabels", {})
    return all(service.labels.get(k) == v for k, v in wanted.items())


def service_monitor_jobs(
    monitor: Manifest, services: Iterable[KubeService], overrides: Overrides = Overrides()
) -> list[dict[str, Any]]:
    """One scrape job per endpoint of a ServiceMonitor, targets from the Services it selects."""
    meta, spec = monitor["metadata"], monitor["spec"]
    chosen = [s for s in services if _selects(monitor, s)]
    jobs = []
    for index, endpoint in enumerate(spec.get("endpoints", [])):
        targets = [s for s in chosen if s.port == endpoint.get("port")]
        job: dict[str, Any] = {
            "job_name": f"serviceMonitor/{meta.get('namespace')}/{meta['name']}/{index}",
            "honor_labels": bool(endpoint.get("honorLabels", False)),
            **_pace(endpoint.get("interval"), endpoint.get("scrapeTimeout"), overrides),
            "metrics_path": endpoint.get("path", "/metrics"),
            "static_configs": [
                {
                    "targets": [s.address],
                    "labels": {
                        "namespace": s.namespace,
                        "service": s.name,
                        "pod": s.pod,
                        "container": s.container,
                        "endpoint": str(endpoint.get("port")),
                        "job": s.labels.get(spec.get("jobLabel", ""), s.name),
                    },
                }
                for s in targets
            ],
        }
        if endpoint.get("params"):
            job["params"] = endpoint["params"]
        if endpoint.get("metricRelabelings"):
            job["metric_relabel_configs"] = relabel_configs(endpoint["metricRelabelings"])
        jobs.append(job)
    return jobs


def probe_job(probe: Manifest, overrides: Overrides = Overrides()) -> dict[str, Any]:
    """The scrape job of a Probe with static targets (the only kind this project renders)."""
    meta, spec = probe["metadata"], probe["spec"]
    static = spec["targets"]["staticConfig"]
    prober_url = spec["prober"]["url"]
    relabel: list[dict[str, Any]] = []
    if spec.get("jobName"):
        relabel.append({"target_label": "job", "replacement": spec["jobName"]})
    relabel += [
        {"source_labels": ["__address__"], "target_label": "__param_target"},
        {"source_labels": ["__param_target"], "target_label": "instance"},
        {
            "target_label": "__address__",
            "replacement": overrides.probers.get(prober_url, prober_url),
        },
    ]
    job: dict[str, Any] = {
        "job_name": f"probe/{meta.get('namespace')}/{meta['name']}",
        **_pace(spec.get("interval"), spec.get("scrapeTimeout"), overrides),
        "metrics_path": spec["prober"].get("path", "/probe"),
        "static_configs": [
            {
                "targets": list(static["static"]),
                "labels": {"namespace": meta.get("namespace"), **static.get("labels", {})},
            }
        ],
        "relabel_configs": relabel,
    }
    if spec.get("module"):
        job["params"] = {"module": [spec["module"]]}
    if spec.get("metricRelabelings"):
        job["metric_relabel_configs"] = relabel_configs(spec["metricRelabelings"])
    return job


def scrape_configs(
    objects: Iterable[Manifest], services: Iterable[KubeService], overrides: Overrides = Overrides()
) -> list[dict[str, Any]]:
    """Every ServiceMonitor's and Probe's scrape jobs, in the order of `objects`."""
    services = list(services)
    jobs: list[dict[str, Any]] = []
    for manifest in objects:
        if manifest.get("kind") == "ServiceMonitor":
            jobs += service_monitor_jobs(manifest, services, overrides)
        elif manifest.get("kind") == "Probe":
            jobs.append(probe_job(manifest, overrides))
    return jobs
