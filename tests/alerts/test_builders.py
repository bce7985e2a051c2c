"""The pure builders: rule groups, generated promtool tests, Alertmanager routing."""

from __future__ import annotations

import copy
import functools
import re
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
from alerts.catalog import ALERT_NAMES, REGISTRY, service_alerts
from alerts.docs import stale
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
    """The alerting rules (recording rules left out)."""
    return [rule for group in rule_groups(org) for rule in group["rules"] if "alert" in rule]


# --------------------------------------------------------------------------- rules


def test_every_rule_has_severity_service_summary_description_and_runbook(org: OrgConfig) -> None:
    rules = _rules(org)
    assert {r["alert"] for r in rules} == set(ALERT_NAMES)
    for rule in rules:
        extra = {"signal"} if rule["alert"] == "SignalMissing" else set()
        assert set(rule["labels"]) == {"severity", "service", *extra}
        assert set(rule["annotations"]) == {"summary", "description", "runbook_url"}
        assert "{{" not in rule["annotations"]["summary"], "summary must be a static sentence"
        if rule["alert"] != "SignalMissing":  # its value is always 1
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
    ratio = "service:http_request_error_ratio:rate"
    assert f'{ratio}1h{{service="api"}} > 0.0144' in burn
    assert f'{ratio}5m{{service="api"}} > 0.0144' in burn
    assert f'{ratio}6h{{service="api"}} > 0.006' in burn and f"{ratio}30m" in burn
    ticket = by_key[("ErrorBudgetBurn", "warning", "api")]["expr"]
    assert f"{ratio}1d" in ticket and f"{ratio}2h" in ticket and "> 0.003" in ticket
    assert f"{ratio}3d" in ticket and "> 0.001" in ticket
    # The burn-rate rules read recording rules (as Sloth/Pyrra), recorded once per window
    # before the alerts: the paging windows with the pages, the others with the warnings.
    groups = {g["name"]: g for g in rule_groups(org)}
    records = {}
    for kind in ("alerts", "warnings"):
        rules = groups[f"api.{kind}"]["rules"]
        records[kind] = [r for r in rules if "record" in r]
        assert rules[: len(records[kind])] == records[kind]
    assert [r["record"] for r in records["alerts"]] == [
        f"{ratio}{w}" for w in ("5m", "30m", "1h", "6h")
    ]
    assert [r["record"] for r in records["warnings"]] == [f"{ratio}{w}" for w in ("2h", "1d", "3d")]
    assert records["warnings"][-1]["expr"] == (
        'sum(rate(http_requests_total{service="api", code=~"5.."}[3d])) / '
        'sum(rate(http_requests_total{service="api"}[3d]))'
    )
    assert records["warnings"][-1]["labels"] == {"service": "api"}
    # Pages evaluate every 15 s in their own groups; warnings at the global interval.
    assert {r["labels"]["severity"] for r in groups["api.alerts"]["rules"] if "alert" in r} == {
        "critical"
    }
    assert groups["api.alerts"]["interval"] == "15s"
    assert "interval" not in groups["api.warnings"]
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
    assert "paging_evaluation_interval (40s) must be above 0s and divide evaluation_interval" in (
        problems(paging_evaluation_interval="40s")
    )
    slow_page = {"page": {"group_wait": "30s", "group_interval": "5m", "repeat_interval": "4h"}}
    assert "timings.page.group_wait (30s) must be at most 10s" in problems(timings=slow_page)


def test_rule_groups_carry_the_interval_only_when_it_is_not_1m(
    org: OrgConfig, prod_data: dict[str, Any], write_config: WriteConfig
) -> None:
    paced = {g["name"]: g.get("interval") for g in rule_groups(org)}
    assert {name: every for name, every in paced.items() if every} == {
        f"{s}.alerts": "15s" for s in ("api", "web", "database", "payments")
    }
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
    def burn_for(config: OrgConfig) -> dict[str, str | None]:
        return {
            r["labels"]["severity"]: r.get("for")
            for r in _rules(config)
            if r["alert"] == "ErrorBudgetBurn" and r["labels"]["service"] == "api"
        }

    # SRE Workbook: the short window confirms the burn, no `for` by default.
    assert burn_for(org) == {"critical": None, "warning": None}
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


