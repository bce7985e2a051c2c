"""Detection-to-page latency: sandbox timings, prod timings and kube-prometheus defaults,
side by side.

Each round starts three sandboxes from the same org config: one with the sandbox's timings
(1 s scrape, 1 s evaluation, the config's group_wait), one with the prod timings (the rendered
objects' own scrape intervals: apps every 30 s, the status page's probes every 15 s; checks
every 15 s, rules evaluated every 15 s, group_wait 10 s) and one with kube-prometheus's
defaults (30 s scrape, 30 s evaluation, 30 s group_wait). The same faults go into all at the
same moment; the latency is the wall-clock time from injection to the trigger arriving at that
sandbox's local PagerDuty with the right routing key. Faults are held until the page.

    .venv/bin/python bench/latency/run.py --rounds 3 --write docs/benchmarks.md
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import sys
import tempfile
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from bench import sections  # noqa: E402
from orgconfig.load import load_config  # noqa: E402
from orgconfig.model import OrgConfig  # noqa: E402
from sandbox.observe import LoopObserver  # noqa: E402
from sandbox.run import Sandbox, SandboxOptions  # noqa: E402
from sandbox.scenarios import Scenario, for_duration, scenario  # noqa: E402
from sandbox.selftest import control  # noqa: E402
from sandbox.wiring import KUBE_PROMETHEUS, ScrapeTimings  # noqa: E402

MEASURED = ("down", "error-spike", "database", "payments")
HEADING = "## Detection to page"
GOAL_SLACK = timedelta(seconds=15)  # sandbox: a page within `for` + 15 s
PROD_GOAL_SLACK = timedelta(seconds=30)  # prod timings: within `for` + 30 s (issue 10)
PROD_EVALUATION = timedelta(seconds=15)  # paging rule groups
PROD_PROBE_INTERVAL = timedelta(seconds=15)  # probes of paged services
PROD_GROUP_WAIT = timedelta(seconds=10)  # paging routes
PROD_RATE_WINDOW = timedelta(minutes=1)  # two samples at a 30 s scrape


@dataclass
class Profile:
    name: str
    org: OrgConfig
    timings: ScrapeTimings
    latencies: dict[str, list[float]] = field(default_factory=dict)

    def all(self) -> list[float]:
        return [x for values in self.latencies.values() for x in values]


# rate() needs two samples inside its window: at a 30 s scrape the dev config's 20 s window
# never has them, so the kube-prometheus side uses 2m (four scrapes), as its mixins do.
KUBE_PROMETHEUS_RATE_WINDOW = timedelta(minutes=2)


def kube_prometheus_org(org: OrgConfig) -> OrgConfig:
    """The same org with kube-prometheus's 30 s group_wait on pages and a rate window that
    works at a 30 s scrape; the `for` durations stay the same."""
    timings = org.alerting.timings
    page = timings.page.model_copy(update={"group_wait": timedelta(seconds=30)})
    thresholds = org.alerting.thresholds.model_copy(
        update={
            "rate_window": max(org.alerting.thresholds.rate_window, KUBE_PROMETHEUS_RATE_WINDOW)
        }
    )
    alerting = org.alerting.model_copy(
        update={"timings": timings.model_copy(update={"page": page}), "thresholds": thresholds}
    )
    return org.model_copy(update={"alerting": alerting})


def prod_org(org: OrgConfig) -> OrgConfig:
    """The same org and `for` durations at the prod timings: rules every 15 s, paging routes
    wait 10 s, synthetic checks every 15 s, a rate window two 30 s scrapes long."""
    timings = org.alerting.timings
    page = timings.page.model_copy(update={"group_wait": PROD_GROUP_WAIT})
    thresholds = org.alerting.thresholds.model_copy(
        update={"rate_window": max(org.alerting.thresholds.rate_window, PROD_RATE_WINDOW)}
    )
    alerting = org.alerting.model_copy(
        update={
            "timings": timings.model_copy(update={"page": page}),
            "thresholds": thresholds,
            "evaluation_interval": PROD_EVALUATION,
        }
    )
    update: dict[str, object] = {"alerting": alerting}
    if org.status_page is not None:
        groups = [
            group.model_copy(
                update={
                    "components": [
                        component.model_copy(
                            update={
                                "checks": [
                                    check.model_copy(update={"interval": PROD_PROBE_INTERVAL})
                                    for check in component.checks
                                ]
                            }
                        )
                        for component in group.components
                    ]
                }
            )
            for group in org.status_page.groups
        ]
        update["status_page"] = org.status_page.model_copy(update={"groups": groups})
    return org.model_copy(update=update)


def one_round(profiles: list[Profile], scenarios: list[Scenario], timeout: float) -> None:
    with tempfile.TemporaryDirectory(prefix="irctl-bench-") as scratch:
        boxes = [
            Sandbox(p.org, SandboxOptions(run_dir=Path(scratch) / p.name, timings=p.timings))
            for p in profiles
        ]
        try:
            for box in boxes:
                box.start()
            observers = [LoopObserver(box.addresses, box.keys) for box in boxes if box.addresses]
            time.sleep(5)  # a few healthy scrapes first (kube-prometheus may not have one yet)
            injected = datetime.now(UTC)
            for box in boxes:
                assert box.addresses is not None
                for sc in scenarios:
                    control(box.addresses.demo, sc.service, sc.fault)
            pending = {(i, sc.name) for i in range(len(boxes)) for sc in scenarios}
            deadline = time.monotonic() + timeout
            while pending and time.monotonic() < deadline:
                for i, (box, observer, profile) in enumerate(
                    zip(boxes, observers, profiles, strict=True)
                ):
                    observer.poll()
                    for sc in scenarios:
                        if (i, sc.name) not in pending:
                            continue
                        for page in observer.pages:
                            # Pages group by service: the first trigger for the service
                            # is the page, whichever alert of the outage got there first
                            # (ServiceDown inhibits the others).
                            if (
                                page["routing_key"] == box.keys[sc.service]
                                and page["event_action"] == "trigger"
                            ):
                                at = datetime.fromisoformat(page["received_at_wall"])
                                took = (at - injected).total_seconds()
                                profile.latencies.setdefault(sc.name, []).append(took)
                                pending.discard((i, sc.name))
                                print(
                                    f"  {profile.name:<16} {sc.name:<12} {took:6.1f} s", flush=True
                                )
                                break
                time.sleep(0.25)
            for i, name in sorted(pending):
                print(f"  {profiles[i].name:<16} {name:<12} no page within {timeout:.0f} s")
            for observer in observers:
                observer.close()
        finally:
            for box in boxes:
                box.stop()


def markdown(profiles: list[Profile], scenarios: list[Scenario], rounds: int, command: str) -> str:
    fast, prod, slow = profiles
    hold = {sc.name: for_duration(fast.org, sc).total_seconds() for sc in scenarios}
    load = os.getloadavg()
    lines = [
        HEADING,
        "",
        f"Measured {datetime.now(UTC):%Y-%m-%d %H:%M} UTC on {os.cpu_count()} CPUs "
        f"({platform.processor() or platform.machine()}), shared with other work, load average "
        f"{load[0]:.2f} {load[1]:.2f} {load[2]:.2f} at the end. Command (repository root):",
        "",
        "```sh",
        command,
        "```",
        "",
        "Each round starts three sandboxes from `config/dev.yaml` side by side and injects the "
        "same faults into all at the same moment; the latency is wall-clock time from the "
        "injection to the trigger arriving at that sandbox's local PagerDuty with the "
        "service's routing key. Prometheus scrapes as prometheus-operator would from the "
        "rendered ServiceMonitor objects. The rule's `for` is the same everywhere; only the "
        "pipeline timings differ: **sandbox** = 1 s scrape, 1 s evaluation, group_wait "
        f"{fast.org.alerting.timings.page.group_wait.total_seconds():.0f} s; **prod** = the "
        "rendered objects' own intervals (apps 30 s, the status page's probes 15 s), checks "
        f"every {PROD_PROBE_INTERVAL.total_seconds():.0f} s, rules every "
        f"{PROD_EVALUATION.total_seconds():.0f} s, group_wait "
        f"{PROD_GROUP_WAIT.total_seconds():.0f} s, a "
        f"{PROD_RATE_WINDOW.total_seconds() / 60:.0f}m rate window; **kube-prometheus "
        "defaults** = 30 s scrape, 30 s evaluation, 30 s group_wait, and a 2m rate window (a "
        "20 s window never holds two samples at a 30 s scrape). Goals: sandbox within `for` + "
        f"{GOAL_SLACK.total_seconds():.0f} s, prod within `for` + "
        f"{PROD_GOAL_SLACK.total_seconds():.0f} s. "
        f"{rounds} round(s) x {len(scenarios)} scenarios per side.",
        "",
        "| Scenario | Alert | `for` | Sandbox median / max | Prod median / max "
        "| kube-prometheus median / max | Goal met (sandbox, prod; max) |",
        "| --- | --- | ---: | ---: | ---: | ---: | --- |",
    ]

    def cell(values: list[float]) -> str:
        if not values:
            return "no page"
        return f"{statistics.median(values):.1f} s / {max(values):.1f} s"

    def met(values: list[float], goal: float) -> str:
        return "yes" if values and max(values) <= goal else "no"

    for sc in scenarios:
        a, p, b = (x.latencies.get(sc.name, []) for x in profiles)
        fast_goal = hold[sc.name] + GOAL_SLACK.total_seconds()
        prod_goal = hold[sc.name] + PROD_GOAL_SLACK.total_seconds()
        lines.append(
            f"| {sc.name} | {sc.alert} | {hold[sc.name]:.0f} s | {cell(a)} | {cell(p)} "
            f"| {cell(b)} | {met(a, fast_goal)} (<= {fast_goal:.0f} s), "
            f"{met(p, prod_goal)} (<= {prod_goal:.0f} s) |"
        )
    a, p, b = fast.all(), prod.all(), slow.all()
    if a and p and b:

        def past_for(profile: Profile) -> float:
            return statistics.median(x - hold[n] for n, xs in profile.latencies.items() for x in xs)

        lines += [
            "",
            f"All scenarios: sandbox median {statistics.median(a):.1f} s, max {max(a):.1f} s; "
            f"prod median {statistics.median(p):.1f} s, max {max(p):.1f} s; kube-prometheus "
            f"defaults median {statistics.median(b):.1f} s, max {max(b):.1f} s. Prod timings "
            f"page **{statistics.median(b) / statistics.median(p):.2f}x** faster than the "
            f"defaults (median). Time past `for`: sandbox {past_for(fast):.1f} s, prod "
            f"{past_for(prod):.1f} s, kube-prometheus {past_for(slow):.1f} s (medians).",
        ]
    lines += [
        "",
        "Where the time goes: a condition is seen on the first scrape after the fault (up to "
        "one scrape interval, and for probes up to one check interval before that), becomes "
        "pending on the next evaluation (up to one evaluation interval), fires once it has "
        "held for `for` (checked again only at evaluations), then waits group_wait in "
        "Alertmanager. A rate needs two scrapes that both see the fault. With the 30 s "
        "defaults that adds 60 to 120 s on top of `for`; at the prod timings up to about "
        "15 + 15 + 15 + 10 s for a probe, more for a rate over 30 s scrapes.",
        "",
    ]
    return "\n".join(lines)


def write_section(path: Path, section: str) -> None:
    """Replace (or append) only this benchmark's section; other sections stay as they are."""
    sections.write_section(path, HEADING, section)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--config", type=Path, default=ROOT / "config" / "dev.yaml")
    parser.add_argument("--timeout", type=float, default=300.0, help="seconds per round")
    parser.add_argument("--write", type=Path, help="update this Markdown file's section")
    args = parser.parse_args(argv)
    org = load_config(args.config)
    scenarios = [scenario(name) for name in MEASURED]
    profiles = [
        Profile("sandbox", org, ScrapeTimings()),
        # None: the rendered objects' own scrape intervals.
        Profile("prod", prod_org(org), ScrapeTimings(None, PROD_EVALUATION)),
        Profile("kube-prometheus", kube_prometheus_org(org), KUBE_PROMETHEUS),
    ]
    for index in range(args.rounds):
        print(f"round {index + 1}/{args.rounds}", flush=True)
        one_round(profiles, scenarios, args.timeout)
    command = f".venv/bin/python bench/latency/run.py --rounds {args.rounds}"
    if args.write:
        command += f" --write {args.write}"
    section = markdown(profiles, scenarios, args.rounds, command)
    print()
    print(section)
    if args.write:
        write_section(args.write, section)
    missing = any(len(p.all()) < args.rounds * len(scenarios) for p in profiles)
    return 1 if missing else 0


if __name__ == "__main__":
    raise SystemExit(main())
