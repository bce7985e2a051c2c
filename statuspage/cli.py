"""`statuspage serve --config FILE --host H --port P [--server granian|uvicorn]`."""

from __future__ import annotations

import argparse
import logging
import os
import sys

from statuspage.config import ConfigError, load_config


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


if __name__ == "__main__":
    raise SystemExit(main())
