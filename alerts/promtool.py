"""promtool unit tests generated from the same thresholds as the rules.

For every alert with a default expression, and for every severity threshold ``t``, the
generator feeds a constant signal just past ``t`` (it must fire) and just short of it (it
must not), and evaluates just before and at the moment the ``for`` duration has elapsed.
The expected alerts list every label and the rendered annotations, because promtool
compares both exactly. Inputs are chosen so the rendered values read the same however the
last bit of a float falls (Go's ``%.4g`` in the humanize functions).

Tests run at the rules' ``evaluation_interval`` (the step): input samples one step apart
and an evaluation every step, so "just before" a `for` edge is one step before it.

When a signal's expression or selector is overridden, no input can be derived for it; such
alerts are listed by `untested()` instead.
"""

from __future__ import annotations

import concurrent.futures
import math
import os
import re
import subprocess
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

from alerts.catalog import (
    BURN_WINDOWS,
    REGISTRY,
    SIGNAL_MISSING,
    WATCHDOG_SERVICE,
    Level,
    ServiceAlert,
    number,
    runbook_url,
    service_alerts,
)
from alerts.rules import WATCHDOG_DESCRIPTION, WATCHDOG_SEVERITY, WATCHDOG_SUMMARY
from alerts.series import MINUTE, REQUESTS_PER_STEP, Input, counter
from alerts.series import series as one_series
from orgconfig.model import OrgConfig, Service
from orgconfig.units import format_duration

# promtool evaluates every rule at every step up to a test's last eval_time. The burst test
# spans 6h10m: 370 steps at 1m take a few seconds, 1480 at 15s about 18 s, 4440 at 5s a
# minute, and at 1s its 3d windows exceed promtool's query sample limit. Beyond this many
# steps the burst test is left out (the threshold tests of ErrorBudgetBurn still run).
BURST_MAX_STEPS = 1500


# --------------------------------------------------------------------------- Go humanize


def _g4(value: float) -> str:
    return f"{value:.4g}"


def humanize(value: float) -> str:
    """Prometheus' `humanize` (SI prefixes, four significant digits)."""
    if value == 0 or math.isnan(value) or math.isinf(value):
        return _g4(value)
    prefix = ""
    if abs(value) >= 1:
        for next_prefix in ("k", "M", "G", "T", "P", "E", "Z", "Y"):
            if abs(value) < 1000:
                break
            prefix, value = next_prefix, value / 1000
        return f"{_g4(value)}{prefix}"
    for next_prefix in ("m", "u", "n", "p", "f", "a", "z", "y"):
        if abs(value) >= 1:
            break
        prefix, value = next_prefix, value * 1000
    return f"{_g4(value)}{prefix}"


def humanize_percentage(value: float) -> str:
    return f"{_g4(value * 100)}%"


def humanize_duration(value: float) -> str:
    if value == 0 or math.isnan(value) or math.isinf(value):
        return f"{_g4(value)}s"
    sign = "-" if value < 0 else ""
    value = abs(value)
    if value >= 1:
        whole = int(value)
        days, hours, minutes = whole // 86400, whole // 3600 % 24, whole // 60 % 60
        seconds = _g4(math.fmod(value, 60))
        if days:
            return f"{sign}{days}d {hours}h {minutes}m {seconds}s"
        if hours:
            return f"{sign}{hours}h {minutes}m {seconds}s"
        if minutes:
            return f"{sign}{minutes}m {seconds}s"
        return f"{sign}{seconds}s"
    prefix = ""
    for next_prefix in ("m", "u", "n", "p", "f", "a", "z", "y"):
        if value >= 1:
            break
        prefix, value = next_prefix, value * 1000
    return f"{sign}{_g4(value)}{prefix}s"


_FORMATS: dict[str, Callable[[float], str]] = {
    "percent": humanize_percentage,
    "duration": humanize_duration,
    "number": humanize,
    "raw": number,
}
_PIPES = {
    "percent": "{{ $value | humanizePercentage }}",
    "duration": "{{ $value | humanizeDuration }}",
    "number": "{{ $value | humanize }}",
    "raw": "{{ $value }}",
}


