"""Kubernetes manifests (plain dicts) for the status page and the incident-manager toolbox.

Secret values are opaque here: the components pass secret Pulumi Outputs, the offline render
passes placeholders. Everything else is decided in this module, so it is tested as data.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import yaml

from deploy import statuspage_mail
from deploy.monitoring import probe_manifests, prometheus_rbac, service_monitor
from deploy.settings import STATUSPAGE_SECRET_KEYS, DeploySettings, DeploySettingsError
from deploy.statuspage_config import statuspage_config
from orgconfig.model import OrgConfig
from orgconfig.yamlsafe import FastDumper

Manifest = dict[str, Any]

STATUSPAGE = "statuspage"
TOOLBOX = "incident-manager"
PAGERDUTY_SECRET = "pagerduty-secrets"
PART_OF = "incident-response"
HTTP_PORT = 8080
CONFIG_DIR = "/etc/statuspage"
DATA_DIR = "/var/lib/statuspage"
RECORDS_DIR = "/var/lib/irctl"
RECORD_FILE = f"{RECORDS_DIR}/page-tests.jsonl"
PAGERDUTY_KEYS_DIR = "/etc/pagerduty"  # pagerduty-secrets as files: api-key, routing-key...
UID = 10001  # the images' non-root user
# The scheduled test page: high urgency through the real first tier (a low-urgency incident
# never escalates, so it would prove less than real criticals use), resolved once someone
# acknowledges it or after 10 minutes, before the 15-minute tier would wake the backup.
PAGE_TEST_RESOLVE_AFTER_SECONDS = 600
PAGE_TEST_ARGS = ["--urgency", "high", "--resolve-after", str(PAGE_TEST_RESOLVE_AFTER_SECONDS)]
# Sending, waiting for the incident (120 s), waiting for a person, resolving.
PAGE_TEST_DEADLINE_SECONDS = PAGE_TEST_RESOLVE_AFTER_SECONDS + 300


def selector_labels(name: str) -> dict[str, str]:
    """The immutable subset used in selectors (a Deployment's selector cannot change)."""
    return {"app.kubernetes.io/name": name, "app.kubernetes.io/instance": name}


def labels(name: str, component: str, version: str | None = None) -> dict[str, str]:
    """Kubernetes' recommended `app.kubernetes.io/*` labels."""
    out = {
        **selector_labels(name),
        "app.kubernetes.io/component": component,
        "app.kubernetes.io/part-of": PART_OF,
        "app.kubernetes.io/managed-by": "pulumi",
    }
    if version:
        out["app.kubernetes.io/version"] = version
    return out


def _meta(name: str, namespace: str, lbls: dict[str, str], **extra: Any) -> dict[str, Any]:
    return {"name": name, "namespace": namespace, "labels": lbls, **extra}


def statuspage_webhook_url(settings: DeploySettings) -> str:
    """The in-cluster URL Alertmanager posts to (the status page's Alertmanager webhook)."""
    return f"http://{STATUSPAGE}.{settings.namespace}.svc.cluster.local/api/v1/alertmanager"


def statuspage_url(settings: DeploySettings) -> str:
    return f"http://{STATUSPAGE}.{settings.namespace}.svc.cluster.local"


def uses_postgresql(settings: DeploySettings, secrets: Mapping[str, Any]) -> bool:
    """One replica keeps SQLite on a volume; more than one share a PostgreSQL database."""
    has_url = secrets.get("statuspageDatabaseUrl") is not None
    if settings.statuspage_replicas > 1 and not has_url:
        raise DeploySettingsError(
            f"statuspageReplicas is {settings.statuspage_replicas} but statuspageDatabaseUrl is "
            "not set: more than one replica needs PostgreSQL (pulumi config set --secret "
            "incident-response:statuspageDatabaseUrl postgresql://...), or use 1 replica with "
            "SQLite"
        )
    return has_url


def _restricted_security() -> tuple[dict[str, Any], dict[str, Any]]:
    """Pod and container security contexts that pass the `restricted` Pod Security level."""
    pod = {
        "runAsNonRoot": True,
        "runAsUser": UID,
        "runAsGroup": UID,
        "fsGroup": UID,
        "seccompProfile": {"type": "RuntimeDefault"},
    }
    container = {
        "runAsNonRoot": True,
        "allowPrivilegeEscalation": False,
        "readOnlyRootFilesystem": True,
        "capabilities": {"drop": ["ALL"]},
        "seccompProfile": {"type": "RuntimeDefault"},
    }
    return pod, container


def _secret_env(env_name: str, secret: str, key: str) -> dict[str, Any]:
    return {"name": env_name, "valueFrom": {"secretKeyRef": {"name": secret, "key": key}}}


def _check_ports(config: dict[str, Any]) -> set[int]:
    """TCP ports the synthetic checks connect to, so the NetworkPolicy lets exactly them out."""
    ports = {443}
    for group in config["groups"]:
        for component in group["components"]:
            for check in component["checks"]:
                if check["type"] == "tcp":
                    ports.add(int(check["port"]))
                else:
                    url = urlsplit(check["url"])
                    ports.add(url.port or (443 if url.scheme == "https" else 80))
    return ports


# Paths the Ingress publishes (the public pages, feeds, read API and subscriptions). Everything
# else (`/metrics`, the write API `/api/v1/...`, `/healthz`) stays on the cluster-internal
# Service behind the NetworkPolicy. `Prefix` matches whole path elements (`/api/v2` matches
# `/api/v2/summary.json`, never `/api/v20`), `Exact` only the path itself.
PUBLIC_PATHS: list[tuple[str, str]] = [
    ("/", "Exact"),
    ("/index.html", "Exact"),
    ("/history", "Prefix"),  # and the older pages /history/2...
    ("/history.html", "Exact"),
    ("/history.atom", "Exact"),
    ("/incidents", "Prefix"),
    ("/api/v2", "Prefix"),
    ("/static", "Prefix"),
    ("/subscribe", "Exact"),
    ("/subscriptions", "Prefix"),
]


@dataclass(frozen=True)
class _Page:
    """What every status page object is built from, worked out once."""

    org: OrgConfig
    settings: DeploySettings
    config: dict[str, Any]
    config_text: str
    labels: dict[str, str]
    secret_data: dict[str, Any]
    postgresql: bool

    @property
    def ns(self) -> str:
        return self.settings.namespace

    def meta(self, name: str = STATUSPAGE, **extra: Any) -> dict[str, Any]:
        return _meta(name, self.ns, self.labels, **extra)


def _namespace(page: _Page) -> Manifest:
    return {
        "apiVersion": "v1",
        "kind": "Namespace",
        "metadata": {
            "name": page.ns,
            "labels": {
                "app.kubernetes.io/name": page.ns,
                "app.kubernetes.io/part-of": PART_OF,
                "app.kubernetes.io/managed-by": "pulumi",
                "pod-security.kubernetes.io/enforce": "restricted",
            },
        },
    }


def _config_map(page: _Page) -> Manifest:
    return {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": page.meta(f"{STATUSPAGE}-config"),
        "data": {"config.yaml": page.config_text},
    }


def _secret(page: _Page) -> Manifest:
    return {
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": page.meta(f"{STATUSPAGE}-secrets"),
        "type": "Opaque",
        "stringData": page.secret_data,
    }


def _storage(page: _Page) -> list[Manifest]:
    """One replica keeps SQLite on a claim; PostgreSQL needs none."""
    if page.postgresql:
        return []
    assert page.org.status_page is not None
    return [
        {
            "apiVersion": "v1",
            "kind": "PersistentVolumeClaim",
            "metadata": page.meta(f"{STATUSPAGE}-data"),
            "spec": {
                "accessModes": ["ReadWriteOnce"],
                "resources": {"requests": {"storage": page.org.status_page.storage_size}},
            },
        }
    ]


def _statuspage_env(page: _Page) -> list[dict[str, Any]]:
    """The status page reads its secrets from the environment (statuspage/app.py,
    statuspage/publish.py): each one a `secretKeyRef`, so no value is in the manifest."""
    secret = f"{STATUSPAGE}-secrets"
    env: list[dict[str, Any]] = []
    if "api-token" in page.secret_data:
        env.append(_secret_env("STATUSPAGE_API_TOKEN", secret, "api-token"))
    if page.postgresql:
        env.append(_secret_env("STATUSPAGE_DATABASE_URL", secret, "database-url"))
    else:
        env.append(
            {"name": "STATUSPAGE_DATABASE_URL", "value": f"sqlite:///{DATA_DIR}/statuspage.db"}
        )
    assert page.org.status_page is not None
    if page.org.status_page.s3_copy is not None:
        for env_name, key in (
            ("AWS_ACCESS_KEY_ID", "s3-access-key-id"),
            ("AWS_SECRET_ACCESS_KEY", "s3-secret-access-key"),
        ):
            if key in page.secret_data:
                env.append(_secret_env(env_name, secret, key))
    env += statuspage_mail.subscription_env(page.settings.mail, secret, page.secret_data)
    return env


def _spread() -> list[dict[str, Any]]:
    return [
        {
            "maxSkew": 1,
            "topologyKey": key,
            "whenUnsatisfiable": when,
            "labelSelector": {"matchLabels": selector_labels(STATUSPAGE)},
        }
        for key, when in (
            ("kubernetes.io/hostname", "DoNotSchedule"),
            ("topology.kubernetes.io/zone", "ScheduleAnyway"),
        )
    ]


def _deployment(page: _Page) -> Manifest:
    settings = page.settings
    pod_security, container_security = _restricted_security()
    volumes: list[dict[str, Any]] = [
        {"name": "config", "configMap": {"name": f"{STATUSPAGE}-config"}},
        {"name": "tmp", "emptyDir": {"sizeLimit": "64Mi"}},
    ]
    mounts: list[dict[str, Any]] = [
        {"name": "config", "mountPath": CONFIG_DIR, "readOnly": True},
        {"name": "tmp", "mountPath": "/tmp"},
    ]
    if not page.postgresql:
        volumes.append(
            {"name": "data", "persistentVolumeClaim": {"claimName": f"{STATUSPAGE}-data"}}
        )
        mounts.append({"name": "data", "mountPath": DATA_DIR})
    probe = {"httpGet": {"path": "/healthz", "port": "http"}, "timeoutSeconds": 2}
    container = {
        "name": STATUSPAGE,
        "image": f"{settings.statuspage_image}:{settings.statuspage_tag}",
        "imagePullPolicy": "IfNotPresent",
        "command": ["statuspage"],
        "args": ["serve", "--config", f"{CONFIG_DIR}/config.yaml", "--host", "0.0.0.0",
                 "--port", str(HTTP_PORT)],
        "ports": [{"name": "http", "containerPort": HTTP_PORT, "protocol": "TCP"}],
        "env": _statuspage_env(page),
        "startupProbe": {**probe, "periodSeconds": 2, "failureThreshold": 30},
        "readinessProbe": {**probe, "periodSeconds": 5, "failureThreshold": 2},
        "livenessProbe": {**probe, "periodSeconds": 10, "failureThreshold": 3},
        "resources": {
            "requests": {"cpu": "100m", "memory": "128Mi"},
            "limits": {"cpu": "1", "memory": "256Mi"},
        },
        "securityContext": container_security,
        "volumeMounts": mounts,
    }  # fmt: skip
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": page.meta(),
        "spec": {
            "replicas": settings.statuspage_replicas,
            "revisionHistoryLimit": 5,
            "selector": {"matchLabels": selector_labels(STATUSPAGE)},
            # A ReadWriteOnce SQLite volume cannot be attached to an old and a new pod at once.
            "strategy": (
                {"type": "RollingUpdate", "rollingUpdate": {"maxUnavailable": 0, "maxSurge": 1}}
                if page.postgresql
                else {"type": "Recreate"}
            ),
            "template": {
                "metadata": {
                    "labels": page.labels,
                    # Pods roll when the rendered config changes.
                    "annotations": {
                        "incident-response/config-sha256": hashlib.sha256(
                            page.config_text.encode()
                        ).hexdigest()
                    },
                },
                "spec": {
                    "automountServiceAccountToken": False,
                    "securityContext": pod_security,
                    "topologySpreadConstraints": _spread(),
                    "containers": [container],
                    "volumes": volumes,
                },
            },
        },
    }


