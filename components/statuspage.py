"""The status page on Kubernetes: translates `deploy.kubernetes.statuspage_manifests`."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pulumi
import pulumi_kubernetes as k8s

from components.settings import DEFAULTS, StackSettings
from deploy.kubernetes import statuspage_manifests, statuspage_webhook_url
from deploy.settings import STATUSPAGE_SECRET_KEYS, DeploySettings
from orgconfig.model import OrgConfig

PKG = "incident-response:statuspage"

# kind -> pulumi_kubernetes class taking `metadata` plus the manifest's other top-level fields.
_KINDS: dict[str, Any] = {
    "Namespace": k8s.core.v1.Namespace,
    "ConfigMap": k8s.core.v1.ConfigMap,
    "Secret": k8s.core.v1.Secret,
    "PersistentVolumeClaim": k8s.core.v1.PersistentVolumeClaim,
    "Service": k8s.core.v1.Service,
    "Deployment": k8s.apps.v1.Deployment,
    "CronJob": k8s.batch.v1.CronJob,
    "Ingress": k8s.networking.v1.Ingress,
    "NetworkPolicy": k8s.networking.v1.NetworkPolicy,
    "PodDisruptionBudget": k8s.policy.v1.PodDisruptionBudget,
    "Role": k8s.rbac.v1.Role,
    "RoleBinding": k8s.rbac.v1.RoleBinding,
}
_FIELDS = {"stringData": "string_data", "roleRef": "role_ref"}
# Deleting these loses everything in them (the namespace) or stored data (a volume claim):
# protected like the paging resources when the org's deployment.protect is on.
PROTECTED_KINDS = frozenset({"Namespace", "PersistentVolumeClaim"})


def kubernetes_resource(
    manifest: dict[str, Any], opts: pulumi.ResourceOptions, protect: bool = False
) -> pulumi.Resource:
    """One pulumi_kubernetes resource for one manifest; the Pulumi name is `<kind>-<name>`
    (lower case) so objects of different kinds may share a Kubernetes name."""
    kind = manifest["kind"]
    if protect and kind in PROTECTED_KINDS:
        opts = pulumi.ResourceOptions.merge(opts, pulumi.ResourceOptions(protect=True))
    name = f"{kind.lower()}-{manifest['metadata']['name']}"
    fields = {
        _FIELDS.get(key, key): value
        for key, value in manifest.items()
        if key not in ("apiVersion", "kind")
    }
    if kind in _KINDS:
        return _KINDS[kind](name, opts=opts, **fields)
    # CRDs (ServiceMonitor, Probe): the provider has no typed class for them.
    return k8s.apiextensions.CustomResource(
        name, api_version=manifest["apiVersion"], kind=kind, opts=opts, **fields
    )


def deploy_settings(settings: StackSettings) -> DeploySettings:
    return DeploySettings.from_values(settings.stack, {k: settings.value(k) for k in DEFAULTS})


@dataclass
class StatusPageArgs:
    org: OrgConfig
    settings: StackSettings


class StatusPage(pulumi.ComponentResource):
    namespace: pulumi.Output[str]
    webhook_url: pulumi.Output[str]  # in-cluster URL for Alertmanager's webhook receiver
    url: pulumi.Output[str]

    def __init__(self, name: str, args: StatusPageArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__(f"{PKG}:StatusPage", name, None, opts)
        settings = deploy_settings(args.settings)
        secrets = {key: args.settings.secret(key) for key in STATUSPAGE_SECRET_KEYS}
        manifests = statuspage_manifests(
            args.org, settings, {k: v for k, v in secrets.items() if v is not None}
        )
        protect = args.org.deployment.protect
        namespace = kubernetes_resource(manifests[0], pulumi.ResourceOptions(parent=self), protect)
        child = pulumi.ResourceOptions(parent=self, depends_on=[namespace])
        self.resources = [namespace] + [
            kubernetes_resource(m, child, protect) for m in manifests[1:]
        ]
        self.namespace_resource = namespace
        self.namespace = pulumi.Output.from_input(settings.namespace)
        self.webhook_url = pulumi.Output.from_input(statuspage_webhook_url(settings))
        self.url = pulumi.Output.from_input(
            args.org.status_page.url if args.org.status_page else ""
        )
        self.register_outputs(
            {"namespace": self.namespace, "webhook_url": self.webhook_url, "url": self.url}
        )
