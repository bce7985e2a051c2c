"""The running sandbox: every part of the incident loop on loopback, started and stopped
together.

In this process (threads): the demo app, the local PagerDuty and the local Slack.
Child processes: moto's S3 server, the status page, Prometheus and Alertmanager, each in its
own process group (see `sandbox.processes`). `Sandbox.start()` writes ``sandbox.json`` into
the run folder so `irctl drill` can find a running sandbox.
"""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import sys
import tempfile
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import yaml

from orgconfig.model import OrgConfig
from sandbox import wiring
from sandbox.demo_app import DemoFleet
from sandbox.demo_app import create_app as demo_app
from sandbox.pagerduty import FakePagerDuty, fake_from_config
from sandbox.pagerduty import create_app as pagerduty_app
from sandbox.processes import MissingBinary, ProcessFailed, Supervisor, find_binary
from sandbox.servers import ThreadedServer, free_port
from sandbox.slack import SlackSink
from sandbox.slack import create_app as slack_app

STATE_FILE = "sandbox.json"
S3_CREDENTIALS = {
    "AWS_ACCESS_KEY_ID": "sandbox",
    "AWS_SECRET_ACCESS_KEY": "sandbox",
    "AWS_DEFAULT_REGION": "us-east-1",
}
READY_TIMEOUT_SECONDS = 60.0
RESEND_DELAY = "5s"


def default_run_dir() -> Path:
    return Path(tempfile.gettempdir()) / f"irctl-sandbox-{os.getuid()}"


@dataclass
class SandboxOptions:
    run_dir: Path = field(default_factory=default_run_dir)
    # None: 1 s scrapes, rules evaluated at the config's `alerting.evaluation_interval`.
    timings: wiring.ScrapeTimings | None = None
    # The local PagerDuty's clock: 60 = one real second counts as a minute, so the
    # 15-minute escalation tiers pass in 15 s during a drill.
    pagerduty_clock_speed: float = 60.0
    with_statuspage: bool = True
    with_s3: bool = True