def test_routing_pages_once_per_service_and_sends_warnings_to_slack(org: OrgConfig) -> None:
    table = receiver_table(org)
    assert ("api", "critical", "pagerduty-api") in table
    assert ("payments", "critical", "pagerduty-payments") in table
    assert ("api", "warning", "slack") in table
    assert ("prometheus", "none", "heartbeat") in table
    # Criticals of unknown services page the catch-all service; their warnings go to Slack.
    assert ("no-such-service", "critical", "pagerduty-catch-all") in table
    assert ("no-such-service", "warning", "default") in table
    config = build_config(org, heartbeat_url="https://hb.example.com/ping")
    routes = config["route"]["routes"]
    assert routes[0]["matchers"] == ['alertname="Watchdog"']
    page = next(r for r in routes if r["receiver"] == "pagerduty-api")
    assert page["group_by"] == ["service"]  # one PagerDuty incident per service outage
    assert page["group_wait"] == "10s"
    warn = next(r for r in routes if r["matchers"] == ['service="api"', 'severity="warning"'])
    assert warn["group_by"] == ["alertname", "service"]
    assert config["inhibit_rules"] == [
        {
            "source_matchers": ['severity="critical"', 'service=~".+"'],
            "target_matchers": ['severity="warning"'],
            "equal": ["alertname", "service"],
        },
        {
            "source_matchers": ['alertname="ServiceDown"', 'service=~".+"'],
            "target_matchers": ['alertname!="ServiceDown"', 'alertname!="Watchdog"'],
            "equal": ["service"],
        },
    ]
    slack = next(r for r in config["receivers"] if r["name"] == "slack")["slack_configs"][0]
    assert slack["send_resolved"] is True
    assert slack["channel"] == "#platform-alerts"


def test_each_slack_channel_has_its_own_webhook_secret_and_teams_their_channel(
    prod_data: dict[str, Any], write_config: WriteConfig
) -> None:
    org = _org(
        _with(prod_data, slack={"team_channels": {"platform": "#platform-oncall"}}), write_config
    )
    config = build_config(org, heartbeat_url=None)
    receivers = {r["name"]: r for r in config["receivers"] if "slack_configs" in r}
    files = {name: r["slack_configs"][0]["api_url_file"] for name, r in receivers.items()}
    assert files == {
        "default": "/etc/alertmanager/config/slack-webhook-url-alerts-unrouted",
        "slack": "/etc/alertmanager/config/slack-webhook-url",
        "slack-platform-oncall": "/etc/alertmanager/config/slack-webhook-url-platform-oncall",
    }
    assert ("api", "warning", "slack-platform-oncall") in receiver_table(org, config)
    bad = _with(prod_data, slack={"team_channels": {"nobody": "#x"}})
    with pytest.raises(ConfigError) as caught:
        load_config(write_config(bad))
    assert "unknown team id(s) 'nobody' (known: platform)" in caught.value.report()


def test_alertmanager_fed_services_must_not_auto_resolve(
    prod_data: dict[str, Any], write_config: WriteConfig
) -> None:
    data = copy.deepcopy(prod_data)
    api = next(s for s in data["services"] if s["id"] == "api")
    api["auto_resolve_timeout"] = "4h"
    with pytest.raises(ConfigError) as caught:
        load_config(write_config(data))
    report = caught.value.report()
    assert "services[0]: auto_resolve_timeout must be null while Alertmanager pages this" in (
        report
    )


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


