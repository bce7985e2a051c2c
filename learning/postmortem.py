"""Postmortems as records: YAML front matter that machines check, prose that people read.

A postmortem is ``docs/postmortems/YYYY-MM-DD-short-name.md``: front matter between ``---``
lines (incident ids, severity, one owner, resolution time, the review, action items), then
the write-up from ``docs/postmortem-template.md``. Deadlines are counted from the incident's
resolution (``OrgConfig.learning.postmortems``): draft within 24 h, review held and
follow-ups done within 7 days, by default.

Everything here is pure: text in, records and problems out. The disk, PagerDuty and the
clock are the CLI's business (irctl/learning.py).
"""

from __future__ import annotations

import calendar
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

import yaml

from learning.blame import BlameScanner
from learning.incidents import IncidentRecord, parse_time
from learning.metrics import format_duration
from orgconfig.model import SEVERITIES, OrgConfig, PostmortemDeadlines

# Sections a reviewer needs, each non-empty (comments, {{markers}} and <placeholders> do not
# count). After Google's SRE workbook example, PagerDuty's and Atlassian's templates.
REQUIRED_SECTIONS = (
    "Summary",
    "Impact",
    "Trigger",
    "Root cause",
    "Contributing factors",
    "Detection",
    "Response",
    "Timeline",
    "Customer-facing message",
    "Lessons learned",
    "Follow-ups",
)
ACTION_TYPES = ("prevent", "detect", "mitigate", "process")
PRIORITIES = ("P1", "P2", "P3")
ACTION_STATUSES = ("open", "done")
FOLLOW_UPS = ("runbooks_updated", "learnings_shared")
TEMPLATE_HINT = "see docs/postmortem-template.md"

_PLACEHOLDER_RE = re.compile(r"<[^<>\n]*>|\{\{[^}]*\}\}")
_EMPTY_RE = re.compile(r"^\s*(tbd|todo|\?|-|n/a|none yet)?\s*$", re.IGNORECASE)
_DATE_RE = re.compile(r"^(\d{4})-(\d{2})-(\d{2})$")
_URL_RE = re.compile(r"^https?://\S+$")


# --------------------------------------------------------------------------- records


@dataclass(frozen=True)
class ActionItem:
    line: int
    action: str
    owner: str
    due: date | None
    type: str
    priority: str
    ticket: str
    status: str

    @property
    def is_open(self) -> bool:
        return self.status != "done"


@dataclass(frozen=True)
class Postmortem:
    """What the checker and the audit read from one file's front matter."""

    incidents: tuple[str, ...]
    severity: str
    owner: str
    resolved_at: datetime | None
    review_date: date | None
    review_held: bool
    actions: tuple[ActionItem, ...]
    follow_ups: Mapping[str, bool] = field(default_factory=dict)
    impact_started_at: datetime | None = None  # the first alert's startsAt
    triggered_at: datetime | None = None

    @property
    def time_to_detect(self) -> timedelta | None:
        if self.impact_started_at is None or self.triggered_at is None:
            return None
        return self.triggered_at - self.impact_started_at


@dataclass(frozen=True)
class Problem:
    line: int  # 0 when the problem is about the whole file
    message: str


@dataclass(frozen=True)
class Deadlines:
    draft: datetime
    review: datetime
    actions: date


def deadlines(resolved_at: datetime, rules: PostmortemDeadlines) -> Deadlines:
    return Deadlines(
        draft=resolved_at + rules.draft_within,
        review=resolved_at + rules.review_within,
        actions=(resolved_at + rules.actions_within).date(),
    )


# --------------------------------------------------------------------------- front matter


@dataclass(frozen=True)
class _Node:
    """A front matter value as written (scalars stay strings) and its 1-based line."""

    value: Any
    line: int


def _plain(node: yaml.Node, offset: int) -> _Node:
    line = node.start_mark.line + 1 + offset
    if isinstance(node, yaml.MappingNode):
        return _Node({str(k.value): _plain(v, offset) for k, v in node.value}, line)
    if isinstance(node, yaml.SequenceNode):
        return _Node([_plain(item, offset) for item in node.value], line)
    return _Node(str(node.value) if node.value is not None else "", line)


def split_front_matter(text: str) -> tuple[list[str], int] | None:
    """The front matter's lines and the index of the body's first line, or None."""
    lines = text.split("\n")
    if not lines or lines[0].strip() != "---":
        return None
    for index in range(1, len(lines)):
        if lines[index].strip() == "---":
            return lines[1:index], index + 1
    return None


