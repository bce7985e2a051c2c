"""Kubernetes manifests (plain dicts) for the status page and the incident-manager toolbox.

Secret values are opaque here: the components pass secret Pulumi Outputs, the offline render
passes placeholders. Everything else is decided in this module, so it is tested as data.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlsplit

import yaml

from deploy import statuspage_mail
from deploy.settings import STATUSPAGE_SECRET_KEYS, DeploySettings, DeploySettingsError
from deploy.statuspage_config import statuspage_config
from orgconfig.model import OrgConfig

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


def statuspage_manifests(
    org: OrgConfig, settings: DeploySettings, secrets: Mapping[str, Any]
) -> list[Manifest]:
    """Namespace, config, secret, storage, workload, network and monitoring of the page.

    `secrets` maps secret stack settings (`statuspageApiToken`, ...) to opaque values; a
    missing key means "not configured".
    """
    if org.status_page is None:
        raise DeploySettingsError("the org config has no status_page section")
    ns = settings.namespace
    version = settings.statuspage_tag
    lbl = labels(STATUSPAGE, "status-page", version)
    config = statuspage_config(org)
    config_text = yaml.safe_dump(config, sort_keys=False, allow_unicode=True)
    postgresql = uses_postgresql(settings, secrets)
    replicas = settings.statuspage_replicas
    pod_security, container_security = _restricted_security()

    secret_data = {
        key: secrets[setting]
        for setting, key in STATUSPAGE_SECRET_KEYS.items()
        if secrets.get(setting) is not None
    } | statuspage_mail.secret_data(settings.mail)
    env: list[dict[str, Any]] = []
    if "api-token" in secret_data:
        env.append(_secret_env("STATUSPAGE_API_TOKEN", f"{STATUSPAGE}-secrets", "api-token"))
    if postgresql:
        env.append(_secret_env("STATUSPAGE_DATABASE_URL", f"{STATUSPAGE}-secrets", "database-url"))
    else:
        env.append(
            {"name": "STATUSPAGE_DATABASE_URL", "value": f"sqlite:///{DATA_DIR}/statuspage.db"}
        )
    if org.status_page.s3_copy is not None:
        for env_name, key in (
            ("AWS_ACCESS_KEY_ID", "s3-access-key-id"),
            ("AWS_SECRET_ACCESS_KEY", "s3-secret-access-key"),
        ):
            if key in secret_data:
                env.append(_secret_env(env_name, f"{STATUSPAGE}-secrets", key))
    env += statuspage_mail.subscription_env(settings.mail, f"{STATUSPAGE}-secrets", secret_data)

    volumes: list[dict[str, Any]] = [
        {"name": "config", "configMap": {"name": f"{STATUSPAGE}-config"}},
        {"name": "tmp", "emptyDir": {"sizeLimit": "64Mi"}},
    ]
    mounts: list[dict[str, Any]] = [
        {"name": "config", "mountPath": CONFIG_DIR, "readOnly": True},
        {"name": "tmp", "mountPath": "/tmp"},
    ]
    storage: list[Manifest] = []
    if not postgresql:
        storage.append(
            {
                "apiVersion": "v1",
                "kind": "PersistentVolumeClaim",
                "metadata": _meta(f"{STATUSPAGE}-data", ns, lbl),
                "spec": {
                    "accessModes": ["ReadWriteOnce"],
                    "resources": {"requests": {"storage": org.status_page.storage_size}},
                },
            }
        )
        volumes.append(
            {"name": "data", "persistentVolumeClaim": {"claimName": f"{STATUSPAGE}-data"}}
        )
        mounts.append({"name": "data", "mountPath": DATA_DIR})

    probe = {"httpGet": {"path": "/healthz", "port": "http"}, "timeoutSeconds": 2}
    deployment: Manifest = {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": _meta(STATUSPAGE, ns, lbl),
        "spec": {
            "replicas": replicas,
            "revisionHistoryLimit": 5,
            "selector": {"matchLabels": selector_labels(STATUSPAGE)},
            # A ReadWriteOnce SQLite volume cannot be attached to an old and a new pod at once.
            "strategy": (
                {"type": "RollingUpdate", "rollingUpdate": {"maxUnavailable": 0, "maxSurge": 1}}
                if postgresql
                else {"type": "Recreate"}
            ),
            "template": {
                "metadata": {
                    "labels": lbl,
                    # Pods roll when the rendered config changes.
                    "annotations": {
                        "incident-response/config-sha256": hashlib.sha256(
                            config_text.encode()
                        ).hexdigest()
                    },
                },
                "spec": {
                    "automountServiceAccountToken": False,
                    "securityContext": pod_security,
                    "topologySpreadConstraints": [
                        {
                            "maxSkew": 1,
                            "topologyKey": "kubernetes.io/hostname",
                            "whenUnsatisfiable": "DoNotSchedule",
                            "labelSelector": {"matchLabels": selector_labels(STATUSPAGE)},
                        },
                        {
                            "maxSkew": 1,
                            "topologyKey": "topology.kubernetes.io/zone",
                            "whenUnsatisfiable": "ScheduleAnyway",
                            "labelSelector": {"matchLabels": selector_labels(STATUSPAGE)},
                        },
                    ],
                    "containers": [
                        {
                            "name": STATUSPAGE,
                            "image": f"{settings.statuspage_image}:{settings.statuspage_tag}",
                            "imagePullPolicy": "IfNotPresent",
                            "command": ["statuspage"],
                            "args": [
                                "serve",
                                "--config",
                                f"{CONFIG_DIR}/config.yaml",
                                "--host",
                                "0.0.0.0",
                                "--port",
                                str(HTTP_PORT),
                            ],
                            "ports": [
                                {"name": "http", "containerPort": HTTP_PORT, "protocol": "TCP"}
                            ],
                            "env": env,
                            "startupProbe": {**probe, "periodSeconds": 2, "failureThreshold": 30},
                            "readinessProbe": {**probe, "periodSeconds": 5, "failureThreshold": 2},
                            "livenessProbe": {**probe, "periodSeconds": 10, "failureThreshold": 3},
                            "resources": {
                                "requests": {"cpu": "100m", "memory": "128Mi"},
                                "limits": {"cpu": "1", "memory": "256Mi"},
                            },
                            "securityContext": container_security,
                            "volumeMounts": mounts,
                        }
                    ],
                    "volumes": volumes,
                },
            },
        },
    }
    egress_ports = sorted(_check_ports(config) | ({5432} if postgresql else set()))
    return [
        {
            "apiVersion": "v1",
            "kind": "Namespace",
            "metadata": {
                "name": ns,
                "labels": {
                    "app.kubernetes.io/name": ns,
                    "app.kubernetes.io/part-of": PART_OF,
                    "app.kubernetes.io/managed-by": "pulumi",
                    "pod-security.kubernetes.io/enforce": "restricted",
                },
            },
        },
        {
            "apiVersion": "v1",
            "kind": "ConfigMap",
            "metadata": _meta(f"{STATUSPAGE}-config", ns, lbl),
            "data": {"config.yaml": config_text},
        },
        {
            "apiVersion": "v1",
            "kind": "Secret",
            "metadata": _meta(f"{STATUSPAGE}-secrets", ns, lbl),
            "type": "Opaque",
            "stringData": secret_data,
        },
        *storage,
        deployment,
        {
            "apiVersion": "v1",
            "kind": "Service",
            "metadata": _meta(STATUSPAGE, ns, lbl),
            "spec": {
                "type": "ClusterIP",
                "selector": selector_labels(STATUSPAGE),
                "ports": [{"name": "http", "port": 80, "targetPort": "http", "protocol": "TCP"}],
            },
        },
        {
            "apiVersion": "networking.k8s.io/v1",
            "kind": "Ingress",
            "metadata": _meta(
                STATUSPAGE,
                ns,
                lbl,
                annotations={"cert-manager.io/cluster-issuer": settings.cert_issuer},
            ),
            "spec": {
                "tls": [{"hosts": [org.status_page.domain], "secretName": f"{STATUSPAGE}-tls"}],
                "rules": [
                    {
                        "host": org.status_page.domain,
                        "http": {
                            "paths": [
                                {
                                    "path": "/",
                                    "pathType": "Prefix",
                                    "backend": {
                                        "service": {"name": STATUSPAGE, "port": {"name": "http"}}
                                    },
                                }
                            ]
                        },
                    }
                ],
            },
        },
        {
            "apiVersion": "policy/v1",
            "kind": "PodDisruptionBudget",
            "metadata": _meta(STATUSPAGE, ns, lbl),
            # With one replica a minAvailable of 1 would block every node drain forever.
            "spec": {
                **({"minAvailable": 1} if replicas > 1 else {"maxUnavailable": 1}),
                "selector": {"matchLabels": selector_labels(STATUSPAGE)},
            },
        },
        {
            "apiVersion": "networking.k8s.io/v1",
            "kind": "NetworkPolicy",
            "metadata": _meta(STATUSPAGE, ns, lbl),
            "spec": {
                "podSelector": {"matchLabels": selector_labels(STATUSPAGE)},
                "policyTypes": ["Ingress", "Egress"],
                # The ingress controller (visitors), Prometheus and Alertmanager (monitoring),
                # and the toolbox in this namespace (`irctl status`) reach the page.
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
                    *statuspage_mail.smtp_egress(settings.mail),
                ],
            },
        },
        {
            "apiVersion": "monitoring.coreos.com/v1",
            "kind": "ServiceMonitor",
            "metadata": _meta(STATUSPAGE, ns, lbl),
            "spec": {
                "selector": {"matchLabels": selector_labels(STATUSPAGE)},
                "namespaceSelector": {"matchNames": [ns]},
                "endpoints": [{"port": "http", "path": "/metrics", "interval": "30s"}],
            },
        },
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
    """The incident-manager Deployment, its `pagerduty-secrets` and the daily page test.

    `routing_keys` maps service id -> Events API v2 routing key (opaque, secret): the
    integration keys Pulumi itself created, so nobody copies them by hand. The Secret carries
    `api-key` and `routing-key` (the page-test service's key), the names the original runbook
    uses, and `routing-key-<service>` for every service, mounted as files under
    /etc/pagerduty: `kubectl exec deploy/incident-manager -n incident-response -- irctl
    page-test --service api --routing-key-file /etc/pagerduty/routing-key-api`.

    The daily CronJob appends its result to the page-test record file on a volume the toolbox
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
                        "activeDeadlineSeconds": 900,
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
    ]
