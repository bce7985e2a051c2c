"""`statuspage serve --config FILE --host H --port P [--server granian|uvicorn]`."""

from __future__ import annotations

import argparse
import logging
import os
import sys

from statuspage.config import ConfigError, StatusPageConfig, load_config


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="statuspage", description="The public status page service."
    )
    sub = parser.add_subparsers(dest="command", required=True)
    serve = sub.add_parser("serve", help="serve the page, the API and run the checks")
    serve.add_argument("--config", required=True, help="the status page YAML file")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8080)
    serve.add_argument(
        "--server",
        choices=["granian", "uvicorn"],
        default="granian",
        help="HTTP server (default granian: about twice uvicorn's rate on the cached paths)",
    )
    check = sub.add_parser("check-config", help="validate a config file and exit")
    check.add_argument("config")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        config = load_config(args.config)
    except ConfigError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    if args.command == "check-config":
        count = sum(1 for _ in config.all_components())
        print(f"{args.config}: ok ({count} components)")
        return 0
    from statuspage.notify_mail import SettingsError
    from statuspage.subscriptions import SubscriptionSettings

    try:
        SubscriptionSettings.from_env(os.environ)
    except SettingsError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    problem = _prepare_database(config)
    if problem:
        print(f"error: {problem}", file=sys.stderr)
        return 1
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    # The server imports the app in its own worker: hand it the config path by environment.
    os.environ["STATUSPAGE_CONFIG"] = os.path.abspath(args.config)
    if args.server == "granian":
        from granian.constants import HTTPModes, Interfaces
        from granian.server import Server

        Server(
            "statuspage.rsgi:app_from_env",
            address=args.host,
            port=args.port,
            interface=Interfaces.RSGI,
            factory=True,
            # One worker: the checks loop and the in-memory render live in one process;
            # scale out with replicas instead. No WebSockets or h2c to negotiate.
            workers=1,
            http=HTTPModes.http1,
            websockets=False,
        ).serve()
    else:
        import uvicorn

        uvicorn.run(
            "statuspage.app:app_from_env",
            factory=True,
            host=args.host,
            port=args.port,
            log_level="info",
            access_log=False,
        )
    return 0


def _prepare_database(config: StatusPageConfig) -> str | None:
    """Migrate before the server starts, so a bad URL is one readable line, not a worker's
    traceback; returns what went wrong."""
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError, SQLAlchemyError

    from statuspage.migrations import SchemaTooNew
    from statuspage.store import DEFAULT_DATABASE_URL, Store, normalise_url

    url = os.environ.get("STATUSPAGE_DATABASE_URL") or DEFAULT_DATABASE_URL
    try:
        shown = make_url(normalise_url(url)).render_as_string(hide_password=True)
    except ArgumentError:
        return "STATUSPAGE_DATABASE_URL is not a database URL (sqlite:///FILE or postgresql://...)"
    try:
        store = Store(url, config)
        try:
            store.migrate()
        finally:
            store.dispose()
    except SchemaTooNew as exc:
        return str(exc)
    except (SQLAlchemyError, ImportError) as exc:
        reason = str(getattr(exc, "orig", None) or exc).strip().splitlines()[0]
        return f"cannot use the database {shown}: {reason}"
    return None


if __name__ == "__main__":
    raise SystemExit(main())