def real_date(text: str) -> tuple[date | None, str]:
    """A YYYY-MM-DD that exists on the calendar, or the reason it is not one."""
    match = _DATE_RE.match(text.strip())
    if not match:
        return None, f"{text!r} is not a date: write YYYY-MM-DD, e.g. 2026-11-10"
    year, month, day = (int(g) for g in match.groups())
    if not 1 <= month <= 12:
        return None, f"{text} is not a real calendar date: month {month} does not exist"
    last = calendar.monthrange(year, month)[1]
    if not 1 <= day <= last:
        return None, (
            f"{text} is not a real calendar date: {calendar.month_name[month]} {year} has "
            f"{last} days"
        )
    return date(year, month, day), ""


class _Reader:
    """Reads the front matter into a Postmortem, collecting every problem on the way."""

    def __init__(self, org: OrgConfig, today: date) -> None:
        self.org = org
        self.today = today
        self.people = {p.id for p in org.people}
        self.by_name = {p.name.lower(): p.id for p in org.people}
        self.problems: list[Problem] = []

    def problem(self, line: int, message: str) -> None:
        self.problems.append(Problem(line, message))

    def text(self, data: Mapping[str, _Node], key: str, parent: int, hint: str) -> str:
        node = data.get(key)
        if node is None or not isinstance(node.value, str) or _EMPTY_RE.match(node.value):
            line = node.line if node is not None else parent
            self.problem(line, f"`{key}` is missing or empty: {hint}")
            return ""
        if _PLACEHOLDER_RE.search(node.value):
            self.problem(node.line, f"`{key}` is still the placeholder {node.value!r}: {hint}")
            return ""
        return node.value.strip()

    def choice(
        self, data: Mapping[str, _Node], key: str, parent: int, allowed: Sequence[str]
    ) -> str:
        hint = "one of " + ", ".join(allowed)
        value = self.text(data, key, parent, hint)
        if value and value not in allowed:
            self.problem(data[key].line, f"`{key}` is {value!r}, not {hint}")
            return ""
        return value

    def person(self, data: Mapping[str, _Node], key: str, parent: int) -> str:
        known = ", ".join(sorted(self.people))
        value = self.text(data, key, parent, f"one person's id from the org config ({known})")
        if value and value not in self.people:
            suggestion = self.by_name.get(value.lower())
            instead = (
                f"write their id {suggestion!r}"
                if suggestion
                else f"write ONE person's id from the org config ({known}); a team or a "
                "role cannot own an action"
            )
            self.problem(data[key].line, f"`{key}` {value!r} is not a person: {instead}")
            return ""
        return value

    def day(self, data: Mapping[str, _Node], key: str, parent: int) -> date | None:
        value = self.text(data, key, parent, "a date, YYYY-MM-DD")
        if not value:
            return None
        found, why = real_date(value)
        if found is None:
            self.problem(data[key].line, f"`{key}`: {why}")
        return found

    def moment(self, data: Mapping[str, _Node], key: str, parent: int) -> datetime | None:
        value = self.text(data, key, parent, "a UTC time, e.g. 2026-11-03T10:52:30Z")
        if not value:
            return None
        day, why = real_date(value[:10])
        try:
            if day is None:
                raise ValueError(why)
            return parse_time(value)
        except ValueError:
            self.problem(
                data[key].line,
                f"`{key}` {value!r} is not a time: write an ISO 8601 UTC time such as "
                "2026-11-03T10:52:30Z" + (f" ({why})" if why else ""),
            )
            return None

    def flag(self, data: Mapping[str, _Node], key: str, parent: int) -> bool:
        value = self.text(data, key, parent, "true or false")
        if value and value not in ("true", "false"):
            self.problem(data[key].line, f"`{key}` is {value!r}: write true or false")
        return value == "true"

    def mapping(
        self, data: Mapping[str, _Node], key: str, parent: int
    ) -> tuple[dict[str, _Node], int]:
        node = data.get(key)
        if node is None or not isinstance(node.value, dict):
            self.problem(node.line if node else parent, f"`{key}` is missing: {TEMPLATE_HINT}")
            return {}, node.line if node else parent
        return node.value, node.line

    def action(self, node: _Node) -> ActionItem | None:
        if not isinstance(node.value, dict):
            self.problem(node.line, f"an action item is a mapping of fields: {TEMPLATE_HINT}")
            return None
        data, line = node.value, node.line
        what = self.text(data, "action", line, "what will change, aimed at the system")
        due = self.day(data, "due", line)
        status = self.choice(data, "status", line, ACTION_STATUSES)
        item = ActionItem(
            line=line,
            action=what,
            owner=self.person(data, "owner", line),
            due=due,
            type=self.choice(data, "type", line, ACTION_TYPES),
            priority=self.choice(data, "priority", line, PRIORITIES),
            ticket=self.text(data, "ticket", line, "a link to the ticket, https://..."),
            status=status,
        )
        if item.ticket and not _URL_RE.match(item.ticket):
            self.problem(
                data["ticket"].line, f"`ticket` {item.ticket!r} is not a link: https://..."
            )
        if due is not None and status == "open" and due < self.today:
            self.problem(
                data["due"].line,
                f"open action {what!r} was due {due} ({(self.today - due).days} days ago): "
                "finish it and set `status: done`, or agree a new date with its owner",
            )
        return item

    def read(self, data: dict[str, _Node], line: int) -> Postmortem:
        incidents = data.get("incidents")
        ids: tuple[str, ...] = ()
        if incidents is not None and isinstance(incidents.value, list):
            ids = tuple(n.value for n in incidents.value if isinstance(n.value, str) and n.value)
        if not ids or any(_PLACEHOLDER_RE.search(i) for i in ids):
            self.problem(
                incidents.line if incidents else line,
                "`incidents` needs the PagerDuty incident id(s), e.g. [Q1ABCDEF2GHIJ3]",
            )
        review, review_line = self.mapping(data, "review", line)
        actions_node = data.get("actions")
        actions: list[ActionItem] = []
        if (
            actions_node is None
            or not isinstance(actions_node.value, list)
            or not actions_node.value
        ):
            self.problem(
                actions_node.line if actions_node else line,
                "`actions` is empty: list at least one action item (action, owner, due, type, "
                "priority, ticket, status)",
            )
        else:
            actions = [a for a in (self.action(n) for n in actions_node.value) if a]
        follow, follow_line = self.mapping(data, "follow_ups", line)
        started = (
            self.moment(data, "impact_started_at", line) if "impact_started_at" in data else None
        )
        triggered = self.moment(data, "triggered_at", line) if "triggered_at" in data else None
        if started and triggered and started > triggered:
            self.problem(
                data["impact_started_at"].line,
                "`impact_started_at` is after `triggered_at`: it is the first alert's "
                "startsAt (or when impact began), which comes before the page",
            )
        record = Postmortem(
            incidents=ids,
            severity=self.choice(data, "severity", line, SEVERITIES),
            owner=self.person(data, "owner", line),
            resolved_at=self.moment(data, "resolved_at", line),
            review_date=self.day(review, "date", review_line) if review else None,
            review_held=self.flag(review, "held", review_line) if review else False,
            actions=tuple(actions),
            follow_ups={k: self.flag(follow, k, follow_line) for k in FOLLOW_UPS} if follow else {},
            impact_started_at=started,
            triggered_at=triggered,
        )
        if record.review_held and record.review_date and record.review_date > self.today:
            self.problem(
                review["held"].line,
                f"the review is marked held but its date {record.review_date} is in the future",
            )
        return record


