"""What every irctl command shares: stack/config options, loading, and clean failures."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, NoReturn

import typer
from rich.console import Console
from rich.markup import escape

from irctl.stacks import (
    StackError,
    check_stack_settings,
    config_file_for,
    find_project_root,
    page_test_service_for,
)
from orgconfig.load import ConfigError, load_config
from orgconfig.model import OrgConfig

console = Console()
err = Console(stderr=True)


def _where() -> str:
    root = find_project_root()
    return f"here: {root}" if root else f"none found above {Path.cwd()}"


StackOption = Annotated[
    str,
    typer.Option(
        "--stack",
        "-s",
        help="Stack name: reads `Pulumi.STACK.yaml` and the org config it names (default "
        "`config/STACK.yaml`) in the project root, the nearest folder from the current "
        f"directory upward with a Pulumi.yaml ({_where()}).",
    ),
]
ConfigOption = Annotated[
    Path | None,
    typer.Option("--config", "-c", help="Use this org config file instead of the stack's."),
]


def fail(message: str, code: int = 1) -> NoReturn:
    # escape: messages quote user input and API errors, whose "[...]" is text, not markup
    err.print(f"[bold red]error:[/] {escape(message)}", highlight=False, soft_wrap=True)
    raise typer.Exit(code)


def load_org(stack: str, config: Path | None, *, deploying: bool = False) -> tuple[OrgConfig, Path]:
    """The typed config for a stack; bad config ends the command with every problem listed.

    `deploying`: the command builds what `pulumi up` deploys (render, config check), so the
    stack's own rules apply too (its daily page test needs its service); commands that only
    read the org (on-call, calendar, metrics, drift) do not impose them."""
    try:
        path = config_file_for(stack, config)
        check_stack_settings(stack)
        page_test = page_test_service_for(stack) if deploying else None
        return load_config(path, page_test_service=page_test), path
    except StackError as exc:
        fail(str(exc), 2)
    except ConfigError as exc:
        err.print(f"[bold red]error:[/] {escape(exc.report())}", highlight=False, soft_wrap=True)
        raise typer.Exit(2) from None
