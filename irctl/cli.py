"""irctl: render, check and operate incident response as code."""

from __future__ import annotations

import gc
import os
import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape

from irctl import (
    alerting,
    drift_cmd,  # issue 13
    import_cmd,  # issue 13
    oncall_cmd,
    sandbox_cmd,  # issue 6
)
from irctl import diff as diff_cmd  # issue 5
from irctl import learning as learning_cmd  # issue 14
from irctl import status as status_cmd  # issue 4
from irctl import validate as validate_cmd  # issue 5
from irctl.common import ConfigOption, StackOption, console, err, fail, load_org
from irctl.learning import calendar_command, metrics_command, postmortem_app
from irctl.stacks import StackError, project_root
from orgconfig.schema import SCHEMA_PATH, schema_text

app = typer.Typer(
    help="Incident response as code: on-call, alert routing, status page, learning.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    rich_markup_mode="markdown",
    add_completion=False,
)
app.add_typer(oncall_cmd.app, name="oncall")
config_app = typer.Typer(help="The org config file and its JSON Schema.", no_args_is_help=True)
app.add_typer(config_app, name="config")
app.command("metrics")(metrics_command)
app.add_typer(postmortem_app, name="postmortem")
app.command("calendar")(calendar_command)
app.command("docs")(learning_cmd.docs_command)  # issue 14
app.add_typer(learning_cmd.incident_app, name="incident")  # issue 14
app.add_typer(status_cmd.app, name="status")  # issue 4
app.add_typer(alerting.app, name="alerts")  # issue 3
app.command("page-test")(alerting.page_test)  # issue 3
sandbox_cmd.register(app)  # issue 6: sandbox, drill
app.command("validate")(validate_cmd.validate_command)  # issue 5
app.command("diff")(diff_cmd.diff_command)  # issue 5
app.add_typer(import_cmd.app, name="import")  # issue 13
app.command("drift")(drift_cmd.drift_command)  # issue 13


@app.command()
def render(
    stack: StackOption = "prod",
    config: ConfigOption = None,
    out: Annotated[
        Path | None,
        typer.Option("--out", "-o", help="Output folder (default: out/STACK in the current one)."),
    ] = None,
) -> None:
    """Run the Pulumi program offline under a recording mock engine and write plan.json and
    every rendered artifact (secrets replaced by placeholders) into --out."""
    from irctl.render import render as do_render

    org, path = load_org(stack, config, deploying=True)
    console.print(f"rendering stack [bold]{stack}[/] from {path} ...")
    # A one-shot command whose heap is all live until the end: no garbage collection, and
    # no interpreter teardown freeing it object by object (2-3 s of a 1,000-service render).
    gc.disable()
    result = do_render(org, stack, path, out or Path("out") / stack, exiting=True)
    console.print(f"{len(result.plan.resources)} resources planned; wrote:")
    for file in result.files:
        console.print(f"  {file}")
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(0)


@config_app.command("check")
def config_check(stack: StackOption = "prod", config: ConfigOption = None) -> None:
    """Load and validate the org config; list every problem with file, path and line."""
    org, path = load_org(stack, config, deploying=True)
    console.print(
        f"[green]OK[/] {path}: {len(org.people)} people, {len(org.schedules)} schedules, "
        f"{len(org.escalation_policies)} escalation policies, {len(org.services)} services"
    )


@config_app.command("schema")
def config_schema(
    check: Annotated[
        bool, typer.Option("--check", help="Fail if config/schema.json is stale; write nothing.")
    ] = False,
) -> None:
    """Write config/schema.json of the project root from the typed model (editors use it for
    autocompletion)."""
    try:
        path = project_root() / SCHEMA_PATH.relative_to(SCHEMA_PATH.parent.parent)
    except StackError as exc:
        fail(str(exc), 2)
    text = schema_text()
    if check:
        current = path.read_text() if path.exists() else ""
        if current != text:
            fail(f"{path} is stale: run `irctl config schema` and commit it")
        console.print(f"{path} is up to date")
        return
    path.write_text(text)
    console.print(f"wrote {path}")


def main() -> None:
    """Console entry point: no traceback ever reaches a user unless IRCTL_DEBUG is set."""
    try:
        app()
    except KeyboardInterrupt:
        err.print("interrupted")
        sys.exit(130)
    except Exception as exc:
        if os.environ.get("IRCTL_DEBUG"):
            raise
        err.print(
            f"[bold red]internal error:[/] {type(exc).__name__}: {escape(str(exc))}\n"
            "This is a bug in irctl; rerun with IRCTL_DEBUG=1 for the traceback and report it.",
            highlight=False,
        )
        sys.exit(70)


if __name__ == "__main__":
    main()
