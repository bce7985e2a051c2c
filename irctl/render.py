"""`irctl render`: the offline plan and every artifact that goes to production, in one folder."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from iac.plan import Plan, paused_gc, record_program
from irctl.stacks import stack_settings
from orgconfig.model import OrgConfig


@dataclass
class Rendered:
    out: Path
    plan: Plan
    files: list[Path] = field(default_factory=list)


# Each artifact writer gets the typed org, the recorded plan and the output folder, and
# returns the files it wrote. Domains register theirs in `WRITERS` (alerting, kubernetes...).
Writer = Callable[[OrgConfig, Plan, Path], list[Path]]


def _write_plan(org: OrgConfig, plan: Plan, out: Path) -> list[Path]:
    path = out / "plan.json"
    path.write_text(json.dumps(plan.as_json(), indent=2, sort_keys=False) + "\n")
    return [path]


def writers() -> list[Writer]:
    from deploy.render import write_kubernetes, write_statuspage_config  # issue 5: deploy/
    from irctl.alerting import write_alerting  # issue 3: alerts/

    return [_write_plan, write_kubernetes, write_statuspage_config, write_alerting]


def render(
    org: OrgConfig, stack: str, config_file: Path, out: Path, *, exiting: bool = False
) -> Rendered:
    """Record the program and write every artifact; `exiting`: the process ends right after
    (the CLI), so the heap is not collected at the end (one collection for both steps)."""
    out.mkdir(parents=True, exist_ok=True)
    with paused_gc(collect=not exiting):
        plan = record_program(stack, config_file.resolve(), stack_settings(stack))
        result = Rendered(out, plan)
        for write in writers():
            result.files.extend(write(org, plan, out))
    return result
