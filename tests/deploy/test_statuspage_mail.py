"""The status page's SMTP settings in Kubernetes: Secret-backed env and one egress rule."""

from __future__ import annotations

from typing import Any

import kubernetes_validate
import pytest

from deploy.kubernetes import statuspage_manifests
from deploy.settings import DeploySettings, DeploySettingsError
from orgconfig.load import load_config
from orgconfig.model import OrgConfig
from tests.conftest import PROD

SECRETS = {
    "statuspageApiToken": "token",
    "statuspageDatabaseUrl": "postgresql://db/statuspage",
    "statuspageSmtpUsername": "status-mailer",
    "statuspageSmtpPassword": "hunter2-smtp",
}
MAIL = {
    "statuspageSmtpUrl": "smtp+starttls://smtp.modulo.example.com:587",
    "statuspageMailFrom": "status@modulo.example.com",
    "statuspageSmtpCidr": "203.0.113.25/32",
}


@pytest.fixture(scope="module")
def org() -> OrgConfig:
    return load_config(PROD)


def manifests(org: OrgConfig, values: dict[str, str]) -> dict[str, dict[str, Any]]:
    settings = DeploySettings.from_values("prod", values)
    return {m["kind"]: m for m in statuspage_manifests(org, settings, SECRETS)}


def env_of(objects: dict[str, dict[str, Any]]) -> dict[str, Any]:
    container = objects["Deployment"]["spec"]["template"]["spec"]["containers"][0]
    return {e["name"]: e.get("value", e.get("valueFrom")) for e in container["env"]}


def test_smtp_settings_reach_the_pod_through_the_secret(org: OrgConfig) -> None:
    objects = manifests(org, MAIL)
    env = env_of(objects)
    ref = {"secretKeyRef": {"name": "statuspage-secrets", "key": "smtp-url"}}
    assert env["STATUSPAGE_SMTP_URL"] == ref
    assert env["STATUSPAGE_SMTP_USERNAME"]["secretKeyRef"]["key"] == "smtp-username"
    assert env["STATUSPAGE_SMTP_PASSWORD"]["secretKeyRef"]["key"] == "smtp-password"
    assert env["STATUSPAGE_MAIL_FROM"] == "status@modulo.example.com"
    assert env["STATUSPAGE_FORWARDED_HOPS"] == "1"
    data = objects["Secret"]["stringData"]
    assert data["smtp-url"] == MAIL["statuspageSmtpUrl"]
    assert data["smtp-password"] == "hunter2-smtp"
    # The password is in the Secret and nowhere else.
    for kind, manifest in objects.items():
        if kind != "Secret":
            assert "hunter2-smtp" not in str(manifest), kind


def test_the_network_policy_lets_the_pods_reach_the_mail_server_only(org: OrgConfig) -> None:
    egress = manifests(org, MAIL)["NetworkPolicy"]["spec"]["egress"]
    assert egress[-1] == {
        "ports": [{"port": 587, "protocol": "TCP"}],
        "to": [{"ipBlock": {"cidr": "203.0.113.25/32"}}],
    }
    without = manifests(org, {})["NetworkPolicy"]["spec"]["egress"]
    assert all(p["port"] != 587 for rule in without for p in rule["ports"])
    assert "STATUSPAGE_SMTP_URL" not in env_of(manifests(org, {}))


def test_the_mail_manifests_pass_strict_schema_validation(org: OrgConfig) -> None:
    for kind in ("Deployment", "NetworkPolicy", "Secret"):
        kubernetes_validate.validate(manifests(org, MAIL)[kind], "1.30", strict=True)


@pytest.mark.parametrize(
    ("values", "reason"),
    [
        ({"statuspageSmtpUrl": "smtp://user:pw@smtp.example.com"}, "must not carry credentials"),
        ({"statuspageSmtpUrl": "http://smtp.example.com"}, "statuspageSmtpUrl: scheme 'http'"),
        ({"statuspageSmtpUrl": "smtp://smtp.example.com"}, "statuspageMailFrom must be set"),
    ],
)
def test_bad_mail_settings_are_explained(values: dict[str, str], reason: str) -> None:
    with pytest.raises(DeploySettingsError, match=reason):
        DeploySettings.from_values("prod", values)
