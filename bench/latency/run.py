"""Detection-to-page latency: sandbox timings vs kube-prometheus defaults, side by side.

Each round starts two sandboxes from the same org config: one with the sandbox's timings
(1 s scrape, 1 s evaluation, the config's group_wait) and one with kube-prometheus's defaults
(30 s scrape, 30 s evaluation, 30 s group_wait). The same faults go into both at the same
moment; the latency is the wall-clock time from injection to the trigger arriving at that
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
from sandbox.observe import LoopObserver, mentions  # noqa: E402
from sandbox.run import Sandbox, SandboxOptions  # noqa: E402
from sandbox.scenarios import Scenario, for_duration, scenario  # noqa: E402
from sandbox.selftest import control  # noqa: E402
from sandbox.wiring import KUBE_PROMETHEUS, ScrapeTimings  # noqa: E402

MEASURED = ("down", "error-spike", "database", "payments")
HEADING = "## Detection to page"
GOAL_SLACK = timedelta(seconds=15)


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
                            if (
                                page["routing_key"] == box.keys[sc.service]
                                and page["event_action"] == "trigger"
                                and mentions(page["body"], sc.alert)
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
    fast, slow = profiles
    hold = {sc.name: for_duration(fast.org, sc).total_seconds() for sc in scenarios}
    load = os.getloadavg()
    lines = [
        HEADING,
        "",
        f"Measured {datetime.now(UTC):%Y-%m-%d %H:%M} UTC on {os.cpu_count()} CPUs "
        f"({platform.processor() or platform.machine()}), load average "
        f"{load[0]:.2f} {load[1]:.2f} {load[2]:.2f} at the end. Command (repository root):",
        "",
        "```sh",
        command,
        "```",
        "",
        "Each round starts two sandboxes from `config/dev.yaml` side by side and injects the "
        "same faults into both at the same moment; the latency is wall-clock time from the "
        "injection to the trigger arriving at that sandbox's local PagerDuty with the "
        "service's routing key. The rule's `for` is the same on both sides; only the "
        "pipeline timings differ: **sandbox** = 1 s scrape, 1 s evaluation, group_wait "
        f"{fast.org.alerting.timings.page.group_wait.total_seconds():.0f} s; "
        "**kube-prometheus defaults** = 30 s scrape, 30 s evaluation, 30 s group_wait, and a "
        "2m rate window (a 20 s window never holds two samples at a 30 s scrape). "
        f"Goal: a page within `for` + {GOAL_SLACK.total_seconds():.0f} s. "
        f"{rounds} rounds x {len(scenarios)} scenarios per side.",
        "",
        "| Scenario | Alert | `for` | Sandbox median | Sandbox max | kube-prometheus median "
        "| kube-prometheus max | Ratio (median) | Goal met (sandbox max) |",
        "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | --- |",
    ]

    def cell(values: list[float], fn: object) -> str:
        return f"{fn(values):.1f} s" if values else "no page"  # type: ignore[operator]

    for sc in scenarios:
        a, b = fast.latencies.get(sc.name, []), slow.latencies.get(sc.name, [])
        ratio = f"{statistics.median(b) / statistics.median(a):.2f}x" if a and b else "-"
        goal = hold[sc.name] + GOAL_SLACK.total_seconds()
        met = "yes" if a and max(a) <= goal else "no"
        lines.append(
            f"| {sc.name} | {sc.alert} | {hold[sc.name]:.0f} s | {cell(a, statistics.median)} "
            f"| {cell(a, max)} | {cell(b, statistics.median)} | {cell(b, max)} | {ratio} "
            f"| {met} (<= {goal:.0f} s) |"
        )
    a, b = fast.all(), slow.all()
    if a and b:
        lines += [
            "",
            f"All scenarios: sandbox median {statistics.median(a):.1f} s, max {max(a):.1f} s; "
            f"kube-prometheus defaults median {statistics.median(b):.1f} s, max {max(b):.1f} s; "
            f"the sandbox pages **{statistics.median(b) / statistics.median(a):.2f}x** faster "
            "(median). Time past `for`: sandbox median "
            f"{statistics.median(x - hold[n] for n, xs in fast.latencies.items() for x in xs):.1f}"
            " s, kube-prometheus median "
            f"{statistics.median(x - hold[n] for n, xs in slow.latencies.items() for x in xs):.1f}"
            " s.",
        ]
    lines += [
        "",
        "Where the time goes: a condition is seen on the first scrape after the fault (up to "
        "one scrape interval), becomes pending on the next evaluation (up to one evaluation "
        "interval), fires once it has held for `for` (checked again only at evaluations), then "
        "waits group_wait in Alertmanager. A rate needs two scrapes that both see the fault. "
        "With the 30 s defaults that adds 60 to 120 s on top of `for`; with 1 s timings it is "
        "a second or two.",
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
