"""`irctl render` writers: DIR/kubernetes/*.yaml from the recorded plan, DIR/statuspage/config.yaml.

The manifests come from the plan, i.e. from what the Pulumi components actually registered
(render once, deliver many ways), with the engine's float numbers turned back into integers
and every Secret value replaced by a placeholder. `kubectl apply -f DIR/kubernetes/` applies
them in file-name order, the Namespace first.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import yaml

from deploy.statuspage_config import statuspage_config
from iac.redaction import unwrap
from orgconfig.model import OrgConfig
from orgconfig.yamlsafe import FastDumper

if TYPE_CHECKING:
    from iac.plan import Plan

REDACTED = "REDACTED (set by pulumi from secret config)"
KIND_ORDER = [
    "Namespace",
    "Secret",
    "ConfigMap",
    "Role",
    "RoleBinding",
    "PersistentVolumeClaim",
    "Service",
    "Deployment",
    "CronJob",
    "PodDisruptionBudget",
    "NetworkPolicy",
    "Ingress",
]


def _integers(value: Any) -> Any:
    """The engine hands numbers over as floats (`port: 80.0`); schemas want integers."""
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, dict):
        return {k: _integers(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_integers(v) for v in value]
    return value


def _redacted_secret(manifest: dict[str, Any], raw: dict[str, Any]) -> dict[str, Any]:
    keys: list[str] = []
    for field in ("data", "stringData"):
        content = unwrap(raw.get(field))
        if isinstance(content, dict):
            keys.extend(content)
    out = {k: v for k, v in manifest.items() if k not in ("data", "stringData")}
    out["stringData"] = {key: REDACTED for key in sorted(set(keys))}
    return out


def _readable(manifest: dict[str, Any]) -> dict[str, Any]:
    """Keys in the order people write them: apiVersion, kind, metadata (name first)..."""
    head = ["apiVersion", "kind", "metadata"]
    out = {k: manifest[k] for k in head if k in manifest}
    out.update({k: v for k, v in manifest.items() if k not in head})
    metadata = out.get("metadata")
    if isinstance(metadata, dict):
        first = ["name", "namespace", "labels", "annotations"]
        out["metadata"] = {k: metadata[k] for k in first if k in metadata} | {
            k: v for k, v in metadata.items() if k not in first
        }
    return out


SECRET_HEADER = (
    "# Secret values are placeholders: Pulumi sets the real ones from secret config.\n"
    "# Applying this file to a live cluster would overwrite them.\n"
)


def plan_manifests(plan: Plan) -> list[dict[str, Any]]:
    """Every Kubernetes object in the plan as a manifest, in `kubectl apply` order."""
    manifests = []
    for resource in plan.resources:
        if not resource.custom or not resource.type.startswith("kubernetes:"):
            continue
        manifest = _integers(resource.inputs)
        if manifest.get("kind") == "Secret":
            manifest = _redacted_secret(manifest, resource.raw_inputs)
        manifests.append(_readable(manifest))

    def order(m: dict[str, Any]) -> tuple[int, str]:
        kind = str(m.get("kind"))
        rank = KIND_ORDER.index(kind) if kind in KIND_ORDER else len(KIND_ORDER)
        return rank, str(m.get("metadata", {}).get("name"))

    return sorted(manifests, key=order)


def manifest_file_name(index: int, manifest: dict[str, Any]) -> str:
    return f"{index:02d}-{str(manifest['kind']).lower()}-{manifest['metadata']['name']}.yaml"


def write_kubernetes(org: OrgConfig, plan: Plan, out: Path) -> list[Path]:
    folder = out / "kubernetes"
    folder.mkdir(parents=True, exist_ok=True)
    for stale in folder.glob("*.yaml"):
        stale.unlink()
    written = []
    for index, manifest in enumerate(plan_manifests(plan)):
        path = folder / manifest_file_name(index, manifest)
        header = SECRET_HEADER if manifest.get("kind") == "Secret" else ""
        text = yaml.dump(manifest, Dumper=FastDumper, sort_keys=False, allow_unicode=True)
        path.write_text(header + text)
        written.append(path)
    return written


def write_statuspage_config(org: OrgConfig, plan: Plan, out: Path) -> list[Path]:
    if org.status_page is None:
        return []
    path = out / "statuspage" / "config.yaml"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(
        "# The status page's config, rendered from the org config by `irctl render`.\n"
        + yaml.dump(statuspage_config(org), Dumper=FastDumper, sort_keys=False, allow_unicode=True)
    )
    return [path]
