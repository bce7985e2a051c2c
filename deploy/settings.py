"""Deployment knobs for the Kubernetes side: now owned by `orgconfig.settings` (one table of
stack defaults and secrets); these names stay importable from here."""

from __future__ import annotations

from orgconfig.settings import STATUSPAGE_SECRET_KEYS, DeploySettings, DeploySettingsError

__all__ = ["STATUSPAGE_SECRET_KEYS", "DeploySettings", "DeploySettingsError"]
