"""The self-test's closing line is always the summary CI reads: `N passed, N failed`."""

from __future__ import annotations

import signal
from pathlib import Path

import pytest
from typer.testing import CliRunner

import sandbox.selftest
from irctl.cli import app
from orgconfig.load import load_config
from orgconfig.model import OrgConfig
from sandbox.processes import MissingBinary, ProcessFailed
from sandbox.scenarios import SCENARIOS
from sandbox.selftest import Outcome, SelfTest, report

ROOT = Path(__file__).resolve().parents[2]


def test_report_ends_with_the_summary_after_the_duration() -> None:
    org = load_config(ROOT / "tests" / "fixtures" / "modulo-dev.yaml")
    outcomes = [Outcome(sc) for sc in SCENARIOS[:2]]
    outcomes[1].failures.append("never reached Slack")
    lines: list[str] = []
    failed = report(org, SelfTest(outcomes, {"Watchdog": None}, 48.6), lines.append)
    assert failed == 1
    assert lines[-2:] == ["self-test took 49 s", "2 passed, 1 failed"]


@pytest.mark.parametrize(
    ("error", "code"),
    [(MissingBinary("prometheus is not installed"), 3), (ProcessFailed("Prometheus died"), 1),
     (RuntimeError("a sandbox is already running"), 1)],
)  # fmt: skip
def test_a_broken_run_still_closes_with_the_summary(
    monkeypatch: pytest.MonkeyPatch, error: Exception, code: int
) -> None:
    def breaks(org: OrgConfig, run_dir: Path, say: object) -> SelfTest:
        raise error

    monkeypatch.setattr(sandbox.selftest, "run_self_test", breaks)
    monkeypatch.setattr(signal, "signal", lambda *args: None)  # keep pytest's SIGTERM
    result = CliRunner().invoke(app, ["sandbox", "--self-test"])
    assert result.exit_code == code
    lines = result.stdout.strip().splitlines()
    assert lines[-2].startswith("error: ") and lines[-2].endswith(str(error))
    assert lines[-1] == "0 passed, 1 failed"