def _service(page: _Page) -> Manifest:
    return {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": page.meta(),
        "spec": {
            "type": "ClusterIP",
            "selector": selector_labels(STATUSPAGE),
            "ports": [{"name": "http", "port": 80, "targetPort": "http", "protocol": "TCP"}],
        },
    }


def _ingress(page: _Page) -> Manifest:
    """Only PUBLIC_PATHS reach the internet; the class and issuer are stack settings."""
    assert page.org.status_page is not None
    domain = page.org.status_page.domain
    backend = {"service": {"name": STATUSPAGE, "port": {"name": "http"}}}
    return {
        "apiVersion": "networking.k8s.io/v1",
        "kind": "Ingress",
        "metadata": page.meta(
            annotations={"cert-manager.io/cluster-issuer": page.settings.cert_issuer}
        ),
        "spec": {
            "ingressClassName": page.settings.ingress_class_name,
            "tls": [{"hosts": [domain], "secretName": f"{STATUSPAGE}-tls"}],
            "rules": [
                {
                    "host": domain,
                    "http": {
                        "paths": [
                            {"path": path, "pathType": kind, "backend": backend}
                            for path, kind in PUBLIC_PATHS
                        ]
                    },
                }
            ],
        },
    }


def _disruption_budget(page: _Page) -> Manifest:
    replicas = page.settings.statuspage_replicas
    return {
        "apiVersion": "policy/v1",
        "kind": "PodDisruptionBudget",
        "metadata": page.meta(),
        # With one replica a minAvailable of 1 would block every node drain forever.
        "spec": {
            **({"minAvailable": 1} if replicas > 1 else {"maxUnavailable": 1}),
            "selector": {"matchLabels": selector_labels(STATUSPAGE)},
        },
    }


