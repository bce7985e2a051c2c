"""The stack settings (`incident-response:*` in Pulumi.<stack>.yaml): one table of every
plain setting with its default and every secret with where it ends up.

This is the one owner of stack defaults and secret keys. No pulumi import: builders
(`deploy/`), the CLI and the policy pack read it; `components.settings.StackSettings` wraps
the values Pulumi hands over. `DeploySettings` is the typed view the manifests use.

Adding a setting: one `Setting(...)` line in `SETTINGS` (and, when builders need it typed, a
field of the same meaning in `DeploySettings`, filled in `from_values`). Adding a secret: one
`SecretSetting(...)` in `SECRETS`, naming the Kubernetes Secret and key it lands in and who
reads it; `irctl validate` and the policy pack then refuse it in plain text.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, fields

NAMESPACE = "incident-response"  # the Pulumi config namespace of this project


@dataclass(frozen=True)
class Setting:
    key: str  # Pulumi config key without the namespace, camelCase
    default: str  # as Pulumi config stores it: a string
    purpose: str


@dataclass(frozen=True)
class Destination:
    """Where a secret lands: a key of a Kubernetes Secret, and the program that reads it."""

    secret: str  # Kubernetes Secret name ("alertmanager-<name>" is the operator's convention)
    key: str
    consumer: str


@dataclass(frozen=True)
class SecretSetting:
    key: str
    purpose: str
    lands_in: tuple[Destination, ...] = ()

    def key_in(self, secret: str) -> str | None:
        """The key this secret has in Kubernetes Secret `secret`, if it lands there."""
        return next((d.key for d in self.lands_in if d.secret == secret), None)


ALERTMANAGER_SECRET = "alertmanager-<alertmanagerName>"
STATUSPAGE_SECRET = "statuspage-secrets"
PAGERDUTY_SECRET = "pagerduty-secrets"

SETTINGS: tuple[Setting, ...] = (
    Setting("namespace", "incident-response", "Kubernetes namespace of the status page/toolbox"),
    Setting("statuspageImage", "ghcr.io/modulo/statuspage", "status page container image"),
    Setting("statuspageTag", "0.1.0", "status page image tag"),
    Setting("statuspageReplicas", "2", "status page replicas (1..20; >1 needs PostgreSQL)"),
    Setting("irctlImage", "ghcr.io/modulo/irctl", "incident-manager toolbox image"),
    Setting("irctlTag", "0.1.0", "toolbox image tag"),
    Setting("certIssuer", "letsencrypt-prod", "cert-manager ClusterIssuer for the status page"),
    Setting("alertmanagerName", "main", "the Alertmanager whose config Secret we write"),
    Setting(
        "alertmanagerNamespace",
        "monitoring",
        "namespace of that Alertmanager: the operator reads its config Secret only there",
    ),
    Setting("kubernetesVersion", "1.30", "Kubernetes version the manifests are validated for"),
    Setting("ingressNamespace", "ingress-nginx", "namespace allowed to reach the status page"),
    Setting("monitoringNamespace", "monitoring", "namespace of Prometheus and Alertmanager"),
    Setting("pageTestService", "page-test", "the service the daily page test pages"),
    Setting(
        "pageTestSchedule",
        "0 10 * * 1-5",
        "cron schedule of the high-urgency test page (business hours: someone answers)",
    ),
    # issue 10 (deploy/monitoring.py): the Ingress class, the Prometheus that scrapes this
    # namespace, and where the probes of paged services come from.
    Setting("ingressClassName", "nginx", "IngressClass of the status page's Ingress"),
    Setting("prometheusServiceAccount", "prometheus-k8s", "Prometheus' ServiceAccount (RBAC)"),
    Setting("prometheusNamespace", "monitoring", "namespace of that ServiceAccount"),
    Setting(
        "syntheticChecks",
        "statuspage",
        "probe source of paged services: statuspage (its own checks) or blackbox (Probe objects)",
    ),
    Setting(
        "blackboxExporterUrl",
        "blackbox-exporter.monitoring.svc:19115",
        "the blackbox exporter the Probe objects name (kube-prometheus' probe port)",
    ),
    # issue 12: the status page's subscription mails (empty URL: no e-mail subscriptions).
    Setting("statuspageSmtpUrl", "", "SMTP relay of subscription mails (smtp+starttls://h:587)"),
    Setting("statuspageMailFrom", "", "From address of subscription mails"),
    Setting("statuspageSmtpCidr", "", "the relay's address range, for the NetworkPolicy"),
    Setting(
        "driftSchedule",
        "",
        "cron schedule of the `irctl drift` CronJob in the toolbox; empty = off",
    ),
)
# Where the probe series of paged services come from (`syntheticChecks`).
SYNTHETIC_CHECK_SOURCES = ("statuspage", "blackbox")

SECRETS: tuple[SecretSetting, ...] = (
    SecretSetting(
        "slackWebhookUrl",
        "Slack incoming-webhook URL for warnings",
        (Destination(ALERTMANAGER_SECRET, "slack-webhook-url", "Alertmanager (api_url_file)"),),
    ),
    SecretSetting(
        "slackWebhookUrls",
        'JSON object of the other channels\' webhook URLs: {"#team-a": "https://..."}',
        (
            Destination(
                ALERTMANAGER_SECRET, "slack-webhook-url-<channel>", "Alertmanager (api_url_file)"
            ),
        ),
    ),
    SecretSetting(
        "heartbeatUrl",
        "dead man's switch URL the Watchdog alert pings",
        # Inline in alertmanager.yaml: Alertmanager 0.25 has no webhook url_file.
        (Destination(ALERTMANAGER_SECRET, "alertmanager.yaml", "Alertmanager (inline URL)"),),
    ),
    SecretSetting(
        "statuspageApiToken",
        "bearer token for the status page webhook and responder API",
        (
            Destination(STATUSPAGE_SECRET, "api-token", "status page (STATUSPAGE_API_TOKEN)"),
            Destination(ALERTMANAGER_SECRET, "statuspage-token", "Alertmanager webhook"),
        ),
    ),
    SecretSetting(
        "statuspageDatabaseUrl",
        "status page database URL (PostgreSQL when replicas > 1)",
        (Destination(STATUSPAGE_SECRET, "database-url", "status page (STATUSPAGE_DATABASE_URL)"),),
    ),
    SecretSetting(
        "statuspageS3AccessKeyId",
        "access key id for the status page's off-cluster S3 copy",
        (Destination(STATUSPAGE_SECRET, "s3-access-key-id", "status page (S3 copy)"),),
    ),
    SecretSetting(
        "statuspageS3SecretAccessKey",
        "secret key for the status page's off-cluster S3 copy",
        (Destination(STATUSPAGE_SECRET, "s3-secret-access-key", "status page (S3 copy)"),),
    ),
    SecretSetting(
        "statuspageSmtpUsername",
        "SMTP login of the status page's subscription mails",
        (
            Destination(
                STATUSPAGE_SECRET, "smtp-username", "status page (STATUSPAGE_SMTP_USERNAME)"
            ),
        ),
    ),
    SecretSetting(
        "statuspageSmtpPassword",
        "SMTP password of the status page's subscription mails",
        (
            Destination(
                STATUSPAGE_SECRET, "smtp-password", "status page (STATUSPAGE_SMTP_PASSWORD)"
            ),
        ),
    ),
    SecretSetting(
        "pagerdutyApiKey",
        "PagerDuty REST API key used by page tests and metrics (read-only)",
        (Destination(PAGERDUTY_SECRET, "api-key", "incident-manager toolbox (irctl)"),),
    ),
)

# Secrets other packages read from the stack: the provider's own token.
FOREIGN_SECRETS: dict[str, str] = {"pagerduty:token": "PagerDuty API token of the provider"}

# Old names, kept so existing imports keep working.
SECRET_KEYS: dict[str, str] = {s.key: s.purpose for s in SECRETS}
DEFAULTS: dict[str, str] = {s.key: s.default for s in SETTINGS}
STATUSPAGE_SECRET_KEYS: dict[str, str] = {
    s.key: key for s in SECRETS if (key := s.key_in(STATUSPAGE_SECRET)) is not None
}


def secret_config_keys() -> dict[str, str]:
    """Every fully qualified config key that must be `secure:`, with its purpose."""
    return {f"{NAMESPACE}:{s.key}": s.purpose for s in SECRETS} | FOREIGN_SECRETS


class MailSettingsError(ValueError):
    pass


@dataclass(frozen=True)
class MailSettings:
    """`statuspageSmtpUrl` (no credentials), `statuspageMailFrom`, and optionally
    `statuspageSmtpCidr`, the mail server's address range for the NetworkPolicy (without
    it any destination on the SMTP port is allowed: a NetworkPolicy cannot name a host)."""

    smtp_url: str
    mail_from: str
    port: int
    cidr: str | None = None

    @classmethod
    def from_values(cls, values: Mapping[str, str]) -> MailSettings | None:
        # The service's own parser (one home for the rules); imported here, where it is used,
        # because it pulls in the page's templates.
        from statuspage.notify_mail import SettingsError, smtp_settings

        url = values.get("statuspageSmtpUrl", "").strip()
        if not url:
            return None
        mail_from = values.get("statuspageMailFrom", "").strip()
        try:
            parsed = smtp_settings({"STATUSPAGE_SMTP_URL": url, "STATUSPAGE_MAIL_FROM": mail_from})
        except SettingsError as exc:
            message = (
                str(exc)
                .replace("STATUSPAGE_SMTP_URL", "statuspageSmtpUrl")
                .replace("STATUSPAGE_MAIL_FROM", "statuspageMailFrom")
                .replace("STATUSPAGE_SMTP_USERNAME", "the secret statuspageSmtpUsername")
                .replace("STATUSPAGE_SMTP_PASSWORD_FILE (or STATUSPAGE_SMTP_PASSWORD)",
                         "the secret statuspageSmtpPassword")
            )  # fmt: skip
            raise MailSettingsError(message) from None
        assert parsed is not None
        return cls(url, mail_from, parsed.port, values.get("statuspageSmtpCidr") or None)


class DeploySettingsError(ValueError):
    pass


@dataclass(frozen=True)
class DeploySettings:
    """The typed view of the plain settings that the Kubernetes builders use."""

    stack: str
    namespace: str = DEFAULTS["namespace"]
    statuspage_image: str = DEFAULTS["statuspageImage"]
    statuspage_tag: str = DEFAULTS["statuspageTag"]
    statuspage_replicas: int = int(DEFAULTS["statuspageReplicas"])
    irctl_image: str = DEFAULTS["irctlImage"]
    irctl_tag: str = DEFAULTS["irctlTag"]
    cert_issuer: str = DEFAULTS["certIssuer"]
    ingress_namespace: str = DEFAULTS["ingressNamespace"]
    monitoring_namespace: str = DEFAULTS["monitoringNamespace"]
    page_test_service: str = DEFAULTS["pageTestService"]
    page_test_schedule: str = DEFAULTS["pageTestSchedule"]
    drift_schedule: str = DEFAULTS["driftSchedule"]
    mail: MailSettings | None = None  # the status page's SMTP settings; None: no e-mail
    ingress_class_name: str = DEFAULTS["ingressClassName"]
    prometheus_service_account: str = DEFAULTS["prometheusServiceAccount"]
    prometheus_namespace: str = DEFAULTS["prometheusNamespace"]
    synthetic_checks: str = DEFAULTS["syntheticChecks"]
    blackbox_exporter_url: str = DEFAULTS["blackboxExporterUrl"]

    @classmethod
    def from_values(cls, stack: str, values: Mapping[str, str]) -> DeploySettings:
        """From Pulumi config strings (camelCase keys as in Pulumi.<stack>.yaml)."""
        replicas_text = values.get("statuspageReplicas", DEFAULTS["statuspageReplicas"])
        try:
            replicas = int(replicas_text)
        except ValueError:
            raise DeploySettingsError(
                f"statuspageReplicas {replicas_text!r} is not a whole number (use 1, 2, 3...)"
            ) from None
        if not 1 <= replicas <= 20:
            raise DeploySettingsError(f"statuspageReplicas {replicas} must be between 1 and 20")
        synthetic = values.get("syntheticChecks", DEFAULTS["syntheticChecks"])
        if synthetic not in SYNTHETIC_CHECK_SOURCES:
            raise DeploySettingsError(
                f"syntheticChecks {synthetic!r} is not known: use "
                + " or ".join(SYNTHETIC_CHECK_SOURCES)
            )
        # snake_case field <- camelCase key, for every plain string field
        by_field = {_snake(s.key): s.key for s in SETTINGS}
        text = {
            f.name: values.get(by_field[f.name], DEFAULTS[by_field[f.name]])
            for f in fields(cls)
            if f.name in by_field and f.name != "statuspage_replicas"
        }
        try:
            mail = MailSettings.from_values(values)
        except MailSettingsError as exc:
            raise DeploySettingsError(str(exc)) from None
        return cls(stack=stack, statuspage_replicas=replicas, mail=mail, **text)


def _snake(key: str) -> str:
    return "".join(f"_{c.lower()}" if c.isupper() else c for c in key)
