"""deploy.sh with a stand-in `pulumi` and `irctl` that record how they were called: the
checks, their messages, and the order validate -> preview --diff -> up."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.conftest import ROOT

STUB = """#!/usr/bin/env bash
echo "$(basename "$0") $*" >> "$CALLS"
case "$1" in
  whoami) [ "${LOGGED_IN:-1}" = 1 ] || exit 1; echo someone ;;
  stack) echo '[{"name": "modulo/prod"}]' ;;
  validate) exit "${VALIDATE_RC:-0}" ;;
esac
"""


@pytest.fixture
def checkout(tmp_path: Path) -> Path:
    repo = tmp_path / "repo"
    (repo / "config").mkdir(parents=True)
    shutil.copy(ROOT / "deploy.sh", repo / "deploy.sh")
    (repo / "config" / "prod.yaml").write_text("org: {name: Modulo}\n")
    (repo / "Pulumi.prod.yaml").write_text(
        "config:\n  incident-response:configFile: config/prod.yaml\n"
    )
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    for tool in ("pulumi", "irctl"):
        (bin_dir / tool).write_text(STUB)
        (bin_dir / tool).chmod(0o755)
    for args in (["init", "-q"], ["add", "."], ["commit", "-qm", "base"]):
        subprocess.run(
            ["git", "-c", "user.email=a@b", "-c", "user.name=a", *args], cwd=repo, check=True
        )
    return repo


def deploy(checkout: Path, *args: str, **env: str) -> tuple[int, str, list[str]]:
    bin_dir = checkout.parent / "bin"
    calls = checkout.parent / "calls.log"
    environment = {
        **os.environ,
        "PATH": f"{bin_dir}:/usr/bin:/bin",
        "IRCTL": str(bin_dir / "irctl"),
        "CALLS": str(calls),
        **env,
    }
    result = subprocess.run(
        [str(checkout / "deploy.sh"), *args],
        capture_output=True,
        text=True,
        env=environment,
        stdin=subprocess.DEVNULL,
        timeout=30,
    )
    logged = calls.read_text().splitlines() if calls.exists() else []
    return result.returncode, result.stdout + result.stderr, logged


def test_validates_previews_then_deploys_with_yes(checkout: Path) -> None:
    code, output, calls = deploy(checkout, "--yes")
    assert code == 0, output
    assert calls == [
        "pulumi whoami",
        "pulumi stack ls --json",
        "irctl validate --stack prod",
        "pulumi preview --diff --stack prod --policy-pack policy",
        "pulumi up --yes --stack prod --policy-pack policy",
    ]


def test_without_yes_and_without_a_terminal_nothing_is_deployed(checkout: Path) -> None:
    code, output, calls = deploy(checkout)
    assert code == 1
    assert "no terminal to confirm on: pass --yes" in output
    assert not any(call.startswith("pulumi up") for call in calls)


def test_refuses_uncommitted_config(checkout: Path) -> None:
    (checkout / "config" / "prod.yaml").write_text("org: {name: Changed}\n")
    code, output, calls = deploy(checkout, "--yes")
    assert code == 1
    assert "refusing to deploy uncommitted config" in output
    assert "config/prod.yaml" in output
    assert not [c for c in calls if c.startswith(("irctl", "pulumi preview", "pulumi up"))]


def test_failed_validation_stops_before_preview(checkout: Path) -> None:
    code, output, calls = deploy(checkout, "--yes", VALIDATE_RC="1")
    assert code == 1
    assert "validation failed: nothing was deployed" in output
    assert calls[-1] == "irctl validate --stack prod"


def test_clear_messages_for_login_stack_and_cli(checkout: Path) -> None:
    code, output, _ = deploy(checkout, "--yes", LOGGED_IN="0")
    assert (code, "not logged in to a Pulumi backend: run 'pulumi login'" in output) == (1, True)
    code, output, _ = deploy(checkout, "--stack", "staging", "--yes")
    assert code == 1
    assert "stack 'staging' does not exist in this project: create it with" in output
    (checkout.parent / "bin" / "pulumi").unlink()
    code, output, _ = deploy(checkout, "--yes")
    assert (code, "the pulumi CLI is not installed" in output) == (1, True)
