"""The public status page as declared in the org config (rendered for the status page service).

`deploy.statuspage_config` turns this into the status page's own config file (the format in
`statuspage/config.py`); keep the vocabulary the same so a reader recognises both.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from orgconfig.units import Duration

ID_PATTERN = r"^[a-z][a-z0-9]*(-[a-z0-9]+)*$"


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class _Check(_Strict):
    id: str = Field(pattern=ID_PATTERN, max_length=63)
    interval: Duration = Field(timedelta(seconds=30), description="How often the check runs.")
    timeout: Duration = Field(timedelta(seconds=10), description="Give up after this long.")
    failures_before_partial_outage: int = Field(2, ge=1, le=100)
    failures_before_major_outage: int = Field(4, ge=1, le=100)

    @model_validator(mode="after")
    def _sane(self) -> _Check:
        if self.failures_before_major_outage < self.failures_before_partial_outage:
            raise ValueError(
                "failures_before_major_outage must be at least failures_before_partial_outage"
            )
        if self.interval < timedelta(seconds=1) or self.timeout <= timedelta(0):
            raise ValueError("interval must be at least 1s and timeout more than 0s")
        return self


class HttpCheck(_Check):
    """`GET url` answers `expected_status` (and contains `body_contains`) within `timeout`."""

    type: Literal["http"]
    url: str = Field(pattern=r"^https?://\S+$")
    method: Literal["GET", "HEAD", "POST", "PUT", "OPTIONS"] = "GET"
    expected_status: int = Field(200, ge=100, le=599)
    body_contains: str | None = None
    degraded_latency: Duration | None = Field(
        None, description="A successful answer slower than this marks the component degraded."
    )


class TcpCheck(_Check):
    """A TCP connection to `host:port` opens within `timeout`."""

    type: Literal["tcp"]
    host: str = Field(min_length=1)
    port: int = Field(ge=1, le=65535)


Check = Annotated[HttpCheck | TcpCheck, Field(discriminator="type")]


class Component(_Strict):
    id: str = Field(pattern=ID_PATTERN)
    name: str = Field(min_length=1)
    description: str = ""
    checks: list[Check] = Field(default_factory=list, description="Synthetic checks.")


class ComponentGroup(_Strict):
    id: str | None = Field(
        None, pattern=ID_PATTERN, description="Defaults to the name, lower-cased and dashed."
    )
    name: str = Field(min_length=1)
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
