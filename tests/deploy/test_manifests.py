"""The pure Kubernetes builders: what `kubectl apply` would receive, checked as data."""

from __future__ import annotations

from typing import Any

import kubernetes_validate
import pytest
import yaml

from deploy.crds import check_custom_resource
from deploy.kubernetes import statuspage_manifests, toolbox_manifests
from deploy.settings import DeploySettings, DeploySettingsError
from deploy.statuspage_config import statuspage_config
from orgconfig.load import load_config
from orgconfig.model import OrgConfig
from statuspage.config import parse_config
from tests.conftest import PROD

ALL_SECRETS = {
    "statuspageApiToken": "token",
    "statuspageDatabaseUrl": "postgresql://db/statuspage",
    "statuspageS3AccessKeyId": "key-id",
    "statuspageS3SecretAccessKey": "secret-key",
}
NO_DATABASE = {k: v for k, v in ALL_SECRETS.items() if k != "statuspageDatabaseUrl"}


@pytest.fixture(scope="module")
def org() -> OrgConfig:
    return load_config(PROD)


def by_kind(manifests: list[dict[str, Any]], kind: str) -> list[dict[str, Any]]:
    return [m for m in manifests if m["kind"] == kind]


def pod_spec(manifest: dict[str, Any]) -> dict[str, Any]:
    if manifest["kind"] == "CronJob":
        return manifest["spec"]["jobTemplate"]["spec"]["template"]["spec"]
    return manifest["spec"]["template"]["spec"]


def all_manifests(org: OrgConfig, replicas: int) -> list[dict[str, Any]]:
    settings = DeploySettings(stack="prod", statuspage_replicas=replicas)
    secrets = ALL_SECRETS if replicas > 1 else NO_DATABASE
    keys = {s.id: f"key-{s.id}" for s in org.services}
    return statuspage_manifests(org, settings, secrets) + toolbox_manifests(
        org, settings, "api-key", keys
    )


@pytest.mark.parametrize("replicas", [1, 2])
@pytest.mark.parametrize("version", ["1.30", "1.37"])
def test_every_manifest_passes_strict_schema_validation(
    org: OrgConfig, replicas: int, version: str
) -> None:
    checked = 0
    for manifest in all_manifests(org, replicas):
        if manifest["apiVersion"] == "monitoring.coreos.com/v1":
            # kubernetes-validate has no schema for the operator's kinds: its CRD models do.
            assert check_custom_resource(manifest) == []
            continue
        kubernetes_validate.validate(manifest, version, strict=True)
        checked += 1
    assert checked == len(all_manifests(org, replicas)) - 1


def test_rendered_statuspage_config_is_accepted_by_the_status_page(org: OrgConfig) -> None:
    config = parse_config(yaml.safe_load(yaml.safe_dump(statuspage_config(org))))
    assert config.page.name == "Modulo Status"
    assert config.page.url == "https://status.modulo.example.com"
    assert [g.id for g in config.groups] == ["product", "platform"]
    # Alerts carry the service label: each service maps to its component.
    assert config.component_for_service("payments").id == "payments"  # type: ignore[union-attr]
    assert config.component_for_service("page-test") is None
    checks = {c.id: c for comp in config.all_components() for c in comp.checks}
    assert checks["api-health"].url == "https://api.modulo.example.com/healthz"  # type: ignore[union-attr]


def test_every_object_has_the_recommended_labels(org: OrgConfig) -> None:
    for manifest in all_manifests(org, 2):
        labels = manifest["metadata"]["labels"]
        assert labels["app.kubernetes.io/part-of"] == "incident-response", manifest["kind"]
        assert labels["app.kubernetes.io/managed-by"] == "pulumi"
        assert "app.kubernetes.io/name" in labels
        if manifest["kind"] != "Namespace":
            assert manifest["metadata"]["namespace"] == "incident-response"
            assert {"app.kubernetes.io/component", "app.kubernetes.io/version"} <= set(labels)


