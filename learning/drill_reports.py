"""Drills as data: a drill report's front matter records the live page and every "What good
looks like" item of its scenario as met or missed; `irctl metrics` reads them.

A report is ``docs/drills/reports/<date>-<time>-<scenario>.md``, written by
``irctl drill --live`` with the scenario's items left for the facilitator (``met: null``)::

    ---
    scenario: database-outage
    date: 2027-01-06
    facilitator: jordan-lee            # person id from the org config
    incident_id: Q1DRILL               # the [DRILL] incident, or null
    page_delivered: true
    time_to_acknowledge_seconds: 130.0
    first_public_update_minutes: 12    # T+ minutes of the first status page update, or null
    criteria:
      - item: Acknowledged in under 5 minutes; SEV1 declared by T+5.
        met: true
    ---
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

import yaml

from learning.postmortem import real_date, split_front_matter
from orgconfig.model import OrgConfig

GOOD_HEADING = "## What good looks like"


def success_criteria(scenario: str) -> list[str]:
    """The bullet items under a scenario's "What good looks like", one string each."""
    items: list[str] = []
    inside = False
    for line in scenario.split("\n"):
        if line.startswith("## "):
            inside = line.strip() == GOOD_HEADING
            continue
        if not inside:
            continue
        if line.startswith("- "):
            items.append(line[2:].strip())
        elif line.startswith("  ") and items and line.strip():
            items[-1] += " " + line.strip()
    return items


@dataclass(frozen=True)
class Criterion:
    item: str
    met: bool


@dataclass(frozen=True)
class DrillReport:
    scenario: str
    day: date
    facilitator: str
    incident_id: str | None
    page_delivered: bool
    first_public_update: timedelta | None
    criteria: tuple[Criterion, ...]

    @property
    def missed(self) -> list[str]:
        return [c.item for c in self.criteria if not c.met]


def front_matter(
    *,
    scenario: str,
    day: date,
    facilitator: str | None,
    incident_id: str | None,
    page_delivered: bool,
    time_to_acknowledge: timedelta | None,
    criteria: Sequence[str],
) -> str:
    data: dict[str, Any] = {
        "scenario": scenario,
        "date": day.isoformat(),
        "facilitator": facilitator or "<person id from the org config>",
        "incident_id": incident_id,
        "page_delivered": page_delivered,
        "time_to_acknowledge_seconds": (
            round(time_to_acknowledge.total_seconds(), 1) if time_to_acknowledge else None
        ),
        "first_public_update_minutes": None,
        "criteria": [{"item": item, "met": None} for item in criteria],
    }
    body = yaml.safe_dump(data, sort_keys=False, allow_unicode=True, width=1000)
    return f"---\n# met: true or false for each item, filled in at the debrief.\n{body}---\n"


def read_report(
    text: str, org: OrgConfig, scenarios: Sequence[str]
) -> tuple[DrillReport | None, list[str]]:
    """The report's record, or the problems that keep it from counting."""
    found = split_front_matter(text)
    if found is None:
        return None, ["no front matter (--- ... ---): write it as `irctl drill --live` does"]
    try:
        data = yaml.load("\n".join(found[0]), Loader=yaml.BaseLoader) or {}
    except yaml.YAMLError as exc:
        return None, [f"front matter is not valid YAML: {exc}"]
    if not isinstance(data, dict):
        return None, ["front matter must be a mapping"]
    problems = []
    scenario = str(data.get("scenario", ""))
    if scenario not in scenarios:
        problems.append(f"scenario {scenario!r} is not one of {', '.join(scenarios)}")
    day, why = real_date(str(data.get("date", "")))
    if day is None:
        problems.append(f"date: {why}")
    facilitator = str(data.get("facilitator", ""))
    if facilitator not in {p.id for p in org.people}:
        problems.append(f"facilitator {facilitator!r} is not a person id of the org config")
    criteria = []
    for entry in data.get("criteria") or []:
        met = str(entry.get("met", "")) if isinstance(entry, dict) else ""
        item = str(entry.get("item", "")) if isinstance(entry, dict) else str(entry)
        if met not in ("true", "false"):
            problems.append(f"criterion {item!r}: met is {met or 'empty'!r}, write true or false")
            continue
        criteria.append(Criterion(item, met == "true"))
    if not criteria and not problems:
        problems.append("no criteria: list the scenario's 'What good looks like' items")
    minutes = str(data.get("first_public_update_minutes", "") or "")
    first_update = None
    if minutes and minutes not in ("null", "~"):
        if not re.fullmatch(r"\d+(\.\d+)?", minutes):
            problems.append(f"first_public_update_minutes {minutes!r} is not a number")
        else:
            first_update = timedelta(minutes=float(minutes))
    if problems or day is None:
        return None, problems
    incident = str(data.get("incident_id") or "")
    return DrillReport(
        scenario=scenario,
        day=day,
        facilitator=facilitator,
        incident_id=incident if incident not in ("", "null", "~") else None,
        page_delivered=str(data.get("page_delivered")) == "true",
        first_public_update=first_update,
        criteria=tuple(criteria),
    ), []


def in_window(
    reports: Sequence[DrillReport], since: datetime, until: datetime
) -> list[DrillReport]:
    return [r for r in reports if since.date() <= r.day < until.date() + timedelta(days=1)]