def read_postmortem(
    text: str, org: OrgConfig, today: date
) -> tuple[Postmortem | None, list[Problem]]:
    """The front matter as a record, and every problem found in it."""
    found = split_front_matter(text)
    if found is None:
        return None, [
            Problem(1, f"no front matter: start the file with '---', the record fields and "
                    f"'---' ({TEMPLATE_HINT})")
        ]  # fmt: skip
    lines, _body = found
    try:
        root = yaml.compose("\n".join(lines), Loader=yaml.SafeLoader)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 2 if mark is not None else 1
        return None, [Problem(line, f"front matter is not valid YAML: {exc}")]
    if root is None or not isinstance(root, yaml.MappingNode):
        return None, [Problem(1, f"front matter must be a mapping of fields ({TEMPLATE_HINT})")]
    reader = _Reader(org, today)
    data = _plain(root, offset=1)
    record = reader.read(data.value, 1)
    return record, reader.problems


# --------------------------------------------------------------------------- check


def _without_comments(text: str) -> list[str]:
    """The lines of ``text`` with HTML comments blanked, line numbers kept."""

    def blank(match: re.Match[str]) -> str:
        return "\n" * match.group(0).count("\n")

    return re.sub(r"<!--.*?-->", blank, text, flags=re.DOTALL).split("\n")