def _network_policy(page: _Page) -> Manifest:
    settings = page.settings
    egress_ports = sorted(_check_ports(page.config) | ({5432} if page.postgresql else set()))
    return {
        "apiVersion": "networking.k8s.io/v1",
        "kind": "NetworkPolicy",
        "metadata": page.meta(),
        "spec": {
            "podSelector": {"matchLabels": selector_labels(STATUSPAGE)},
            "policyTypes": ["Ingress", "Egress"],
            # The ingress controller (visitors, only the Ingress' public paths), Prometheus
            # and Alertmanager (monitoring: /metrics, the webhook), and the toolbox in this
            # namespace (`irctl status`) reach the page.
            "ingress": [
                {
                    "from": [
                        _namespace_peer(settings.ingress_namespace),
                        _namespace_peer(settings.monitoring_namespace),
                        {"podSelector": {}},
                    ],
                    "ports": [{"port": HTTP_PORT, "protocol": "TCP"}],
                }
            ],
            # DNS, then only the ports the checks, S3 and PostgreSQL need.
            "egress": [
                {
                    "to": [_namespace_peer("kube-system")],
                    "ports": [
                        {"port": 53, "protocol": "UDP"},
                        {"port": 53, "protocol": "TCP"},
                    ],
                },
                {"ports": [{"port": port, "protocol": "TCP"} for port in egress_ports]},
                *statuspage_mail.smtp_egress(page.settings.mail),
            ],
        },
    }


