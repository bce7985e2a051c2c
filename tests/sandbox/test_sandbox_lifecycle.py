"""The sandbox starts every part on loopback and leaves nothing running when stopped.

Uses the real Prometheus and Alertmanager (Debian packages, installed by the Makefile):
in CI a missing binary fails this test rather than skipping it.
"""

from __future__ import annotations

import os
from pathlib import Path

import httpx

from orgconfig.load import load_config
from sandbox.run import STATE_FILE, Sandbox, SandboxOptions, read_state

ROOT = Path(__file__).resolve().parents[2]


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # A zombie is gone for our purposes; our Popen objects reap on wait().
    stat = Path(f"/proc/{pid}/stat")
    return stat.exists() and stat.read_text().split()[2] != "Z"


def test_sandbox_starts_everything_and_stops_cleanly(tmp_path: Path) -> None:
    org = load_config(ROOT / "tests" / "fixtures" / "modulo-dev.yaml")
    sandbox = Sandbox(org, SandboxOptions(run_dir=tmp_path))
    try:
        addresses = sandbox.start()
        pids = [child.process.pid for child in sandbox.supervisor.children]
        assert len(pids) == 4  # moto, status page, Alertmanager, Prometheus
        state = read_state(tmp_path)
        assert state is not None and state["pid"] == os.getpid()
        assert state["addresses"]["demo"] == addresses.demo
        for url in (addresses.demo, addresses.pagerduty, addresses.slack):
            assert httpx.get(url + "/", timeout=5).status_code == 200
        assert all(url.startswith("http://127.0.0.1:") for url in addresses.as_dict().values())
        summary = httpx.get(f"{addresses.statuspage}/api/v2/summary.json", timeout=5).json()
        assert {c["id"] for c in summary["components"]} >= {"api", "web", "database", "payments"}
        rules = httpx.get(f"{addresses.prometheus}/api/v1/rules", timeout=5).json()["data"]
        names = {r["name"] for g in rules["groups"] for r in g["rules"]}
        assert {"ServiceDown", "HighErrorRate", "Watchdog"} <= names
        assert {g["interval"] for g in rules["groups"]} == {1}  # dev's evaluation_interval
        status = httpx.get(f"{addresses.alertmanager}/api/v2/status", timeout=5).json()
        assert "pagerduty-api" in status["config"]["original"]
    finally:
        sandbox.stop()
    assert not any(_alive(pid) for pid in pids)
    assert not (tmp_path / STATE_FILE).exists()