def _sections(lines: Sequence[str], start: int) -> list[tuple[str, int, int]]:
    """(title, heading index, end index) for each ``## `` section from ``start`` on."""
    heads = [
        (i, line[3:].strip())
        for i, line in enumerate(lines)
        if i >= start and line.startswith("## ")
    ]
    return [
        (title, index, heads[n + 1][0] if n + 1 < len(heads) else len(lines))
        for n, (index, title) in enumerate(heads)
    ]


def _has_content(lines: Sequence[str]) -> bool:
    for line in lines:
        if line.lstrip().startswith("#"):
            continue  # a sub-heading is not an answer
        text = _PLACEHOLDER_RE.sub("", line).strip(" \t-*|:>")
        if text and not _EMPTY_RE.match(text) and not re.fullmatch(r"[-|: ]*", text):
            return True
    return False


def check_postmortem(text: str, org: OrgConfig, today: date) -> list[Problem]:
    """Every problem of one postmortem, each with its line: front matter, title, sections,
    and blame anywhere in the file (title and action items included)."""
    lines = _without_comments(text)
    _record, problems = read_postmortem(text, org, today)
    found = split_front_matter(text)
    body = found[1] if found else 0
    title = next(
        ((i, line) for i, line in enumerate(lines) if i >= body and line.startswith("# ")), None
    )
    if title is None or not _has_content([title[1][2:]]):
        problems.append(Problem(body + 1, "no title: add '# Postmortem: <what users saw>'"))
    sections = _sections(lines, body)
    present = {t.lower(): (start, end) for t, start, end in sections}
    for required in REQUIRED_SECTIONS:
        where = present.get(required.lower())
        if where is None:
            problems.append(Problem(0, f'missing section "## {required}" ({TEMPLATE_HINT})'))
        elif not _has_content(lines[where[0] + 1 : where[1]]):
            problems.append(
                Problem(
                    where[0] + 1,
                    f'section "## {required}" is empty: answer the questions in its comment '
                    f"({TEMPLATE_HINT}); write 'nothing' if that is the honest answer",
                )
            )
    for finding in BlameScanner(org.people).scan(lines):
        problems.append(Problem(finding.line, finding.message))
    return sorted(problems, key=lambda p: p.line)


# --------------------------------------------------------------------------- new


def slugify(text: str, max_length: int = 60) -> str:
    slug = re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")
    return slug[:max_length].rstrip("-") or "incident"


def file_name(record: IncidentRecord) -> str:
    return f"{record.triggered_at:%Y-%m-%d}-{slugify(record.title)}.md"


def format_utc(moment: datetime | None) -> str:
    return f"{moment:%Y-%m-%dT%H:%M:%SZ}" if moment else ""


def _when(moment: datetime | None) -> str:
    return f"{moment:%Y-%m-%d %H:%M:%S} UTC" if moment else "not yet"


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


@dataclass(frozen=True)
class TimelineRow:
    """One line of the merged timeline: PagerDuty, the status page, alerts, deploys."""

    at: datetime
    source: str
    what: str
    who: str = ""


def pagerduty_rows(record: IncidentRecord) -> list[TimelineRow]:
    return [
        TimelineRow(e.at, "PagerDuty", f"{e.kind}: {e.summary}", e.who or "")
        for e in record.timeline
    ]


def timeline_table(rows: Sequence[TimelineRow]) -> str:
    lines = ["| Time (UTC) | Source | What happened | Who |", "|---|---|---|---|"]
    for row in sorted(rows, key=lambda r: r.at):
        lines.append(
            f"| {row.at:%Y-%m-%d %H:%M:%S} | {_cell(row.source)} | {_cell(row.what)} | "
            f"{_cell(row.who or '-')} |"
        )
    return "\n".join(lines)


def person_for(org: OrgConfig, who: str | None) -> str | None:
    """The config person a PagerDuty user summary names (by name, email or id)."""
    if not who:
        return None
    wanted = who.strip().lower()
    for person in org.people:
        if wanted in (person.name.lower(), person.email.lower(), person.id):
            return person.id
    return None