class Sandbox:
    def __init__(self, org: OrgConfig, options: SandboxOptions | None = None) -> None:
        self.org = org
        self.options = options or SandboxOptions()
        self.run_dir = self.options.run_dir
        self.service_ids = [s.id for s in org.services]
        self.timings = self.options.timings or wiring.ScrapeTimings.for_rules(org)
        self.keys = wiring.routing_keys(self.service_ids)
        self.api_token = secrets.token_hex(16)
        self.fleet = DemoFleet(self.service_ids)
        self.slack = SlackSink()
        self.pagerduty: FakePagerDuty = fake_from_config(
            wiring.pagerduty_data(org, self.keys, clock_speed=self.options.pagerduty_clock_speed)
        )
        self.supervisor = Supervisor(self.run_dir / "logs")
        self._servers: list[ThreadedServer] = []
        self.addresses: wiring.Addresses | None = None
        self.started_at: datetime | None = None

    # ------------------------------------------------------------------ lifecycle

    def check_binaries(self) -> dict[str, str]:
        """Every external program, found up front so a missing one fails before anything runs."""
        names = ["prometheus", "prometheus-alertmanager"]
        if self.options.with_s3:
            names.append("moto_server")
        return {name: find_binary(name) for name in names}

    def start(self) -> wiring.Addresses:
        binaries = self.check_binaries()
        self._prepare_run_dir()
        try:
            return self._start(binaries)
        except BaseException:
            self.stop()
            raise

    def _prepare_run_dir(self) -> None:
        state = self.run_dir / STATE_FILE
        if state.exists():
            previous = read_state(self.run_dir)
            if previous is not None and _pid_alive(int(previous.get("pid", 0))):
                raise RuntimeError(
                    f"a sandbox is already running (pid {previous['pid']}, {state}); "
                    "stop it with Ctrl-C first, or pass another --run-dir"
                )
        for sub in ("logs", "secrets", "prometheus", "alertmanager", "statuspage"):
            (self.run_dir / sub).mkdir(parents=True, exist_ok=True)
        with contextlib.suppress(FileNotFoundError):
            state.unlink()

    def _serve(self, app: Any, name: str) -> str:
        server = ThreadedServer(app, name).start()
        self._servers.append(server)
        return server.url

    def _start(self, binaries: dict[str, str]) -> wiring.Addresses:
        demo_url = self._serve(demo_app(self.fleet), "demo-app")
        pagerduty_url = self._serve(pagerduty_app(self.pagerduty), "pagerduty")
        slack_url = self._serve(slack_app(self.slack), "slack")
        loopback = "http://127.0.0.1"
        addresses = wiring.Addresses(
            demo=demo_url,
            pagerduty=pagerduty_url,
            slack=slack_url,
            statuspage=f"{loopback}:{free_port()}",
            prometheus=f"{loopback}:{free_port()}",
            alertmanager=f"{loopback}:{free_port()}",
            s3=f"{loopback}:{free_port()}" if self.options.with_s3 else "",
        )
        self.addresses = addresses
        # Everything starts at once; readiness is awaited afterwards. The status page's S3
        # copy retries with a back-off, so the bucket may appear a moment after it starts.
        if self.options.with_s3:
            port = wiring.hostport(addresses.s3).rsplit(":", 1)[1]
            self.supervisor.spawn(
                "s3", [binaries["moto_server"], "-H", "127.0.0.1", "-p", port], env=S3_CREDENTIALS
            )
        if self.options.with_statuspage:
            self._start_statuspage(addresses)
        self._start_alertmanager(binaries["prometheus-alertmanager"], addresses)
        self._start_prometheus(binaries["prometheus"], addresses)
        if self.options.with_s3:
            self._create_bucket(addresses)
        self._wait_ready(addresses)
        self.started_at = datetime.now(UTC)
        self._write_state(addresses)
        return addresses

    def stop(self) -> None:
        self.supervisor.stop_all()
        for server in reversed(self._servers):
            server.stop()
        self._servers = []
        with contextlib.suppress(FileNotFoundError):
            state = read_state(self.run_dir)
            if state is not None and state.get("pid") == os.getpid():
                (self.run_dir / STATE_FILE).unlink()

    def __enter__(self) -> Sandbox:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # ------------------------------------------------------------------ the parts

    def _create_bucket(self, addresses: wiring.Addresses) -> None:
        _wait_http(f"{addresses.s3}/", "the S3 server (moto)", self.supervisor, "s3")
        page = self.org.status_page
        if page is not None and page.s3_copy is not None:
            import boto3

            client = boto3.client(
                "s3",
                endpoint_url=addresses.s3,
                region_name=page.s3_copy.region or "us-east-1",
                aws_access_key_id="sandbox",
                aws_secret_access_key="sandbox",
            )
            client.create_bucket(Bucket=page.s3_copy.bucket)

    def _start_statuspage(self, addresses: wiring.Addresses) -> None:
        folder = self.run_dir / "statuspage"
        config = wiring.statuspage_config(self.org, addresses)
        if not self.options.with_s3:
            config.pop("publish", None)
        config_path = folder / "statuspage.yaml"
        config_path.write_text(yaml.safe_dump(config, sort_keys=False))
        database = folder / "statuspage.db"
        with contextlib.suppress(FileNotFoundError):
            database.unlink()
        host, port = wiring.hostport(addresses.statuspage).rsplit(":", 1)
        self.supervisor.spawn(
            "statuspage",
            [sys.executable, "-m", "statuspage", "serve", "--config", str(config_path),
             "--host", host, "--port", port, "--server", "uvicorn"],
            env={
                "STATUSPAGE_DATABASE_URL": f"sqlite:///{database}",
                "STATUSPAGE_API_TOKEN": self.api_token,
                **S3_CREDENTIALS,
            },
        )  # fmt: skip

    def alertmanager_config(self, addresses: wiring.Addresses) -> dict[str, Any]:
        """Write the secret files the generated config reads, return the config."""
        secrets_dir = (self.run_dir / "secrets").resolve()
        token = self.api_token if self.options.with_statuspage else None
        for name, content in wiring.alertmanager_secrets(
            self.org, addresses, self.keys, token
        ).items():
            path = secrets_dir / name
            path.write_text(content)
            path.chmod(0o600)
        return wiring.alertmanager_config(
            self.org, addresses, secrets_dir, with_statuspage=self.options.with_statuspage
        )

    def _start_alertmanager(self, binary: str, addresses: wiring.Addresses) -> None:
        folder = (self.run_dir / "alertmanager").resolve()
        config_path = folder / "alertmanager.yml"
        config_path.write_text(yaml.safe_dump(self.alertmanager_config(addresses), sort_keys=False))
        self.supervisor.spawn(
            "alertmanager",
            [binary, f"--config.file={config_path}", f"--storage.path={folder / 'data'}",
             f"--web.listen-address={wiring.hostport(addresses.alertmanager)}",
             # Empty: no cluster, so notifications never wait for the gossip to settle.
             "--cluster.listen-address=", "--log.level=warn"],
        )  # fmt: skip

    def _start_prometheus(self, binary: str, addresses: wiring.Addresses) -> None:
        folder = (self.run_dir / "prometheus").resolve()
        rules_path = folder / "rules.yaml"
        rules = wiring.prometheus_rules(self.org, self.timings)
        rules_path.write_text(yaml.safe_dump(rules, sort_keys=False))
        config_path = folder / "prometheus.yml"
        config = wiring.prometheus_config(addresses, self.org, [rules_path], self.timings)
        config_path.write_text(yaml.safe_dump(config, sort_keys=False))
        self.supervisor.spawn(
            "prometheus",
            [binary, f"--config.file={config_path}", f"--storage.tsdb.path={folder / 'data'}",
             f"--web.listen-address={wiring.hostport(addresses.prometheus)}",
             # Alerts of the first evaluations are dropped until service discovery hands the
             # notifier its Alertmanager (up to 5 s in 2.42); firing ones are only sent again
             # after this delay (default 1m), which would hold back the Watchdog heartbeat.
             f"--rules.alert.resend-delay={RESEND_DELAY}",
             "--storage.tsdb.retention.time=1d", "--log.level=warn"],
        )  # fmt: skip

    def _wait_ready(self, addresses: wiring.Addresses) -> None:
        _wait_http(
            f"{addresses.alertmanager}/-/ready", "Alertmanager", self.supervisor, "alertmanager"
        )
        _wait_http(f"{addresses.prometheus}/-/ready", "Prometheus", self.supervisor, "prometheus")
        if self.options.with_statuspage:
            _wait_http(
                f"{addresses.statuspage}/healthz", "the status page", self.supervisor, "statuspage"
            )

    def _write_state(self, addresses: wiring.Addresses) -> None:
        state = {
            "pid": os.getpid(),
            "started_at": self.started_at.isoformat() if self.started_at else None,
            "addresses": addresses.as_dict(),
            "routing_keys": self.keys,
            "statuspage_token": self.api_token,
            "services": self.service_ids,
            "config": str(self.org.org.name),
        }
        path = self.run_dir / STATE_FILE
        path.write_text(json.dumps(state, indent=2))
        path.chmod(0o600)


