"""The optional drift CronJob in the toolbox and its warning, checked with the real tools."""

from __future__ import annotations

from pathlib import Path

import kubernetes_validate
import yaml

from deploy.kubernetes import DRIFT_CRONJOB, DRIFT_RULE_GROUP, drift_alert_rule, toolbox_manifests
from deploy.settings import DeploySettings
from iac.redaction import unwrap
from irctl.alerting import RULE_TYPE, planned_rule_groups
from irctl.plan import record_program
from orgconfig.load import load_config
from tests.alerts.conftest import run, tool

FIXTURE = Path(__file__).resolve().parents[1] / "fixtures" / "modulo.yaml"
RUNBOOKS = "https://example.com/runbooks/"
API_KEY = "u+secret-api-key-value"


def manifests(**values: str) -> list[dict]:
    org = load_config(FIXTURE)
    settings = DeploySettings.from_values("prod", {"pageTestService": "api", **values})
    return toolbox_manifests(org, settings, API_KEY, {"api": "k" * 32})


def test_the_drift_cronjob_is_off_unless_a_schedule_is_set() -> None:
    assert all(m["metadata"]["name"] != DRIFT_CRONJOB for m in manifests())


def test_the_drift_cronjob_runs_irctl_drift_with_the_key_from_the_secret() -> None:
    (cron,) = [
        m for m in manifests(driftSchedule="30 6 * * *") if m["metadata"]["name"] == DRIFT_CRONJOB
    ]
    kubernetes_validate.validate(cron, "1.30", strict=True)
    assert cron["spec"]["schedule"] == "30 6 * * *"
    job = cron["spec"]["jobTemplate"]["spec"]
    assert job["backoffLimit"] == 0
    (container,) = job["template"]["spec"]["containers"]
    assert container["command"][:4] == ["irctl", "drift", "--stack", "prod"]
    assert container["command"][-4:] == ["--token-env", "PAGERDUTY_API_KEY", "--format", "text"]
    (key,) = [e for e in container["env"] if e["name"] == "PAGERDUTY_API_KEY"]
    assert key["valueFrom"]["secretKeyRef"] == {"name": "pagerduty-secrets", "key": "api-key"}
    assert API_KEY not in yaml.safe_dump(cron)


def test_the_drift_warning_fires_only_while_the_last_run_has_not_succeeded(tmp_path: Path) -> None:
    promtool = tool("promtool")
    rule = drift_alert_rule("incident-response", RUNBOOKS)
    (tmp_path / "rules.yaml").write_text(
        yaml.safe_dump({"groups": [{"name": "drift", "rules": [rule]}]})
    )
    labels = 'namespace="incident-response", cronjob="incident-manager-drift"'
    # Scheduled at 0 and 60 min (unix seconds); the 0 run succeeded, the 60 min run failed.
    tests = {
        "rule_files": ["rules.yaml"],
        "evaluation_interval": "1m",
        "tests": [
            {
                "interval": "1m",
                "input_series": [
                    {"series": f"kube_cronjob_status_last_schedule_time{{{labels}}}",
                     "values": "0x59 3600x120"},
                    {"series": f"kube_cronjob_status_last_successful_time{{{labels}}}",
                     "values": "0x180"},
                ],
                "alert_rule_test": [
                    {"eval_time": "59m", "alertname": "PagerDutyDrift", "exp_alerts": []},
                    {"eval_time": "80m", "alertname": "PagerDutyDrift", "exp_alerts": []},
                    {
                        "eval_time": "91m",
                        "alertname": "PagerDutyDrift",
                        "exp_alerts": [
                            {
                                "exp_labels": {
                                    "severity": "warning",
                                    "service": "pagerduty",
                                    "namespace": "incident-response",
                                    "cronjob": "incident-manager-drift",
                                },
                                "exp_annotations": {
                                    **rule["annotations"],
                                    "description": rule["annotations"]["description"]
                                    .replace("{{ $labels.namespace }}", "incident-response")
                                    .replace("{{ $labels.cronjob }}", "incident-manager-drift"),
                                },
                            }
                        ],
                    },
                ],
            }
        ],
    }  # fmt: skip
    (tmp_path / "tests.yaml").write_text(yaml.safe_dump(tests))
    checked = run(promtool, "check", "rules", "rules.yaml", cwd=tmp_path)
    assert checked.returncode == 0, checked.stdout + checked.stderr
    tested = run(promtool, "test", "rules", "tests.yaml", cwd=tmp_path)
    assert tested.returncode == 0, tested.stdout + tested.stderr
    assert rule["annotations"]["runbook_url"] == f"{RUNBOOKS}PagerDutyDrift.md"
    assert (Path(__file__).resolve().parents[2] / "docs/runbooks/PagerDutyDrift.md").exists()


def test_the_drift_warning_is_in_the_rendered_rules_only_when_the_cronjob_runs(
    tmp_path: Path,
) -> None:
    promtool = tool("promtool")
    on = record_program("prod", FIXTURE, {"incident-response:driftSchedule": "30 6 * * *"})
    off = record_program("prod", FIXTURE)
    groups = planned_rule_groups(on) or []
    (drift,) = [g for g in groups if g["name"] == DRIFT_RULE_GROUP]
    assert [r["alert"] for r in drift["rules"]] == ["PagerDutyDrift"]
    assert 'namespace="incident-response"' in drift["rules"][0]["expr"]
    # In the shared PrometheusRule, next to the Watchdog.
    (shared,) = [r for r in on.of_type(RULE_TYPE) if r.name.endswith("incident-response-alerts")]
    assert DRIFT_RULE_GROUP in [g["name"] for g in unwrap(shared.raw_inputs)["spec"]["groups"]]
    assert all(g["name"] != DRIFT_RULE_GROUP for g in planned_rule_groups(off) or [])
    (tmp_path / "rules.yaml").write_text(yaml.safe_dump({"groups": groups}))
    checked = run(promtool, "check", "rules", "rules.yaml", cwd=tmp_path)
    assert checked.returncode == 0, checked.stdout + checked.stderr