def prefill_fields(
    record: IncidentRecord,
    org: OrgConfig,
    *,
    owner: str | None = None,
    impact_started_at: datetime | None = None,
    extra_rows: Sequence[TimelineRow] = (),
) -> dict[str, str]:
    """The ``{{field}}`` values of the template, from PagerDuty and the org config."""
    end = record.resolved_at
    rules = org.learning.postmortems
    due = deadlines(end, rules) if end else None
    started = impact_started_at or record.triggered_at
    detect = record.triggered_at - started
    owner_id = owner or person_for(org, record.first_acknowledged_by)
    tiers = ", ".join(f"tier {level}" for level in record.escalation_levels)
    responders = ", ".join(record.responders) or "nobody"
    return {
        "title": record.title,
        "incident_id": record.id,
        "incident": f"#{record.number} {record.id}"
        + (f" ({record.html_url})" if record.html_url else ""),
        "service": f"{record.service_name} ({record.service_id})",
        "owner": owner_id or "<person id from the org config>",
        "impact_started_at": format_utc(started),
        "triggered_at": format_utc(record.triggered_at),
        "resolved_at": format_utc(end) or "<still open: resolve the incident first>",
        "draft_due": _when(due.draft) if due else "-",
        "review_due": _when(due.review) if due else "-",
        "action_due": due.actions.isoformat() if due else "<YYYY-MM-DD>",
        "impact_start": f"{started:%Y-%m-%d %H:%M:%S}",
        "impact_end": f"{end:%Y-%m-%d %H:%M:%S}" if end else "still open",
        "impact_duration": format_duration(end - started) if end else "ongoing",
        "time_to_detect": format_duration(detect)
        + ("" if impact_started_at else " (no alert startsAt given: set impact_started_at)"),
        "detected_at": _when(record.triggered_at),
        "acknowledged_at": _when(record.first_acknowledged_at),
        "acknowledged_by": record.first_acknowledged_by or "nobody",
        "time_to_acknowledge": format_duration(record.time_to_acknowledge),
        "resolved": _when(end),
        "time_to_resolve": format_duration(record.time_to_resolve),
        "escalation_tiers": tiers,
        "responders": responders,
        "timeline": timeline_table([*pagerduty_rows(record), *extra_rows]),
    }


def render(template: str, fields: Mapping[str, str]) -> str:
    """Replace ``{{name}}`` markers; unknown markers are left for the writer."""

    def replace(match: re.Match[str]) -> str:
        return fields.get(match.group(1), match.group(0))

    return re.sub(r"\{\{\s*([a-z_]+)\s*\}\}", replace, template)


def new_postmortem(template: str, fields: Mapping[str, str]) -> str:
    return render(template, fields)


# --------------------------------------------------------------------------- review invitation


def review_time(resolved_at: datetime, rules: PostmortemDeadlines) -> datetime:
    """A default review slot: 14:00 UTC on the last weekday before the review deadline that
    is at least two days after resolution (so the draft exists), else the deadline's day."""
    deadline = resolved_at + rules.review_within
    day = deadline.date()
    earliest = (resolved_at + timedelta(days=2)).date()
    candidate = day - timedelta(days=1)
    while candidate >= earliest:
        if candidate.weekday() < 5:
            day = candidate
            break
        candidate -= timedelta(days=1)
    slot = datetime(day.year, day.month, day.day, 14, tzinfo=resolved_at.tzinfo)
    return min(slot, deadline)


def review_invitation(
    record: IncidentRecord,
    org: OrgConfig,
    starts: datetime,
    document: str,
    *,
    now: Callable[[], datetime],
) -> tuple[bytes, list[str]]:
    """An iCalendar REQUEST for the review meeting, addressed to the responders known to the
    org config; returns the bytes and the responders it could not address."""
    from icalendar import Calendar, Event, vCalAddress, vText

    cal = Calendar()
    cal.add("prodid", "-//irctl//postmortem review//EN")
    cal.add("version", "2.0")
    cal.add("method", "REQUEST")
    event = Event()
    # Stable per incident: re-running `postmortem new` updates the invitation, never doubles it.
    event.add("uid", f"postmortem-review-{record.id}@irctl")
    event.add("dtstamp", now())
    event.add("dtstart", starts)
    event.add("dtend", starts + timedelta(hours=1))
    event.add("summary", f"Postmortem review: {record.title}")
    event.add(
        "description",
        f"Blameless review of PagerDuty incident #{record.number} ({record.id}). "
        f"Read the draft first: {document}",
    )
    unknown: list[str] = []
    for who in record.responders:
        person_id = person_for(org, who)
        if person_id is None:
            unknown.append(who)
            continue
        person = org.person(person_id)
        attendee = vCalAddress(f"mailto:{person.email}")
        attendee.params["cn"] = vText(person.name)
        attendee.params["role"] = vText("REQ-PARTICIPANT")
        attendee.params["rsvp"] = vText("TRUE")
        event.add("attendee", attendee, encode=False)
    cal.add_component(event)
    return cal.to_ical(), unknown
