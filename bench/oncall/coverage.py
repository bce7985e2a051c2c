"""Coverage check speed: a year of follow-the-sun schedules for N teams, by tier.

    python bench/oncall/coverage.py --teams 10 50 200

Each team has a three-region follow-the-sun primary (8-hour daily shifts, two people per
region, weekly turns) and a one-person backup; one escalation policy per team. Prints the time
`oncall.coverage.coverage` takes for the default 12-month window. Not a test: timings depend on
the machine and its load.
"""

from __future__ import annotations

import argparse
import time
from datetime import UTC, datetime
from typing import Any

from oncall.coverage import coverage
from orgconfig.model import OrgConfig

REGIONS = (("APAC", "00:00", "08:00"), ("EMEA", "08:00", "16:00"), ("AMER", "16:00", "00:00"))


def generated_org(teams: int) -> OrgConfig:
    data: dict[str, Any] = {"org": {"name": "Bench", "time_zone": "Europe/Berlin"}}
    people, schedules, policies, services = [], [], [], []
    for team in range(teams):
        ids = [f"p{team}-{i}" for i in range(7)]
        people += [{"id": i, "name": i, "email": f"{i}@bench.example", "role": "SRE"} for i in ids]
        regions = [
            {"name": name, "participants": ids[2 * n : 2 * n + 2], "start_time": lo, "end_time": hi}
            for n, (name, lo, hi) in enumerate(REGIONS)
        ]
        schedules += [
            {"id": f"sun{team}", "name": f"Sun {team}", "time_zone": "UTC",
             "follow_the_sun": {"first_handoff": "2026-01-05", "regions": regions}},
            {"id": f"backup{team}", "name": f"Backup {team}",
             "rotation": {"participants": [ids[6]], "turn": "1w", "first_handoff": "2026-01-05"}},
        ]  # fmt: skip
        policies.append(
            {"id": f"policy{team}", "name": f"Policy {team}", "tiers": [
                {"after": "0m", "targets": [{"schedule": f"sun{team}"}]},
                {"after": "15m", "targets": [{"schedule": f"backup{team}"}]}]}
        )  # fmt: skip
        services.append(
            {"id": f"svc{team}", "name": f"Svc {team}", "escalation_policy": f"policy{team}"}
        )
    data.update(people=people, schedules=schedules, escalation_policies=policies, services=services)
    return OrgConfig.model_validate(data)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--teams", type=int, nargs="+", default=[10, 50, 200])
    args = parser.parse_args()
    start = datetime(2026, 11, 30, tzinfo=UTC)
    for teams in args.teams:
        org = generated_org(teams)
        began = time.perf_counter()
        reports = coverage(org, start)
        took = time.perf_counter() - began
        problems = sum(len(r.problems) for r in reports)
        print(f"{teams:4d} teams, {2 * teams:4d} schedules: {took:6.2f} s, {problems} problems")


if __name__ == "__main__":
    main()