def statuspage_manifests(
    org: OrgConfig, settings: DeploySettings, secrets: Mapping[str, Any]
) -> list[Manifest]:
    """Namespace, config, secret, storage, workload, network and monitoring of the page.

    `secrets` maps secret stack settings (`statuspageApiToken`, ...) to opaque values; a
    missing key means "not configured".
    """
    if org.status_page is None:
        raise DeploySettingsError("the org config has no status_page section")
    config = statuspage_config(org)
    lbl = labels(STATUSPAGE, "status-page", settings.statuspage_tag)
    page = _Page(
        org=org,
        settings=settings,
        config=config,
        config_text=yaml.dump(config, Dumper=FastDumper, sort_keys=False, allow_unicode=True),
        labels=lbl,
        secret_data={
            key: secrets[setting]
            for setting, key in STATUSPAGE_SECRET_KEYS.items()
            if secrets.get(setting) is not None
        }
        | statuspage_mail.secret_data(settings.mail),
        postgresql=uses_postgresql(settings, secrets),
    )
    builders: list[Callable[[_Page], Manifest]] = [
        _config_map, _secret, _deployment, _service, _ingress, _disruption_budget,
        _network_policy,
    ]  # fmt: skip
    monitoring_lbl = labels(STATUSPAGE, "monitoring", settings.statuspage_tag)
    return [
        _namespace(page),
        *_storage(page),
        *(build(page) for build in builders),
        service_monitor(STATUSPAGE, settings, lbl, selector_labels(STATUSPAGE)),
        *prometheus_rbac(settings, monitoring_lbl),
        *probe_manifests(org, settings, monitoring_lbl),
    ]


