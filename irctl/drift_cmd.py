"""`irctl drift`: what differs between the live PagerDuty account and the config in Git.

Exit codes: 0 no drift, 3 drift, 2 bad input or an unreachable API. Read-only.
"""

from __future__ import annotations

import json
import sys
from datetime import UTC, datetime
from enum import StrEnum
from typing import Annotated

import typer
from pydantic import ValidationError

from irctl.common import ConfigOption, StackOption, fail, load_org
from irctl.import_cmd import ApiUrlOption, TokenEnvOption, read_live, token_from_env
from oncall.drift import drift, render_markdown, render_text
from oncall.importer import import_snapshot
from orgconfig.model import OrgConfig

DRIFT_EXIT = 3


class Format(StrEnum):
    text = "text"
    markdown = "markdown"
    json = "json"


def drift_command(
    stack: StackOption = "prod",
    config: ConfigOption = None,
    api_url: ApiUrlOption = "https://api.pagerduty.com",
    token_env: TokenEnvOption = "PAGERDUTY_API_KEY",
    output: Annotated[
        Format, typer.Option("--format", help="text, markdown or json.")
    ] = Format.text,
) -> None:
    """Compare the live PagerDuty account with the org config in Git and print every
    difference in words; exit 3 when they differ, 0 when they match, 2 on bad input."""
    git, _ = load_org(stack, config)
    token = token_from_env(token_env)
    now = datetime.now(UTC)
    snap = read_live(api_url, token, [], since=now)
    live = import_snapshot(
        snap, org_name=git.org.name, time_zone=git.org.time_zone, hints=git, now=now
    )
    try:
        live_org = OrgConfig.model_validate(live.config)
    except ValidationError as exc:
        problems = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors())
        fail(f"the live account cannot be read as an org config: {problems}", 2)
    differences = drift(
        git,
        live_org,
        findings=live.unsupported,
        since=now,
        live_v3=live.live_v3,
    )
    if output is Format.json:
        sys.stdout.write(
            json.dumps(
                {
                    "stack": stack,
                    "drift": bool(differences),
                    "differences": [d.as_json() for d in differences],
                },
                indent=2,
            )
            + "\n"
        )
    elif output is Format.markdown:
        sys.stdout.write(render_markdown(differences, f"PagerDuty drift: stack {stack}"))
    else:
        sys.stdout.write(render_text(differences))
    if differences:
        raise typer.Exit(DRIFT_EXIT)
