"""The public status page as declared in the org config (rendered for the status page service).

`deploy.statuspage_config` turns this into the status page's own config file (the format in
`statuspage/config.py`); keep the vocabulary the same so a reader recognises both.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

# One home for the status page's schema: its checks, ids and durations are the service's
# own models (statuspage/config.py), so what validates here is exactly what the service
# accepts, defaults included. The service never imports this package.
from statuspage.config import ID_PATTERN, Check, HttpCheck, Id, TcpCheck

__all__ = [
    "Check",
    "Component",
    "ComponentGroup",
    "HttpCheck",
    "S3Copy",
    "StatusPageSettings",
    "TcpCheck",
]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Component(_Strict):
    id: Id
    name: str = Field(min_length=1, max_length=200)
    description: str = ""
    checks: list[Check] = Field(
        default_factory=list, description="Synthetic checks (statuspage/README.md)."
    )


class ComponentGroup(_Strict):
    id: str | None = Field(
        None,
        pattern=ID_PATTERN,
        max_length=63,
        description="Defaults to the name, lower-cased and dashed.",
    )
    name: str = Field(min_length=1, max_length=200)
    components: list[Component] = Field(min_length=1)


class S3Copy(_Strict):
    """The off-cluster copy (static page + JSON + feed); credentials come from stack secrets."""

    bucket: str = Field(min_length=3, max_length=63)
    prefix: str = ""
    endpoint_url: str | None = Field(None, pattern=r"^https?://\S+$")
    region: str | None = None


class StatusPageSettings(_Strict):
    name: str = Field(min_length=1)
    url: str = Field(pattern=r"^https?://")
    domain: str = Field(min_length=1)
    groups: list[ComponentGroup] = Field(min_length=1)
    critical_status: Literal["major_outage", "partial_outage"] = Field(
        "major_outage", description="What a firing critical alert sets its component to."
    )
    s3_copy: S3Copy | None = Field(None, description="Publish a copy that survives the cluster.")
    storage_size: str = Field(
        "1Gi",
        pattern=r"^[0-9]+(Mi|Gi)$",
        description="PersistentVolumeClaim size for SQLite (used with one replica only).",
    )

    def component_ids(self) -> list[str]:
        return [c.id for g in self.groups for c in g.components]
