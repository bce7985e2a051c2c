"""Per-stack settings that do not belong in the org config: secrets and deployment knobs.

Only `__main__.py` reads `pulumi.Config`; it fills a `StackSettings` and hands it down, so the
components can be exercised under mocks with any settings.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import pulumi

# Pulumi config keys (namespace `incident-response`) that must be set with `--secret`.
SECRET_KEYS: dict[str, str] = {
    "slackWebhookUrl": "Slack incoming-webhook URL for warnings",
    "heartbeatUrl": "dead man's switch URL the Watchdog alert pings",
    "statuspageApiToken": "bearer token for the status page webhook and responder API",
    "statuspageDatabaseUrl": "status page database URL (PostgreSQL when replicas > 1)",
    "statuspageS3AccessKeyId": "access key id for the status page's off-cluster S3 copy",
    "statuspageS3SecretAccessKey": "secret key for the status page's off-cluster S3 copy",
    "pagerdutyApiKey": "PagerDuty REST API key used by page tests and metrics (read-only)",
    "statuspageSmtpUsername": "SMTP login of the status page's subscription mails",
    "statuspageSmtpPassword": "SMTP password of the status page's subscription mails",
}

# Plain settings with their defaults (strings, as Pulumi config stores them).
DEFAULTS: dict[str, str] = {
    "namespace": "incident-response",
    "statuspageImage": "ghcr.io/modulo/statuspage",
    "statuspageTag": "0.1.0",
    "statuspageReplicas": "2",
    "irctlImage": "ghcr.io/modulo/irctl",
    "irctlTag": "0.1.0",
    "certIssuer": "letsencrypt-prod",
    "alertmanagerName": "main",
    "kubernetesVersion": "1.30",
    # issue 5 (deploy/): who may reach the status page, and the daily page test.
    "ingressNamespace": "ingress-nginx",
    "monitoringNamespace": "monitoring",
    "pageTestService": "page-test",
    "pageTestSchedule": "0 10 * * *",
    # issue 12: the status page's subscription mails (empty URL: no e-mail subscriptions).
    "statuspageSmtpUrl": "",
    "statuspageMailFrom": "",
    "statuspageSmtpCidr": "",
}


@dataclass
class StackSettings:
    stack: str
    secrets: dict[str, pulumi.Input[str]] = field(default_factory=dict)
    values: dict[str, str] = field(default_factory=dict)

    def secret(self, key: str) -> pulumi.Output[str] | None:
        """A secret setting as a secret Output, or None when it is not configured."""
        if key not in SECRET_KEYS:
            raise KeyError(f"{key} is not a declared secret setting")
        value = self.secrets.get(key)
        return None if value is None else pulumi.Output.secret(value)

    def value(self, key: str) -> str:
        return self.values.get(key, DEFAULTS[key])