def test_every_container_is_locked_down(org: OrgConfig) -> None:
    workloads = [m for m in all_manifests(org, 2) if m["kind"] in ("Deployment", "CronJob")]
    assert len(workloads) == 3
    for workload in workloads:
        spec = pod_spec(workload)
        assert spec["securityContext"]["runAsNonRoot"] is True
        assert spec["securityContext"]["seccompProfile"] == {"type": "RuntimeDefault"}
        for container in spec["containers"]:
            security = container["securityContext"]
            assert security["readOnlyRootFilesystem"] is True
            assert security["allowPrivilegeEscalation"] is False
            assert security["capabilities"] == {"drop": ["ALL"]}
            assert set(container["resources"]["limits"]) == {"cpu", "memory"}
            assert set(container["resources"]["requests"]) == {"cpu", "memory"}


def test_two_replicas_use_postgresql_from_the_secret_and_spread_over_nodes(
    org: OrgConfig,
) -> None:
    manifests = all_manifests(org, 2)
    deployment = next(
        m for m in by_kind(manifests, "Deployment") if m["metadata"]["name"] == "statuspage"
    )
    assert deployment["spec"]["replicas"] == 2
    container = pod_spec(deployment)["containers"][0]
    env = {e["name"]: e for e in container["env"]}
    assert env["STATUSPAGE_DATABASE_URL"]["valueFrom"]["secretKeyRef"] == {
        "name": "statuspage-secrets",
        "key": "database-url",
    }
    assert not [
        m
        for m in by_kind(manifests, "PersistentVolumeClaim")
        if "statuspage" in m["metadata"]["name"]
    ]
    spread = pod_spec(deployment)["topologySpreadConstraints"][0]
    assert spread["topologyKey"] == "kubernetes.io/hostname"
    assert spread["whenUnsatisfiable"] == "DoNotSchedule"
    assert by_kind(manifests, "PodDisruptionBudget")[0]["spec"]["minAvailable"] == 1
    for probe in ("startupProbe", "readinessProbe", "livenessProbe"):
        assert container[probe]["httpGet"] == {"path": "/healthz", "port": "http"}


def test_one_replica_keeps_sqlite_on_a_volume_and_recreates(org: OrgConfig) -> None:
    manifests = all_manifests(org, 1)
    deployment = next(
        m for m in by_kind(manifests, "Deployment") if m["metadata"]["name"] == "statuspage"
    )
    env = {e["name"]: e for e in pod_spec(deployment)["containers"][0]["env"]}
    assert env["STATUSPAGE_DATABASE_URL"]["value"] == "sqlite:////var/lib/statuspage/statuspage.db"
    assert deployment["spec"]["strategy"] == {"type": "Recreate"}
    claims = [v for v in pod_spec(deployment)["volumes"] if "persistentVolumeClaim" in v]
    assert claims == [{"name": "data", "persistentVolumeClaim": {"claimName": "statuspage-data"}}]
    assert by_kind(manifests, "PodDisruptionBudget")[0]["spec"] == {
        "maxUnavailable": 1,
        "selector": {"matchLabels": deployment["spec"]["selector"]["matchLabels"]},
    }


def test_more_than_one_replica_without_a_database_url_is_refused(org: OrgConfig) -> None:
    with pytest.raises(DeploySettingsError, match="more than one replica needs PostgreSQL"):
        statuspage_manifests(org, DeploySettings(stack="prod", statuspage_replicas=3), NO_DATABASE)


def test_config_map_holds_no_secret_and_the_secret_holds_them_all(org: OrgConfig) -> None:
    manifests = all_manifests(org, 2)
    (config_map,) = by_kind(manifests, "ConfigMap")
    text = config_map["data"]["config.yaml"]
    for value in ALL_SECRETS.values():
        assert value not in text
    secret = next(
        m for m in by_kind(manifests, "Secret") if m["metadata"]["name"] == "statuspage-secrets"
    )
    assert secret["stringData"] == {
        "api-token": "token",
        "database-url": "postgresql://db/statuspage",
        "s3-access-key-id": "key-id",
        "s3-secret-access-key": "secret-key",
    }


def test_ingress_serves_the_page_domain_with_tls_from_the_configured_issuer(
    org: OrgConfig,
) -> None:
    settings = DeploySettings(stack="prod", cert_issuer="letsencrypt-staging")
    (ingress,) = by_kind(statuspage_manifests(org, settings, ALL_SECRETS), "Ingress")
    assert ingress["metadata"]["annotations"] == {
        "cert-manager.io/cluster-issuer": "letsencrypt-staging"
    }
    assert ingress["spec"]["tls"] == [
        {"hosts": ["status.modulo.example.com"], "secretName": "statuspage-tls"}
    ]
    assert ingress["spec"]["rules"][0]["host"] == "status.modulo.example.com"


