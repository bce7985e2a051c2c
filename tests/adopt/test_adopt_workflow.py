"""The scheduled drift workflow does what the README promises (actionlint runs in
tests/deploy/test_workflows.py over every workflow)."""

from __future__ import annotations

from tests.deploy.test_workflows import load, steps


def test_drift_runs_daily_posts_a_summary_and_keeps_one_issue() -> None:
    workflow = load("drift.yaml")
    assert set(workflow["on"]) == {"schedule", "workflow_dispatch"}
    assert workflow["permissions"] == {"contents": "read", "issues": "write"}
    (run,) = [s for s in steps(workflow, "drift") if s.get("id") == "drift"]
    assert "irctl drift --stack" in run["run"] and "--format markdown" in run["run"]
    assert "$GITHUB_STEP_SUMMARY" in run["run"]
    assert run["env"] == {"PAGERDUTY_API_KEY": "${{ secrets.PAGERDUTY_READONLY_API_KEY }}"}
    later = [
        s for s in steps(workflow, "drift") if s.get("if") == "steps.drift.outputs.code == '3'"
    ]
    assert "gh issue comment" in later[0]["run"] and "gh issue create" in later[0]["run"]
    assert later[1]["run"] == "exit 3"
