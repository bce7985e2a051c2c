"""The sandbox scrapes as prometheus-operator would (`sandbox.scrape`): the jobs made from the
rendered objects, and, with a real Prometheus, the regression issue 10 is about: without
`honorLabels` the status page's `service="api"` becomes `exported_service` and ServiceDown
for api never fires."""

from __future__ import annotations

import contextlib
import subprocess
import time
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml
from prometheus_client import CollectorRegistry, Gauge, generate_latest
from starlette.applications import Starlette
from starlette.responses import Response
from starlette.routing import Route

from deploy.kubernetes import statuspage_manifests
from deploy.settings import DeploySettings
from orgconfig.load import load_config
from orgconfig.model import OrgConfig
from sandbox import wiring
from sandbox.scrape import KubeService, Overrides, probe_job, scrape_configs
from sandbox.servers import ThreadedServer, free_port
from tests.alerts.conftest import tool
from tests.conftest import DEV, PROD


@pytest.fixture(scope="module")
def dev() -> OrgConfig:
    return load_config(DEV)


def test_a_rendered_probe_becomes_the_operators_blackbox_job() -> None:
    prod = load_config(PROD)
    settings = DeploySettings(stack="prod", synthetic_checks="blackbox")
    probes = [m for m in statuspage_manifests(prod, settings, {"statuspageDatabaseUrl": "x"})
              if m["kind"] == "Probe"]  # fmt: skip
    database = next(p for p in probes if p["metadata"]["name"] == "database-database-tcp")
    job = probe_job(database, Overrides(probers={settings.blackbox_exporter_url: "127.0.0.1:9115"}))
    assert job == {
        "job_name": "probe/incident-response/database-database-tcp",
        "scrape_interval": "15s",
        "scrape_timeout": "10s",
        "metrics_path": "/probe",
        "static_configs": [
            {
                "targets": ["postgres.platform.svc.cluster.local:5432"],
                "labels": {"namespace": "incident-response", "service": "database"},
            }
        ],
        "relabel_configs": [
            {"source_labels": ["__address__"], "target_label": "__param_target"},
            {"source_labels": ["__param_target"], "target_label": "instance"},
            {"target_label": "__address__", "replacement": "127.0.0.1:9115"},
        ],
        "params": {"module": ["tcp_connect"]},
    }


def test_a_monitor_selects_only_services_with_its_labels_in_its_namespaces(dev: OrgConfig) -> None:
    (monitor,) = [m for m in wiring.rendered_monitoring(dev) if m["kind"] == "ServiceMonitor"]
    wanted = monitor["spec"]["selector"]["matchLabels"]
    services = [
        KubeService("statuspage", "incident-response", wanted, "127.0.0.1:1"),
        KubeService("statuspage", "elsewhere", wanted, "127.0.0.1:2"),
        KubeService("other", "incident-response", {"app": "other"}, "127.0.0.1:3"),
        KubeService("statuspage", "incident-response", wanted, "127.0.0.1:4", port="admin"),
    ]
    (job,) = scrape_configs([monitor], services)
    assert [c["targets"] for c in job["static_configs"]] == [["127.0.0.1:1"]]
    assert job["scrape_interval"] == "15s"


# ------------------------------------------------------------------ with a real Prometheus


@pytest.fixture
def failing_probe() -> Iterator[str]:
    """A /metrics page like the status page's while the api is down."""
    registry = CollectorRegistry()
    gauge = Gauge("probe_success", "probe", ["component", "service", "check"], registry=registry)
    gauge.labels("api", "api", "api-health").set(0)

    async def metrics(request: Any) -> Response:
        return Response(generate_latest(registry), media_type="text/plain; version=0.0.4")

    with ThreadedServer(Starlette(routes=[Route("/metrics", metrics)]), "probe") as server:
        yield server.url


def query(prometheus: str, expr: str) -> list[dict[str, Any]]:
    answer = httpx.get(f"{prometheus}/api/v1/query", params={"query": expr}, timeout=5)
    result: list[dict[str, Any]] = answer.json()["data"]["result"]
    return result


def run_prometheus(tmp_path: Path, config: dict[str, Any]) -> tuple[subprocess.Popen[bytes], str]:
    binary = tool("prometheus")
    (tmp_path / "prometheus.yml").write_text(yaml.safe_dump(config, sort_keys=False))
    port = free_port()
    process = subprocess.Popen(
        [binary, f"--config.file={tmp_path / 'prometheus.yml'}",
         f"--storage.tsdb.path={tmp_path / 'data'}", f"--web.listen-address=127.0.0.1:{port}",
         "--log.level=warn"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    return process, f"http://127.0.0.1:{port}"


@pytest.mark.parametrize("honor", [True, False], ids=["honorLabels", "honorLabels-removed"])
def test_service_down_fires_only_when_the_monitor_honors_the_exported_labels(
    dev: OrgConfig, tmp_path: Path, failing_probe: str, honor: bool
) -> None:
    rendered = wiring.rendered_monitoring(dev)
    (monitor,) = [m for m in rendered if m["kind"] == "ServiceMonitor"]
    if not honor:
        del monitor["spec"]["endpoints"][0]["honorLabels"]  # the regression
    addresses = wiring.Addresses(*(["http://127.0.0.1:1"] * 7))
    services = wiring.kube_services(addresses, [], rendered)
    services = [KubeService(**{**vars(s), "address": wiring.hostport(failing_probe)})
                for s in services]  # fmt: skip
    (tmp_path / "rules.yaml").write_text(yaml.safe_dump(wiring.prometheus_rules(dev)))
    config = {
        "global": {"scrape_interval": "1s", "evaluation_interval": "1s"},
        "rule_files": [str(tmp_path / "rules.yaml")],
        "scrape_configs": scrape_configs([monitor], services, Overrides(timedelta(seconds=1))),
    }
    process, prometheus = run_prometheus(tmp_path, config)
    try:
        deadline = time.monotonic() + 30
        series: list[dict[str, Any]] = []
        while time.monotonic() < deadline and not series:
            with contextlib.suppress(httpx.HTTPError, ValueError):  # still starting
                series = query(prometheus, "probe_success")
            time.sleep(0.3)
        assert series, "Prometheus never scraped the probe"
        labels = series[0]["metric"]
        expected = {"namespace": "incident-response", "pod": "statuspage-sandbox",
                    "container": "statuspage", "endpoint": "http", "job": "statuspage"}  # fmt: skip
        assert {k: labels[k] for k in expected} == expected
        if honor:
            assert labels["service"] == "api" and "exported_service" not in labels
        else:
            assert (labels["service"], labels["exported_service"]) == ("statuspage", "api")
        # Rules evaluate every second: give ServiceDown three evaluations to show up (pending).
        time.sleep(3.5)
        alerts = query(prometheus, 'ALERTS{alertname="ServiceDown",service="api"}')
        assert bool(alerts) is honor
    finally:
        process.terminate()
        process.wait(10)
