"""What a kube-prometheus cluster makes of the manifests (issue 10): the public surface of
the Ingress, the Prometheus RBAC, labels that survive the scrape, synthetic checks of every
paged service, and every custom resource against the operator's CRD schemas."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from deploy.crds import check_custom_resource
from deploy.kubernetes import statuspage_manifests
from deploy.monitoring import synthetic_check_problems
from deploy.settings import DeploySettings, DeploySettingsError
from orgconfig.load import load_config
from orgconfig.model import OrgConfig
from tests.conftest import PROD

SECRETS = {"statuspageApiToken": "token", "statuspageDatabaseUrl": "postgresql://db/sp"}


@pytest.fixture(scope="module")
def org() -> OrgConfig:
    return load_config(PROD)


def of_kind(manifests: list[dict[str, Any]], kind: str) -> list[dict[str, Any]]:
    return [m for m in manifests if m["kind"] == kind]


def manifests(org: OrgConfig, **settings: Any) -> list[dict[str, Any]]:
    return statuspage_manifests(org, DeploySettings(stack="prod", **settings), SECRETS)


def ingress_routes(ingress: dict[str, Any], path: str) -> bool:
    """Whether a request path reaches a backend, by the Ingress API's matching rules:
    `Exact` is the path itself, `Prefix` matches element-wise on `/` boundaries."""
    for rule in ingress["spec"]["rules"]:
        for entry in rule["http"]["paths"]:
            prefix = entry["path"]
            if entry["pathType"] == "Exact" and path == prefix:
                return True
            if entry["pathType"] == "Prefix" and (
                prefix == "/" or path == prefix or path.startswith(prefix.rstrip("/") + "/")
            ):
                return True
    return False


PUBLIC = ["/", "/index.html", "/history", "/history/2", "/history.html", "/history.atom",
          "/incidents/20261130-api-down", "/api/v2/summary.json", "/api/v2/incidents.json",
          "/static/site.css", "/subscribe", "/subscriptions/abc/confirm"]  # fmt: skip
INTERNAL = ["/metrics", "/healthz", "/api/v1/alertmanager", "/api/v1/incidents",
            "/api/v1/incidents/1/resolve", "/api/v1/components/api/override",
            "/api/v20/x", "/historyx", "/admin"]  # fmt: skip


def test_the_ingress_publishes_the_public_pages_and_nothing_internal(org: OrgConfig) -> None:
    (ingress,) = of_kind(manifests(org), "Ingress")
    assert [p for p in PUBLIC if not ingress_routes(ingress, p)] == []
    assert [p for p in INTERNAL if ingress_routes(ingress, p)] == []
    assert ingress["spec"]["ingressClassName"] == "nginx"
    (ingress,) = of_kind(manifests(org, ingress_class_name="traefik"), "Ingress")
    assert ingress["spec"]["ingressClassName"] == "traefik"


def test_metrics_and_write_api_stay_behind_the_network_policy(org: OrgConfig) -> None:
    built = manifests(org)
    (service,) = of_kind(built, "Service")
    assert service["spec"]["type"] == "ClusterIP"
    (policy,) = of_kind(built, "NetworkPolicy")
    sources = policy["spec"]["ingress"][0]["from"]
    assert [s.get("namespaceSelector", {}).get("matchLabels") for s in sources] == [
        {"kubernetes.io/metadata.name": "ingress-nginx"},
        {"kubernetes.io/metadata.name": "monitoring"},
        None,  # pods of this namespace (the toolbox)
    ]


def test_secrets_reach_the_status_page_as_secret_references_only(org: OrgConfig) -> None:
    (deployment,) = of_kind(manifests(org), "Deployment")
    env = deployment["spec"]["template"]["spec"]["containers"][0]["env"]
    assert {e["name"]: e["valueFrom"]["secretKeyRef"] for e in env if "valueFrom" in e} == {
        "STATUSPAGE_API_TOKEN": {"name": "statuspage-secrets", "key": "api-token"},
        "STATUSPAGE_DATABASE_URL": {"name": "statuspage-secrets", "key": "database-url"},
    }
    # The one plain value is a setting (the Ingress controller is the one proxy in front).
    assert {e["name"]: e["value"] for e in env if "valueFrom" not in e} == {
        "STATUSPAGE_FORWARDED_HOPS": "1"
    }


def test_the_configured_prometheus_may_discover_and_scrape_the_namespace(
    org: OrgConfig,
) -> None:
    built = manifests(org, prometheus_service_account="prom", prometheus_namespace="observability")
    (role,) = of_kind(built, "Role")
    (binding,) = of_kind(built, "RoleBinding")
    assert role["metadata"]["namespace"] == "incident-response"
    core = next(r for r in role["rules"] if r["apiGroups"] == [""])
    assert (core["resources"], core["verbs"]) == (
        ["services", "endpoints", "pods"],
        ["get", "list", "watch"],
    )
    assert binding["roleRef"] == {
        "apiGroup": "rbac.authorization.k8s.io",
        "kind": "Role",
        "name": "prom",
    }
    assert binding["subjects"] == [
        {"kind": "ServiceAccount", "name": "prom", "namespace": "observability"}
    ]
    defaults = of_kind(manifests(org), "RoleBinding")[0]["subjects"]
    assert defaults == [
        {"kind": "ServiceAccount", "name": "prometheus-k8s", "namespace": "monitoring"}
    ]


def test_status_page_checks_are_the_default_source_of_probes(org: OrgConfig) -> None:
    built = manifests(org)
    assert of_kind(built, "Probe") == []
    (monitor,) = of_kind(built, "ServiceMonitor")
    assert "metricRelabelings" not in monitor["spec"]["endpoints"][0]


def test_blackbox_probes_cover_every_paged_service_every_15_seconds(org: OrgConfig) -> None:
    built = manifests(org, synthetic_checks="blackbox")
    probes = {p["metadata"]["name"]: p["spec"] for p in of_kind(built, "Probe")}
    assert sorted(probes) == [
        "api-api-health", "database-database-tcp", "payments-payments-checkout", "web-web-home"
    ]  # fmt: skip
    assert {p["interval"] for p in probes.values()} == {"15s"}
    database = probes["database-database-tcp"]
    assert database["module"] == "tcp_connect"
    assert database["targets"]["staticConfig"] == {
        "static": ["postgres.platform.svc.cluster.local:5432"],
        "labels": {"service": "database"},
    }
    payments = probes["payments-payments-checkout"]
    assert payments["module"] == "http_2xx"
    assert payments["targets"]["staticConfig"]["static"] == [
        "https://api.modulo.example.com/v1/checkout/health"
    ]
    assert payments["prober"] == {"url": "blackbox-exporter.monitoring.svc:19115", "path": "/probe"}
    # The status page's own probe series are dropped, so ServiceDown reads one source.
    (monitor,) = of_kind(built, "ServiceMonitor")
    assert monitor["spec"]["endpoints"][0]["metricRelabelings"] == [
        {"sourceLabels": ["__name__"], "regex": "probe_(success|duration_seconds)",
         "action": "drop"}
    ]  # fmt: skip


def test_an_unknown_synthetic_check_source_is_explained() -> None:
    with pytest.raises(DeploySettingsError, match="syntheticChecks 'pingdom' is not known"):
        DeploySettings.from_values("prod", {"syntheticChecks": "pingdom"})


def test_every_paged_service_needs_a_check_at_least_every_15_seconds(
    org: OrgConfig, prod_data: dict[str, Any], write_config: Any
) -> None:
    assert synthetic_check_problems(org) == []
    data = copy.deepcopy(prod_data)
    platform = data["status_page"]["groups"][1]["components"]
    database = next(c for c in platform if c["id"] == "database")
    database["checks"] = []
    payments = next(c for c in platform if c["id"] == "payments")
    payments["checks"][0]["interval"] = "30s"
    assert synthetic_check_problems(load_config(write_config(data))) == [
        "services.database: a paged service needs a synthetic check (an http or tcp check on "
        "its status page component database) or alerts.down.enabled: false",
        "status_page check payments-checkout of paged service payments runs every 30s: paged "
        "services are probed at least every 15s",
    ]


@pytest.mark.parametrize("mode", ["statuspage", "blackbox"])
def test_every_custom_resource_passes_the_operator_crd_schemas(org: OrgConfig, mode: str) -> None:
    custom = [m for m in manifests(org, synthetic_checks=mode) if "coreos" in m["apiVersion"]]
    assert len(custom) == (5 if mode == "blackbox" else 1)
    assert {m["metadata"]["name"]: check_custom_resource(m) for m in custom} == {
        m["metadata"]["name"]: [] for m in custom
    }


def test_a_planted_wrong_field_fails_the_crd_check(org: OrgConfig) -> None:
    built = manifests(org, synthetic_checks="blackbox")
    (monitor,) = of_kind(built, "ServiceMonitor")
    endpoint = monitor["spec"]["endpoints"][0]
    endpoint["honorlabels"] = endpoint.pop("honorLabels")  # pruned by the API server
    endpoint["interval"] = "15 seconds"
    assert check_custom_resource(monitor) == [
        "spec.endpoints[0].interval: String should match pattern "
        "'^(0|(([0-9]+)y)?(([0-9]+)w)?(([0-9]+)d)?(([0-9]+)h)?(([0-9]+)m)?(([0-9]+)s)?"
        "(([0-9]+)ms)?)$'"
    ]
    endpoint["interval"] = "15s"
    assert check_custom_resource(monitor) == [
        "spec.endpoints[0].honorlabels: unknown field (not in the CRD schema)"
    ]
    probe = of_kind(built, "Probe")[0]
    probe["spec"]["targets"]["staticConfig"]["target"] = ["x"]
    assert check_custom_resource(probe) == [
        "spec.targets.staticConfig.target: unknown field (not in the CRD schema)"
    ]
    rule = {
        "apiVersion": "monitoring.coreos.com/v1",
        "kind": "PrometheusRule",
        "metadata": {"name": "r"},
        "spec": {"groups": [{"name": "g", "rules": [{"alert": "A", "for": "2m"}]}]},
    }
    assert check_custom_resource(rule) == ["spec.groups[0].rules[0].expr: Field required"]
    assert check_custom_resource({"apiVersion": "v1", "kind": "ConfigMap"}) is None
