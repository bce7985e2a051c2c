"""The Pulumi delivery, run under the recording mock engine: what `pulumi preview` would get."""

from __future__ import annotations

from typing import Any

import pytest
import yaml

from alerts.alertmanager import routing_key_name
from alerts.catalog import ALERT_NAMES
from alerts.rules import oversized, rule_groups, rule_objects
from irctl.alerting import statuspage_hook
from irctl.plan import Plan, PlannedResource, fake_integration_key
from irctl.redaction import SECRET_SIG, unwrap
from irctl.render import Rendered
from orgconfig.model import OrgConfig

RULE = "kubernetes:monitoring.coreos.com/v1:PrometheusRule"
SECRET = "kubernetes:core/v1:Secret"
DELIVERY = "incident-response:alerting:AlertDelivery::alerting"


@pytest.fixture(scope="module")
def plan(rendered: Rendered) -> Plan:
    return rendered.plan


def _alertmanager_secret(plan: Plan) -> PlannedResource:
    [secret] = [r for r in plan.of_type(SECRET) if r.parent == DELIVERY]
    return secret


def _is_secret(value: Any) -> bool:
    return isinstance(value, dict) and SECRET_SIG in value


def test_prometheus_rule_carries_every_group_with_the_selector_labels(
    plan: Plan, org: OrgConfig
) -> None:
    rules = {r.inputs["metadata"]["name"]: r for r in plan.of_type(RULE) if r.parent == DELIVERY}
    # One PrometheusRule per team; services without a team and the Watchdog share the first.
    assert list(rules) == ["incident-response-alerts-platform", "incident-response-alerts"]
    for rule in rules.values():
        assert rule.inputs["apiVersion"] == "monitoring.coreos.com/v1"
        assert rule.inputs["metadata"]["namespace"] == "incident-response"
        assert rule.inputs["metadata"]["labels"]["role"] == "alert-rules"
        assert rule.inputs["metadata"]["labels"]["prometheus"] == "k8s"
    groups = [
        g["name"] for g in rules["incident-response-alerts-platform"].inputs["spec"]["groups"]
    ]
    assert groups == [
        f"{service}.{kind}"
        for service in ("api", "web", "database", "payments")
        for kind in ("alerts", "warnings")
    ]
    assert [g["name"] for g in rules["incident-response-alerts"].inputs["spec"]["groups"]] == [
        "watchdog"
    ]
    alerts = {
        r.get("alert")
        for rule in rules.values()
        for g in rule.inputs["spec"]["groups"]
        for r in g["rules"]
    }
    assert alerts - {None} == set(ALERT_NAMES)


def test_rules_split_into_objects_under_the_size_limit(org: OrgConfig) -> None:
    objects = rule_objects(org, limit=4000)
    assert [name for name, _ in objects][:3] == [
        "incident-response-alerts-platform",
        "incident-response-alerts-platform-2",
        "incident-response-alerts-platform-3",
    ]
    assert [g["name"] for _, groups in objects for g in groups] == [
        g["name"] for g in rule_groups(org)
    ]
    big = {"kind": "PrometheusRule", "metadata": {"name": "x"}}
    assert oversized(big, "x" * (1024 * 1024 + 1)) == [
        "PrometheusRule 'x' is 1.00 MiB; at most 1 MiB fits a Kubernetes object (etcd): split "
        "the rules (one object per team is automatic)"
    ]
    assert oversized(big, "x" * 1024 * 1024) == []


def test_alertmanager_secret_has_a_key_per_routing_key_and_webhook(plan: Plan) -> None:
    secret = _alertmanager_secret(plan)
    assert secret.inputs["metadata"]["name"] == "alertmanager-main"
    # prometheus-operator reads it only in the Alertmanager's own namespace (kube-prometheus).
    assert secret.inputs["metadata"]["namespace"] == "monitoring"
    data = unwrap(secret.raw_inputs)["stringData"]
    # The status page webhook's token is there when the status page is deployed.
    hook = {"statuspage-token"} if statuspage_hook(plan) else set()
    assert set(data) == {
        "alertmanager.yaml",
        "incident-response.tmpl",
        "slack-webhook-url",
        "slack-webhook-url-alerts-unrouted",
        *(
            routing_key_name(s)
            for s in ("api", "web", "database", "payments", "page-test", "catch-all")
        ),
        *hook,
    }
    # The routing key in the Secret is the service integration's key (stable fake in mocks).
    assert data[routing_key_name("api")] == fake_integration_key("api-events-v2")


def test_no_secret_reaches_the_plan_in_clear_text(plan: Plan, rendered: Rendered) -> None:
    secret = _alertmanager_secret(plan)
    assert secret.inputs["stringData"] == "[secret]"
    raw = secret.raw_inputs["stringData"]
    assert _is_secret(raw)
    plan_text = (rendered.out / "plan.json").read_text()
    assert fake_integration_key("api-events-v2") not in plan_text
    assert "placeholder-heartbeatUrl" not in plan_text
    assert "placeholder-slackWebhookUrl" not in plan_text
    # No ConfigMap anywhere carries a routing key or webhook URL.
    for config_map in plan.of_type("kubernetes:core/v1:ConfigMap"):
        text = str(unwrap(config_map.raw_inputs))
        assert fake_integration_key("api-events-v2") not in text
        assert "placeholder-slackWebhookUrl" not in text


