"""The postmortem audit: what the process promised and has not happened yet.

Lists, as of ``now``: paging incidents resolved longer ago than the draft deadline without a
postmortem naming them; postmortems whose review was not held, or whose one-week follow-ups
are not done, by the review deadline; open action items past their due date; postmortem
files the audit cannot read. Deadlines count from the incident's resolution
(``OrgConfig.learning.postmortems``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from learning.incidents import IncidentRecord
from learning.metrics import format_duration
from learning.postmortem import Postmortem, deadlines
from learning.scope import IncidentScope
from orgconfig.model import OrgConfig

KINDS = {
    "missing": "Paging incident without a postmortem",
    "review": "Review not held in time",
    "follow-ups": "One-week follow-ups not done",
    "action": "Open action past its due date",
    "unreadable": "Postmortem the audit cannot read",
}


@dataclass(frozen=True)
class Finding:
    kind: str  # a key of KINDS
    where: str  # incident or file:line
    message: str


@dataclass(frozen=True)
class FiledPostmortem:
    path: str
    record: Postmortem | None
    problem: str = ""


def _late(now: datetime, due: datetime) -> str:
    return f"due {due:%Y-%m-%d %H:%M} UTC, {format_duration(now - due)} ago"


def audit(
    incidents: Sequence[IncidentRecord],
    filed: Sequence[FiledPostmortem],
    org: OrgConfig,
    now: datetime,
) -> list[Finding]:
    rules = org.learning.postmortems
    scope = IncidentScope.from_org(org)
    findings: list[Finding] = []
    covered = {i for f in filed if f.record for i in f.record.incidents}
    resolved_at = {r.id: r.resolved_at for r in incidents}
    for record in incidents:
        if not scope.is_paging(record) or record.resolved_at is None or record.id in covered:
            continue
        due = deadlines(record.resolved_at, rules).draft
        if due <= now:
            findings.append(
                Finding(
                    "missing",
                    f"#{record.number} {record.id}",
                    f"{record.title} ({record.service_name}), resolved "
                    f"{record.resolved_at:%Y-%m-%d %H:%M} UTC: draft {_late(now, due)}; start "
                    f"one with `irctl postmortem new {record.id}`",
                )
            )
    for item in filed:
        if item.record is None:
            findings.append(Finding("unreadable", item.path, item.problem))
            continue
        pm = item.record
        resolved = pm.resolved_at or next(
            (resolved_at[i] for i in pm.incidents if resolved_at.get(i)), None
        )
        if resolved is not None:
            due = deadlines(resolved, rules).review
            if due <= now and not pm.review_held:
                findings.append(Finding("review", item.path, f"review not held, {_late(now, due)}"))
            undone = [k for k, done in pm.follow_ups.items() if not done]
            if due <= now and undone:
                findings.append(
                    Finding(
                        "follow-ups",
                        item.path,
                        f"not done: {', '.join(undone)}; {_late(now, due)}",
                    )
                )
        for action in pm.actions:
            if action.is_open and action.due is not None and action.due < now.date():
                days = (now.date() - action.due).days
                findings.append(
                    Finding(
                        "action",
                        f"{item.path}:{action.line}",
                        f"{action.action!r} (owner {action.owner or '-'}, {action.priority}, "
                        f"{action.ticket or 'no ticket'}) was due {action.due}, {days} days ago",
                    )
                )
    return findings


def to_markdown(findings: Sequence[Finding], now: datetime) -> str:
    lines = [f"# Postmortem audit, {now:%Y-%m-%d %H:%M} UTC", ""]
    if not findings:
        return "\n".join([*lines, "Nothing overdue: every paging incident has its postmortem, "
                          "reviews were held and actions are on time.", ""])  # fmt: skip
    for kind, title in KINDS.items():
        items = [f for f in findings if f.kind == kind]
        if items:
            lines += [f"## {title} ({len(items)})", ""]
            lines += [f"- `{f.where}`: {f.message}" for f in items]
            lines.append("")
    return "\n".join(lines)
