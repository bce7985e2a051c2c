"""The status page's own config file: pydantic models and a loader with readable errors.

The IaC renders this file from the typed org config; this package never imports that code,
so the format documented in README.md is the contract between the two.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Annotated, Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import yaml
from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    PlainSerializer,
    ValidationError,
    WithJsonSchema,
    field_validator,
    model_validator,
)

ID_PATTERN = r"^[a-z][a-z0-9]*(-[a-z0-9]+)*$"
_UNIT_SECONDS = {"d": 86400.0, "h": 3600.0, "m": 60.0, "s": 1.0, "ms": 0.001}
_DURATION_RE = re.compile(r"^(?:(\d+)d)?(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?(?:(\d+)ms)?$")
DURATION_HELP = "a duration like 500ms, 5s, 15m, 1h30m or 2d"


class ConfigError(Exception):
    """A config file that cannot be used; the message is meant for the person who wrote it."""


def parse_duration(value: Any) -> timedelta:
    if isinstance(value, timedelta):
        return value
    if isinstance(value, bool) or not isinstance(value, str):
        # A bare number is ambiguous (seconds? milliseconds?): refuse rather than guess.
        raise ValueError(f"{value!r} is not {DURATION_HELP}")
    text = value.strip()
    match = _DURATION_RE.match(text)
    if not text or not match or not any(match.groups()):
        raise ValueError(f"{value!r} is not {DURATION_HELP}")
    seconds = sum(
        int(amount) * _UNIT_SECONDS[unit]
        for amount, unit in zip(match.groups(), ("d", "h", "m", "s", "ms"), strict=True)
        if amount
    )
    return timedelta(seconds=seconds)


def format_duration(delta: timedelta) -> str:
    """The shortest spelling `parse_duration` reads back ("1h30m", "1500ms")."""
    millis = round(delta.total_seconds() * 1000)
    if millis == 0:
        return "0s"
    parts = []
    for unit in ("d", "h", "m", "s"):
        size = int(_UNIT_SECONDS[unit] * 1000)
        if millis % 1000 and unit == "s":
            break  # "1500ms" rather than "1s500ms"
        if millis >= size:
            amount, millis = divmod(millis, size)
            parts.append(f"{amount}{unit}")
    if millis:
        parts.append(f"{millis}ms")
    return "".join(parts)


DURATION_PATTERN = r"^([0-9]+d)?([0-9]+h)?([0-9]+m)?([0-9]+s)?([0-9]+ms)?$"
# The org config (orgconfig/statuspage.py) uses these same types: one home for the schema.
Duration = Annotated[
    timedelta,
    BeforeValidator(parse_duration),
    PlainSerializer(format_duration, return_type=str),
    WithJsonSchema({"type": "string", "pattern": DURATION_PATTERN, "description": DURATION_HELP}),
]
Id = Annotated[str, Field(pattern=ID_PATTERN, max_length=63)]
ComponentStatus = Literal[
    "operational", "degraded_performance", "partial_outage", "major_outage", "under_maintenance"
]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Page(_Strict):
    id: Id
    name: str = Field(min_length=1, max_length=200)
    url: str = Field(pattern=r"^https?://\S+$")
    time_zone: str = "Etc/UTC"

    @field_validator("time_zone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"{value!r} is not an IANA time zone such as Europe/Berlin") from None
        return value


class _Check(_Strict):
    id: Id
    service: Id | None = Field(
        None,
        description="The probes' `service` label; default: the component's first service.",
    )
    timeout: Duration = timedelta(seconds=5)
    interval: Duration = timedelta(seconds=30)
    failures_before_partial_outage: int = Field(2, ge=1, le=100)
    failures_before_major_outage: int = Field(4, ge=1, le=100)

    @model_validator(mode="after")
    def _thresholds_ordered(self) -> _Check:
        if self.failures_before_major_outage < self.failures_before_partial_outage:
            raise ValueError(
                "failures_before_major_outage must be >= failures_before_partial_outage "
                f"(got {self.failures_before_major_outage} < {self.failures_before_partial_outage})"
            )
        if self.interval < timedelta(seconds=1):
            raise ValueError("interval must be at least 1s")
        if self.timeout <= timedelta(0):
            raise ValueError("timeout must be more than 0s")
        return self


class HttpCheck(_Check):
    type: Literal["http"]
    url: str = Field(pattern=r"^https?://\S+$")
    method: Literal["GET", "HEAD", "POST", "PUT", "OPTIONS"] = "GET"
    expected_status: int = Field(200, ge=100, le=599)
    body_contains: str | None = None
    degraded_latency: Duration | None = Field(
        None, description="A successful response slower than this marks the component degraded."
    )


class TcpCheck(_Check):
    type: Literal["tcp"]
    host: str = Field(min_length=1)
    port: int = Field(ge=1, le=65535)


Check = Annotated[HttpCheck | TcpCheck, Field(discriminator="type")]


class Component(_Strict):
    id: Id
    name: str = Field(min_length=1, max_length=200)
    description: str = ""
    services: list[Id] = Field(
        default_factory=list,
        description="Alerts whose `service` label is one of these move this component.",
    )
    checks: list[Check] = Field(default_factory=list)
    only_show_if_degraded: bool = False


class ComponentGroup(_Strict):
    id: Id
    name: str = Field(min_length=1, max_length=200)
    description: str = ""
    components: list[Component] = Field(min_length=1)


class Alertmanager(_Strict):
    critical_status: Literal["major_outage", "partial_outage"] = "major_outage"
    title_annotation: str = "statuspage_title"
    message_annotation: str = "statuspage_message"


class S3Publish(_Strict):
    bucket: str = Field(min_length=3, max_length=63)
    prefix: str = ""
    endpoint_url: str | None = Field(None, pattern=r"^https?://\S+$")
    region: str | None = None

    @field_validator("prefix")
    @classmethod
    def _prefix_is_folder(cls, value: str) -> str:
        value = value.strip("/")
        return f"{value}/" if value else ""


class Publish(_Strict):
    s3: S3Publish | None = None


class Caching(_Strict):
    max_age: Duration = timedelta(seconds=10)
    stale_while_revalidate: Duration = timedelta(seconds=60)
    stale_if_error: Duration = timedelta(days=1)

    def header(self) -> str:
        return (
            f"public, max-age={int(self.max_age.total_seconds())}, "
            f"stale-while-revalidate={int(self.stale_while_revalidate.total_seconds())}, "
            f"stale-if-error={int(self.stale_if_error.total_seconds())}"
        )


class StatusPageConfig(_Strict):
    page: Page
    groups: list[ComponentGroup] = Field(default_factory=list)
    components: list[Component] = Field(
        default_factory=list, description="Components outside any group."
    )
    alertmanager: Alertmanager = Field(default_factory=Alertmanager)
    publish: Publish = Field(default_factory=Publish)
    caching: Caching = Field(default_factory=Caching)

    @model_validator(mode="after")
    def _ids_unique(self) -> StatusPageConfig:
        problems: list[str] = []
        seen: dict[str, str] = {}
        for group in self.groups:
            if group.id in seen:
                problems.append(f"id {group.id!r} is used twice")
            seen[group.id] = "group"
        for component in self.all_components():
            if component.id in seen:
                problems.append(f"id {component.id!r} is used twice")
            seen[component.id] = "component"
        owners: dict[str, str] = {}
        checks: set[str] = set()
        for component in self.all_components():
            for service in component.services:
                if service in owners:
                    problems.append(
                        f"service {service!r} is mapped to both {owners[service]!r} and "
                        f"{component.id!r}; a service drives exactly one component"
                    )
                owners[service] = component.id
            for check in component.checks:
                if check.id in checks:
                    problems.append(f"check id {check.id!r} is used twice")
                checks.add(check.id)
        if not seen:
            problems.append("the page has no components: add `groups` or `components`")
        if problems:
            raise ValueError("; ".join(problems))
        return self

    def all_components(self) -> Iterator[Component]:
        for group in self.groups:
            yield from group.components
        yield from self.components

    def group_of(self, component_id: str) -> ComponentGroup | None:
        for group in self.groups:
            if any(c.id == component_id for c in group.components):
                return group
        return None

    def component(self, component_id: str) -> Component | None:
        return next((c for c in self.all_components() if c.id == component_id), None)

    def component_for_service(self, service: str) -> Component | None:
        return next((c for c in self.all_components() if service in c.services), None)


def _location(loc: tuple[int | str, ...]) -> str:
    text = ""
    for part in loc:
        if isinstance(part, int):
            text += f"[{part}]"
        elif part in ("http", "tcp"):
            # pydantic adds the discriminator value as a path step; readers never wrote it.
            continue
        else:
            text += f".{part}" if text else str(part)
    return text or "(top level)"


def _describe(error: Any) -> str:
    kind = error["type"]
    if kind == "missing":
        return "is required"
    if kind == "extra_forbidden":
        return "is not a known setting (check the spelling; see statuspage/README.md)"
    if kind == "literal_error":
        return f"{error['input']!r} is not allowed; {error['msg'][0].lower()}{error['msg'][1:]}"
    if kind == "string_pattern_mismatch":
        pattern = error.get("ctx", {}).get("pattern", "")
        if pattern == ID_PATTERN:
            return f"{error['input']!r} is not an id: use lowercase letters, digits and dashes"
        if pattern.startswith("^https?://"):
            return f"{error['input']!r} is not a URL: it must start with http:// or https://"
        return f"{error['input']!r} does not look right ({error['msg']})"
    message = str(error["msg"]).removeprefix("Value error, ")
    return message


def parse_config(data: Any, source: str = "<config>") -> StatusPageConfig:
    try:
        return StatusPageConfig.model_validate(data)
    except ValidationError as exc:
        lines = [f"  {_location(e['loc'])}: {_describe(e)}" for e in exc.errors()]
        raise ConfigError(
            f"{source} is not a valid status page config:\n" + "\n".join(lines)
        ) from None


def load_config(path: str | Path) -> StatusPageConfig:
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read the config file ({exc.strerror})") from None
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise ConfigError(f"{path}: not valid YAML: {exc}") from None
    if not isinstance(data, dict):
        raise ConfigError(f"{path}: expected a mapping with `page:` at the top level")
    return parse_config(data, str(path))