def test_status_page_hears_only_criticals_of_opted_in_components_muted_like_pages(
    org: OrgConfig, prod_data: dict[str, Any], write_config: WriteConfig
) -> None:
    hook = StatusPageHook("http://statuspage.incident-response.svc/api/v1/alertmanager")
    config = build_config(org, heartbeat_url=None, statuspage=hook)
    hooked = [r for r in config["route"]["routes"] if r["receiver"].startswith("statuspage")]
    assert [(r["receiver"], r["matchers"]) for r in hooked] == [
        ("statuspage", ['service="api"', 'severity="critical"']),
        ("statuspage", ['service="web"', 'severity="critical"']),
        ("statuspage-draft", ['service="database"', 'severity="critical"']),
        ("statuspage-draft", ['service="payments"', 'severity="critical"']),
    ]
    assert all(r["continue"] is True for r in hooked)
    urls = {
        r["name"]: r["webhook_configs"][0] for r in config["receivers"] if "webhook_configs" in r
    }
    assert urls["statuspage"]["url"] == hook.url
    assert urls["statuspage-draft"]["url"] == f"{hook.url}?mode=draft"
    assert urls["statuspage-draft"]["http_config"]["authorization"] == {
        "type": "Bearer",
        "credentials_file": "/etc/alertmanager/config/statuspage-token",
    }
    table = {(s, sev): r for s, sev, r in receiver_table(org, config)}
    assert table[("api", "critical")] == "statuspage,pagerduty-api"
    assert table[("api", "warning")] == "slack"  # warnings never reach the public page
    assert table[("database", "critical")] == "statuspage-draft,pagerduty-database"
    assert table[("prometheus", "none")] == "heartbeat"
    # A maintenance window that mutes a service's pages mutes its status page route too.
    window = {"name": "db-upgrade", "services": ["database"], "severities": ["critical"]}
    muted = build_config(
        _org(_with(prod_data, maintenance=[window]), write_config),
        heartbeat_url=None,
        statuspage=hook,
    )
    db = [r for r in muted["route"]["routes"] if 'service="database"' in r.get("matchers", [])]
    assert {r["receiver"]: r.get("mute_time_intervals") for r in db} == {
        "statuspage-draft": ["db-upgrade"],
        "pagerduty-database": ["db-upgrade"],
        "slack": None,
    }


def test_status_page_config_passes_amtool(org: OrgConfig, tmp_path: Path) -> None:
    amtool = tool("amtool")
    hook = StatusPageHook("http://statuspage.incident-response.svc/api/v1/alertmanager")
    path = tmp_path / "alertmanager.yaml"
    config = build_config(org, heartbeat_url=None, statuspage=hook)
    path.write_text(yaml.safe_dump(config))
    result = run(amtool, "check-config", str(path))
    assert result.returncode == 0, result.stdout + result.stderr
    for receivers, labels in (
        ("statuspage,pagerduty-web", ("alertname=ServiceDown", "service=web")),
        ("statuspage-draft,pagerduty-payments", ("alertname=ServiceDown", "service=payments")),
        # An unknown service, or none at all, still reaches a person, never the status page.
        ("pagerduty-catch-all", ("alertname=ServiceDown", "service=billing-v2")),
        ("pagerduty-catch-all", ("alertname=NodeDown",)),
    ):
        routed = run(
            amtool, "config", "routes", "test", f"--config.file={path}",
            f"--verify.receivers={receivers}", *labels, "severity=critical",
        )  # fmt: skip
        assert routed.returncode == 0, routed.stdout + routed.stderr


def test_every_alert_has_a_runbook_page_that_says_what_to_check_do_and_escalate(
    org: OrgConfig,
) -> None:
    runbooks = Path(__file__).resolve().parents[2] / "docs" / "runbooks"
    people = [person.name for person in org.people]
    for rule in _rules(org):
        page = runbooks / rule["annotations"]["runbook_url"].rsplit("/", 1)[1]
        assert page.exists(), f"{rule['alert']}: {page} is missing"
        text = page.read_text()
        assert f"\n# {rule['alert']}\n" in text
        for heading in ("## Check first", "## Do", "## Escalate"):
            assert heading in text
        # Who is paged when drifts from the config: the page links the generated one.
        assert "(../escalation.md)" in text
        assert not [name for name in people if name in text]
        assert not re.search(r"after \d+ ?min", text), page


