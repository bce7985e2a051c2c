"""The rendered rules and Alertmanager config pass the tools the Prometheus community uses."""

from __future__ import annotations

import concurrent.futures
from pathlib import Path

import yaml

from alerts.catalog import ALERT_NAMES, service_alerts
from alerts.promtool import Shard, representatives, run_shards, write_shards
from alerts.routing import probes, receiver_table
from alerts.rules import rule_groups
from irctl.alerting import statuspage_hook
from irctl.render import Rendered
from orgconfig.model import OrgConfig
from tests.alerts.conftest import run, tool


def test_promtool_check_rules_accepts_the_rendered_rules(
    rendered: Rendered, org: OrgConfig
) -> None:
    result = run(tool("promtool"), "check", "rules", str(rendered.out / "prometheus/rules.yaml"))
    assert result.returncode == 0, result.stdout + result.stderr
    rules = sum(len(group["rules"]) for group in rule_groups(org))
    assert rules > sum(len(alert.levels) for alert in service_alerts(org)) + 1  # + recording
    assert f"SUCCESS: {rules} rules found" in result.stdout


def _split(tests_file: Path, parts: int) -> list[Path]:
    data = yaml.safe_load(tests_file.read_text())
    files = []
    for index in range(parts):
        part = tests_file.with_name(f"rules.test.{index}.yaml")
        part.write_text(yaml.safe_dump({**data, "tests": data["tests"][index::parts]}))
        files.append(part)
    return files


def test_promtool_unit_tests_pass_on_both_sides_of_every_threshold(rendered: Rendered) -> None:
    promtool = tool("promtool")
    tests_file = rendered.out / "prometheus/rules.test.yaml"
    names = [t["name"] for t in yaml.safe_load(tests_file.read_text())["tests"]]
    for alert in ALERT_NAMES:
        assert any(name.startswith(alert) for name in names), f"no promtool test for {alert}"
    _promtool_test_rules(promtool, tests_file)


def _promtool_test_rules(promtool: str, tests_file: Path) -> None:
    # Each promtool test builds its own TSDB: run the file in parallel parts to stay fast.
    with concurrent.futures.ThreadPoolExecutor() as pool:
        results = list(
            pool.map(
                lambda part: run(promtool, "test", "rules", part.name, cwd=part.parent),
                _split(tests_file, 3),
            )
        )
    for result in results:
        assert result.returncode == 0, result.stdout + result.stderr
        assert "SUCCESS" in result.stdout


def test_dev_rules_evaluate_every_second_and_pass_promtool(
    dev_rendered: Rendered, dev_org: OrgConfig
) -> None:
    """The sandbox's seconds-long `for` durations are proven at their 1 s pace, both sides of
    every threshold and `for` edge, like prod's."""
    promtool = tool("promtool")
    rules_file = dev_rendered.out / "prometheus/rules.yaml"
    groups = yaml.safe_load(rules_file.read_text())["groups"]
    assert {group["interval"] for group in groups} == {"1s"}
    result = run(promtool, "check", "rules", str(rules_file))
    assert result.returncode == 0, result.stdout + result.stderr
    rules = sum(len(group["rules"]) for group in rule_groups(dev_org))
    assert f"SUCCESS: {rules} rules found" in result.stdout

    tests_file = dev_rendered.out / "prometheus/rules.test.yaml"
    tests = yaml.safe_load(tests_file.read_text())
    assert tests["evaluation_interval"] == "1s"
    assert {test["interval"] for test in tests["tests"]} == {"1s"}
    names = [test["name"] for test in tests["tests"]]
    for alert in {a.alert for a in service_alerts(dev_org)} | {"Watchdog"}:
        assert any(name.startswith(alert) for name in names), f"no promtool test for {alert}"
    down = next(t for t in tests["tests"] if t["name"].startswith("ServiceDown at 0 "))
    assert [c["eval_time"] for c in down["alert_rule_test"]] == ["14s", "15s", "37s"]
    _promtool_test_rules(promtool, tests_file)


def test_dev_tests_catch_a_for_one_second_too_long(dev_rendered: Rendered, tmp_path: Path) -> None:
    """The generated tests pin `for` to the evaluation: rules waiting 16 s fail tests for 15 s."""
    promtool = tool("promtool")
    rules = (dev_rendered.out / "prometheus/rules.yaml").read_text()
    assert "for: 15s" in rules
    (tmp_path / "rules.yaml").write_text(rules.replace("for: 15s", "for: 16s"))
    tests = yaml.safe_load((dev_rendered.out / "prometheus/rules.test.yaml").read_text())
    tests["tests"] = [t for t in tests["tests"] if t["name"].startswith("ServiceDown at 0 ")]
    (tmp_path / "t.yaml").write_text(yaml.safe_dump(tests))
    result = run(promtool, "test", "rules", "t.yaml", cwd=tmp_path)
    assert result.returncode == 1
    assert "time: 15s" in result.stdout + result.stderr


