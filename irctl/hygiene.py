"""`irctl validate` steps of issue 11: secret settings only as `secure:` values, and every
rendered Kubernetes object within the API server's size limits."""

from __future__ import annotations

import base64
import binascii
import contextlib
import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from iac.redaction import unwrap
from policy.secrets import stack_file_problems

# A ConfigMap or Secret holds at most 1 MiB of data (Kubernetes docs, "ConfigMaps" and
# "Secrets"); etcd refuses requests over about 1.5 MiB (its default --max-request-bytes).
DATA_LIMIT = 1024 * 1024
OBJECT_LIMIT = 1536 * 1024
_DATA_KINDS = {"ConfigMap", "Secret"}


def _data_bytes(manifest: dict[str, Any]) -> int:
    size = 0
    for field in ("data", "stringData", "binaryData"):
        for key, value in (manifest.get(field) or {}).items():
            text = str(value if value is not None else "")
            raw = len(text.encode())
            if field == "binaryData" or (field == "data" and manifest.get("kind") == "Secret"):
                with contextlib.suppress(binascii.Error, ValueError):  # base64 on the wire
                    raw = len(base64.b64decode(text, validate=True))
            size += len(str(key)) + raw
    return size


def object_size_problems(resources: Sequence[Any]) -> list[str]:
    """Kubernetes objects of a recorded plan that the API server would refuse for their size."""
    problems = []
    for resource in resources:
        if not resource.custom or not resource.type.startswith("kubernetes:"):
            continue
        manifest = unwrap(resource.raw_inputs)
        kind = manifest.get("kind", resource.type.rsplit(":", 1)[-1])
        name = (manifest.get("metadata") or {}).get("name", resource.name)
        if kind in _DATA_KINDS and (data := _data_bytes(manifest)) > DATA_LIMIT:
            problems.append(
                f"{kind} {name!r} holds {data:,} bytes of data; Kubernetes allows at most "
                f"{DATA_LIMIT:,} (1 MiB): shorten the texts in the org config that end up "
                "here (descriptions, component lists) or split the object"
            )
        whole = len(json.dumps(manifest, separators=(",", ":")).encode())
        if whole > OBJECT_LIMIT:
            problems.append(
                f"{kind} {name!r} is {whole:,} bytes; etcd refuses objects over about "
                f"{OBJECT_LIMIT:,} (1.5 MiB): split it (e.g. one PrometheusRule per team)"
            )
    return problems


def secret_settings_problems(stack: str, root: Path | None) -> list[str]:
    """Plain-text secrets in the checkout's Pulumi.<stack>.yaml (none without a checkout)."""
    return stack_file_problems(stack, root) if root is not None else []
