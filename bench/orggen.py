"""Generate a large, valid org config: N services spread over T teams, for speed benchmarks.

Each team has four people (two in a two-week primary rotation, a manager as backup, a
director for tier 3), a primary and a backup schedule, one escalation policy, its share of
the services and a status page group with one component per service (an HTTP check on every
other one). A `page-test` service is always present, like in the example org.

    .venv/bin/python bench/orggen.py --services 1000 --teams 50 --out /tmp/org-1000.yaml
    .venv/bin/irctl config check --config /tmp/org-1000.yaml

`generate_org(services, teams)` returns plain config data (what `yaml.safe_load` would give).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

import yaml

# Per-service signals the example org turns on for its database and payments services.
_EXTRA_ALERTS = (
    {"database_connection_failures": {"enabled": True}},
    {"payment_failures": {"enabled": True}},
    {},
    {},
)


def _team(index: int) -> tuple[dict[str, Any], list[dict[str, Any]], list[dict[str, Any]]]:
    """Team `index`: its definition, its people, and its two schedules."""
    tid = f"team{index}"
    roles = ("Senior SRE", "SRE", "Engineering Manager", "Director of Engineering")
    people = [
        {
            "id": f"{tid}-p{n}",
            "name": f"Person {n} of team {index}",
            "email": f"{tid}.p{n}@org.example.com",
            "role": role,
        }
        for n, role in enumerate(roles, start=1)
    ]
    team = {
        "id": tid,
        "name": f"Team {index}",
        "description": f"Generated team {index}.",
        "members": [
            {"person": f"{tid}-p3", "role": "manager"},
            {"person": f"{tid}-p1", "role": "responder"},
            {"person": f"{tid}-p2", "role": "responder"},
            {"person": f"{tid}-p4", "role": "responder"},
        ],
    }
    schedules = [
        {
            "id": f"{tid}-primary",
            "name": f"Team {index} primary",
            "team": tid,
            "rotation": {
                "participants": [f"{tid}-p1", f"{tid}-p2"],
                "turn": "2w",
                "first_handoff": "2026-01-05",
                "handoff_time": "09:00",
            },
        },
        {
            "id": f"{tid}-backup",
            "name": f"Team {index} backup",
            "team": tid,
            "rotation": {
                "participants": [f"{tid}-p3"],
                "turn": "1w",
                "first_handoff": "2026-01-05",
                "handoff_time": "09:00",
            },
        },
    ]
    return team, people, schedules


def _policy(index: int) -> dict[str, Any]:
    tid = f"team{index}"
    return {
        "id": tid,
        "name": f"Team {index} escalation",
        "team": tid,
        "repeat": 2,
        "loop_after": "30m",
        "tiers": [
            {"after": "0m", "targets": [{"schedule": f"{tid}-primary"}]},
            {"after": "15m", "targets": [{"schedule": f"{tid}-backup"}]},
            {"after": "30m", "targets": [{"person": f"{tid}-p4"}]},
        ],
    }


def _service(number: int, team_index: int) -> dict[str, Any]:
    tid = f"team{team_index}"
    service: dict[str, Any] = {
        "id": f"svc{number}",
        "name": f"Service {number}",
        "description": f"Generated service {number} of team {team_index}.",
        "team": tid,
        "escalation_policy": tid,
        "acknowledgement_timeout": "30m",
        # No auto-resolve: Alertmanager pages these services (orgconfig.alerting's rule).
        "urgency": "high",
        "status_page_component": f"svc{number}",
    }
    extra = _EXTRA_ALERTS[number % len(_EXTRA_ALERTS)]
    if extra:
        service["alerts"] = dict(extra)
    return service


def _component(number: int) -> dict[str, Any]:
    component: dict[str, Any] = {"id": f"svc{number}", "name": f"Service {number}"}
    if number % 2 == 0:
        component["checks"] = [
            {
                "id": f"svc{number}-health",
                "type": "http",
                "url": f"https://svc{number}.org.example.com/healthz",
                "degraded_latency": "3s",
            }
        ]
    return component


def generate_org(services: int, teams: int = 50) -> dict[str, Any]:
    """A valid org config with `services` services (plus `page-test`) over `teams` teams."""
    if services < 1 or teams < 1:
        raise ValueError("services and teams must be at least 1")
    teams = min(teams, services)
    team_defs, people, schedules = [], [], []
    for index in range(1, teams + 1):
        team, members, team_schedules = _team(index)
        team_defs.append(team)
        people.extend(members)
        schedules.extend(team_schedules)
    service_defs = [_service(n, (n - 1) % teams + 1) for n in range(1, services + 1)]
    service_defs.append(
        {
            "id": "page-test",
            "name": "Paging self-test",
            "description": "Receives the daily low-urgency page test.",
            "team": "team1",
            "escalation_policy": "team1",
            "auto_resolve_timeout": "1h",
            "urgency": "low",
            "alerts": {"enabled": False},
        }
    )
    groups = [
        {
            "name": f"Team {index}",
            "components": [
                _component(n) for n in range(1, services + 1) if (n - 1) % teams + 1 == index
            ],
        }
        for index in range(1, teams + 1)
    ]
    return {
        "org": {"id": "generated", "name": "Generated Org", "time_zone": "Europe/Berlin"},
        "people": people,
        "teams": team_defs,
        "schedules": schedules,
        "escalation_policies": [_policy(index) for index in range(1, teams + 1)],
        "services": service_defs,
        "status_page": {
            "name": "Generated Org Status",
            "url": "https://status.org.example.com",
            "domain": "status.org.example.com",
            "groups": groups,
        },
        "deployment": {"protect": True},
    }


class _Dumper(getattr(yaml, "CSafeDumper", yaml.SafeDumper)):  # type: ignore[misc]
    """Writes shared values out in full: the loader refuses more than 200 YAML aliases."""

    def ignore_aliases(self, data: Any) -> bool:
        return True


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--services", type=int, default=1000)
    parser.add_argument("--teams", type=int, default=50)
    parser.add_argument("--out", type=Path, help="write here (default: standard output)")
    args = parser.parse_args(argv)
    text = yaml.dump(
        generate_org(args.services, args.teams),
        Dumper=_Dumper,
        sort_keys=False,
    )
    if args.out:
        args.out.write_text(text, encoding="utf-8")
    else:
        sys.stdout.write(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
