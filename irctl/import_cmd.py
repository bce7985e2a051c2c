"""`irctl import pagerduty`: adopt a live PagerDuty account into this project's config.

Read-only (GETs through the official client), then `oncall.importer` writes the config and
lists what it cannot express; `--import-file` adds Pulumi's bulk import file so the first
`pulumi up` adopts the existing objects instead of creating copies.
"""

from __future__ import annotations

import json
import os
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated

import typer
import yaml

from irctl.common import console, err, fail
from oncall.importer import ImportResult, Registered, bulk_import_file, import_snapshot
from oncall.live import LiveReadError, Snapshot, client_for, read_account
from orgconfig.load import ConfigError, load_config

app = typer.Typer(help="Adopt existing configuration into Git.", no_args_is_help=True)

ApiUrlOption = Annotated[str, typer.Option("--api-url", help="PagerDuty REST API base URL.")]
TokenEnvOption = Annotated[
    str,
    typer.Option(
        "--token-env",
        help="Name of the environment variable holding a read-only REST API key (the key "
        "itself is never accepted on the command line nor printed).",
    ),
]
PULUMI_PAGERDUTY_VERSION = "4.37.0"  # pyproject.toml pins the provider SDK to this version


def token_from_env(name: str) -> str:
    token = os.environ.get(name, "").strip()
    if not token:
        fail(f"environment variable {name} is not set or empty; export the API key there", 2)
    return token


def read_live(
    api_url: str, token: str, teams: list[str], since: datetime | None = None
) -> Snapshot:
    if not api_url.startswith(("https://", "http://")):
        fail(f"--api-url {api_url!r} must start with https:// (or http:// for a local double)", 2)
    try:
        return read_account(client_for(api_url, token), team_ids=teams, overrides_since=since)
    except LiveReadError as exc:
        fail(str(exc).replace(token, "[token]"), 2)


def _main_zone(snap: Snapshot) -> str:
    zones = Counter(s["time_zone"] for s in snap.schedules)
    return zones.most_common(1)[0][0] if zones else "UTC"


def config_text(result: ImportResult, source: str, when: datetime) -> str:
    header = [
        "# yaml-language-server: $schema=../config/schema.json",
        f"# Imported from PagerDuty ({source}) by `irctl import pagerduty` on "
        f"{when:%Y-%m-%d %H:%M} UTC.",
        "# Review it like any pull request. What the config cannot express is listed below;",
        "# it stays in PagerDuty as it is until you decide (and `irctl drift` keeps showing it).",
    ]
    if result.unsupported:
        header.append("#")
        header.append(f"# Not imported ({len(result.unsupported)}):")
        header += [f"#   - {finding}" for finding in result.unsupported]
    if result.notes:
        header.append("#")
        header.append("# Notes:")
        header += [f"#   - {finding}" for finding in result.notes]
    body = yaml.safe_dump(result.config, sort_keys=False, allow_unicode=True, width=100)
    return "\n".join(header) + "\n" + body


def write_import_file(
    result: ImportResult, config_file: Path, stack: str, import_file: Path
) -> list[Registered]:
    """Run the program under the recording mocks for the imported config and write the bulk
    import file for what it registers; returns PagerDuty resources nothing can adopt."""
    from irctl.plan import record_program  # loads pulumi: only when asked for

    services = result.config.get("services") or []
    extra = {"incident-response:pageTestService": services[0]["id"]} if services else {}
    plan = record_program(stack, config_file, extra)
    registered = [Registered(r.type, r.name, r.parent, r.custom) for r in plan.resources]
    data, missing = bulk_import_file(registered, result.import_ids, PULUMI_PAGERDUTY_VERSION)
    import_file.write_text(json.dumps(data, indent=2) + "\n", encoding="utf-8")
    return missing


@app.command("pagerduty")
def import_pagerduty(
    api_url: ApiUrlOption = "https://api.pagerduty.com",
    token_env: TokenEnvOption = "PAGERDUTY_API_KEY",
    out: Annotated[Path, typer.Option("--out", help="Where to write the org config.")] = Path(
        "config/imported.yaml"
    ),
    import_file: Annotated[
        Path | None,
        typer.Option("--import-file", help="Also write Pulumi's bulk import file here."),
    ] = None,
    team: Annotated[
        list[str] | None,
        typer.Option("--team", help="Import only these PagerDuty team ids (repeatable)."),
    ] = None,
    org_name: Annotated[
        str, typer.Option("--org-name", help="The org's name in the config (org.name).")
    ] = "Imported from PagerDuty",
    stack: Annotated[
        str, typer.Option("--stack", "-s", help="Stack the import file is for.")
    ] = "prod",
) -> None:
    """Read a live PagerDuty account (GETs only) and write it as this project's org config;
    everything the config cannot express is listed by name."""
    token = token_from_env(token_env)
    snap = read_live(api_url, token, team or [])
    now = datetime.now(UTC)
    result = import_snapshot(snap, org_name=org_name, time_zone=_main_zone(snap), now=now)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(config_text(result, api_url, now), encoding="utf-8")
    config = result.config
    console.print(
        f"wrote {out}: {len(config['people'])} people, {len(config.get('teams', []))} teams, "
        f"{len(config.get('schedules', []))} schedules, "
        f"{len(config['escalation_policies'])} escalation policies, "
        f"{len(config['services'])} services"
    )
    if result.unsupported:
        console.print(f"[yellow]not imported ({len(result.unsupported)}):[/]")
        for finding in result.unsupported:
            console.print(f"  - {finding}", highlight=False, markup=False, soft_wrap=True)
    for finding in result.notes:
        console.print(f"  note: {finding}", highlight=False, markup=False, soft_wrap=True)
    if not any(s["id"] == "page-test" for s in config["services"]):
        console.print(
            "  note: the account has no `page-test` service for the daily low-urgency page "
            "test: run `pulumi config set incident-response:pageTestService <service id>` "
            "(or add a page-test service to the config)",
            highlight=False,
            markup=False,
            soft_wrap=True,
        )
    try:
        load_config(out)
    except ConfigError as exc:
        err.print(f"[bold red]error:[/] the imported config does not load:\n{exc.report()}")
        raise typer.Exit(1) from None
    if import_file is not None:
        missing = write_import_file(result, out, stack, import_file)
        console.print(f"wrote {import_file}: adopt with `pulumi import --file {import_file}`")
        for resource in missing:
            console.print(
                f"  pulumi up will create {resource.type} {resource.name} (nothing to adopt)",
                highlight=False,
                markup=False,
                soft_wrap=True,
            )
