"""The mandatory policy pack, called the way the Pulumi engine calls it: each policy's
validate function with `ResourceValidationArgs` (the pack's entry point is never imported)."""

from __future__ import annotations

import copy
from typing import Any

import pytest
from pulumi_policy import PolicyCustomTimeouts, PolicyResourceOptions, ResourceValidationArgs

from deploy.kubernetes import statuspage_manifests, toolbox_manifests
from deploy.settings import DeploySettings
from orgconfig.load import load_config
from policy.policies import BY_NAME
from tests.conftest import PROD

EP = "pagerduty:index/escalationPolicy:EscalationPolicy"
SERVICE = "pagerduty:index/service:Service"
DEPLOYMENT = "kubernetes:apps/v1:Deployment"
CONFIG_MAP = "kubernetes:core/v1:ConfigMap"
SECRET = "kubernetes:core/v1:Secret"


def violations(policy: str, type_: str, name: str, props: Any, stack: str = "prod") -> list[str]:
    opts = PolicyResourceOptions(
        protect=False,
        ignore_changes=[],
        delete_before_replace=None,
        aliases=[],
        custom_timeouts=PolicyCustomTimeouts(0, 0, 0),
        additional_secret_outputs=[],
    )
    args = ResourceValidationArgs(
        resource_type=type_,
        props=props,
        urn=f"urn:pulumi:{stack}::incident-response::{type_}::{name}",
        name=name,
        opts=opts,
        provider=None,
    )
    found: list[str] = []

    def report(message: str, urn: str | None = None) -> None:
        found.append(message)

    BY_NAME[policy].validate(args, report)
    return found


def rules(*delays: int) -> dict[str, Any]:
    return {
        "rules": [
            {"escalationDelayInMinutes": d, "targets": [{"type": "user_reference", "id": "u"}]}
            for d in delays
        ]
    }


@pytest.fixture(scope="module")
def manifests() -> dict[str, dict[str, Any]]:
    org = load_config(PROD)
    settings = DeploySettings(stack="prod")
    secrets = {"statuspageApiToken": "t", "statuspageDatabaseUrl": "postgresql://x"}
    built = statuspage_manifests(org, settings, secrets) + toolbox_manifests(
        org, settings, "k", {"api": "r"}
    )
    return {f"{m['kind']}/{m['metadata']['name']}": m for m in built}


def test_four_tier_policy_with_minute_delays_passes() -> None:
    assert (
        violations("pagerduty-escalation-four-tiers", EP, "platform", rules(15, 15, 30, 30)) == []
    )
    assert (
        violations("pagerduty-escalation-four-tiers", SERVICE, "api", {"escalationPolicy": "p"})
        == []
    )


def test_three_tiers_and_a_zero_delay_are_violations_naming_the_policy() -> None:
    assert violations("pagerduty-escalation-four-tiers", EP, "platform", rules(15, 0, 30)) == [
        "PagerDuty EscalationPolicy 'platform' has 3 tier(s); an escalation policy needs at "
        "least 4 tiers.",
        "PagerDuty EscalationPolicy 'platform' escalates away from tier 2 after 0 minute(s); the "
        "delay must be at least 1 minute.",
    ]


def test_service_without_escalation_policy_is_a_violation() -> None:
    assert violations("pagerduty-escalation-four-tiers", SERVICE, "api", {"name": "API"}) == [
        "PagerDuty Service 'api' has no escalation policy; every service must have one."
    ]


def test_credentials_in_secrets_pass(manifests: dict[str, dict[str, Any]]) -> None:
    for key in (
        "Secret/pagerduty-secrets",
        "ConfigMap/statuspage-config",
        "Deployment/statuspage",
        "Deployment/incident-manager",  # PAGERDUTY_ROUTING_KEY_DIR=/etc/pagerduty is a path
    ):
        kind = {"Secret": SECRET, "ConfigMap": CONFIG_MAP, "Deployment": DEPLOYMENT}[
            key.split("/")[0]
        ]
        assert violations("no-paging-credentials-outside-secrets", kind, key, manifests[key]) == []


def test_webhook_url_or_routing_key_outside_a_secret_is_a_violation() -> None:
    config_map = {"data": {"slack": "https://hooks.slack.com/services/T000/B000/XXXX"}}
    assert violations(
        "no-paging-credentials-outside-secrets", CONFIG_MAP, "alerts", config_map
    ) == [
        "ConfigMap 'alerts' holds a paging credential in plain text at data.slack; integration "
        "keys and webhook URLs belong in a Kubernetes Secret."
    ]
    pod = {
        "spec": {
            "template": {
                "spec": {
                    "containers": [
                        {"name": "c", "env": [{"name": "PAGERDUTY_ROUTING_KEY", "value": "abc"}]}
                    ]
                }
            }
        }
    }
    (message,) = violations("no-paging-credentials-outside-secrets", DEPLOYMENT, "tool", pod)
    assert message.startswith(
        "Deployment 'tool' holds a paging credential in plain text at "
        "spec.template.spec.containers[0].env[0].value"
    )


def test_hardened_containers_pass(manifests: dict[str, dict[str, Any]]) -> None:
    for key in ("Deployment/statuspage", "Deployment/incident-manager"):
        assert violations("containers-hardened", DEPLOYMENT, key, manifests[key]) == []
    cron = manifests["CronJob/incident-manager-page-test"]
    assert violations("containers-hardened", "kubernetes:batch/v1:CronJob", "cron", cron) == []


def test_container_without_limits_as_root_with_writable_root_is_a_violation(
    manifests: dict[str, dict[str, Any]],
) -> None:
    deployment = copy.deepcopy(manifests["Deployment/statuspage"])
    pod = deployment["spec"]["template"]["spec"]
    del pod["containers"][0]["resources"]["limits"]
    pod["containers"][0]["securityContext"] = {}
    pod["securityContext"] = {}
    assert violations("containers-hardened", DEPLOYMENT, "statuspage", deployment) == [
        "Container 'statuspage' of Deployment 'statuspage' has no cpu or memory limit; every "
        "container needs CPU and memory limits.",
        "Container 'statuspage' of Deployment 'statuspage' may run as root; set runAsNonRoot: "
        "true.",
        "Container 'statuspage' of Deployment 'statuspage' has a writable root filesystem; set "
        "readOnlyRootFilesystem: true.",
    ]


def test_status_page_needs_two_replicas_in_prod_only(manifests: dict[str, dict[str, Any]]) -> None:
    deployment = copy.deepcopy(manifests["Deployment/statuspage"])
    assert violations("statuspage-ha-in-prod", DEPLOYMENT, "statuspage", deployment) == []
    deployment["spec"]["replicas"] = 1
    assert violations("statuspage-ha-in-prod", DEPLOYMENT, "statuspage", deployment) == [
        "The status page Deployment 'statuspage' runs 1 replica(s) in prod; it needs at least 2 "
        "(with PostgreSQL) so it stays up during an incident."
    ]
    assert violations("statuspage-ha-in-prod", DEPLOYMENT, "statuspage", deployment, "dev") == []