def render_description(alert: ServiceAlert, value: float) -> str:
    """The description as Prometheus renders it for `value`."""
    return alert.description.replace(
        _PIPES[alert.value_format], _FORMATS[alert.value_format](value)
    )


# --------------------------------------------------------------------------- inputs

# Each alert record names its series generator (alerts.series).
INPUTS: dict[str, Input] = {spec.name: spec.series for spec in REGISTRY}


# --------------------------------------------------------------------------- expectations


def crosses(alert: ServiceAlert, level: Level, value: float) -> bool:
    return value > level.threshold if alert.op == ">" else value < level.threshold


def threshold_values(alert: ServiceAlert) -> list[float]:
    """Just past and just short of every threshold (a service is up (1) or down (0))."""
    if alert.shape == "down":
        return [1.0, 0.0]
    bounded = alert.value_format == "percent"
    values: set[float] = set()
    for level in alert.levels:
        t = level.threshold
        if t <= 0:
            values.update({0.0, 1.0})
            continue
        delta = min(0.1 * t, (1 - t) / 2) if bounded else 0.1 * t
        values.update({round(t - delta, 10), round(t + delta, 10)})
    return sorted(values)


def first_true(
    alert: ServiceAlert, level: Level, value: float, step: timedelta = MINUTE
) -> timedelta | None:
    """The first evaluation at which the condition holds, for a signal constant from 0,
    sampled and evaluated every `step`."""
    if not crosses(alert, level, value):
        return None
    if alert.shape in ("gauge", "down"):
        return timedelta(0)
    if alert.shape == "ratio":
        return step  # two samples; numerator and denominator rates scale alike
    # A rate over a window that is not yet full reads (steps seen / window) of the real
    # rate: Prometheus 2.x does not extrapolate a counter below zero.
    window = alert.window // step
    for steps in range(1, window + 1):
        seen = value * steps / window
        if crosses(alert, level, seen):
            return steps * step
    return alert.window


def fires_at(
    alert: ServiceAlert, level: Level, value: float, step: timedelta = MINUTE
) -> timedelta | None:
    start = first_true(alert, level, value, step)
    if start is None:
        return None
    return start + math.ceil(level.for_ / step) * step


def _at(delta: timedelta, step: timedelta) -> str:
    """An eval_time: minutes when the step is whole minutes (60m, not 1h), seconds otherwise."""
    if step % MINUTE:
        return f"{int(delta.total_seconds())}s"
    return f"{int(delta / MINUTE)}m"


def _expected(alert: ServiceAlert, level: Level, value: float) -> dict[str, Any]:
    return {
        "exp_labels": {"severity": level.severity, "service": alert.service, **alert.extra_labels},
        "exp_annotations": {
            "summary": level.summary,
            "description": render_description(alert, value),
            "runbook_url": "",  # filled by `rule_tests`
        },
    }


def alert_tests(
    alerts: list[ServiceAlert], runbook: str, step: timedelta = MINUTE
) -> list[dict[str, Any]]:
    """promtool tests for one alert name across services that share its thresholds.

    One test per input value; every service gets the same input, so one test proves the
    rule of each service (and keeps `promtool test rules` fast: each test costs a TSDB).
    """
    first = alerts[0]
    tests = []
    longest = max(level.for_ for level in first.levels) + first.window + 2 * step
    for value in threshold_values(first):
        firing = {level.severity: fires_at(first, level, value, step) for level in first.levels}
        times = {longest}
        for at in firing.values():
            if at is not None:
                times.add(at)
                if at >= step:
                    times.add(at - step)
        samples = int(max(times) / step) + 1
        checks = []
        for at in sorted(times):
            expected = []
            for alert in alerts:
                for level in alert.levels:
                    fire = firing[level.severity]
                    if fire is not None and fire <= at:
                        item = _expected(alert, level, value)
                        item["exp_annotations"]["runbook_url"] = runbook
                        expected.append(item)
            checks.append(
                {"eval_time": _at(at, step), "alertname": first.alert, "exp_alerts": expected}
            )
        services = ", ".join(alert.service for alert in alerts)
        tests.append(
            {
                "name": f"{first.alert} at {number(value)} ({services})",
                "interval": format_duration(step),
                "input_series": [
                    series
                    for alert in alerts
                    for series in INPUTS[alert.alert](alert.labels, value, samples, step)
                ],
                "alert_rule_test": checks,
            }
        )
    return tests


