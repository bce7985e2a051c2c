"""One table of stack settings: defaults, secrets and where each secret lands."""

from __future__ import annotations

from components.settings import DEFAULTS as OLD_DEFAULTS
from components.settings import SECRET_KEYS as OLD_SECRET_KEYS
from deploy.settings import STATUSPAGE_SECRET_KEYS, DeploySettings
from orgconfig.settings import DEFAULTS, SECRETS, SETTINGS, secret_config_keys


def test_old_names_are_the_one_table() -> None:
    assert OLD_DEFAULTS is DEFAULTS and set(OLD_SECRET_KEYS) == {s.key for s in SECRETS}
    assert STATUSPAGE_SECRET_KEYS == {
        "statuspageApiToken": "api-token",
        "statuspageDatabaseUrl": "database-url",
        "statuspageS3AccessKeyId": "s3-access-key-id",
        "statuspageS3SecretAccessKey": "s3-secret-access-key",
        "statuspageSmtpUsername": "smtp-username",
        "statuspageSmtpPassword": "smtp-password",
    }


def test_every_secret_says_where_it_lands() -> None:
    for secret in SECRETS:
        assert secret.lands_in, secret.key
        assert all(d.secret and d.key and d.consumer for d in secret.lands_in)
    assert secret_config_keys()["pagerduty:token"]
    assert "incident-response:slackWebhookUrl" in secret_config_keys()


def test_typed_settings_read_every_plain_setting_by_name() -> None:
    values = {s.key: f"x-{s.key}" for s in SETTINGS} | {
        "statuspageReplicas": "3",
        "syntheticChecks": "blackbox",  # one of statuspage, blackbox
        "statuspageSmtpUrl": "smtp+starttls://smtp.example.com:587",  # parsed: a real URL
        "statuspageMailFrom": "status@example.com",
    }
    typed = DeploySettings.from_values("prod", values)
    assert typed.statuspage_replicas == 3
    assert typed.page_test_service == "x-pageTestService"
    assert typed.cert_issuer == "x-certIssuer"
    assert typed.ingress_class_name == "x-ingressClassName"
    assert typed.synthetic_checks == "blackbox"
    assert typed.mail is not None and typed.mail.port == 587
    assert DeploySettings.from_values("prod", {}) == DeploySettings(stack="prod")
