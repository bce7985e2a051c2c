"""Docs that cannot drift from the config: who is paged when, generated from the org config.

``docs/escalation.md`` is generated whole. Other documents carry marker blocks::

    <!-- BEGIN generated: escalation-ladder (irctl docs --stack prod; do not edit by hand) -->
    ...
    <!-- END generated: escalation-ladder -->

whose content is replaced by the block of that name. The ladder reads only the escalation
policies (tiers with ``after`` and their schedule or person targets), the services that use
them and the names of schedules and people: not how a schedule rotates, which the on-call
docs and ``irctl oncall show`` own. ``irctl docs --check`` fails when any of it is stale.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from pathlib import Path

from orgconfig.model import EscalationPolicy, OrgConfig, Target
from orgconfig.units import format_duration

ESCALATION_PAGE = "escalation.md"
_BLOCK_RE = re.compile(
    r"(?P<begin><!-- BEGIN generated: (?P<name>[a-z-]+)[^\n]*-->\n)"
    r"(?P<body>.*?)"
    r"(?P<end><!-- END generated: (?P=name) -->)",
    re.DOTALL,
)


def _after(policy_after: str) -> str:
    return "at once" if policy_after == "0s" else f"after {policy_after}"


def _target(org: OrgConfig, target: Target) -> str:
    if target.schedule:
        schedule = org.schedule(target.schedule)
        return f"whoever is on call in **{schedule.name}** (schedule `{schedule.id}`)"
    person = org.person(target.ref)
    return f"**{person.name}**, {person.role} (`{person.id}`)"


def policy_ladder(org: OrgConfig, policy: EscalationPolicy, heading: str = "###") -> str:
    services = [s for s in org.services if s.escalation_policy == policy.id]
    lines = [
        f"{heading} {policy.name} (`{policy.id}`)",
        "",
        "Pages for: "
        + (", ".join(f"{s.name} (`{s.id}`)" for s in services) or "no service yet")
        + ".",
        "",
        "| Tier | Paged, counted from the page | Who |",
        "|---|---|---|",
    ]
    for number, tier in enumerate(policy.tiers, start=1):
        who = "; ".join(_target(org, t) for t in tier.targets)
        lines.append(f"| {number} | {_after(format_duration(tier.after))} | {who} |")
    last = policy.tiers[-1].after + policy.loop_after
    if policy.repeat:
        times = "once more" if policy.repeat == 1 else f"{policy.repeat} more times"
        lines += [
            "",
            f"Nobody acknowledged after tier {len(policy.tiers)}: the ladder starts again from "
            f"tier 1 {format_duration(last)} after the page, {times}.",
        ]
    else:
        lines += ["", f"After tier {len(policy.tiers)} the incident stays with that tier."]
    return "\n".join(lines)


def commander_block(org: OrgConfig) -> str:
    commander = org.learning.incident_commander
    if commander is None:
        return (
            "No incident commander rotation is declared (`learning.incident_commander` in the "
            "org config): the first responder is incident commander until they hand over."
        )
    schedule = org.schedule(commander.schedule)
    return (
        f"For {', '.join(commander.severities)}, whoever is on call in **{schedule.name}** "
        f"(schedule `{schedule.id}`) is paged alongside the service's escalation policy and "
        "is the incident commander."
    )


def ladder_block(org: OrgConfig) -> str:
    """Who is paged when, for every escalation policy: the block runbooks and drills carry."""
    parts = [policy_ladder(org, p, heading="####") for p in org.escalation_policies]
    parts.append(commander_block(org))
    parts.append(f"Generated from the org config ({org.org.name}); the contact sheet and every "
                 f"policy are in [escalation.md]({{root}}{ESCALATION_PAGE}).")  # fmt: skip
    return "\n\n".join(parts)


def drill_calendar(org: OrgConfig, root: str = "") -> str:
    """The planned drills (``learning.drills``): date, scenario, facilitator."""
    if not org.learning.drills:
        return "No drills are planned yet (`learning.drills` in the org config)."
    lines = ["| Date | Scenario | Facilitator |", "|---|---|---|"]
    for drill in sorted(org.learning.drills, key=lambda d: d.date):
        person = org.person(drill.facilitator)
        lines.append(
            f"| {drill.date:%a %Y-%m-%d} | [{drill.scenario}]({root}drills/{drill.scenario}.md) | "
            f"{person.name} (`{person.id}`) |"
        )
    return "\n".join(lines)


def contact_sheet(org: OrgConfig) -> str:
    lines = [
        "| Person | Role | E-mail | Teams |",
        "|---|---|---|---|",
    ]
    for person in org.people:
        teams = [
            f"{t.name} ({m.role})" for t in org.teams for m in t.members if m.person == person.id
        ]
        lines.append(
            f"| {person.name} (`{person.id}`) | {person.role} | {person.email} | "
            f"{', '.join(teams) or '-'} |"
        )
    return "\n".join(lines)


def escalation_page(org: OrgConfig) -> str:
    ladders = "\n\n".join(policy_ladder(org, p) for p in org.escalation_policies)
    return f"""# Escalation and contacts

<!-- Generated by `irctl docs` from the org config; do not edit by hand. -->

Who PagerDuty pages, and when, for {org.org.name}. Generated from the org config by
`irctl docs`; `make test` fails when this page is older than the config. Who is on call in
a schedule right now: `irctl oncall show`.

## Escalation ladders

Times count from the page. Acknowledging stops the ladder.

{ladders}

## Incident commander

{commander_block(org)} Roles: [roles.md](roles.md).

## Contact sheet

Phone numbers live in each person's PagerDuty profile (PagerDuty, People), never in git.
When chat is down, use the conference bridge on the PagerDuty incident and call people from
their PagerDuty profile.

{contact_sheet(org)}
"""


def replace_blocks(text: str, blocks: Mapping[str, str]) -> tuple[str, list[str]]:
    """``text`` with every known marker block regenerated, and the unknown block names."""
    unknown: list[str] = []

    def fill(match: re.Match[str]) -> str:
        name = match.group("name")
        if name not in blocks:
            unknown.append(name)
            return match.group(0)
        return f"{match.group('begin')}{blocks[name]}\n{match.group('end')}"

    return _BLOCK_RE.sub(fill, text), unknown


def generate(
    org: OrgConfig, docs_dir: Path, read: Callable[[Path], str] = Path.read_text
) -> tuple[dict[Path, str], list[str]]:
    """Every generated document's wanted text, and problems (unknown block names)."""
    wanted = {docs_dir / ESCALATION_PAGE: escalation_page(org)}
    problems: list[str] = []
    for path in sorted(docs_dir.rglob("*.md")):
        if path.name == ESCALATION_PAGE and path.parent == docs_dir:
            continue
        text = read(path)
        if "<!-- BEGIN generated: " not in text:
            continue
        # Links in the block are relative to the document that carries it.
        root = "../" * (len(path.relative_to(docs_dir).parts) - 1)
        blocks = {
            "escalation-ladder": ladder_block(org).replace("{root}", root),
            "incident-commander": commander_block(org),
            "drill-calendar": drill_calendar(org, root),
        }
        new, unknown = replace_blocks(text, blocks)
        problems += [f"{path}: unknown generated block {name!r}" for name in unknown]
        wanted[path] = new
    return wanted, problems
