"""Render speed: `irctl render` of generated orgs with N services (N/20 teams), end to end.

    .venv/bin/python bench/render/run.py --services 100 300 1000

Each org comes from bench/orggen.py; the time is the wall clock of the whole command (config
load, the Pulumi program under the recording mocks, every file written), as a user sees it.
Prints a Markdown table for docs/benchmarks.md. Not a test: timings depend on the machine's
load. Issue 11's goal: 1,000 services in under 15 s on the 2-core machine.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from bench.orggen import main as generate  # noqa: E402


def render_seconds(services: int, work: Path) -> tuple[float, int]:
    config = work / f"org-{services}.yaml"
    generate(["--services", str(services), "--teams", str(max(1, services // 20)), "--out",
              str(config)])  # fmt: skip
    out = work / f"out-{services}"
    began = time.perf_counter()
    subprocess.run(
        [sys.executable, "-m", "irctl", "render", "--config", str(config), "--out", str(out)],
        cwd=ROOT,
        check=True,
        capture_output=True,
    )
    seconds = time.perf_counter() - began
    plan = json.loads((out / "plan.json").read_text())
    return seconds, len(plan["resources"])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--services", type=int, nargs="+", default=[100, 300, 1000])
    args = parser.parse_args()
    print("| services | teams | resources in plan.json | irctl render |")
    print("|---:|---:|---:|---:|")
    with tempfile.TemporaryDirectory() as work:
        for services in args.services:
            seconds, resources = render_seconds(services, Path(work))
            print(f"| {services} | {max(1, services // 20)} | {resources} | {seconds:.1f} s |")


if __name__ == "__main__":
    main()