# ---------------------------------------------------------------------- helpers


def _pid_alive(pid: int) -> bool:
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def read_state(run_dir: Path) -> dict[str, Any] | None:
    try:
        data = json.loads((run_dir / STATE_FILE).read_text())
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


def running_state(run_dir: Path) -> dict[str, Any]:
    """The state of the sandbox running from `run_dir`; a clear error when there is none."""
    state = read_state(run_dir)
    if state is None or not _pid_alive(int(state.get("pid", 0))):
        raise RuntimeError(
            f"no sandbox is running (looked for {run_dir / STATE_FILE}); start one in another "
            "terminal with `irctl sandbox` (or `make demo`)"
        )
    return state


def _wait_http(url: str, what: str, supervisor: Supervisor, child: str | None = None) -> None:
    deadline = time.monotonic() + READY_TIMEOUT_SECONDS
    last = ""
    while time.monotonic() < deadline:
        supervisor.check_alive()
        try:
            response = httpx.get(url, timeout=2)
            if response.status_code < 500:
                return
            last = f"HTTP {response.status_code}: {response.text.strip()[:200]}"
        except httpx.HTTPError as exc:
            last = type(exc).__name__
        time.sleep(0.1)
    tail = next((c.log_tail() for c in supervisor.children if c.name == child), "")
    raise ProcessFailed(
        f"{what} was not ready at {url} within {READY_TIMEOUT_SECONDS:g} s ({last})"
        + (f"; last lines of its log:\n{tail}" if tail else "")
    )


__all__ = ["MissingBinary", "ProcessFailed", "Sandbox", "SandboxOptions", "running_state"]
