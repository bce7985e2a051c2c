"""Per-stack settings as Pulumi hands them over: secrets as secret Outputs, plain values.

Only `__main__.py` reads `pulumi.Config`; it fills a `StackSettings` and hands it down, so the
components can be exercised under mocks with any settings.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import pulumi

from orgconfig.settings import DEFAULTS, SECRET_KEYS

# The one table of stack defaults and secrets (where each secret lands) is
# `orgconfig.settings`; the old names stay importable from here.
__all__ = ["DEFAULTS", "SECRET_KEYS", "StackSettings"]


@dataclass
class StackSettings:
    stack: str
    secrets: dict[str, pulumi.Input[str]] = field(default_factory=dict)
    values: dict[str, str] = field(default_factory=dict)

    def secret(self, key: str) -> pulumi.Output[str] | None:
        """A secret setting as a secret Output, or None when it is not configured."""
        if key not in SECRET_KEYS:
            raise KeyError(f"{key} is not a declared secret setting")
        value = self.secrets.get(key)
        return None if value is None else pulumi.Output.secret(value)

    def value(self, key: str) -> str:
        return self.values.get(key, DEFAULTS[key])
