"""The status page and toolbox components under the recording mock engine, and what
`irctl render` writes from them."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import kubernetes_validate
import pulumi
import pytest
import yaml

from components.settings import StackSettings
from components.statuspage import StatusPage, StatusPageArgs
from deploy.render import REDACTED, write_kubernetes, write_statuspage_config
from irctl.plan import Plan, PlannedResource, RecordingMocks, RecordingMonitor, record_program
from orgconfig.load import load_config
from statuspage.config import load_config as load_statuspage_config
from tests.conftest import PROD

K8S = "kubernetes:"


@pytest.fixture(scope="module")
def plan() -> Plan:
    return record_program("prod", PROD)


def k8s(plan: Plan) -> list[PlannedResource]:
    return [r for r in plan.resources if r.type.startswith(K8S)]


def one(plan: Plan, kind: str, name: str) -> PlannedResource:
    (found,) = [r for r in k8s(plan) if r.type.endswith(f":{kind}") and r.name == name]
    return found


def test_components_own_their_kubernetes_objects_with_explicit_names(plan: Plan) -> None:
    owners = {r.name: r.parent for r in k8s(plan)}
    assert owners["deployment-statuspage"] == "incident-response:statuspage:StatusPage::statuspage"
    assert owners["deployment-incident-manager"] == (
        "incident-response:toolbox:Toolbox::incident-manager"
    )
    ours = [
        r for r in k8s(plan) if str(r.parent).split("::")[0].endswith(("StatusPage", "Toolbox"))
    ]
    # 9 status page objects, the Role + RoleBinding for Prometheus, 4 of the toolbox.
    assert len(ours) == 15
    assert {"role-prometheus-k8s", "rolebinding-prometheus-k8s"} <= {r.name for r in ours}
    for resource in ours:
        assert resource.inputs["metadata"]["name"], resource.name  # never auto-named
        labels = resource.inputs["metadata"]["labels"]
        assert labels["app.kubernetes.io/part-of"] == "incident-response"
    assert plan.outputs["incident-response:statuspage:StatusPage::statuspage"]["webhook_url"] == (
        "http://statuspage.incident-response.svc.cluster.local/api/v1/alertmanager"
    )


def test_prod_status_page_runs_two_locked_down_replicas_on_postgresql(plan: Plan) -> None:
    spec = one(plan, "Deployment", "deployment-statuspage").inputs["spec"]
    assert spec["replicas"] == 2
    container = spec["template"]["spec"]["containers"][0]
    assert container["securityContext"]["readOnlyRootFilesystem"] is True
    assert container["securityContext"]["runAsNonRoot"] is True
    assert container["securityContext"]["capabilities"]["drop"] == ["ALL"]
    env = {e["name"]: e for e in container["env"]}
    assert "secretKeyRef" in env["STATUSPAGE_DATABASE_URL"]["valueFrom"]


def test_secret_values_are_secret_and_the_config_map_holds_none(plan: Plan) -> None:
    for name in ("secret-statuspage-secrets", "secret-pagerduty-secrets"):
        assert one(plan, "Secret", name).inputs["stringData"] == "[secret]"
    config_map = one(plan, "ConfigMap", "configmap-statuspage-config").inputs
    assert "[secret]" not in str(config_map)
    assert "placeholder-" not in str(config_map)
    raw = str(one(plan, "Secret", "secret-pagerduty-secrets").raw_inputs)
    assert "placeholder-pagerdutyApiKey" in raw  # from Pulumi secret config, wrapped as secret


def test_single_replica_component_uses_sqlite_on_a_claim() -> None:
    mocks = RecordingMocks()
    pulumi.runtime.set_mocks(mocks, preview=False, monitor=RecordingMonitor(mocks))
    org = load_config(PROD)
    settings = StackSettings(
        "prod", secrets={"statuspageApiToken": "t"}, values={"statuspageReplicas": "1"}
    )

    @pulumi.runtime.test
    def build() -> Any:
        page = StatusPage("statuspage", StatusPageArgs(org, settings))
        return page.webhook_url

    build()
    kinds = {r.type.rsplit(":", 1)[-1]: r for r in mocks.resources if r.type.startswith(K8S)}
    assert kinds["PersistentVolumeClaim"].inputs["metadata"]["name"] == "statuspage-data"
    assert kinds["Deployment"].inputs["spec"]["replicas"] == 1
    assert kinds["Secret"].inputs["stringData"] == "[secret]"


def test_render_writes_applyable_manifests_with_secrets_redacted(
    plan: Plan, tmp_path: Path
) -> None:
    org = load_config(PROD)
    files = write_kubernetes(org, plan, tmp_path)
    by_suffix = {f.name.split("-", 1)[1]: f for f in files}
    assert files[0].name == "00-namespace-incident-response.yaml"  # applied first
    assert {
        "deployment-statuspage.yaml",
        "secret-pagerduty-secrets.yaml",
        "servicemonitor-statuspage.yaml",
        "cronjob-incident-manager-page-test.yaml",
    } <= set(by_suffix)
    for path in files:
        manifest = yaml.safe_load(path.read_text())
        assert manifest["apiVersion"] and manifest["kind"], path.name
        if not manifest["apiVersion"].startswith("monitoring.coreos.com/"):
            kubernetes_validate.validate(manifest, "1.30", strict=True)
    secret = yaml.safe_load(by_suffix["secret-pagerduty-secrets.yaml"].read_text())
    assert set(secret["stringData"]) >= {"api-key", "routing-key", "routing-key-api"}
    assert set(secret["stringData"].values()) == {REDACTED}
    deployment = yaml.safe_load(by_suffix["deployment-statuspage.yaml"].read_text())
    assert deployment["spec"]["replicas"] == 2  # an integer again, not the engine's 2.0
    (config,) = write_statuspage_config(org, plan, tmp_path)
    assert config == tmp_path / "statuspage" / "config.yaml"
    assert load_statuspage_config(config).page.name == "Modulo Status"


def test_stack_settings_reach_the_manifests() -> None:
    plan = record_program(
        "prod",
        PROD,
        {
            "incident-response:statuspageReplicas": "3",
            "incident-response:statuspageTag": "2.0.1",
            "incident-response:certIssuer": "letsencrypt-staging",
            "incident-response:pageTestSchedule": "30 8 * * 1-5",
        },
    )
    deployment = one(plan, "Deployment", "deployment-statuspage").inputs
    assert deployment["spec"]["replicas"] == 3
    image = deployment["spec"]["template"]["spec"]["containers"][0]["image"]
    assert image == "ghcr.io/modulo/statuspage:2.0.1"
    ingress = one(plan, "Ingress", "ingress-statuspage").inputs
    assert ingress["metadata"]["annotations"] == {
        "cert-manager.io/cluster-issuer": "letsencrypt-staging"
    }
    cron = one(plan, "CronJob", "cronjob-incident-manager-page-test").inputs
    assert cron["spec"]["schedule"] == "30 8 * * 1-5"
