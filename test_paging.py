"""The original runbook's paging test, kept working in the incident-manager image:

    kubectl exec -it deploy/incident-manager -n incident-response -- python test_paging.py

A thin entry to `irctl page-test`: with no arguments it pages the page-test service of the
prod stack at high urgency through the real first tier, waits up to 10 minutes for someone to
acknowledge, resolves the incident, prints the result and records it where the toolbox says
(IRCTL_RECORD_FILE, for `irctl metrics`); routing keys come from the toolbox's mounted
`pagerduty-secrets` (PAGERDUTY_ROUTING_KEY_DIR). Arguments go to `irctl page-test`
after those defaults, so they override them (`python test_paging.py --service api`).
"""

from __future__ import annotations

import os
import sys

DEFAULT_ARGS = ["--service", "page-test", "--urgency", "high", "--resolve-after", "600"]


def main(argv: list[str] | None = None) -> None:
    from irctl.cli import main as irctl

    args = sys.argv[1:] if argv is None else argv
    # The toolbox names its record volume (the image's root filesystem is read-only).
    record = os.environ.get("IRCTL_RECORD_FILE")
    defaults = [*DEFAULT_ARGS, *(["--record-file", record] if record else [])]
    # Click keeps the last value of a repeated option: later arguments win.
    sys.argv = ["irctl", "page-test", *defaults, *args]
    irctl()


if __name__ == "__main__":
    main()
