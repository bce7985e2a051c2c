"""The incident-manager toolbox: translates `deploy.kubernetes.toolbox_manifests`."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import pulumi

from components.settings import StackSettings
from components.statuspage import deploy_settings, kubernetes_resource
from deploy.kubernetes import TOOLBOX, toolbox_manifests
from orgconfig.model import OrgConfig

PKG = "incident-response:toolbox"


@dataclass
class ToolboxArgs:
    org: OrgConfig
    settings: StackSettings
    routing_keys: Mapping[str, pulumi.Input[str]]  # service id -> integration key (secret)
    depends_on: Sequence[pulumi.Resource] = field(default_factory=list)  # e.g. the Namespace


class Toolbox(pulumi.ComponentResource):
    deployment_name: pulumi.Output[str]

    def __init__(self, name: str, args: ToolboxArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__(f"{PKG}:Toolbox", name, None, opts)
        manifests = toolbox_manifests(
            args.org,
            deploy_settings(args.settings),
            args.settings.secret("pagerdutyApiKey"),
            {sid: pulumi.Output.secret(key) for sid, key in args.routing_keys.items()},
        )
        child = pulumi.ResourceOptions(parent=self, depends_on=list(args.depends_on))
        protect = args.org.deployment.protect  # its PersistentVolumeClaim holds the records
        self.resources = [kubernetes_resource(m, child, protect) for m in manifests]
        self.deployment_name = pulumi.Output.from_input(TOOLBOX)
        self.register_outputs({"deployment_name": self.deployment_name})
