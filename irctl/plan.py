"""Moved to `iac.plan` (below the CLI); this name stays importable."""

from iac.plan import PROJECT, ROOT, Plan, PlannedResource, fake_integration_key, record_program

__all__ = ["PROJECT", "ROOT", "Plan", "PlannedResource", "fake_integration_key", "record_program"]
