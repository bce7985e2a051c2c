"""Sandbox wiring: the production builders' output, pointed at loopback."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest

from orgconfig.load import load_config
from orgconfig.model import OrgConfig
from sandbox import wiring
from sandbox.scenarios import SCENARIOS, burst, for_duration, narrate, scenario

ROOT = Path(__file__).resolve().parents[2]
ADDRESSES = wiring.Addresses(
    demo="http://127.0.0.1:1001",
    pagerduty="http://127.0.0.1:1002",
    slack="http://127.0.0.1:1003",
    statuspage="http://127.0.0.1:1004",
    prometheus="http://127.0.0.1:1005",
    alertmanager="http://127.0.0.1:1006",
    s3="http://127.0.0.1:1007",
)


@pytest.fixture(scope="module")
def dev() -> OrgConfig:
    return load_config(ROOT / "tests" / "fixtures" / "modulo-dev.yaml")


def test_dev_config_keeps_prods_people_ladder_and_services(dev: OrgConfig) -> None:
    prod = load_config(ROOT / "tests" / "fixtures" / "modulo.yaml")
    assert [s.id for s in dev.services] == [s.id for s in prod.services]
    assert dev.escalation_policies == prod.escalation_policies
    assert dev.alerting.thresholds.down_for < prod.alerting.thresholds.down_for


def test_pagerduty_gets_each_service_its_key_and_the_four_tiers(dev: OrgConfig) -> None:
    keys = wiring.routing_keys(s.id for s in dev.services)
    assert all(len(k) == 32 for k in keys.values()) and len(set(keys.values())) == len(keys)
    data = wiring.pagerduty_data(dev, keys)
    api = next(s for s in data["services"] if s["id"] == "api")
    assert api["routing_keys"] == [keys["api"]]
    assert [t["delay_minutes"] for t in api["tiers"]] == [15, 15, 30, 30]
    assert [t["targets"] for t in api["tiers"]][1:] == [
        ["Jordan Lee"],
        ["Morgan Chen"],
        ["Casey Novak"],
    ]
    assert api["tiers"][0]["targets"][0] in ("Alex Rivera", "Sam Okafor")


def test_prometheus_scrapes_what_the_rendered_objects_select_as_the_operator_would(
    dev: OrgConfig,
) -> None:
    config = wiring.prometheus_config(ADDRESSES, dev, [Path("/r/rules.yaml")])
    statuspage, *apps = config["scrape_configs"]
    # The status page's rendered ServiceMonitor, on the sandbox's status page.
    assert statuspage["job_name"] == "serviceMonitor/incident-response/statuspage/0"
    assert statuspage["honor_labels"] is True  # the probes' own service label wins
    assert statuspage["static_configs"] == [
        {
            "targets": ["127.0.0.1:1004"],
            "labels": {"namespace": "incident-response", "service": "statuspage",
                       "pod": "statuspage-sandbox", "container": "statuspage",
                       "endpoint": "http", "job": "statuspage"},
        }
    ]  # fmt: skip
    # Each demo service as the Kubernetes Service of the same name: service="<id>", scraped
    # by its team's monitor and by the kubelet/kube-state-metrics ones (honorLabels, so the
    # workload's namespace/pod labels stay).
    assert [a["static_configs"][0]["labels"]["service"] for a in apps[::2]] == [
        s.id for s in dev.services
    ]
    app, cluster = apps[:2]
    assert app["metrics_path"] == cluster["metrics_path"] == "/services/api/metrics"
    assert (app["honor_labels"], cluster["honor_labels"]) == (False, True)
    relabel = app["metric_relabel_configs"] + cluster["metric_relabel_configs"]
    assert [r["action"] for r in relabel] == ["drop", "keep"]
    assert config["global"]["evaluation_interval"] == "1s"
    assert config["alerting"]["alertmanagers"][0]["static_configs"][0]["targets"] == [
        "127.0.0.1:1006"
    ]
    slow = wiring.prometheus_config(ADDRESSES, dev, [], wiring.KUBE_PROMETHEUS)
    assert slow["global"]["scrape_interval"] == slow["global"]["evaluation_interval"] == "30s"
    assert {j["scrape_interval"] for j in slow["scrape_configs"]} == {"30s"}
    # Prod timings: the objects' own pace (the status page's probes 15 s, apps 30 s).
    own = wiring.prometheus_config(ADDRESSES, dev, [], wiring.ScrapeTimings(None))
    assert [j["scrape_interval"] for j in own["scrape_configs"]][:2] == ["15s", "30s"]


def test_alertmanager_pages_the_local_pagerduty_with_key_files(
    dev: OrgConfig, tmp_path: Path
) -> None:
    config = wiring.alertmanager_config(dev, ADDRESSES, tmp_path)
    pagerduty = {
        r["name"]: r["pagerduty_configs"][0]
        for r in config["receivers"]
        if "pagerduty_configs" in r
    }
    assert pagerduty["pagerduty-api"]["url"] == "http://127.0.0.1:1002/v2/enqueue"
    assert pagerduty["pagerduty-api"]["routing_key_file"].startswith(str(tmp_path.resolve()))
    files = wiring.alertmanager_secrets(dev, ADDRESSES, {"api": "k" * 32}, "token")
    key_file = Path(pagerduty["pagerduty-api"]["routing_key_file"]).name
    assert files[key_file] == "k" * 32
    assert files["slack-webhook-url"].startswith("http://127.0.0.1:1003/services/")
    hooks = [r for r in config["receivers"] if r["name"] == "statuspage"]
    assert hooks[0]["webhook_configs"][0]["url"] == "http://127.0.0.1:1004/api/v1/alertmanager"


def test_status_page_checks_the_demo_app_and_copies_to_local_s3(dev: OrgConfig) -> None:
    config = wiring.statuspage_config(dev, ADDRESSES)
    urls = [c["url"] for g in config["groups"] for comp in g["components"] for c in comp["checks"]]
    assert urls and all(u.startswith("http://127.0.0.1:1001/services/") for u in urls)
    assert config["publish"]["s3"]["endpoint_url"] == "http://127.0.0.1:1007"


def test_every_scenario_names_a_service_and_alert_of_the_dev_config(dev: OrgConfig) -> None:
    services = {s.id for s in dev.services}
    for sc in SCENARIOS:
        assert sc.service in services
        assert for_duration(dev, sc).total_seconds() > 0
    # The self-test runs them all at once: no two may share an alert name on one service.
    pairs = [(sc.service, sc.alert) for sc in SCENARIOS]
    assert len(pairs) == len(set(pairs))


def test_bursts_only_where_the_rate_window_outlasts_the_for_duration(dev: OrgConfig) -> None:
    # dev's 20 s window cannot hold a burst through a 15 s `for`: every fault is held until
    # its notification arrives, and clears one short window after it is removed.
    assert all(burst(dev, sc) is None for sc in SCENARIOS)
    prod = load_config(ROOT / "tests" / "fixtures" / "modulo.yaml")  # 5m window, 2m for: still fits
    assert burst(prod, scenario("database")) == 5
    assert burst(prod, scenario("down")) is None  # probe_success is a gauge: hold the fault


def test_prometheus_evaluates_at_the_configs_interval(dev: OrgConfig) -> None:
    timings = wiring.ScrapeTimings.for_rules(dev)
    assert timings == wiring.ScrapeTimings(timedelta(seconds=1), timedelta(seconds=1))
    config = wiring.prometheus_config(ADDRESSES, dev, [], timings)
    assert config["global"]["evaluation_interval"] == "1s"
    groups = wiring.prometheus_rules(dev, timings)["groups"]
    assert {g["interval"] for g in groups} == {"1s"}
    prod = load_config(ROOT / "tests" / "fixtures" / "modulo.yaml")
    assert wiring.ScrapeTimings.for_rules(prod).evaluation_interval == timedelta(minutes=1)
    # The benchmark's kube-prometheus side: its 30 s global evaluation must really apply.
    slow = wiring.prometheus_rules(dev, wiring.KUBE_PROMETHEUS)["groups"]
    assert all("interval" not in g for g in slow)


def test_narration_walks_the_ladder_tier_by_tier(dev: OrgConfig) -> None:
    lines = narrate(dev, scenario("db"), "database", clock_speed=60)
    text = "\n".join(lines)
    assert "L1 at once: schedule platform-primary (on call now: " in text
    assert "L2 after 15m (~15 s on the sandbox clock): schedule platform-backup" in text
    assert "L4 after 1h (~60 s on the sandbox clock): Casey Novak (casey-novak)" in text
    warning = "\n".join(narrate(dev, scenario("cpu"), "web"))
    assert "nobody is paged" in warning