def _namespace_peer(namespace: str) -> dict[str, Any]:
    return {
        "namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": namespace}},
    }


def toolbox_manifests(
    org: OrgConfig,
    settings: DeploySettings,
    api_key: Any,
    routing_keys: Mapping[str, Any],
) -> list[Manifest]:
    """The incident-manager Deployment, its `pagerduty-secrets` and the weekday test page.

    `routing_keys` maps service id -> Events API v2 routing key (opaque, secret): the
    integration keys Pulumi itself created, so nobody copies them by hand. The Secret carries
    `api-key` and `routing-key` (the page-test service's key), the names the original runbook
    uses, and `routing-key-<service>` for every service, mounted as files under
    /etc/pagerduty: `kubectl exec deploy/incident-manager -n incident-response -- irctl
    page-test --service api --routing-key-file /etc/pagerduty/routing-key-api`.

    The weekday CronJob (high urgency, resolved once acknowledged or after 10 minutes) appends
    its result to the page-test record file on a volume the toolbox
    also mounts, the same JSON-lines file drills write and `irctl metrics` reads for the page
    success rate: no Pushgateway to run, and the history survives pod restarts.
    """
    if settings.page_test_service not in {s.id for s in org.services}:
        raise DeploySettingsError(
            f"pageTestService {settings.page_test_service!r} is not a service in the org config "
            f"(services: {', '.join(s.id for s in org.services)})"
        )
    ns = settings.namespace
    version = settings.irctl_tag
    lbl = labels(TOOLBOX, "toolbox", version)
    cron_lbl = labels(f"{TOOLBOX}-page-test", "page-test", version)
    pod_security, container_security = _restricted_security()
    data: dict[str, Any] = {}
    if api_key is not None:
        data["api-key"] = api_key
    if settings.page_test_service in routing_keys:
        data["routing-key"] = routing_keys[settings.page_test_service]
    for service_id, key in sorted(routing_keys.items()):
        data[f"routing-key-{service_id}"] = key

    api_key_env = _secret_env("PAGERDUTY_API_KEY", PAGERDUTY_SECRET, "api-key")
    if "api-key" not in data:
        api_key_env["valueFrom"]["secretKeyRef"]["optional"] = True
    # No PAGERDUTY_ROUTING_KEY here: `irctl page-test` reads that env for any --service, so a
    # single key would page the wrong service. The keys are files under PAGERDUTY_KEYS_DIR.
    env = [
        api_key_env,
        {"name": "PAGERDUTY_ROUTING_KEY_DIR", "value": PAGERDUTY_KEYS_DIR},
        # test_paging.py records here (the root filesystem is read-only).
        {"name": "IRCTL_RECORD_FILE", "value": RECORD_FILE},
        {"name": "STATUSPAGE_URL", "value": statuspage_url(settings)},
        {"name": "HOME", "value": "/tmp"},
    ]
    resources = {
        "requests": {"cpu": "10m", "memory": "64Mi"},
        "limits": {"cpu": "500m", "memory": "256Mi"},
    }
    mounts = [
        {"name": "records", "mountPath": RECORDS_DIR},
        {"name": "pagerduty", "mountPath": PAGERDUTY_KEYS_DIR, "readOnly": True},
        {"name": "tmp", "mountPath": "/tmp"},
    ]
    volumes = [
        {"name": "records", "persistentVolumeClaim": {"claimName": f"{TOOLBOX}-records"}},
        # Readable by the non-root user through fsGroup, by nobody else.
        {"name": "pagerduty", "secret": {"secretName": PAGERDUTY_SECRET, "defaultMode": 0o440}},
        {"name": "tmp", "emptyDir": {"sizeLimit": "64Mi"}},
    ]
    image = f"{settings.irctl_image}:{settings.irctl_tag}"

    def container(name: str, command: list[str]) -> dict[str, Any]:
        return {
            "name": name,
            "image": image,
            "imagePullPolicy": "IfNotPresent",
            "command": command,
            "env": env,
            "resources": resources,
            "securityContext": container_security,
            "volumeMounts": mounts,
        }

    return [
        {
            "apiVersion": "v1",
            "kind": "Secret",
            "metadata": _meta(PAGERDUTY_SECRET, ns, lbl),
            "type": "Opaque",
            "stringData": data,
        },
        {
            "apiVersion": "v1",
            "kind": "PersistentVolumeClaim",
            "metadata": _meta(f"{TOOLBOX}-records", ns, lbl),
            "spec": {
                "accessModes": ["ReadWriteOnce"],
                "resources": {"requests": {"storage": "1Gi"}},
            },
        },
        {
            "apiVersion": "apps/v1",
            "kind": "Deployment",
            "metadata": _meta(TOOLBOX, ns, lbl),
            "spec": {
                "replicas": 1,
                "selector": {"matchLabels": selector_labels(TOOLBOX)},
                "strategy": {"type": "Recreate"},
                "template": {
                    "metadata": {"labels": lbl},
                    "spec": {
                        "automountServiceAccountToken": False,
                        "securityContext": pod_security,
                        # A shell for responders: `kubectl exec -it deploy/incident-manager
                        # -n incident-response -- irctl page-test --service api`.
                        "containers": [container(TOOLBOX, ["sleep", "infinity"])],
                        "volumes": volumes,
                    },
                },
            },
        },
        {
            "apiVersion": "batch/v1",
            "kind": "CronJob",
            "metadata": _meta(f"{TOOLBOX}-page-test", ns, cron_lbl),
            "spec": {
                "schedule": settings.page_test_schedule,
                "timeZone": org.org.time_zone,
                "concurrencyPolicy": "Forbid",
                "startingDeadlineSeconds": 3600,
                "successfulJobsHistoryLimit": 3,
                "failedJobsHistoryLimit": 5,
                "jobTemplate": {
                    "metadata": {"labels": cron_lbl},
                    "spec": {
                        # A retry would send a second test page; the failure is recorded instead.
                        "backoffLimit": 0,
                        "activeDeadlineSeconds": PAGE_TEST_DEADLINE_SECONDS,
                        "ttlSecondsAfterFinished": 86400 * 7,
                        "template": {
                            "metadata": {"labels": cron_lbl},
                            "spec": {
                                "restartPolicy": "Never",
                                "automountServiceAccountToken": False,
                                "securityContext": pod_security,
                                # The record file lives on a ReadWriteOnce volume that the
                                # toolbox also mounts: run on the toolbox's node.
                                "affinity": {
                                    "podAffinity": {
                                        "requiredDuringSchedulingIgnoredDuringExecution": [
                                            {
                                                "labelSelector": {
                                                    "matchLabels": selector_labels(TOOLBOX)
                                                },
                                                "topologyKey": "kubernetes.io/hostname",
                                            }
                                        ]
                                    }
                                },
                                "containers": [
                                    container(
                                        "page-test",
                                        [
                                            "irctl",
                                            "page-test",
                                            "--stack",
                                            settings.stack,
                                            "--service",
                                            settings.page_test_service,
                                            "--routing-key-file",
                                            f"{PAGERDUTY_KEYS_DIR}/routing-key",
                                            "--record-file",
                                            RECORD_FILE,
                                            *PAGE_TEST_ARGS,
                                        ],
                                    )
                                ],
                                "volumes": volumes,
                            },
                        },
                    },
                },
            },
        },
        *drift_cronjob_manifests(settings, version),  # issue 13
    ]


