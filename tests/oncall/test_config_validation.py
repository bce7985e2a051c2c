"""Every validation rule gives a message that names the path, the bad value and what is allowed."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from orgconfig.load import ConfigError, load_config, parse_config
from tests.conftest import PROD, ROOT


def problems_for(data: dict[str, Any], write_config: Any) -> list[str]:
    path = write_config(data)
    with pytest.raises(ConfigError) as caught:
        load_config(path)
    return [str(p) for p in caught.value.problems]


def test_prod_config_loads() -> None:
    org = load_config(PROD)
    assert org.org.name == "Modulo"
    primary = org.schedule("platform-primary")
    assert primary.rotation.participants == ["alex-rivera", "sam-okafor"]
    assert primary.rotation.turn.days == 14
    assert [str(t.after) for t in org.policy("platform").tiers] == [
        "0:00:00",
        "0:15:00",
        "0:30:00",
        "1:00:00",
    ]


def test_unknown_reference_names_the_path_line_and_known_ids(prod_data, write_config) -> None:
    prod_data["escalation_policies"][0]["tiers"][1]["targets"][0]["schedule"] = "platfrom-backup"
    (problem,) = problems_for(prod_data, write_config)
    assert "escalation_policies[0].tiers[1].targets[0].schedule" in problem
    assert "'platfrom-backup' is not a known schedule id" in problem
    assert "platform-backup, platform-primary" in problem
    assert ".yaml:" in problem.split(": ")[0]  # file:line


def test_missing_person_in_rotation(prod_data, write_config) -> None:
    prod_data["schedules"][0]["rotation"]["participants"] = ["alex-rivera", "nobody"]
    (problem,) = problems_for(prod_data, write_config)
    assert "schedules[0].rotation.participants[1]" in problem
    assert "'nobody' is not a known person id" in problem


def test_missing_policy_on_service(prod_data, write_config) -> None:
    prod_data["services"][0]["escalation_policy"] = "ghost"
    (problem,) = problems_for(prod_data, write_config)
    assert "services[0].escalation_policy" in problem and "'ghost'" in problem


def test_duplicate_ids(prod_data, write_config) -> None:
    prod_data["people"].append(dict(prod_data["people"][0]))
    (problem,) = problems_for(prod_data, write_config)
    assert "people" in problem and "duplicate person id(s): alex-rivera" in problem


def test_unknown_key_lists_allowed_keys(prod_data, write_config) -> None:
    prod_data["services"][0]["urgancy"] = "high"
    (problem,) = problems_for(prod_data, write_config)
    assert "unknown key 'urgancy'" in problem
    assert "urgency" in problem.split("allowed keys here:")[1]


def test_empty_rotation(prod_data, write_config) -> None:
    prod_data["schedules"][0]["rotation"]["participants"] = []
    (problem,) = problems_for(prod_data, write_config)
    assert "a rotation needs at least one participant" in problem


def test_tiers_must_strictly_increase(prod_data, write_config) -> None:
    prod_data["escalation_policies"][0]["tiers"][2]["after"] = "15m"
    (problem,) = problems_for(prod_data, write_config)
    assert "escalation_policies[0].tiers" in problem
    assert "tier 3 (after 15m) must come later than tier 2 (after 15m)" in problem


def test_first_tier_at_zero(prod_data, write_config) -> None:
    prod_data["escalation_policies"][0]["tiers"][0]["after"] = "5m"
    (problem,) = problems_for(prod_data, write_config)
    assert "the first tier must be paged at once (after: 0m), not after 5m" in problem


def test_gap_under_one_minute(prod_data, write_config) -> None:
    prod_data["escalation_policies"][0]["tiers"][1]["after"] = "30s"
    (problem,) = problems_for(prod_data, write_config)
    assert "tier 2 is 30s after tier 1" in problem and "at least 1m" in problem


def test_more_than_ten_targets(prod_data, write_config) -> None:
    prod_data["escalation_policies"][0]["tiers"][3]["targets"] = [{"person": "casey-novak"}] * 11
    (problem,) = problems_for(prod_data, write_config)
    assert "11 targets; PagerDuty allows at most 10 per tier" in problem


@pytest.mark.parametrize(
    ("turn", "words"), [("30m", "30m is outside"), ("366d", "366d is outside")]
)
def test_turn_length_limits(prod_data, write_config, turn: str, words: str) -> None:
    prod_data["schedules"][0]["rotation"]["turn"] = turn
    (problem,) = problems_for(prod_data, write_config)
    assert words in problem and "from 1h to 365d" in problem


def test_repeat_range(prod_data, write_config) -> None:
    prod_data["escalation_policies"][0]["repeat"] = 10
    (problem,) = problems_for(prod_data, write_config)
    assert "repeat 10 is outside PagerDuty's num_loops range 0..9" in problem


@pytest.mark.parametrize("bad", ["15 minutes", "15", "m15", ""])
def test_malformed_duration(prod_data, write_config, bad: str) -> None:
    prod_data["escalation_policies"][0]["tiers"][1]["after"] = bad
    (problem,) = problems_for(prod_data, write_config)
    assert "escalation_policies[0].tiers[1].after" in problem
    assert "duration like 90s, 15m" in problem or "has no unit" in problem


def test_malformed_percentage(prod_data, write_config) -> None:
    prod_data["alerting"] = {"thresholds": {"error_rate_critical": "ten percent"}}
    problems = problems_for(prod_data, write_config)
    assert any("'ten percent' is not a percentage like 10%" in p for p in problems)


def test_bad_time_zone(prod_data, write_config) -> None:
    prod_data["schedules"][1]["time_zone"] = "Europe/Berlinn"
    (problem,) = problems_for(prod_data, write_config)
    assert "schedules[1].time_zone" in problem
    assert "'Europe/Berlinn' is not an IANA time zone name" in problem


def test_timeout_pagerduty_rejects(prod_data, write_config) -> None:
    prod_data["services"][0]["acknowledgement_timeout"] = "30s"
    (problem,) = problems_for(prod_data, write_config)
    assert "services[0].acknowledgement_timeout" in problem
    assert "30s is not accepted by PagerDuty" in problem and "or null to disable" in problem


def test_all_problems_of_a_file_at_once(prod_data, write_config) -> None:
    prod_data["escalation_policies"][0]["repeat"] = 12
    prod_data["schedules"][0]["rotation"]["turn"] = "2 weeks"
    prod_data["services"][1]["escalation_policy"] = "ghost"
    problems = problems_for(prod_data, write_config)
    assert len(problems) == 3


def test_line_numbers_point_at_the_value() -> None:
    text = PROD.read_text().replace("turn: 2w", "turn: 2weeks")
    with pytest.raises(ConfigError) as caught:
        parse_config(text, "prod.yaml")
    (problem,) = caught.value.problems
    expected_line = text.splitlines().index("      turn: 2weeks") + 1
    assert problem.line == expected_line


def test_yaml_syntax_error_is_reported_with_line() -> None:
    with pytest.raises(ConfigError) as caught:
        parse_config("org:\n  name: [unclosed\n", "broken.yaml")
    assert str(caught.value.problems[0]).startswith("broken.yaml:")
    assert "not valid YAML" in str(caught.value.problems[0])


def test_cli_reports_bad_config_without_traceback(prod_data, write_config) -> None:
    prod_data["escalation_policies"][0]["repeat"] = 12
    prod_data["services"][0]["escalation_policy"] = "ghost"
    path: Path = write_config(prod_data)
    result = subprocess.run(
        [sys.executable, "-m", "irctl", "config", "check", "--config", str(path)],
        capture_output=True,
        text=True,
        cwd=ROOT,
        check=False,
    )
    assert result.returncode == 2
    assert "Traceback" not in result.stderr + result.stdout
    assert "2 problems in" in result.stderr
    assert "repeat 12 is outside" in result.stderr and "'ghost' is not a known" in result.stderr


def test_cli_missing_file(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "irctl", "config", "check", "--config", str(tmp_path / "nope.yaml")],
        capture_output=True,
        text=True,
        cwd=ROOT,
        check=False,
    )
    assert result.returncode == 2
    assert "file not found" in result.stderr and "Traceback" not in result.stderr