def _quiet_value(alert: ServiceAlert) -> float:
    """A value that fires none of the alert's levels."""
    return next(
        v for v in threshold_values(alert) if not any(crosses(alert, lv, v) for lv in alert.levels)
    )


def signal_missing_tests(
    guards: list[ServiceAlert], watched: list[ServiceAlert], runbook: str, step: timedelta
) -> list[dict[str, Any]]:
    """No series at all raises every no-data guard once `no_data_for` has passed (and not a
    step before); with every signal's series present, none fires."""
    hold = guards[0].levels[0].for_
    times = sorted({hold - step, hold} if hold >= step else {hold})
    fired = [{**_expected(g, g.levels[0], 1.0)} for g in guards]
    for item in fired:
        item["exp_annotations"]["runbook_url"] = runbook
    silent_at = hold + guards[0].window + 2 * step
    samples = int(silent_at / step) + 1
    names = {(g.service, g.extra_labels["signal"]) for g in guards}
    present: dict[str, dict[str, str]] = {}
    for alert in watched:
        if (alert.service, alert.alert) in names and alert.shape != "none":
            for item in INPUTS[alert.alert](alert.labels, _quiet_value(alert), samples, step):
                present.setdefault(item["series"], item)
    return [
        {
            "name": f"{SIGNAL_MISSING} without any series",
            "interval": format_duration(step),
            "input_series": [],
            "alert_rule_test": [
                {
                    "eval_time": _at(at, step),
                    "alertname": SIGNAL_MISSING,
                    "exp_alerts": fired if at >= hold else [],
                }
                for at in times
            ],
        },
        {
            "name": f"{SIGNAL_MISSING} stays silent while every signal has data",
            "interval": format_duration(step),
            "input_series": list(present.values()),
            "alert_rule_test": [
                {"eval_time": _at(silent_at, step), "alertname": SIGNAL_MISSING, "exp_alerts": []}
            ],
        },
    ]


def _same_thresholds(alert: ServiceAlert) -> tuple[Any, ...]:
    return (
        alert.alert,
        alert.window,
        tuple((level.severity, level.threshold, level.for_) for level in alert.levels),
    )


WATCHDOG_TEST = "Watchdog always fires"


def watchdog_test(org: OrgConfig) -> dict[str, Any]:
    step = org.alerting.evaluation_interval
    return {
        "name": WATCHDOG_TEST,
        "interval": format_duration(step),
        "input_series": [],
        "alert_rule_test": [
            {
                "eval_time": _at(steps * step, step),
                "alertname": "Watchdog",
                "exp_alerts": [
                    {
                        "exp_labels": {"severity": WATCHDOG_SEVERITY, "service": WATCHDOG_SERVICE},
                        "exp_annotations": {
                            "summary": WATCHDOG_SUMMARY,
                            "description": WATCHDOG_DESCRIPTION.replace("{{ $value }}", "1"),
                            "runbook_url": runbook_url(org.alerting, "Watchdog"),
                        },
                    }
                ],
            }
            for steps in (0, 10)  # every step evaluates every rule: keep it short
        ],
    }


def _window(text: str) -> timedelta:
    """A PromQL duration like 5m, 1h, 1d."""
    units = {"m": 1, "h": 60, "d": 1440}
    return int(text[:-1]) * units[text[-1]] * MINUTE


