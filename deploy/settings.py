"""Deployment knobs for the Kubernetes side, as plain values (no pulumi import).

`components.settings.StackSettings` holds the Pulumi config strings; `DeploySettings.from_values`
turns them into typed values once, with a clear error for a bad one.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from deploy.statuspage_mail import SMTP_SECRET_KEYS, MailSettings, MailSettingsError

# Secret stack settings the manifests use, by the Secret key they land in.
STATUSPAGE_SECRET_KEYS: dict[str, str] = {
    "statuspageApiToken": "api-token",
    "statuspageDatabaseUrl": "database-url",
    "statuspageS3AccessKeyId": "s3-access-key-id",
    "statuspageS3SecretAccessKey": "s3-secret-access-key",
    **SMTP_SECRET_KEYS,
}


class DeploySettingsError(ValueError):
    pass


@dataclass(frozen=True)
class DeploySettings:
    stack: str
    namespace: str = "incident-response"
    statuspage_image: str = "ghcr.io/modulo/statuspage"
    statuspage_tag: str = "0.1.0"
    statuspage_replicas: int = 2
    irctl_image: str = "ghcr.io/modulo/irctl"
    irctl_tag: str = "0.1.0"
    cert_issuer: str = "letsencrypt-prod"
    ingress_namespace: str = "ingress-nginx"
    monitoring_namespace: str = "monitoring"
    page_test_service: str = "page-test"
    page_test_schedule: str = "0 10 * * *"
    mail: MailSettings | None = None  # the status page's SMTP settings; None: no e-mail

    @classmethod
    def from_values(cls, stack: str, values: Mapping[str, str]) -> DeploySettings:
        """From Pulumi config strings (camelCase keys as in Pulumi.<stack>.yaml)."""
        replicas_text = values.get("statuspageReplicas", "2")
        try:
            replicas = int(replicas_text)
        except ValueError:
            raise DeploySettingsError(
                f"statuspageReplicas {replicas_text!r} is not a whole number (use 1, 2, 3...)"
            ) from None
        if not 1 <= replicas <= 20:
            raise DeploySettingsError(f"statuspageReplicas {replicas} must be between 1 and 20")
        try:
            mail = MailSettings.from_values(values)
        except MailSettingsError as exc:
            raise DeploySettingsError(str(exc)) from None
        defaults = cls(stack=stack)
        return cls(
            stack=stack,
            namespace=values.get("namespace", defaults.namespace),
            statuspage_image=values.get("statuspageImage", defaults.statuspage_image),
            statuspage_tag=values.get("statuspageTag", defaults.statuspage_tag),
            statuspage_replicas=replicas,
            irctl_image=values.get("irctlImage", defaults.irctl_image),
            irctl_tag=values.get("irctlTag", defaults.irctl_tag),
            cert_issuer=values.get("certIssuer", defaults.cert_issuer),
            ingress_namespace=values.get("ingressNamespace", defaults.ingress_namespace),
            monitoring_namespace=values.get("monitoringNamespace", defaults.monitoring_namespace),
            page_test_service=values.get("pageTestService", defaults.page_test_service),
            page_test_schedule=values.get("pageTestSchedule", defaults.page_test_schedule),
            mail=mail,
        )