def test_generated_alert_docs_are_up_to_date() -> None:
    """Runbooks, the catalog and the metric contract are generated from the registry."""
    docs = Path(__file__).resolve().parents[2] / "docs"
    assert stale(docs) == [], "run `irctl alerts docs`"
    catalog = (docs / "runbooks" / "README.md").read_text()
    for name in ALERT_NAMES:
        assert f"[{name}]({name}.md)" in catalog
    contract = (docs / "metrics-contract.md").read_text()
    for spec in REGISTRY:
        for series in spec.metrics:
            assert f"| `{series}` |" in contract


def test_burst_test_proves_the_short_window_stops_the_page(org: OrgConfig, tmp_path: Path) -> None:
    """Rules whose fast pair forgot its 5m short window keep paging after recovery: caught."""
    promtool = tool("promtool")
    tests = rule_tests(org)
    tests["tests"] = [t for t in tests["tests"] if "pages alone" in t["name"]]
    assert [t["name"] for t in tests["tests"]] == [
        "ErrorBudgetBurn api: 14.4x over 1h and 5m pages alone, and stops with the 5m window"
    ]
    # Only api's recording rules and burn-rate rules, so promtool evaluates few rules a step.
    [api] = [g for g in rule_groups(org) if g["name"] == "api.alerts"]  # the paging group
    burn = [r for r in api["rules"] if "record" in r or r["alert"] == "ErrorBudgetBurn"]
    rules = dump({"groups": [{"name": "api.alerts", "rules": burn}]})
    broken = "\n".join(
        line.replace("rate5m{", "rate1h{") if "> 0.0144" in line else line
        for line in rules.splitlines()
    )
    assert broken != rules
    (tmp_path / "rules.yaml").write_text(broken)
    (tmp_path / "t.yaml").write_text(dump(tests))
    result = run(promtool, "test", "rules", "t.yaml", cwd=tmp_path)
    assert result.returncode == 1
    assert "time: 6h10m" in result.stdout + result.stderr
    (tmp_path / "rules.yaml").write_text(rules)
    assert run(promtool, "test", "rules", "t.yaml", cwd=tmp_path).returncode == 0


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


# --------------------------------------------------------------------------- cluster signals


def test_cpu_memory_and_disk_read_the_workload_as_the_cluster_reports_it(
    org: OrgConfig, prod_data: dict[str, Any], write_config: WriteConfig
) -> None:
    by_key = {(r["alert"], r["labels"]["service"]): r["expr"] for r in _rules(org)}
    pods = 'namespace="default", pod=~"api-([a-z0-9]+-)?[a-z0-9]+"'
    assert by_key[("HighCPUUsage", "api")] == (
        f'sum(rate(container_cpu_usage_seconds_total{{{pods}, container!=""}}[5m])) / '
        f'sum(kube_pod_container_resource_limits{{{pods}, resource="cpu"}}) > 0.8'
    )
    assert by_key[("HighMemoryUsage", "api")] == (
        f'sum(container_memory_working_set_bytes{{{pods}, container!=""}}) / '
        f'sum(kube_pod_container_resource_limits{{{pods}, resource="memory"}}) > 0.8'
    )
    claims = 'namespace="default", persistentvolumeclaim=~"(data-)?api(-[a-z0-9]+)*"'
    assert by_key[("DiskSpaceLow", "api")] == (
        f"min(kubelet_volume_stats_available_bytes{{{claims}}} / "
        f"kubelet_volume_stats_capacity_bytes{{{claims}}}) < 0.2"
    )
    assert by_key[("PaymentProcessingFailures", "payments")] == (
        'sum(rate(payment_failures_total{service="payments"}[5m])) / '
        'sum(rate(payment_attempts_total{service="payments"}[5m])) > 0.05'
    )
    data = copy.deepcopy(prod_data)
    db = next(s for s in data["services"] if s["id"] == "database")
    db["workload"] = {"namespace": "data", "deployment": "postgres", "pvc": "pgdata-.+"}
    moved = {
        (r["alert"], r["labels"]["service"]): r["expr"] for r in _rules(_org(data, write_config))
    }
    assert (
        'namespace="data", pod=~"postgres-([a-z0-9]+-)?[a-z0-9]+"'
        in moved[("HighCPUUsage", "database")]
    )
    assert (
        'namespace="data", persistentvolumeclaim=~"pgdata-.+"'
        in moved[("DiskSpaceLow", "database")]
    )