def burst_test(
    alert: ServiceAlert, budget: float, step: timedelta = MINUTE
) -> dict[str, Any] | None:
    """The fast page pair on its own: a burst that fills only its long window pages; half a
    burst does not; and the page stops once the short window is clean again.

    The error ratio is 0 until `pre`, then 1.5x the fast burn rate for exactly the long
    window, then 0 again, so the slower pair (6x over 6h) never holds on its own. Times are
    counted in steps (samples and evaluations).
    """
    critical = next((level for level in alert.levels if level.severity == "critical"), None)
    if critical is None or alert.shape == "none":
        return None
    (fast, long_text, short_text), (slow, slow_long_text, _) = BURN_WINDOWS["critical"]
    windows = [_window(text) for text in (long_text, short_text, slow_long_text)]
    # The long window fills past the fast burn rate two thirds in; the page must come by its
    # end, so `for` has the last third (less a step) to hold.
    if any(w % step for w in windows) or critical.for_ + step > windows[0] / 3:
        return None
    long, short, slow_long = (w // step for w in windows)
    ratio = 1.5 * fast * budget
    if ratio * long / slow_long >= slow * budget:  # the slow pair would fire too: no proof
        return None
    pre = slow_long - long
    errors = round(ratio * REQUESTS_PER_STEP, 6)
    end = pre + long + 2 * short
    if end > BURST_MAX_STEPS:
        return None
    labels = alert.labels
    inputs = [
        one_series(
            "http_requests_total",
            {**labels, "code": "500"},
            f"0x{pre} {number(errors)}+{number(errors)}x{long - 1} "
            f"{number(errors * long)}+0x{end - pre - long}",
        ),
        one_series(
            "http_requests_total",
            {**labels, "code": "200"},
            counter(REQUESTS_PER_STEP - errors, pre + long)
            + f" {number((REQUESTS_PER_STEP - errors) * (pre + long) + REQUESTS_PER_STEP)}"
            f"+{REQUESTS_PER_STEP}x{end - pre - long - 1}",
        ),
    ]
    # The rule's own output (ALERTS), so the test checks the rule file, not a copy of it.
    expr = (
        f'count(ALERTS{{alertname="ErrorBudgetBurn", severity="critical", '
        f'service="{alert.service}", alertstate="firing"}})'
    )
    page = [{"labels": "{}", "value": 1}]
    return {
        "name": f"ErrorBudgetBurn {alert.service}: {number(fast)}x over {long_text} and "
        f"{short_text} pages alone, and stops with the {short_text} window",
        "interval": format_duration(step),
        "input_series": inputs,
        "promql_expr_test": [
            {"expr": expr, "eval_time": _at((pre + long // 2) * step, step), "exp_samples": []},
            {"expr": expr, "eval_time": _at((pre + long) * step, step), "exp_samples": page},
            {
                "expr": expr,
                "eval_time": _at((pre + long + 2 * short) * step, step),
                "exp_samples": [],
            },
        ],
    }


def rule_tests(org: OrgConfig, rule_file: str = "rules.yaml") -> dict[str, Any]:
    """A promtool test file (`promtool test rules`) for the rules of `org`."""
    tests = [watchdog_test(org)]
    together: dict[tuple[Any, ...], list[ServiceAlert]] = {}
    alerts = service_alerts(org)
    for alert in alerts:
        if alert.shape != "none" and alert.alert != SIGNAL_MISSING:
            together.setdefault(_same_thresholds(alert), []).append(alert)
    step = org.alerting.evaluation_interval
    for same in together.values():
        tests.extend(alert_tests(same, runbook_url(org.alerting, same[0].alert), step))
    guarded = [a for a in alerts if a.alert == SIGNAL_MISSING and a.shape != "none"]
    if guarded:
        watched = [
            a for a in alerts if a.alert != SIGNAL_MISSING and a.levels[0].severity == "critical"
        ]
        tests.extend(
            signal_missing_tests(guarded, watched, runbook_url(org.alerting, SIGNAL_MISSING), step)
        )
    budget = 1 - org.alerting.thresholds.availability_target
    burns = [a for a in alerts if a.alert == "ErrorBudgetBurn"]
    if burns and (burst := burst_test(burns[0], budget, step)) is not None:
        tests.append(burst)
    interval = format_duration(step)
    # Paging groups first: the warnings read the burn ratios they record at the same step.
    from alerts.rules import PAGING, rule_groups

    names = [group["name"] for group in rule_groups(org)]
    order = sorted(names, key=lambda name: not name.endswith(f".{PAGING}"))
    return {
        "rule_files": [rule_file],
        "evaluation_interval": interval,
        "group_eval_order": order,
        "tests": tests,
    }


def untested(org: OrgConfig) -> list[tuple[str, str]]:
    """(service, alert) pairs with an overridden expression or selector: no generated test."""
    return [
        (a.service, a.alert)
        for a in service_alerts(org)
        if a.shape == "none" and a.alert != SIGNAL_MISSING  # a guard follows its alert
    ]


# --------------------------------------------------------------------------- sharded runs

BASE_SECONDS = 60.0
SECONDS_PER_SERIES_STEP = 0.0005  # promtool's cost grows with series x evaluation steps


@dataclass(frozen=True)
class Shard:
    """Some services' rule groups and their promtool tests, runnable on their own."""

    index: int
    rules: Path
    tests: Path
    work: int  # input series x evaluation steps, summed over the tests
    time_limit: float = 0.0

    def __post_init__(self) -> None:
        if not self.time_limit:
            limit = BASE_SECONDS + self.work * SECONDS_PER_SERIES_STEP
            object.__setattr__(self, "time_limit", limit)


def _work(tests: list[dict[str, Any]], step: timedelta) -> int:
    total = 0
    for test in tests:
        checks = test.get("alert_rule_test", []) + test.get("promql_expr_test", [])
        last = max((_seconds(c["eval_time"]) for c in checks), default=0)
        steps = int(last / step.total_seconds()) + 1
        total += max(1, len(test["input_series"])) * steps
    return total


def _seconds(text: str) -> float:
    units = {"s": 1, "m": 60, "h": 3600}
    return float(text[:-1]) * units[text[-1]]


def _shape(groups: list[dict[str, Any]], service: Service) -> str:
    """A service's rule groups with its id and name taken out: services of the same shape
    have the same rules but for whom they watch."""
    import json

    text = json.dumps([group["rules"] for group in groups], sort_keys=True)
    text = text.replace(service.name, "<name>")
    return re.sub(rf"(?<![a-z0-9]){re.escape(service.id)}(?![a-z0-9])", "<id>", text)


def representatives(org: OrgConfig, groups: list[dict[str, Any]]) -> list[Service]:
    """One service per distinct rule shape (in config order). The others' rules differ from
    their representative's only in the service's id and name, which the unit tests of the
    representative and `promtool check rules` of every rule already cover."""
    from alerts.rules import group_names

    by_name = {group["name"]: group for group in groups}
    seen: dict[str, Service] = {}
    for service in org.services:
        found = [by_name[name] for name in group_names(service.id) if name in by_name]
        if found:
            seen.setdefault(_shape(found, service), service)
    return list(seen.values())


def write_shards(
    org: OrgConfig,
    groups: list[dict[str, Any]],
    folder: Path,
    parts: int | None = None,
) -> list[Shard]:
    """The promtool tests of one service per distinct rule shape (`representatives`), with
    only their groups (taken from the rendered `groups`) in the rule file, split into
    `parts` test files of about equal work (default: one per core) to run in parallel. The
    work grows with the kinds of services, not their number."""
    from alerts.documents import dump
    from alerts.rules import WATCHDOG_GROUP, group_names

    by_name = {group["name"]: group for group in groups}
    chosen = representatives(org, groups)
    names = [name for s in chosen for name in group_names(s.id)] + [WATCHDOG_GROUP]
    rules = folder / "shards.rules.yaml"
    rules.write_text(dump({"groups": [by_name[n] for n in names if n in by_name]}))
    generated = rule_tests(org.model_copy(update={"services": chosen}), rules.name)
    step = _step(org)
    # The burn-rate burst test spans hours of steps: it gets a shard of its own whose rule
    # file holds only its service's groups, so those steps evaluate few rules.
    bursts = [t for t in generated["tests"] if "promql_expr_test" in t]
    regular = [t for t in generated["tests"] if t not in bursts]
    count = max(1, min(parts or os.cpu_count() or 1, len(regular)))
    buckets: list[list[dict[str, Any]]] = [[] for _ in range(count)]
    load = [0] * count
    for test in sorted(regular, key=lambda t: -_work([t], step)):
        lightest = load.index(min(load))  # longest first, each to the lightest part
        buckets[lightest].append(test)
        load[lightest] += _work([test], step)
    shards = []
    for index, tests in enumerate(buckets):
        path = folder / f"shard-{index}.test.yaml"
        path.write_text(dump({**generated, "tests": tests}))
        shards.append(Shard(index, rules, path, load[index]))
    burning = next((s for s in chosen if s.alerts.enabled and s.alerts.error_budget.enabled), None)
    if bursts and burning is not None:
        own = [name for name in group_names(burning.id) if name in by_name]
        burst_rules = folder / "shard-burst.rules.yaml"
        burst_rules.write_text(dump({"groups": [by_name[n] for n in own]}))
        path = folder / "shard-burst.test.yaml"
        burst = {**generated, "rule_files": [burst_rules.name], "group_eval_order": own}
        path.write_text(dump({**burst, "tests": bursts}))
        shards.append(Shard(len(shards), burst_rules, path, _work(bursts, step)))
    return shards


def _step(org: OrgConfig) -> timedelta:
    return org.alerting.evaluation_interval


def run_shard(promtool: str, shard: Shard) -> str | None:
    """None when the shard's tests pass; otherwise what went wrong, in a sentence or two."""
    try:
        result = subprocess.run(
            [promtool, "test", "rules", shard.tests.name],
            capture_output=True,
            text=True,
            cwd=shard.tests.parent,
            timeout=shard.time_limit,
        )
    except subprocess.TimeoutExpired:
        return (
            f"promtool test rules {shard.tests.name} did not finish within "
            f"{shard.time_limit:.0f} s (its time limit for {shard.work:,} series x steps); "
            "the machine may be overloaded: run `irctl validate` again"
        )
    if result.returncode:
        return f"promtool test rules {shard.tests.name} failed:\n{result.stdout}{result.stderr}"
    return None


def run_shards(promtool: str, shards: list[Shard], workers: int | None = None) -> list[str]:
    """Every shard, in parallel (one promtool per core); every failure, never an exception."""
    workers = workers or os.cpu_count() or 1
    with concurrent.futures.ThreadPoolExecutor(max_workers=workers) as pool:
        results = list(pool.map(lambda shard: run_shard(promtool, shard), shards))
    return [problem for problem in results if problem]


def check_rules(promtool: str, rules: Path) -> str | None:
    """`promtool check rules`, with a time limit that grows with the file."""
    limit = BASE_SECONDS + rules.stat().st_size / 100_000  # about a second per 100 kB
    try:
        result = subprocess.run(
            [promtool, "check", "rules", str(rules)], capture_output=True, text=True, timeout=limit
        )
    except subprocess.TimeoutExpired:
        return f"promtool check rules {rules.name} did not finish within {limit:.0f} s"
    if result.returncode:
        return f"promtool check rules {rules.name} failed:\n{result.stdout}{result.stderr}"
    return None


def check_and_test(
    promtool: str, rules: Path, org: OrgConfig, folder: Path
) -> tuple[list[str], int]:
    """`promtool check rules` of the whole rendered file and the unit-test shards, all at
    once (one promtool per core): every problem, and how many shards ran."""
    import yaml

    try:
        groups = yaml.load(rules.read_text(), Loader=yaml.CSafeLoader)["groups"]
    except (yaml.YAMLError, KeyError, TypeError):
        return [check_rules(promtool, rules) or f"{rules.name} has no rule groups"], 0
    folder.mkdir(parents=True, exist_ok=True)
    shards = write_shards(org, groups, folder)
    with concurrent.futures.ThreadPoolExecutor(max_workers=os.cpu_count() or 1) as pool:
        checked = pool.submit(check_rules, promtool, rules)
        tested = list(pool.map(lambda shard: run_shard(promtool, shard), shards))
    return [p for p in (checked.result(), *tested) if p], len(shards)
