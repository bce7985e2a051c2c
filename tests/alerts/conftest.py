"""Fixtures of the alerting tests: the prod and dev orgs, their rendered artifacts, the real
tools."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

from irctl.render import Rendered, render
from orgconfig.load import load_config
from orgconfig.model import OrgConfig

ROOT = Path(__file__).resolve().parents[2]
PROD = ROOT / "tests" / "fixtures" / "modulo.yaml"
DEV = ROOT / "tests" / "fixtures" / "modulo-dev.yaml"
PACKAGES = {
    "promtool": "prometheus",
    "amtool": "prometheus-alertmanager",
    "prometheus-alertmanager": "prometheus-alertmanager",
}


def tool(name: str) -> str:
    """The path of a real tool; missing skips locally but FAILS in CI (never a silent pass)."""
    path = shutil.which(name)
    if path is None:
        message = f"{name} is not installed: apt-get install {PACKAGES.get(name, name)}"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    return path


def run(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(args, capture_output=True, text=True, cwd=cwd, timeout=120)


@pytest.fixture(scope="session")
def org() -> OrgConfig:
    return load_config(PROD)


@pytest.fixture(scope="session")
def rendered(tmp_path_factory: pytest.TempPathFactory, org: OrgConfig) -> Rendered:
    """`irctl render` of the prod stack, once per session."""
    return render(org, "prod", PROD, tmp_path_factory.mktemp("render"))


@pytest.fixture(scope="session")
def dev_org() -> OrgConfig:
    return load_config(DEV)


@pytest.fixture(scope="session")
def dev_rendered(tmp_path_factory: pytest.TempPathFactory, dev_org: OrgConfig) -> Rendered:
    """`irctl render --stack dev` (the sandbox's short durations), once per session."""
    return render(dev_org, "dev", DEV, tmp_path_factory.mktemp("render-dev"))
