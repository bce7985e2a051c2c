"""`irctl sandbox` and `irctl drill`, mounted on irctl's app by `register(app)`.

The command lives in the CLI so the sandbox never imports the CLI (tests/test_layers.py).
"""

from __future__ import annotations

import signal
import time
from pathlib import Path
from types import FrameType
from typing import Annotated, NoReturn

import typer
from rich.markup import escape

from irctl.common import ConfigOption, console, err, fail, load_org

RunDirOption = Annotated[
    Path | None,
    typer.Option(
        "--run-dir",
        help="Folder for the sandbox's configs, logs and state (default: a folder in /tmp).",
    ),
]
SandboxStack = Annotated[
    str, typer.Option("--stack", "-s", help="Stack whose config the sandbox runs.")
]


def _raise_interrupt(signum: int, frame: FrameType | None) -> None:
    raise KeyboardInterrupt


def sandbox(
    stack: SandboxStack = "dev",
    config: ConfigOption = None,
    run_dir: RunDirOption = None,
    self_test: Annotated[
        bool,
        typer.Option(
            "--self-test",
            help="Run every scenario headless, assert the loop, exit non-zero on failure.",
        ),
    ] = False,
) -> None:
    """Run the whole incident loop on loopback: demo app, status page, Prometheus, Alertmanager,
    local PagerDuty, Slack and S3. Prints the URLs and a live log; Ctrl-C stops everything."""
    from sandbox.processes import MissingBinary, ProcessFailed
    from sandbox.run import Sandbox, SandboxOptions, default_run_dir

    org, path = load_org(stack, config)
    folder = run_dir or default_run_dir()
    # SIGTERM (CI, `kill`) takes the same clean path as Ctrl-C: children are stopped.
    signal.signal(signal.SIGTERM, _raise_interrupt)
    if self_test:
        _self_test(org, folder)
        return
    box = Sandbox(org, SandboxOptions(run_dir=folder))
    try:
        console.print(f"starting the sandbox from {path} ...")
        addresses = box.start()
        _print_urls(addresses.as_dict(), folder)
        _live_log(box)
    except MissingBinary as exc:
        fail(str(exc), 3)
    except (ProcessFailed, RuntimeError) as exc:
        fail(str(exc), 1)
    except KeyboardInterrupt:
        err.print("stopping the sandbox ...")
    finally:
        box.stop()
    console.print("sandbox stopped; nothing left running")


def _print_urls(addresses: dict[str, str], folder: Path) -> None:
    rows = [
        ("Demo app (control: PUT /_control/<service>)", addresses["demo"]),
        ("Status page", addresses["statuspage"]),
        ("Local PagerDuty inbox", addresses["pagerduty"]),
        ("Local Slack inbox", addresses["slack"]),
        ("Prometheus alerts", f"{addresses['prometheus']}/alerts"),
        ("Alertmanager", addresses["alertmanager"]),
        ("S3 (moto)", addresses["s3"]),
    ]
    console.print("[bold green]sandbox running[/]")
    for label, url in rows:
        console.print(f"  {label:<45} {url}", highlight=False)
    console.print(f"  {'Configs and logs':<45} {folder}", highlight=False)
    console.print(
        "In another terminal: [bold]irctl drill down[/] (or error-spike, slow, database, "
        "payments, cpu, disk, memory, error-rate-warning, latency-warning). Ctrl-C stops."
    )


def _live_log(box: object) -> None:
    from sandbox.observe import LoopObserver
    from sandbox.run import Sandbox

    assert isinstance(box, Sandbox) and box.addresses is not None
    observer = LoopObserver(box.addresses, box.keys)
    style = {"page": "bold red", "escalation": "red", "slack": "yellow", "status": "cyan",
             "incident": "bold cyan"}  # fmt: skip
    try:
        while True:
            box.supervisor.check_alive()
            for event in observer.poll():
                console.print(
                    f"{event.at:%H:%M:%S} [{style[event.kind]}]{escape(event.text)}[/]",
                    highlight=False,
                )
            time.sleep(1)
    finally:
        observer.close()


