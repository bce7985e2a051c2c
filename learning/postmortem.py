"""Postmortems: prefilled from a PagerDuty incident, and checked before review.

The template is ``docs/postmortem-template.md``: ``{{field}}`` markers are filled from the
incident; HTML comments are guidance for the writer and are ignored by the check.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from learning.incidents import IncidentRecord
from learning.metrics import format_duration

REQUIRED_SECTIONS = (
    "Summary",
    "Impact",
    "Timeline",
    "Detection",
    "Response",
    "Contributing factors",
    "What went well",
    "Where we got lucky",
    "Action items",
)

# Words and phrases that assign blame instead of explaining. Kept short on purpose:
# each one has a better, blameless way to say it (docs/postmortems/README.md).
BLAME_PHRASES = (
    "blame",
    "blamed",
    "careless",
    "carelessly",
    "negligent",
    "negligence",
    "human error",
    "should have known",
    "incompetent",
    "sloppy",
    "lazy",
    "stupid",
    "at fault",
    "his fault",
    "her fault",
    "their fault",
    "dropped the ball",
    "screwed up",
    "messed up",
)
_BLAME_RE = re.compile(
    r"\b(" + "|".join(re.escape(p).replace(r"\ ", r"\s+") for p in BLAME_PHRASES) + r")\b",
    re.IGNORECASE,
)
_PLACEHOLDER_RE = re.compile(r"^\s*(<[^>]*>|tbd|todo|\?|-|n/a)?\s*$", re.IGNORECASE)
_DATE_RE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
REVIEW_WITHIN = timedelta(hours=24)
ACTIONS_WITHIN = timedelta(weeks=1)


def slugify(text: str, max_length: int = 60) -> str:
    slug = re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")
    return slug[:max_length].rstrip("-") or "incident"


def file_name(record: IncidentRecord) -> str:
    return f"{record.triggered_at:%Y-%m-%d}-{slugify(record.title)}.md"


def _when(moment: datetime | None) -> str:
    return f"{moment:%Y-%m-%d %H:%M:%S} UTC" if moment else "not yet"


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def timeline_table(record: IncidentRecord) -> str:
    lines = ["| Time (UTC) | What happened | Who | Channel |", "|---|---|---|---|"]
    for entry in record.timeline:
        lines.append(
            f"| {entry.at:%Y-%m-%d %H:%M:%S} | {_cell(entry.kind)}: {_cell(entry.summary)} | "
            f"{_cell(entry.who or '-')} | {_cell(entry.channel or '-')} |"
        )
    return "\n".join(lines)


def prefill_fields(record: IncidentRecord, now: datetime) -> dict[str, str]:
    end = record.resolved_at
    window_end = end.strftime("%Y-%m-%d %H:%M:%S") if end else "still open"
    duration = format_duration(end - record.triggered_at) if end else "ongoing"
    tiers = ", ".join(f"tier {level}" for level in record.escalation_levels)
    responders = ", ".join(record.responders) or "<names>"
    ref = f"#{record.number} {record.id}" + (f" ({record.html_url})" if record.html_url else "")
    summary = (
        f"{record.title}. PagerDuty paged the {record.service_name} on-call at "
        f"{_when(record.triggered_at)}; "
        + (
            f"it was resolved at {_when(end)}."
            if end
            else "it was still open when this was written."
        )
    )
    return {
        "title": record.title,
        "incident": ref,
        "service": f"{record.service_name} ({record.service_id})",
        "urgency": record.urgency,
        "summary": summary,
        "impact_start": f"{record.triggered_at:%Y-%m-%d %H:%M:%S}",
        "impact_end": window_end,
        "impact_duration": duration,
        "detected_at": _when(record.triggered_at),
        "acknowledged_at": _when(record.first_acknowledged_at),
        "acknowledged_by": record.first_acknowledged_by or "nobody",
        "time_to_acknowledge": format_duration(record.time_to_acknowledge),
        "resolved_at": _when(end),
        "time_to_resolve": format_duration(record.time_to_resolve),
        "escalation_tiers": tiers,
        "responders": responders,
        "timeline": timeline_table(record),
        "review_due": f"{now + REVIEW_WITHIN:%Y-%m-%d %H:%M} UTC",
        "action_due": f"{(now + ACTIONS_WITHIN).date().isoformat()}",
    }


def render(template: str, fields: Mapping[str, str]) -> str:
    """Replace ``{{name}}`` markers; unknown markers are left for the writer."""

    def replace(match: re.Match[str]) -> str:
        return fields.get(match.group(1), match.group(0))

    return re.sub(r"\{\{\s*([a-z_]+)\s*\}\}", replace, template)


def new_postmortem(template: str, record: IncidentRecord, now: datetime) -> str:
    return render(template, prefill_fields(record, now))


# --------------------------------------------------------------------------- check


@dataclass(frozen=True)
class Problem:
    line: int  # 0 when the problem is about the whole file
    message: str


def _without_comments(text: str) -> list[str]:
    """The lines of ``text`` with HTML comments blanked, line numbers kept."""

    def blank(match: re.Match[str]) -> str:
        return "\n" * match.group(0).count("\n")

    return re.sub(r"<!--.*?-->", blank, text, flags=re.DOTALL).split("\n")


def _sections(lines: Sequence[str]) -> list[tuple[str, int, int]]:
    """(title, first line index, end index) for each ``## `` section."""
    starts = [(i, line[3:].strip()) for i, line in enumerate(lines) if line.startswith("## ")]
    sections = []
    for n, (index, title) in enumerate(starts):
        end = starts[n + 1][0] if n + 1 < len(starts) else len(lines)
        sections.append((title, index, end))
    return sections