def test_test_series_match_the_default_regex_selectors() -> None:
    from alerts.catalog import regex_example, selector_labels

    assert regex_example("api-([a-z0-9]+-)?[a-z0-9]+") == "api-0"
    assert regex_example("(data-)?api(-[a-z0-9]+)*") == "api"
    assert regex_example("pgdata-.+") == "pgdata-0"
    assert regex_example("a|b") is None  # not derivable: that alert is listed as untested
    assert selector_labels('namespace="x", pod=~"api-.+"') == {"namespace": "x", "pod": "api-0"}
    assert selector_labels('job!="x"') is None


def test_every_paging_alert_has_a_no_data_guard_that_warns(org: OrgConfig) -> None:
    guards = {
        (r["labels"]["service"], r["labels"]["signal"]): r
        for r in _rules(org)
        if r["alert"] == "SignalMissing"
    }
    paging = {
        (r["labels"]["service"], r["alert"])
        for r in _rules(org)
        if r["labels"]["severity"] == "critical"
    }
    assert set(guards) == paging
    down = guards[("api", "ServiceDown")]
    assert down["expr"] == 'absent(max(probe_success{service="api"}))'
    assert down["labels"] == {"severity": "warning", "service": "api", "signal": "ServiceDown"}
    assert down["for"] == "10m"
    burn = guards[("api", "ErrorBudgetBurn")]["expr"]
    assert burn == 'absent(service:http_request_error_ratio:rate5m{service="api"})'
    tests = {t["name"]: t for t in rule_tests(org)["tests"]}
    fired = tests["SignalMissing without any series"]["alert_rule_test"]
    assert [(c["eval_time"], len(c["exp_alerts"])) for c in fired] == [
        ("9m", 0),
        ("10m", len(guards)),
    ]


def test_status_page_opt_in_needs_a_component(
    prod_data: dict[str, Any], write_config: WriteConfig
) -> None:
    data = copy.deepcopy(prod_data)
    page_test = next(s for s in data["services"] if s["id"] == "page-test")
    page_test["alerts"] = {"enabled": False, "status_page": "draft"}
    with pytest.raises(ConfigError) as caught:
        load_config(write_config(data))
    assert "alerts.status_page 'draft' needs a status_page_component" in caught.value.report()


def test_a_window_for_every_service_also_mutes_the_catch_all_routes(
    prod_data: dict[str, Any], write_config: WriteConfig
) -> None:
    freeze = {"name": "datacenter-move", "weekdays": ["saturday"]}
    config = build_config(
        _org(_with(prod_data, maintenance=[freeze]), write_config), heartbeat_url=None
    )
    routes = config["route"]["routes"]
    muted = {
        (r["receiver"], tuple(r.get("matchers", [])))
        for r in routes
        if r.get("mute_time_intervals")
    }
    assert ("pagerduty-catch-all", ('severity="critical"',)) in muted
    assert ("default", ()) in muted
    assert ("pagerduty-api", ('service="api"', 'severity="critical"')) in muted
    assert not [r for r in routes if r["receiver"] == "heartbeat" and r.get("mute_time_intervals")]
