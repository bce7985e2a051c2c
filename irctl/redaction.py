"""Moved to `iac.redaction` (below the CLI); this name stays importable."""

from iac.redaction import REDACTED, SECRET_MARK, SECRET_SIG, redact, unwrap

__all__ = ["REDACTED", "SECRET_MARK", "SECRET_SIG", "redact", "unwrap"]