def _table_rows(lines: Sequence[str], start: int, end: int) -> list[tuple[int, dict[str, str]]]:
    rows: list[tuple[int, list[str]]] = []
    header: list[str] | None = None
    for i in range(start, end):
        line = lines[i].strip()
        if not line.startswith("|"):
            continue
        cells = [c.strip() for c in re.split(r"(?<!\\)\|", line.strip("|"))]
        if header is None:
            header = [c.lower() for c in cells]
            continue
        if all(re.fullmatch(r":?-+:?", c) for c in cells if c):
            continue
        rows.append((i + 1, cells))
    if header is None:
        return []
    return [(n, dict(zip(header, cells, strict=False))) for n, cells in rows]


def check_postmortem(text: str) -> list[Problem]:
    lines = _without_comments(text)
    problems: list[Problem] = []
    sections = _sections(lines)
    titles = {title.lower(): (start, end) for title, start, end in sections}
    for required in REQUIRED_SECTIONS:
        if required.lower() not in titles:
            problems.append(Problem(0, f'missing section "## {required}"'))

    if "action items" in titles:
        start, end = titles["action items"]
        rows = _table_rows(lines, start + 1, end)
        if not rows:
            problems.append(
                Problem(start + 1, "no action items table (| Action | Owner | Due | ... |)")
            )
        for number, row in rows:
            action = row.get("action", "").strip() or "(no description)"
            if _PLACEHOLDER_RE.match(row.get("owner", "")):
                problems.append(Problem(number, f'action item "{action}" has no owner'))
            due = row.get("due", "").strip()
            if _PLACEHOLDER_RE.match(due):
                problems.append(Problem(number, f'action item "{action}" has no due date'))
            elif not _DATE_RE.match(due):
                problems.append(
                    Problem(number, f'action item "{action}" has due date {due!r}, not YYYY-MM-DD')
                )

    for title, start, end in sections:
        if title.lower() == "timeline":
            continue  # quotes from the PagerDuty log, not analysis
        for i in range(start, end):
            for match in _BLAME_RE.finditer(lines[i]):
                problems.append(
                    Problem(
                        i + 1,
                        f'blame language "{match.group(0)}" in "{title}": describe what '
                        "made the action reasonable at the time, and what will change",
                    )
                )
    return sorted(problems, key=lambda p: p.line)