def test_secret_alertmanager_yaml_reads_keys_from_files_and_inlines_only_the_heartbeat(
    plan: Plan,
) -> None:
    data = unwrap(_alertmanager_secret(plan).raw_inputs)["stringData"]
    config = yaml.safe_load(data["alertmanager.yaml"])
    receivers = {r["name"]: r for r in config["receivers"]}
    pagerduty = receivers["pagerduty-api"]["pagerduty_configs"][0]
    assert pagerduty["routing_key_file"] == "/etc/alertmanager/config/pagerduty-api-routing-key"
    assert "routing_key" not in pagerduty and "service_key" not in pagerduty
    assert receivers["slack"]["slack_configs"][0]["api_url_file"] == (
        "/etc/alertmanager/config/slack-webhook-url"
    )
    assert receivers["heartbeat"]["webhook_configs"][0]["url"] == "placeholder-heartbeatUrl"


def test_rendered_files_hold_placeholders_never_values(rendered: Rendered) -> None:
    names = {p.relative_to(rendered.out).as_posix() for p in rendered.files}
    assert {
        "alertmanager/alertmanager.yaml",
        "alertmanager/incident-response.tmpl",
        "alertmanager/secret-keys.yaml",
        "prometheus/rules.yaml",
        "prometheus/rules.test.yaml",
    } <= names
    for name in ("alertmanager/alertmanager.yaml", "alertmanager/secret-keys.yaml"):
        text = (rendered.out / name).read_text()
        assert "placeholder-" not in text.replace("placeholder-heartbeatUrl", "")
        assert fake_integration_key("api-events-v2") not in text
    keys = yaml.safe_load((rendered.out / "alertmanager/secret-keys.yaml").read_text())
    assert {v["value"] for v in keys.values()} == {"[secret]"}


def test_prod_sends_opted_in_criticals_to_the_status_page_webhook_with_a_secret_token(
    plan: Plan,
) -> None:
    hook = statuspage_hook(plan)
    assert hook is not None, "the prod stack deploys the status page: its webhook is wired"
    assert hook.url.endswith("/api/v1/alertmanager")
    data = unwrap(_alertmanager_secret(plan).raw_inputs)["stringData"]
    assert data["statuspage-token"] == "placeholder-statuspageApiToken"
    config = yaml.safe_load(data["alertmanager.yaml"])
    first = config["route"]["routes"][1]
    assert first["receiver"] == "statuspage" and first["continue"] is True
    [receiver] = [r for r in config["receivers"] if r["name"] == "statuspage"]
    webhook = receiver["webhook_configs"][0]
    assert webhook["url"] == hook.url
    assert webhook["http_config"]["authorization"]["credentials_file"] == (
        "/etc/alertmanager/config/statuspage-token"
    )
    assert config["route"]["routes"][-1] == {"receiver": "default"}


def test_prod_policy_refuses_an_alertmanager_config_without_a_heartbeat(org: OrgConfig) -> None:
    from alerts.alertmanager import HEARTBEAT_ANNOTATION, build_config
    from alerts.documents import dump
    from policy.checks import prod_alertmanager_has_a_heartbeat

    def props(heartbeat: str | None, config: Any = None) -> dict[str, Any]:
        text = dump(build_config(org, heartbeat_url=heartbeat))
        annotation = "configured" if heartbeat else "missing"
        return {
            "metadata": {
                "name": "alertmanager-main",
                "annotations": {HEARTBEAT_ANNOTATION: annotation},
            },
            "stringData": {"alertmanager.yaml": text if config is None else config},
        }

    check = prod_alertmanager_has_a_heartbeat
    [message] = check(SECRET, "alerting-alertmanager-config", props(None), "prod")
    assert "has no heartbeat receiver URL" in message
    assert "incident-response:heartbeatUrl" in message
    assert check(SECRET, "x", props("https://hb.example.com/ping"), "prod") == []
    assert check(SECRET, "x", props(None), "dev") == []  # only prod must have one
    # An engine that hides the secret config: the plain annotation decides.
    assert check(SECRET, "x", props(None, config="[secret]"), "prod")
    assert check(SECRET, "x", props("https://hb", config="[secret]"), "prod") == []


def test_validate_warns_when_the_prod_stack_sets_no_heartbeat_secret(tmp_path: Any) -> None:
    from irctl.validate import heartbeat_warning

    (tmp_path / "Pulumi.prod.yaml").write_text("config:\n  incident-response:namespace: x\n")
    warning = heartbeat_warning("prod", tmp_path)
    assert warning is not None and "sets no incident-response:heartbeatUrl secret" in warning
    (tmp_path / "Pulumi.prod.yaml").write_text(
        "config:\n  incident-response:heartbeatUrl:\n    secure: AAABAJ...\n"
    )
    assert heartbeat_warning("prod", tmp_path) is None
    assert heartbeat_warning("dev", tmp_path) is None
