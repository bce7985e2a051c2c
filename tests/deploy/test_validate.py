"""`irctl validate`, run as CI runs it: exit code and what it prints."""

from __future__ import annotations

import copy
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

from irctl.plan import record_program
from irctl.validate import check_manifest, check_policies, stack_settings
from tests.conftest import PROD, ROOT

IRCTL = str(Path(sys.executable).parent / "irctl")


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [IRCTL, "validate", *args], capture_output=True, text=True, cwd=ROOT, timeout=120
    )


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, subprocess.CompletedProcess[str]]:
    """Prod and a config with a planted mistake, validated side by side (each takes seconds)."""
    data = yaml.safe_load(PROD.read_text())
    tiers = data["escalation_policies"][0]["tiers"]
    data["escalation_policies"][0]["tiers"] = tiers[:3]
    planted = tmp_path_factory.mktemp("planted") / "prod.yaml"
    planted.write_text(yaml.safe_dump(data, sort_keys=False))
    commands = {
        "prod": ["--stack", "prod"],
        "planted": ["--stack", "prod", "--config", str(planted)],
    }
    started = {
        name: subprocess.Popen(
            [IRCTL, "validate", *args],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            cwd=ROOT,
        )
        for name, args in commands.items()
    }
    results = {}
    for name, process in started.items():
        stdout, stderr = process.communicate(timeout=180)
        results[name] = subprocess.CompletedProcess(
            process.args, process.returncode, stdout, stderr
        )
    return results


def test_prod_passes_every_step(runs: dict[str, subprocess.CompletedProcess[str]]) -> None:
    result = runs["prod"]
    assert result.returncode == 0, result.stderr
    out = " ".join(result.stdout.split())
    for step in (
        "config ok",
        "on-call coverage ok",
        "render ok",
        "prometheus rules (promtool) ok",
        "alertmanager config (amtool) ok",
        "kubernetes manifests ok (Kubernetes 1.30, strict:",
        "policies ok",
        "validation passed",
    ):
        assert step in out


def test_a_planted_mistake_fails_and_is_named(
    runs: dict[str, subprocess.CompletedProcess[str]],
) -> None:
    result = runs["planted"]
    assert result.returncode == 1
    err = " ".join(result.stderr.split())
    assert "validation failed (1 problem(s))" in err
    assert (
        "policies: [pagerduty-escalation-four-tiers] PagerDuty EscalationPolicy 'platform' has 3 "
        "tier(s); an escalation policy needs at least 4 tiers." in err
    )
    assert "policies 1 problem(s)" in " ".join(result.stdout.split())


def test_bad_config_stops_at_the_config_step_with_its_line(
    prod_data: dict[str, Any], write_config: Callable[[dict[str, Any]], Path]
) -> None:
    data = copy.deepcopy(prod_data)
    data["services"][0]["escalation_policy"] = "nobody"
    result = run("--config", str(write_config(data)))
    assert result.returncode == 1
    assert "'nobody' is not a known escalation policy id" in " ".join(result.stderr.split())
    assert "Traceback" not in result.stderr


def test_unknown_kubernetes_version_is_a_problem() -> None:
    result = run("--kubernetes-version", "1.12")
    assert result.returncode == 2
    assert "Kubernetes version 1.12 has no schemas in kubernetes-validate" in " ".join(
        result.stderr.split()
    )


def test_strict_schema_catches_a_misspelt_field_and_crds_their_required_fields() -> None:
    deployment = {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": "web", "labelz": {}},
        "spec": {
            "replica": 2,
            "selector": {"matchLabels": {"a": "b"}},
            "template": {
                "metadata": {"labels": {"a": "b"}},
                "spec": {"containers": [{"name": "c", "image": "i"}]},
            },
        },
    }
    assert check_manifest(deployment, "1.30") == [  # every mistake, not only the first
        "Deployment 'web': metadata: Additional properties are not allowed ('labelz' was "
        "unexpected)",
        "Deployment 'web': spec: Additional properties are not allowed ('replica' was unexpected)",
    ]
    monitor = {
        "apiVersion": "monitoring.coreos.com/v1",
        "kind": "ServiceMonitor",
        "metadata": {"name": "m"},
        "spec": {"selector": {"matchLabels": {"a": "b"}}},
    }
    assert check_manifest(monitor, "1.30") == [  # the operator's CRD schema (deploy/crds.py)
        "ServiceMonitor 'm': spec.endpoints: Field required"
    ]
    unknown = {"apiVersion": "example.com/v1", "kind": "Widget", "metadata": {"name": "w"}}
    (problem,) = check_manifest(unknown, "1.30")
    assert "not a custom resource irctl knows how to check" in problem


def test_stack_settings_come_from_the_stack_file_without_secrets(tmp_path: Path) -> None:
    (tmp_path / "Pulumi.prod.yaml").write_text(
        "config:\n"
        "  incident-response:configFile: config/prod.yaml\n"
        '  incident-response:statuspageReplicas: "1"\n'
        "  incident-response:statuspageApiToken:\n"
        "    secure: AAABAKz0\n"
        "  pagerduty:token:\n"
        "    secure: AAABAKz1\n"
    )
    assert stack_settings("prod", tmp_path) == {"incident-response:statuspageReplicas": "1"}
    assert stack_settings("staging", tmp_path) == {}


def test_one_status_page_replica_in_prod_is_a_policy_problem() -> None:
    plan = record_program("prod", PROD, {"incident-response:statuspageReplicas": "1"})
    assert check_policies(plan.resources, "prod") == [
        "[statuspage-ha-in-prod] The status page Deployment 'deployment-statuspage' runs 1 "
        "replica(s) in prod; it needs at least 2 (with PostgreSQL) so it stays up during an "
        "incident."
    ]
    assert check_policies(plan.resources, "dev") == []


def test_a_prod_stack_without_an_off_cluster_copy_is_warned_about(
    runs: dict[str, subprocess.CompletedProcess[str]],
) -> None:
    # The planted config (tests/fixtures/modulo.yaml) has no status_page.s3_copy: a warning,
    # not one of the problems (the planted run fails with exactly its 1 problem).
    out = " ".join(runs["planted"].stdout.split())
    assert "warning: stack 'prod' publishes no off-cluster copy of the status page" in out
    assert "off-cluster" not in runs["planted"].stderr