def test_service_monitor_scrapes_metrics_and_image_is_configurable(org: OrgConfig) -> None:
    settings = DeploySettings(
        stack="prod", statuspage_image="registry.local/sp", statuspage_tag="1.2.3"
    )
    manifests = statuspage_manifests(org, settings, ALL_SECRETS)
    (monitor,) = by_kind(manifests, "ServiceMonitor")
    # honorLabels keeps the exported service="api" (else: exported_service, service=statuspage)
    assert monitor["spec"]["endpoints"] == [
        {"port": "http", "path": "/metrics", "interval": "15s", "honorLabels": True}
    ]
    deployment = by_kind(manifests, "Deployment")[0]
    assert pod_spec(deployment)["containers"][0]["image"] == "registry.local/sp:1.2.3"


def test_toolbox_secret_cronjob_and_exec_target(org: OrgConfig) -> None:
    settings = DeploySettings(stack="prod")
    keys = {s.id: f"key-{s.id}" for s in org.services}
    manifests = toolbox_manifests(org, settings, "api-key", keys)
    (secret,) = by_kind(manifests, "Secret")
    assert secret["metadata"]["name"] == "pagerduty-secrets"
    assert secret["stringData"]["api-key"] == "api-key"
    assert secret["stringData"]["routing-key"] == "key-page-test"
    assert secret["stringData"]["routing-key-api"] == "key-api"
    (deployment,) = by_kind(manifests, "Deployment")
    assert deployment["metadata"] == {
        "name": "incident-manager",
        "namespace": "incident-response",
        "labels": deployment["metadata"]["labels"],
    }
    assert pod_spec(deployment)["containers"][0]["image"] == "ghcr.io/modulo/irctl:0.1.0"
    (cron,) = by_kind(manifests, "CronJob")
    assert cron["spec"]["schedule"] == "0 10 * * 1-5"  # business hours, weekdays
    assert cron["spec"]["timeZone"] == "Europe/Berlin"
    assert cron["spec"]["jobTemplate"]["spec"]["backoffLimit"] == 0
    command = pod_spec(cron)["containers"][0]["command"]
    assert command == [
        "irctl",
        "page-test",
        "--stack",
        "prod",
        "--service",
        "page-test",
        "--routing-key-file",
        "/etc/pagerduty/routing-key",
        "--record-file",
        "/var/lib/irctl/page-tests.jsonl",
        "--urgency",
        "high",
        "--resolve-after",
        "600",
    ]
    # Long enough to wait for the acknowledgement, then resolve.
    assert cron["spec"]["jobTemplate"]["spec"]["activeDeadlineSeconds"] == 900
    page_test = next(s for s in org.services if s.id == "page-test")
    assert page_test.urgency == "high"  # a low-urgency incident never escalates
    toolbox = pod_spec(deployment)
    env = {e["name"] for e in toolbox["containers"][0]["env"]}
    assert "PAGERDUTY_ROUTING_KEY" not in env  # would page every --service with one key
    # `python test_paging.py` records on the volume, not the read-only root filesystem.
    assert {"name": "IRCTL_RECORD_FILE", "value": "/var/lib/irctl/page-tests.jsonl"} in toolbox[
        "containers"
    ][0]["env"]
    assert {"name": "pagerduty", "mountPath": "/etc/pagerduty", "readOnly": True} in toolbox[
        "containers"
    ][0]["volumeMounts"]
    # The record file's volume is ReadWriteOnce: the job runs on the toolbox's node.
    affinity = pod_spec(cron)["affinity"]["podAffinity"]
    rule = affinity["requiredDuringSchedulingIgnoredDuringExecution"][0]
    assert rule["labelSelector"]["matchLabels"]["app.kubernetes.io/name"] == "incident-manager"


def test_toolbox_refuses_an_unknown_page_test_service(org: OrgConfig) -> None:
    with pytest.raises(DeploySettingsError, match="pageTestService 'nope' is not a service"):
        toolbox_manifests(org, DeploySettings(stack="prod", page_test_service="nope"), None, {})


def test_bad_replica_setting_is_explained() -> None:
    with pytest.raises(DeploySettingsError, match="'two' is not a whole number"):
        DeploySettings.from_values("prod", {"statuspageReplicas": "two"})
