"""`irctl render` writes plan.json as reviewers see it; `config/schema.json` is never stale."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from orgconfig.schema import SCHEMA_PATH, schema_text
from tests.conftest import ROOT


def test_render_writes_plan_with_delays_rotation_and_no_secret(tmp_path: Path) -> None:
    out = tmp_path / "out"
    result = subprocess.run(
        [sys.executable, "-m", "irctl", "render", "--stack", "prod", "--out", str(out)],
        capture_output=True,
        text=True,
        cwd=ROOT,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    plan = json.loads((out / "plan.json").read_text())
    by_name = {(r["type"].split(":")[-1], r["name"]): r for r in plan["resources"]}
    policy = by_name[("EscalationPolicy", "platform")]
    assert [r["escalationDelayInMinutes"] for r in policy["inputs"]["rules"]][:3] == [15, 15, 30]
    layer = by_name[("Schedule", "platform-primary")]["inputs"]["layers"][0]
    assert layer["rotationTurnLengthSeconds"] == 1209600
    assert layer["users"] == ["user-alex.rivera", "user-sam.okafor"]
    assert by_name[("Schedule", "platform-backup")]["inputs"]["layers"][0]["users"] == [
        "user-jordan.lee"
    ]
    assert plan["outputs"]["incident-response:oncall:PagedService::api"]["integration_key"] == (
        "[secret]"
    )
    for r in plan["resources"]:
        assert set(r) >= {"type", "name", "parent", "inputs"}
    text = (out / "plan.json").read_text()
    assert "placeholder-" not in text  # secret stand-ins never appear in clear


def test_schema_is_current_and_referenced() -> None:
    assert SCHEMA_PATH.read_text() == schema_text(), "run `irctl config schema` and commit"
    for example in sorted((ROOT / "config").glob("*.yaml")):
        assert example.read_text().startswith("# yaml-language-server: $schema=./schema.json"), (
            f"{example.name} does not reference the schema for editors"
        )
