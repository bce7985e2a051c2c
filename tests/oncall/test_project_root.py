"""The CLI works on the checkout it runs in: the project root is found from the current
directory upward (like git), never taken from where the package is installed."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from irctl.stacks import find_project_root
from tests.conftest import PROD, ROOT

SLACK_LINE = "  incident-response:slackWebhookUrl: https://hooks.slack.com/services/T0/B0/abc\n"


@pytest.fixture
def checkout(tmp_path: Path) -> Path:
    """Another checkout of the project: its own stack file and an org named differently."""
    (tmp_path / "config").mkdir()
    shutil.copy(ROOT / "Pulumi.yaml", tmp_path / "Pulumi.yaml")
    (tmp_path / "Pulumi.prod.yaml").write_text(
        "config:\n  incident-response:configFile: config/prod.yaml\n"
        '  incident-response:statuspageReplicas: "2"\n'
    )
    text = PROD.read_text().replace("name: Modulo\n", "name: Elsewhere Ltd\n", 1)
    (tmp_path / "config" / "prod.yaml").write_text(text)
    (tmp_path / "docs" / "deep").mkdir(parents=True)
    return tmp_path


def irctl(cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "irctl", *args],
        cwd=cwd,
        env={**os.environ, "COLUMNS": "400"},  # long paths on one line
        capture_output=True,
        text=True,
        timeout=300,
    )


def test_root_is_the_nearest_folder_with_pulumi_yaml(checkout: Path) -> None:
    assert find_project_root(checkout / "docs" / "deep") == checkout
    assert find_project_root(Path("/")) is None


def test_stack_config_comes_from_the_checkout_of_the_current_directory(checkout: Path) -> None:
    result = irctl(checkout / "docs" / "deep", "config", "check", "--stack", "prod")
    assert result.returncode == 0, result.stderr
    assert f"OK {checkout / 'config' / 'prod.yaml'}" in " ".join(result.stdout.split())


def test_outside_a_checkout_the_stack_is_refused_with_a_hint(tmp_path: Path) -> None:
    result = irctl(tmp_path, "config", "check", "--stack", "prod")
    assert result.returncode == 2
    assert f"no Pulumi.yaml in {tmp_path} or any folder above it" in result.stderr
    assert "--config FILE" in result.stderr


def test_help_shows_the_real_root(checkout: Path) -> None:
    result = irctl(checkout, "config", "check", "--help")
    text = " ".join(result.stdout.replace("│", " ").split())
    assert "config/.yaml" not in text
    assert "Pulumi.STACK.yaml" in text and "config/STACK.yaml" in text
    assert f"(here: {checkout})" in text


def test_a_plain_text_secret_in_the_stack_file_fails_validate(checkout: Path) -> None:
    stack_file = checkout / "Pulumi.prod.yaml"
    stack_file.write_text(stack_file.read_text() + SLACK_LINE)
    result = irctl(checkout, "validate", "--stack", "prod")
    assert result.returncode == 1, result.stdout + result.stderr
    problems = " ".join(result.stderr.split())
    assert f"secret settings: {stack_file}:4: incident-response:slackWebhookUrl" in problems
    assert "pulumi config set --secret incident-response:slackWebhookUrl <value>" in problems
    assert "hooks.slack.com" not in result.stdout + result.stderr


def test_bad_stack_settings_exit_2_naming_the_stack_file(checkout: Path) -> None:
    stack_file = checkout / "Pulumi.prod.yaml"
    stack_file.write_text(
        "config:\n  incident-response:configFile: config/prod.yaml\n"
        '  incident-response:statuspageReplicas: "abc"\n'
        '  incident-response:statuspageReplica: "2"\n'
    )
    result = irctl(checkout, "render", "--stack", "prod", "--out", str(checkout / "out"))
    assert result.returncode == 2, result.stderr
    text = " ".join(result.stderr.split())
    assert f"{stack_file}: unknown setting 'incident-response:statuspageReplica'" in text
    assert f"{stack_file}: statuspageReplicas 'abc' is not a whole number" in text
    assert "internal error" not in text
