"""Custom resources checked against prometheus-operator's own CRD schemas.

kubernetes-validate has schemas for Kubernetes' built-in kinds only. For the operator's kinds
we use `cloudcoil-models-prometheus-operator` (PyPI): pydantic models generated from the
operator's CRD OpenAPI schemas (release 0.80.1; newer model releases need Python 3.14). The
models check types, enums, required fields and formats, but like the CRDs' pydantic defaults
they ignore unknown fields, while the API server prunes them silently (a misspelt
`honorlabels` would vanish and the label would still be renamed). So every field of the
manifest must also survive a round trip through the model: one that does not is unknown.
"""

from __future__ import annotations

import importlib
from typing import Any

from pydantic import BaseModel, ValidationError

# (apiVersion, kind) -> the model's module and class in cloudcoil.models.prometheus_operator.
OPERATOR_KINDS: dict[tuple[str, str], tuple[str, str]] = {
    ("monitoring.coreos.com/v1", "ServiceMonitor"): ("v1", "ServiceMonitor"),
    ("monitoring.coreos.com/v1", "PodMonitor"): ("v1", "PodMonitor"),
    ("monitoring.coreos.com/v1", "Probe"): ("v1", "Probe"),
    ("monitoring.coreos.com/v1", "PrometheusRule"): ("v1", "PrometheusRule"),
    ("monitoring.coreos.com/v1alpha1", "AlertmanagerConfig"): ("v1alpha1", "AlertmanagerConfig"),
}


def _model(key: tuple[str, str]) -> type[BaseModel]:
    # Imported on first use: the generated modules are large (about 60,000 lines).
    module, name = OPERATOR_KINDS[key]
    found = importlib.import_module(f"cloudcoil.models.prometheus_operator.{module}")
    model: type[BaseModel] = getattr(found, name)
    return model


def _path(parts: tuple[int | str, ...] | list[int | str]) -> str:
    out = ""
    for part in parts:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out or "(top level)"


def _unknown_fields(given: Any, kept: Any, path: list[int | str], out: list[str]) -> None:
    if isinstance(given, dict) and isinstance(kept, dict):
        for key, value in given.items():
            if key not in kept:
                out.append(f"{_path([*path, key])}: unknown field (not in the CRD schema)")
            else:
                _unknown_fields(value, kept[key], [*path, key], out)
    elif isinstance(given, list) and isinstance(kept, list):
        for index, (a, b) in enumerate(zip(given, kept, strict=False)):
            _unknown_fields(a, b, [*path, index], out)


def check_custom_resource(manifest: dict[str, Any]) -> list[str] | None:
    """Every problem of one operator custom resource (`path: message`), or None when the
    manifest is not an operator kind this module knows."""
    key = (str(manifest.get("apiVersion")), str(manifest.get("kind")))
    if key not in OPERATOR_KINDS:
        return None
    model = _model(key)
    try:
        parsed = model.model_validate(manifest)
    except ValidationError as exc:
        return [f"{_path(error['loc'])}: {error['msg']}" for error in exc.errors()]
    kept = parsed.model_dump(by_alias=True, exclude_unset=True, mode="json")
    problems: list[str] = []
    _unknown_fields(manifest, kept, [], problems)
    return problems
