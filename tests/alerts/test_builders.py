"""The pure builders: rule groups, generated promtool tests, Alertmanager routing."""

from __future__ import annotations

import copy
import functools
from collections.abc import Callable
from dataclasses import replace
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from alerts.alertmanager import StatusPageHook, build_config
from alerts.catalog import ALERT_NAMES, service_alerts
from alerts.documents import dump
from alerts.promtool import (
    burst_test,
    fires_at,
    humanize,
    humanize_duration,
    humanize_percentage,
    rule_tests,
    threshold_values,
    untested,
)
from alerts.routing import receiver_table
from alerts.rules import rule_file, rule_groups
from orgconfig.alerting import Thresholds
from orgconfig.load import ConfigError, load_config
from orgconfig.model import OrgConfig
from orgconfig.units import format_duration
from tests.alerts.conftest import run, tool

WriteConfig = Callable[[dict[str, Any]], Path]


def _org(data: dict[str, Any], write_config: WriteConfig) -> OrgConfig:
    return load_config(write_config(data))


def _with(data: dict[str, Any], **alerting: Any) -> dict[str, Any]:
    changed = copy.deepcopy(data)
    changed.setdefault("alerting", {})
    for key, value in alerting.items():
        if isinstance(value, dict):
            changed["alerting"].setdefault(key, {}).update(value)
        else:
            changed["alerting"][key] = value
    return changed


def _rules(org: OrgConfig) -> list[dict[str, Any]]:
    return [rule for group in rule_groups(org) for rule in group["rules"]]


# --------------------------------------------------------------------------- rules


def test_every_rule_has_severity_service_summary_description_and_runbook(org: OrgConfig) -> None:
    rules = _rules(org)
    assert {r["alert"] for r in rules} == set(ALERT_NAMES)
    for rule in rules:
        assert set(rule["labels"]) == {"severity", "service"}
        assert set(rule["annotations"]) == {"summary", "description", "runbook_url"}
        assert "{{" not in rule["annotations"]["summary"], "summary must be a static sentence"
        assert "$value" in rule["annotations"]["description"]
        assert rule["annotations"]["runbook_url"].endswith(f"docs/runbooks/{rule['alert']}.md")


def test_two_level_conditions_are_one_alert_name_with_critical_and_warning(org: OrgConfig) -> None:
    levels: dict[tuple[str, str], list[str]] = {}
    for rule in _rules(org):
        key = (rule["alert"], rule["labels"]["service"])
        levels.setdefault(key, []).append(rule["labels"]["severity"])
    for alert in ("HighErrorRate", "HighLatency", "ErrorBudgetBurn"):
        assert levels[(alert, "api")] == ["critical", "warning"]
    for alert in ("ServiceDown", "DatabaseConnectionFailures", "PaymentProcessingFailures"):
        assert all(v == ["critical"] for (a, _), v in levels.items() if a == alert)
    for alert in ("HighCPUUsage", "HighMemoryUsage", "DiskSpaceLow"):
        assert all(v == ["warning"] for (a, _), v in levels.items() if a == alert)


def test_thresholds_are_the_example_orgs(org: OrgConfig) -> None:
    by_key = {(r["alert"], r["labels"]["severity"], r["labels"]["service"]): r for r in _rules(org)}
    assert by_key[("ServiceDown", "critical", "api")]["for"] == "2m"
    assert by_key[("HighErrorRate", "critical", "api")]["expr"].endswith("> 0.1")
    assert by_key[("HighErrorRate", "warning", "api")]["expr"].endswith("> 0.05")
    assert by_key[("HighLatency", "critical", "api")]["expr"].endswith("> 5")
    assert by_key[("HighLatency", "warning", "api")]["expr"].endswith("> 3")
    assert by_key[("HighCPUUsage", "warning", "api")]["expr"].endswith("> 0.8")
    assert by_key[("DiskSpaceLow", "warning", "api")]["expr"].endswith("< 0.2")
    burn = by_key[("ErrorBudgetBurn", "critical", "api")]["expr"]
    assert "[1h]" in burn and "[5m]" in burn and "> 0.0144" in burn
    assert "[6h]" in burn and "[30m]" in burn and "> 0.006" in burn
    ticket = by_key[("ErrorBudgetBurn", "warning", "api")]["expr"]
    assert "[1d]" in ticket and "[2h]" in ticket and "> 0.003" in ticket
    assert "[3d]" in ticket and "> 0.001" in ticket
    watchdog = next(r for r in _rules(org) if r["alert"] == "Watchdog")
    assert watchdog["expr"] == "vector(1)"