def test_amtool_check_config_accepts_the_rendered_config(rendered: Rendered) -> None:
    result = run(
        tool("amtool"), "check-config", str(rendered.out / "alertmanager/alertmanager.yaml")
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "SUCCESS" in result.stdout


def test_amtool_routes_every_service_severity_watchdog_and_unknown_service(
    rendered: Rendered, org: OrgConfig
) -> None:
    amtool = tool("amtool")
    config = rendered.out / "alertmanager/alertmanager.yaml"
    shipped = yaml.safe_load(config.read_text())
    expected = {(s, sev): receivers for s, sev, receivers in receiver_table(org, shipped)}
    # With the status page deployed, criticals of opted-in components also reach its webhook.
    assert statuspage_hook(rendered.plan) is not None
    assert expected[("api", "critical")] == "statuspage,pagerduty-api"
    assert expected[("payments", "critical")] == "statuspage-draft,pagerduty-payments"
    assert expected[("payments", "warning")] == "slack"
    assert expected[("prometheus", "none")] == "heartbeat"
    assert expected[("no-such-service", "critical")] == "pagerduty-catch-all"
    assert expected[("no-such-service", "warning")] == "default"

    def check(probe: tuple[str, str, dict[str, str]]) -> tuple[str, str, str, int, str]:
        service, severity, labels = probe
        result = run(
            amtool, "config", "routes", "test", f"--config.file={config}",
            f"--verify.receivers={expected[(service, severity)]}",
            *(f"{k}={v}" for k, v in labels.items()),
        )  # fmt: skip
        return service, severity, result.stdout.strip(), result.returncode, result.stderr

    with concurrent.futures.ThreadPoolExecutor(max_workers=4) as pool:
        results = list(pool.map(check, probes(org)))
    assert len(results) == 2 * len(org.services) + 3
    for service, severity, stdout, code, stderr in results:
        assert code == 0, f"{service}/{severity}: amtool says {stdout!r} {stderr}"
        assert stdout == expected[(service, severity)]


def test_validate_tests_one_service_per_rule_shape_in_parallel_parts(
    dev_rendered: Rendered, dev_org: OrgConfig, tmp_path: Path
) -> None:
    promtool = tool("promtool")
    groups = yaml.safe_load((dev_rendered.out / "prometheus/rules.yaml").read_text())["groups"]
    # web differs from api only in id and name: api's tests prove its rules (page-test has
    # no probe, so no ServiceDown: a shape of its own).
    assert [s.id for s in representatives(dev_org, groups)] == [
        "api",
        "database",
        "payments",
        "page-test",
    ]
    shards = write_shards(dev_org, groups, tmp_path, parts=2)
    assert len(shards) == 2 and all(s.time_limit > 60 for s in shards)
    names = [t["name"] for s in shards for t in yaml.safe_load(s.tests.read_text())["tests"]]
    assert any(n.startswith("HighErrorRate at 0.11 (api") for n in names)
    assert not any("web" in n for n in names)
    assert run_shards(promtool, shards) == []


def test_a_promtool_shard_over_its_time_limit_is_a_clear_problem(tmp_path: Path) -> None:
    slow = tmp_path / "promtool"
    slow.write_text("#!/bin/sh\nsleep 5\n")
    slow.chmod(0o755)
    shard = Shard(3, tmp_path / "r.yaml", tmp_path / "shard-3.test.yaml", 1234, time_limit=0.3)
    assert run_shards(str(slow), [shard]) == [
        "promtool test rules shard-3.test.yaml did not finish within 0 s (its time limit for "
        "1,234 series x steps); the machine may be overloaded: run `irctl validate` again"
    ]


def test_check_and_test_reports_a_broken_rule_file_as_a_problem(
    org: OrgConfig, tmp_path: Path
) -> None:
    from alerts.promtool import check_and_test

    promtool = tool("promtool")
    rules = tmp_path / "rules.yaml"
    rules.write_text("groups:\n- name: x\n  rules:\n  - alert: Broken\n    expr: sum(rate(\n")
    problems, _ = check_and_test(promtool, rules, org, tmp_path / "shards")
    assert any(p.startswith("promtool check rules rules.yaml failed:") for p in problems)
