"""Benchmark: `irctl validate` on generated orgs of 100, 300 and 1,000 services.

    .venv/bin/python bench/validate/run.py              # 100 300 1000
    .venv/bin/python bench/validate/run.py 100          # one size

Each org is written by `bench/orggen.py` (the same generator the render benchmark uses).
Prints the wall time of the whole command, its exit code and problem count, and the size of
the largest rendered PrometheusRule (goal: under 60 s at 1,000 services, every rule object
under 1 MiB). Results go to docs/benchmarks.md by hand, with the machine's load noted.
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from bench.orggen import main as write_org  # noqa: E402


def org_file(services: int, folder: Path) -> Path:
    path = folder / f"org-{services}.yaml"
    write_org(["--services", str(services), "--out", str(path)])
    return path


def measure(services: int) -> dict[str, object]:
    with tempfile.TemporaryDirectory(prefix="bench-validate-") as tmp:
        folder = Path(tmp)
        config = org_file(services, folder)
        out = folder / "out"
        started = time.monotonic()
        result = subprocess.run(
            [str(ROOT / ".venv/bin/irctl"), "validate", "--stack", "prod", "--config",
             str(config), "--out", str(out)],
            capture_output=True, text=True, cwd=ROOT,
        )  # fmt: skip
        seconds = time.monotonic() - started
        rules = sorted((out / "kubernetes").glob("*prometheusrule*.yaml"))
        largest = max((p.stat().st_size for p in rules), default=0)
        problems = [line for line in result.stderr.splitlines() if line.startswith("  - ")]
        steps = [line.strip() for line in result.stdout.splitlines() if line.startswith("  ")]
    return {
        "services": services,
        "seconds": seconds,
        "exit": result.returncode,
        "problems": len(problems),
        "problem_kinds": sorted({p.split(":")[0].strip(" -") for p in problems}),
        "rule_objects": len(rules),
        "largest_rule_bytes": largest,
        "steps": steps,
    }


def main(argv: list[str]) -> None:
    sizes = [int(a) for a in argv] or [100, 300, 1000]
    print(f"{'services':>8} {'seconds':>8} {'exit':>4} {'problems':>8} {'rules':>5} "
          f"{'largest rule':>12}  problem kinds")  # fmt: skip
    for size in sizes:
        row = measure(size)
        print(
            f"{row['services']:>8} {row['seconds']:>8.1f} {row['exit']:>4} "
            f"{row['problems']:>8} {row['rule_objects']:>5} "
            f"{row['largest_rule_bytes'] / 1024:>9.0f} KiB  {', '.join(row['problem_kinds'])}",  # type: ignore[arg-type]
            flush=True,
        )
        for step in row["steps"]:  # type: ignore[attr-defined]
            print(f"{'':>10}{step[:150]}")


if __name__ == "__main__":
    main(sys.argv[1:])