def test_signals_can_be_disabled_reselected_or_overridden(
    prod_data: dict[str, Any], write_config: WriteConfig
) -> None:
    data = copy.deepcopy(prod_data)
    api = next(s for s in data["services"] if s["id"] == "api")
    api["alerts"] = {
        "selector": 'job="api", env="prod"',
        "cpu": {"enabled": False},
        "latency": {"expr": 'max(probe_duration_seconds{job="api"})'},
    }
    org = _org(data, write_config)
    rules = [r for r in _rules(org) if r["labels"]["service"] == "api"]
    assert not [r for r in rules if r["alert"] == "HighCPUUsage"]
    latency = next(r for r in rules if r["alert"] == "HighLatency")
    assert latency["expr"] == '(max(probe_duration_seconds{job="api"})) > 5'
    errors = next(r for r in rules if r["alert"] == "HighErrorRate")
    assert 'http_requests_total{job="api", env="prod", code=~"5.."}' in errors["expr"]
    assert untested(org) == [("api", "HighLatency")]
    assert not [r for r in _rules(org) if r["labels"]["service"] == "page-test"]


def test_bad_alert_settings_fail_with_clear_messages(
    prod_data: dict[str, Any], write_config: WriteConfig
) -> None:
    data = _with(
        prod_data,
        thresholds={"error_rate_warning": "20%"},
        maintenance=[{"name": "x", "services": ["nope"]}],
    )
    api = next(s for s in data["services"] if s["id"] == "api")
    api["alerts"] = {"selector": "service=api", "down": {"colour": "red"}}
    with pytest.raises(ConfigError) as caught:
        load_config(write_config(data))
    report = caught.value.report()
    assert "error_rate_warning (20%) must be below error_rate_critical (10%)" in report
    with pytest.raises(ConfigError) as caught:
        load_config(write_config(_with(prod_data, thresholds={"availability_target": "100%"})))
    assert "availability_target 100% must be at least 90% and below 100%" in caught.value.report()
    assert "unknown service id(s) 'nope'" in report
    assert "'service=api' is not PromQL label matchers" in report
    assert "colour" in report


def test_durations_must_fit_the_evaluation_interval(
    prod_data: dict[str, Any], write_config: WriteConfig
) -> None:
    def problems(**alerting: Any) -> str:
        with pytest.raises(ConfigError) as caught:
            load_config(write_config(_with(prod_data, **alerting)))
        return caught.value.report()

    report = problems(thresholds={"down_for": "90s", "rate_window": "1m"})
    assert (
        "down_for (1m30s) must be a whole multiple of evaluation_interval (1m), e.g. 1m or 2m"
        in report
    )
    assert (
        "rate_window (1m) must be at least twice evaluation_interval (1m), i.e. at least 2m"
        in report
    )
    report = problems(
        evaluation_interval="15s",
        thresholds={"error_budget_warning_for": "20s", "rate_window": "45s"},
    )
    assert "error_budget_warning_for (20s) must be a whole multiple of evaluation_interval " in (
        report
    )
    assert "(15s), e.g. 15s or 30s: rules only evaluate every 15s" in report
    assert "rate_window" not in report  # 45s is three 15 s evaluations
    assert "evaluation_interval 0s must be above 0s" in problems(evaluation_interval="0s")


def test_rule_groups_carry_the_interval_only_when_it_is_not_1m(
    org: OrgConfig, prod_data: dict[str, Any], write_config: WriteConfig
) -> None:
    assert all("interval" not in group for group in rule_groups(org))
    short = {f"{name}_for": "15s" for name in ("down", "error_rate", "latency", "saturation")}
    fast = _org(
        _with(
            prod_data,
            evaluation_interval="5s",
            thresholds={**short, "failures_for": "15s", "rate_window": "20s"},
        ),
        write_config,
    )
    groups = rule_groups(fast)
    assert [list(group)[:2] for group in groups] == [["name", "interval"]] * len(groups)
    assert {group["interval"] for group in groups} == {"5s"}
    down = next(r for r in _rules(fast) if r["alert"] == "ServiceDown")
    assert down["for"] == "15s"
    assert "[20s]" in next(r for r in _rules(fast) if r["alert"] == "HighErrorRate")["expr"]