# --------------------------------------------------------------------------- issue 13: drift

DRIFT_CRONJOB = f"{TOOLBOX}-drift"
PAGERDUTY_API_URL = "https://api.pagerduty.com"


def drift_cronjob_manifests(settings: DeploySettings, version: str) -> list[Manifest]:
    """The optional daily `irctl drift` CronJob (stack setting `driftSchedule`, off when empty).

    Its result reaches Prometheus without anything new to run: `irctl drift` exits 3 on drift
    (2 when PagerDuty cannot be read), the Job fails, and kube-state-metrics (part of
    kube-prometheus) exports `kube_cronjob_status_last_schedule_time` and
    `kube_cronjob_status_last_successful_time` for the CronJob; the `PagerDutyDrift` warning
    in docs/adopt.md fires while the last scheduled run has not succeeded. The differences
    themselves are in the Job's log (`kubectl logs job/...`).
    """
    if not settings.drift_schedule:
        return []
    pod_security, container_security = _restricted_security()
    lbl = labels(DRIFT_CRONJOB, "drift", version)
    container = {
        "name": "drift",
        "image": f"{settings.irctl_image}:{settings.irctl_tag}",
        "imagePullPolicy": "IfNotPresent",
        "command": [
            "irctl", "drift", "--stack", settings.stack, "--api-url", PAGERDUTY_API_URL,
            "--token-env", "PAGERDUTY_API_KEY", "--format", "text",
        ],
        "env": [
            _secret_env("PAGERDUTY_API_KEY", PAGERDUTY_SECRET, "api-key"),
            {"name": "HOME", "value": "/tmp"},
        ],
        "resources": {
            "requests": {"cpu": "10m", "memory": "64Mi"},
            "limits": {"cpu": "500m", "memory": "256Mi"},
        },
        "securityContext": container_security,
        "volumeMounts": [{"name": "tmp", "mountPath": "/tmp"}],
    }  # fmt: skip
    return [
        {
            "apiVersion": "batch/v1",
            "kind": "CronJob",
            "metadata": _meta(DRIFT_CRONJOB, settings.namespace, lbl),
            "spec": {
                "schedule": settings.drift_schedule,
                "concurrencyPolicy": "Forbid",
                "startingDeadlineSeconds": 3600,
                "successfulJobsHistoryLimit": 1,
                "failedJobsHistoryLimit": 3,
                "jobTemplate": {
                    "metadata": {"labels": lbl},
                    "spec": {
                        # Drift is an answer, not a crash: retrying would only repeat it.
                        "backoffLimit": 0,
                        "activeDeadlineSeconds": 600,
                        "template": {
                            "metadata": {"labels": lbl},
                            "spec": {
                                "restartPolicy": "Never",
                                "automountServiceAccountToken": False,
                                "securityContext": pod_security,
                                "containers": [container],
                                "volumes": [{"name": "tmp", "emptyDir": {"sizeLimit": "64Mi"}}],
                            },
                        },
                    },
                },
            },
        }
    ]