def _self_test(org: object, folder: Path) -> None:
    import sys
    import tempfile
    import traceback

    import httpx

    from orgconfig.model import OrgConfig
    from sandbox.processes import MissingBinary, ProcessFailed
    from sandbox.selftest import report, run_self_test

    assert isinstance(org, OrgConfig)
    started = time.monotonic()

    def say(line: str) -> None:
        print(f"[{time.monotonic() - started:5.1f}s] {line}" if line else "", flush=True)

    def broken(message: str, code: int) -> NoReturn:
        # CI reads the closing line: it stays the summary even when the run breaks.
        sys.stderr.flush()
        print(f"error: {message}\n0 passed, 1 failed", flush=True)
        raise typer.Exit(code)

    with tempfile.TemporaryDirectory(prefix="irctl-selftest-") as scratch:
        try:
            result = run_self_test(org, Path(scratch), say)
        except MissingBinary as exc:
            broken(str(exc), 3)
        except ProcessFailed as exc:
            broken(str(exc), 1)
        except (httpx.HTTPError, OSError, RuntimeError) as exc:
            traceback.print_exc()
            broken(f"{type(exc).__name__}: {exc}", 1)
        result.elapsed_seconds = time.monotonic() - started
        failed = report(org, result, lambda line: print(line, flush=True))
    if failed:
        raise typer.Exit(1)


SCENARIO_HELP = (
    "down, error-spike, slow, database, payments, cpu, disk, memory, error-rate-warning, "
    "latency-warning"
)


def drill(
    ctx: typer.Context,
    scenario: Annotated[str, typer.Argument(help=SCENARIO_HELP)],
    live: Annotated[
        bool, typer.Option("--live", help="Drill against the real PagerDuty (see docs/drills.md).")
    ] = False,
    service: Annotated[
        str | None, typer.Option("--service", help="Break this service instead of the default.")
    ] = None,
    stack: SandboxStack = "dev",
    config: ConfigOption = None,
    run_dir: RunDirOption = None,
) -> None:
    """Inject a fault into the running sandbox, narrate what should happen tier by tier,
    watch it happen, then remove the fault and watch everything resolve."""
    if live:
        _live_drill(scenario, service, ctx.args)
        return
    if ctx.args:
        fail(f"unknown option(s) {' '.join(ctx.args)} (the live drill's options need --live)", 2)
    from sandbox.drill import run_drill
    from sandbox.run import default_run_dir
    from sandbox.scenarios import scenario as find

    try:
        chosen = find(scenario)
    except KeyError as exc:
        fail(str(exc.args[0]), 2)
    org, _ = load_org(stack, config)
    try:
        result = run_drill(
            org,
            chosen,
            run_dir or default_run_dir(),
            lambda line: console.print(line, highlight=False, markup=False),
            service=service,
        )
    except (RuntimeError, KeyError) as exc:
        fail(str(exc.args[0]), 1)
    if not result.ok:
        fail(f"the drill did not complete: notified={result.latency_seconds is not None}, "
             f"resolved={result.resolved}")  # fmt: skip
    console.print(f"[green]drill {chosen.name} complete[/]")


def _live_drill(scenario: str, service: str | None, extra: list[str]) -> None:
    """Hand over to the learning engineer's live drill with its own options and env vars."""
    from irctl.learning import live_drill

    if service is not None:
        fail("--service is a sandbox option; a live drill pages the dedicated drill service", 2)
    live = typer.Typer(add_completion=False, pretty_exceptions_enable=False)
    live.command()(live_drill)
    command = typer.main.get_command(live)
    code = command.main(
        args=[scenario, *extra], prog_name="irctl drill --live", standalone_mode=False
    )
    if isinstance(code, int) and code:
        raise typer.Exit(code)


def register(app: typer.Typer) -> None:
    app.command("sandbox")(sandbox)
    # Unknown options pass through to the live drill (`irctl drill --live ... --routing-key`).
    app.command(
        "drill", context_settings={"allow_extra_args": True, "ignore_unknown_options": True}
    )(drill)