def test_error_budget_for_durations_come_from_config(
    org: OrgConfig, prod_data: dict[str, Any], write_config: WriteConfig
) -> None:
    def burn_for(config: OrgConfig) -> dict[str, str]:
        return {
            r["labels"]["severity"]: r["for"]
            for r in _rules(config)
            if r["alert"] == "ErrorBudgetBurn" and r["labels"]["service"] == "api"
        }

    assert burn_for(org) == {"critical": "2m", "warning": "15m"}
    changed = _with(
        prod_data, thresholds={"error_budget_critical_for": "5m", "error_budget_warning_for": "1h"}
    )
    assert burn_for(_org(changed, write_config)) == {"critical": "5m", "warning": "1h"}


# --------------------------------------------------------------------------- promtool tests


def test_generated_tests_straddle_each_threshold_and_its_for_duration(org: OrgConfig) -> None:
    api = {a.alert: a for a in service_alerts(org) if a.service == "api"}
    errors = api["HighErrorRate"]
    assert threshold_values(errors) == [0.045, 0.055, 0.09, 0.11]
    critical = errors.levels[0]
    assert fires_at(errors, critical, 0.11) == timedelta(minutes=1) + timedelta(minutes=5)
    assert fires_at(errors, critical, 0.09) is None
    down = api["ServiceDown"]
    assert threshold_values(down) == [1.0, 0.0]
    assert fires_at(down, down.levels[0], 0.0) == timedelta(minutes=2)
    tests = rule_tests(org)["tests"]
    at_11 = next(t for t in tests if t["name"].startswith("HighErrorRate at 0.11 "))
    by_time = {c["eval_time"]: c["exp_alerts"] for c in at_11["alert_rule_test"]}
    assert by_time["5m"] == []  # one minute short of `for`: silent
    fired = [a for a in by_time["6m"] if a["exp_labels"]["service"] == "api"]
    assert [a["exp_labels"] for a in fired] == [
        {"severity": "critical", "service": "api"},
        {"severity": "warning", "service": "api"},
    ]
    assert fired[0]["exp_annotations"]["description"].startswith("11% of requests to Public API")


def test_generated_tests_step_at_the_evaluation_interval(dev_org: OrgConfig) -> None:
    """At a 1 s evaluation_interval the `for` edge is one second wide, not one minute."""
    step = dev_org.alerting.evaluation_interval
    assert step == timedelta(seconds=1)
    web = {a.alert: a for a in service_alerts(dev_org) if a.service == "web"}
    errors, critical = web["HighErrorRate"], web["HighErrorRate"].levels[0]
    assert fires_at(errors, critical, 0.11, step) == timedelta(seconds=1 + 15)
    failures = next(a for a in service_alerts(dev_org) if a.alert == "DatabaseConnectionFailures")
    # 1.1 a minute over a 20 s window that fills from zero: true once 19 of 20 s are seen.
    assert fires_at(failures, failures.levels[0], 1.1, step) == timedelta(seconds=19 + 15)
    generated = rule_tests(dev_org)
    assert generated["evaluation_interval"] == "1s"
    at_11 = next(t for t in generated["tests"] if t["name"].startswith("HighErrorRate at 0.11 "))
    assert at_11["interval"] == "1s"
    by_time = {c["eval_time"]: c["exp_alerts"] for c in at_11["alert_rule_test"]}
    assert by_time["15s"] == []
    assert {a["exp_labels"]["severity"] for a in by_time["16s"]} == {"critical", "warning"}
    db = next(
        t for t in generated["tests"] if t["name"].startswith("DatabaseConnectionFailures at 1.1 ")
    )
    assert db["input_series"][0]["values"].startswith("0+0.0183333333x")


@functools.cache
def _prod() -> OrgConfig:
    return load_config(Path(__file__).resolve().parents[2] / "tests" / "fixtures" / "modulo.yaml")


