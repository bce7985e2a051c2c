"""Moved to `iac.plan` (below the CLI); these names stay importable from here."""

from iac.plan import (
    PROJECT,
    ROOT,
    Plan,
    PlannedResource,
    RecordingMocks,
    RecordingMonitor,
    fake_integration_key,
    placeholder_secrets,
    record_program,
)

__all__ = [
    "PROJECT",
    "ROOT",
    "Plan",
    "PlannedResource",
    "RecordingMocks",
    "RecordingMonitor",
    "fake_integration_key",
    "placeholder_secrets",
    "record_program",
]