DRIFT_RULE_GROUP = "pagerduty-drift"


def with_drift_rule(
    objects: list[tuple[str, list[dict[str, Any]]]],
    drift_schedule: str,
    namespace: str,
    runbook_base_url: str,
    into: str,
) -> list[tuple[str, list[dict[str, Any]]]]:
    """The PrometheusRule objects (name -> groups) plus the `PagerDutyDrift` group in object
    `into` (the shared one, with the Watchdog) when the drift CronJob is on (`driftSchedule`);
    unchanged otherwise."""
    if not drift_schedule:
        return objects
    group = {"name": DRIFT_RULE_GROUP, "rules": [drift_alert_rule(namespace, runbook_base_url)]}
    if all(name != into for name, _ in objects):
        return [*objects, (into, [group])]
    return [(name, [*groups, group] if name == into else groups) for name, groups in objects]


def drift_alert_rule(namespace: str, runbook_base_url: str) -> dict[str, Any]:
    """The `PagerDutyDrift` warning over kube-state-metrics' CronJob series: the last
    scheduled drift check has not succeeded (drift found, or PagerDuty could not be read).
    Meant for the alerting PrometheusRule when `driftSchedule` is set (docs/adopt.md)."""
    selector = f'namespace="{namespace}", cronjob="{DRIFT_CRONJOB}"'
    return {
        "alert": "PagerDutyDrift",
        "expr": (
            f"kube_cronjob_status_last_schedule_time{{{selector}}}\n"
            f"  > kube_cronjob_status_last_successful_time{{{selector}}}"
        ),
        # A run takes seconds; 30 minutes leaves room for a slow API without flapping.
        "for": "30m",
        "labels": {"severity": "warning", "service": "pagerduty"},
        "annotations": {
            "summary": "PagerDuty differs from Git, or the drift check cannot read PagerDuty.",
            "description": (
                "The last run of CronJob {{ $labels.namespace }}/{{ $labels.cronjob }} did not "
                "succeed: `kubectl logs -n {{ $labels.namespace }} job/<latest "
                f"{DRIFT_CRONJOB} job>` lists every difference in words."
            ),
            "runbook_url": f"{runbook_base_url}PagerDutyDrift.md",
        },
    }
