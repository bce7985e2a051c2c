"""Pulumi's wire format for secrets, for code that reads recorded plans (no pulumi import).

A secret input arrives from the mock engine as
`{"4dabf18193072939515e22adb298388d": "1b47061264138c4ac30d75fd1eb44270", "value": ...}`.
"""

from __future__ import annotations

from typing import Any

SECRET_SIG = "4dabf18193072939515e22adb298388d"
SECRET_MARK = "1b47061264138c4ac30d75fd1eb44270"
REDACTED = "[secret]"


def redact(value: Any) -> Any:
    """Replace every secret-wrapped value with "[secret]", recursively."""
    if isinstance(value, dict):
        if value.get(SECRET_SIG) == SECRET_MARK:
            return REDACTED
        return {k: redact(v) for k, v in value.items()}
    if isinstance(value, list):
        return [redact(v) for v in value]
    return value


def unwrap(value: Any) -> Any:
    """Drop the secret wrappers, keeping the shape (to read key names; never print values)."""
    if isinstance(value, dict):
        if SECRET_SIG in value:
            return unwrap(value.get("value"))
        return {k: unwrap(v) for k, v in value.items()}
    if isinstance(value, list):
        return [unwrap(v) for v in value]
    return value