@settings(max_examples=40, deadline=None)
@given(critical=st.integers(min_value=2, max_value=90), warning_share=st.integers(1, 99))
def test_changing_a_threshold_moves_the_generated_tests(critical: int, warning_share: int) -> None:
    warning = max(1, critical * warning_share // 100)
    if warning >= critical:
        warning = critical - 1
    base = _prod()
    thresholds = Thresholds(error_rate_critical=f"{critical}%", error_rate_warning=f"{warning}%")  # type: ignore[arg-type]
    org = base.model_copy(
        update={"alerting": base.alerting.model_copy(update={"thresholds": thresholds})}
    )
    errors = next(a for a in service_alerts(org) if a.alert == "HighErrorRate")
    values = threshold_values(errors)
    for level in errors.levels:
        below = max(v for v in values if v < level.threshold)
        above = min(v for v in values if v > level.threshold)
        assert fires_at(errors, level, below) is None
        assert fires_at(errors, level, above) == timedelta(minutes=6)
    names = [t["name"] for t in rule_tests(org)["tests"] if t["name"].startswith("HighErrorRate")]
    assert len(names) == len(values)


def test_promtool_fails_when_rules_and_tests_disagree(org: OrgConfig, tmp_path: Path) -> None:
    """The generated tests really check the threshold: rules at 10% fail tests made for 20%."""
    promtool = tool("promtool")
    moved = Thresholds(error_rate_critical=0.2, error_rate_warning=0.05)
    other = org.model_copy(
        update={"alerting": org.alerting.model_copy(update={"thresholds": moved})}
    )
    tests = rule_tests(other)
    tests["tests"] = [t for t in tests["tests"] if t["name"].startswith("HighErrorRate at 0.18 ")]
    assert tests["tests"]
    (tmp_path / "rules.yaml").write_text(dump(rule_file(org)))
    (tmp_path / "t.yaml").write_text(dump(tests))
    result = run(promtool, "test", "rules", "t.yaml", cwd=tmp_path)
    assert result.returncode == 1
    assert "HighErrorRate" in result.stdout + result.stderr


def test_humanize_matches_prometheus_formatting() -> None:
    assert humanize_percentage(0.11) == "11%"
    assert humanize_percentage(0.00066) == "0.066%"
    assert humanize_duration(5.5) == "5.5s"
    assert humanize_duration(0.45) == "450ms"
    assert humanize_duration(90) == "1m 30s"
    assert humanize(1.1) == "1.1"
    assert humanize(1500) == "1.5k"
    assert humanize(0.5) == "500m"


# --------------------------------------------------------------------------- Alertmanager


def test_routing_pages_criticals_per_service_and_sends_warnings_to_slack(org: OrgConfig) -> None:
    table = receiver_table(org)
    assert ("api", "critical", "pagerduty-api") in table
    assert ("payments", "critical", "pagerduty-payments") in table
    assert ("api", "warning", "slack") in table
    assert ("prometheus", "none", "heartbeat") in table
    assert ("no-such-service", "critical", "default") in table
    config = build_config(org, heartbeat_url="https://hb.example.com/ping")
    routes = config["route"]["routes"]
    assert routes[0]["matchers"] == ['alertname="Watchdog"']
    page = next(r for r in routes if r["receiver"] == "pagerduty-api")
    assert page["group_by"] == ["alertname", "service"]
    assert page["group_wait"] == "10s"
    assert config["inhibit_rules"] == [
        {
            "source_matchers": ['severity="critical"'],
            "target_matchers": ['severity="warning"'],
            "equal": ["alertname", "service"],
        }
    ]
    slack = next(r for r in config["receivers"] if r["name"] == "slack")["slack_configs"][0]
    assert slack["send_resolved"] is True
    assert slack["channel"] == "#platform-alerts"


def test_maintenance_windows_mute_the_listed_services_only(org: OrgConfig) -> None:
    config = build_config(org, heartbeat_url=None)
    assert config["time_intervals"] == [
        {
            "name": "database-maintenance",
            "time_intervals": [
                {
                    "times": [{"start_time": "02:00", "end_time": "04:00"}],
                    "weekdays": ["sunday"],
                    "location": "Europe/Berlin",
                }
            ],
        }
    ]
    muted = {
        (r["matchers"][0], r["matchers"][1]): r.get("mute_time_intervals")
        for r in config["route"]["routes"]
        if len(r.get("matchers", [])) == 2
    }
    assert muted[('service="database"', 'severity="warning"')] == ["database-maintenance"]
    assert muted[('service="database"', 'severity="critical"')] is None
    assert muted[('service="api"', 'severity="warning"')] is None


def test_status_page_hook_sees_every_alert_first_and_continues(org: OrgConfig) -> None:
    hook = StatusPageHook("http://statuspage.incident-response.svc/api/v1/alertmanager")
    config = build_config(org, heartbeat_url=None, statuspage=hook)
    first = config["route"]["routes"][0]
    assert first == {
        "receiver": "statuspage",
        "matchers": ['alertname!="Watchdog"'],
        "continue": True,
        "group_wait": "10s",
        "group_interval": "5m",
        "repeat_interval": "4h",
    }
    receiver = next(r for r in config["receivers"] if r["name"] == "statuspage")
    webhook = receiver["webhook_configs"][0]
    assert webhook["url"] == hook.url
    assert webhook["http_config"]["authorization"] == {
        "type": "Bearer",
        "credentials_file": "/etc/alertmanager/config/statuspage-token",
    }
    table = dict(((s, sev), r) for s, sev, r in receiver_table(org, config))
    assert table[("api", "critical")] == "statuspage,pagerduty-api"
    assert table[("prometheus", "none")] == "heartbeat"


def test_status_page_config_passes_amtool(org: OrgConfig, tmp_path: Path) -> None:
    amtool = tool("amtool")
    hook = StatusPageHook("http://statuspage.incident-response.svc/api/v1/alertmanager")
    path = tmp_path / "alertmanager.yaml"
    config = build_config(org, heartbeat_url=None, statuspage=hook)
    path.write_text(yaml.safe_dump(config))
    result = run(amtool, "check-config", str(path))
    assert result.returncode == 0, result.stdout + result.stderr
    routed = run(
        amtool, "config", "routes", "test", f"--config.file={path}",
        "--verify.receivers=statuspage,pagerduty-web",
        "alertname=ServiceDown", "service=web", "severity=critical",
    )  # fmt: skip
    assert routed.returncode == 0, routed.stdout + routed.stderr
    # An unknown service still reaches a person, not only the status page.
    unknown = run(
        amtool, "config", "routes", "test", f"--config.file={path}",
        "--verify.receivers=statuspage,default",
        "alertname=ServiceDown", "service=billing-v2", "severity=critical",
    )  # fmt: skip
    assert unknown.returncode == 0, unknown.stdout + unknown.stderr
    assert ("no-such-service", "critical", "statuspage,default") in receiver_table(org, config)


def test_every_alert_has_a_runbook_page_that_says_what_to_check_do_and_escalate(
    org: OrgConfig,
) -> None:
    runbooks = Path(__file__).resolve().parents[2] / "docs" / "runbooks"
    for rule in _rules(org):
        page = runbooks / rule["annotations"]["runbook_url"].rsplit("/", 1)[1]
        assert page.exists(), f"{rule['alert']}: {page} is missing"
        text = page.read_text()
        assert text.startswith(f"# {rule['alert']}\n")
        for heading in ("## Check first", "## Do", "## Escalate"):
            assert heading in text or (rule["alert"] == "Watchdog" and heading == "## Check first")


def test_burst_test_proves_the_short_window_stops_the_page(org: OrgConfig, tmp_path: Path) -> None:
    """Rules whose fast pair forgot its 5m short window keep paging after recovery: caught."""
    promtool = tool("promtool")
    tests = rule_tests(org)
    tests["tests"] = [t for t in tests["tests"] if "pages alone" in t["name"]]
    assert [t["name"] for t in tests["tests"]] == [
        "ErrorBudgetBurn api: 14.4x over 1h and 5m pages alone, and stops with the 5m window"
    ]
    # Only the burn-rate rules of api, so promtool evaluates 2 rules per step, not all.
    burn = [
        r
        for r in _rules(org)
        if r["alert"] == "ErrorBudgetBurn" and r["labels"]["service"] == "api"
    ]
    rules = dump({"groups": [{"name": "api.alerts", "rules": burn}]})
    broken = "\n".join(
        line.replace("[5m]", "[1h]") if "> 0.0144" in line else line for line in rules.splitlines()
    )
    assert broken != rules
    (tmp_path / "rules.yaml").write_text(broken)
    (tmp_path / "t.yaml").write_text(dump(tests))
    result = run(promtool, "test", "rules", "t.yaml", cwd=tmp_path)
    assert result.returncode == 1
    assert "time: 6h10m" in result.stdout + result.stderr


def test_burst_test_follows_the_step_while_promtool_can_afford_it(org: OrgConfig) -> None:
    burn = next(a for a in service_alerts(org) if a.alert == "ErrorBudgetBurn")
    budget = 1 - org.alerting.thresholds.availability_target

    def eval_times(step: timedelta) -> list[str] | None:
        test = burst_test(burn, budget, step)
        if test is None:
            return None
        assert test["interval"] == format_duration(step)
        return [check["eval_time"] for check in test["promql_expr_test"]]

    assert eval_times(timedelta(minutes=1)) == ["330m", "360m", "370m"]
    assert eval_times(timedelta(seconds=15)) == ["19800s", "21600s", "22200s"]
    assert eval_times(timedelta(seconds=5)) is None  # 4440 steps: too slow for promtool
    assert eval_times(timedelta(seconds=7)) is None  # 5m is no whole number of steps
    # A page must come by the end of the 1h burst, two thirds of which it needs to cross.
    slow = replace(
        burn, levels=tuple(replace(lv, for_=timedelta(minutes=20)) for lv in burn.levels)
    )
    assert burst_test(slow, budget) is None
