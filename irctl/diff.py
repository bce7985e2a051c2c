"""`irctl diff`: what a config change does to people, in Markdown for a pull-request comment.

Compares the org config at a git ref with the working tree: rotations (who is on call when,
with dates), escalation timings per tier, services, which receiver each service x severity
reaches, alert thresholds, and status page components. Prints nothing when nothing changes.
"""

from __future__ import annotations

import subprocess
import tempfile
from collections.abc import Iterable
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Annotated, Any
from zoneinfo import ZoneInfo

import typer
from rich.markup import escape

from irctl.common import ConfigOption, StackOption, console, err, fail
from irctl.stacks import StackError, config_file_for
from oncall.rotation import on_call
from orgconfig.load import ConfigError, load_config
from orgconfig.model import (
    EscalationPolicy,
    Layer,
    OrgConfig,
    Override,
    Rotation,
    Schedule,
    Tier,
    TimeOff,
)
from orgconfig.units import format_duration

NOBODY = "nobody"


def _person(org: OrgConfig, person_id: str | None) -> str:
    if person_id is None:
        return NOBODY
    found = [p.name for p in org.people if p.id == person_id]
    return found[0] if found else person_id


def _names(org: OrgConfig, ids: Iterable[str]) -> str:
    return ", ".join(_person(org, i) for i in ids)


def _when(moment: datetime, zone: str) -> str:
    return moment.astimezone(ZoneInfo(zone)).strftime("%a %Y-%m-%d %H:%M")


def _overrides_of(org: OrgConfig, schedule_id: str) -> list[Override]:
    return [o for o in org.overrides if o.schedule == schedule_id]


def _parts(schedule: Schedule) -> list[Rotation | Layer]:
    """A schedule's rotations, or its legacy layers (bottom first)."""
    return [*schedule.all_rotations(), *schedule.layers]


def _rotation_notes(
    before: OrgConfig, after: OrgConfig, old: list[Rotation | Layer], new: list[Rotation | Layer]
) -> list[str]:
    """One sentence per rotation setting that changes, in the words of the config."""
    notes = []
    if len(old) != len(new):
        notes.append(f"Rotations: {len(old)} → {len(new)}.")
    for index, (ra, rb) in enumerate(zip(old, new, strict=False)):
        kind = "Layer" if isinstance(rb, Layer) else "Rotation"
        label = f"{kind} {rb.name or index + 1}: " if len(new) > 1 else ""
        if ra.participants != rb.participants:
            notes.append(
                f"{label}Rotation order: {_names(before, ra.participants)} → "
                f"{_names(after, rb.participants)}."
            )
        if ra.turn != rb.turn:
            notes.append(
                f"{label}Turn length: {format_duration(ra.turn)} → {format_duration(rb.turn)}."
            )
        if (ra.first_handoff, ra.handoff_time) != (rb.first_handoff, rb.handoff_time):
            notes.append(
                f"{label}First handoff: {ra.first_handoff} {ra.handoff_time} → "
                f"{rb.first_handoff} {rb.handoff_time}."
            )
        kept = (getattr(ra, "shifts_per_member", 1), getattr(rb, "shifts_per_member", 1))
        if kept[0] != kept[1]:
            notes.append(f"{label}Shifts per member: {kept[0]} → {kept[1]}.")
        if ra.restrictions != rb.restrictions:
            notes.append(f"{label}On-call hours (restrictions) change.")
    return notes


def _timeline(
    org: OrgConfig, schedule: Schedule, start: datetime, end: datetime
) -> list[tuple[datetime, str]]:
    """(moment, person or None) change points covering [start, end), overrides applied."""
    points: list[tuple[datetime, str]] = []
    cursor = start
    for shift in on_call(schedule, org.overrides, start, end):
        if shift.start > cursor:
            points.append((cursor, ""))
        points.append((shift.start, shift.person_id))
        cursor = shift.end
    if cursor < end:
        points.append((cursor, ""))
    return points


def _who_at(points: list[tuple[datetime, str]], moment: datetime) -> str:
    current = ""
    for at, person in points:
        if at > moment:
            break
        current = person
    return current


def rotation_changes(
    before: OrgConfig, after: OrgConfig, start: datetime, end: datetime
) -> list[str]:
    lines: list[str] = []
    old = {s.id: s for s in before.schedules}
    new = {s.id: s for s in after.schedules}
    for sid in sorted(set(new) - set(old)):
        s = new[sid]
        turns = "; ".join(
            f"{_names(after, r.participants)}, turns of {format_duration(r.turn)}"
            for r in _parts(s)
        )
        lines.append(f"- New schedule **{s.name}** (`{sid}`): {turns}.")
    for sid in sorted(set(old) - set(new)):
        lines.append(f"- Schedule **{old[sid].name}** (`{sid}`) is removed.")
    for sid in [s.id for s in after.schedules if s.id in old]:
        a, b = old[sid], new[sid]
        people = {p for r in _parts(a) for p in r.participants}
        same_overrides = _overrides_of(before, sid) == _overrides_of(after, sid)
        if (
            a == b
            and same_overrides
            and all(_person(before, p) == _person(after, p) for p in people)
        ):
            continue
        block: list[str] = []
        block.extend(_rotation_notes(before, after, _parts(a), _parts(b)))
        if not same_overrides:
            block.append("Overrides change who is on call (see Time off and overrides).")
        if a.zone != b.zone:
            block.append(f"Time zone: {a.zone} → {b.zone}.")
        zone = b.zone
        old_points = _timeline(before, a, start, end)
        new_points = _timeline(after, b, start, end)
        moments = sorted({at for at, _ in old_points} | {at for at, _ in new_points})
        rows: list[tuple[datetime, datetime, str, str]] = []
        for index, moment in enumerate(moments):
            until = moments[index + 1] if index + 1 < len(moments) else end
            was, now = _who_at(old_points, moment), _who_at(new_points, moment)
            if was == now:
                continue
            if rows and rows[-1][1] == moment and rows[-1][2:] == (was, now):
                rows[-1] = (rows[-1][0], until, was, now)
            else:
                rows.append((moment, until, was, now))
        if rows:
            block.append("")
            block.append(f"| From ({zone}) | Until | On call before | On call after |")
            block.append("|---|---|---|---|")
            for frm, until, was, now in rows:
                block.append(
                    f"| {_when(frm, zone)} | {_when(until, zone)} | "
                    f"{_person(before, was or None)} | {_person(after, now or None)} |"
                )
            affected = sorted(
                {_person(before, w) for _, _, w, _ in rows if w}
                | {_person(after, n) for _, _, _, n in rows if n}
            )
            block.append("")
            block.append(f"People affected: {', '.join(affected)}.")
        if block:
            lines.append(f"**{b.name}** (`{sid}`): " + block[0])
            lines.extend(block[1:])
            lines.append("")
    while lines and not lines[-1]:
        lines.pop()
    return lines


def _targets(org: OrgConfig, tier: Tier) -> str:
    names = []
    for target in tier.targets:
        if target.schedule:
            found = [s.name for s in org.schedules if s.id == target.schedule]
            names.append(f"{found[0] if found else target.schedule} (schedule)")
        else:
            names.append(_person(org, target.person))
    return ", ".join(names)


def escalation_changes(before: OrgConfig, after: OrgConfig) -> list[str]:
    lines: list[str] = []
    old = {p.id: p for p in before.escalation_policies}
    new = {p.id: p for p in after.escalation_policies}
    for pid in sorted(set(new) - set(old)):
        lines.append(f"- New escalation policy **{new[pid].name}** (`{pid}`).")
    for pid in sorted(set(old) - set(new)):
        lines.append(f"- Escalation policy **{old[pid].name}** (`{pid}`) is removed.")
    for pid in [p.id for p in after.escalation_policies if p.id in old]:
        a, b = old[pid], new[pid]
        rows = _tier_rows(before, after, a, b)
        notes = _timing_notes(a, b, after)
        if a.repeat != b.repeat:
            notes.append(f"Repeats: {a.repeat} → {b.repeat} times.")
        if a.loop_after != b.loop_after:
            notes.append(
                f"Last tier's time before the ladder repeats: {format_duration(a.loop_after)} "
                f"→ {format_duration(b.loop_after)}."
            )
        if not rows and not notes:
            continue
        lines.append(f"**{b.name}** (`{pid}`):")
        if rows:
            lines.append("")
            lines.append("| Tier | Who | Paged after (before) | Paged after (after) |")
            lines.append("|---|---|---|---|")
            lines.extend(rows)
        if notes:
            lines.append("")
            lines.extend(notes)
        lines.append("")
    while lines and not lines[-1]:
        lines.pop()
    return lines


def _tier_rows(
    before: OrgConfig, after: OrgConfig, a: EscalationPolicy, b: EscalationPolicy
) -> list[str]:
    rows = []
    for index in range(max(len(a.tiers), len(b.tiers))):
        old = a.tiers[index] if index < len(a.tiers) else None
        new = b.tiers[index] if index < len(b.tiers) else None
        old_who = _targets(before, old) if old else "—"
        new_who = _targets(after, new) if new else "—"
        old_after = format_duration(old.after) if old else "—"
        new_after = format_duration(new.after) if new else "—"
        if (old_who, old_after) == (new_who, new_after):
            continue
        who = new_who if old_who == new_who else f"{old_who} → {new_who}"
        rows.append(f"| {index + 1} | {who} | {old_after} | {new_after} |")
    return rows


def _timing_notes(a: EscalationPolicy, b: EscalationPolicy, after: OrgConfig) -> list[str]:
    """One sentence per tier whose paging time moves, in the words a responder uses."""
    notes = []
    for index, (old, new) in enumerate(zip(a.tiers, b.tiers, strict=False), start=1):
        if old.after == new.after:
            continue
        shift = new.after - old.after
        direction = "later" if shift > timedelta(0) else "earlier"
        notes.append(
            f"Tier {index} ({_targets(after, new)}) is paged {format_duration(abs(shift))} "
            f"{direction}: {format_duration(new.after)} after an incident is triggered instead "
            f"of {format_duration(old.after)}."
        )
    return notes


def service_changes(before: OrgConfig, after: OrgConfig) -> list[str]:
    lines = []
    old = {s.id: s for s in before.services}
    new = {s.id: s for s in after.services}
    for sid in sorted(set(new) - set(old)):
        lines.append(
            f"- Added **{new[sid].name}** (`{sid}`), paging through `{new[sid].escalation_policy}`."
        )
    for sid in sorted(set(old) - set(new)):
        lines.append(f"- Removed **{old[sid].name}** (`{sid}`): it no longer pages anyone.")
    for sid in [s.id for s in after.services if s.id in old]:
        a, b = old[sid], new[sid]
        for field, label in (
            ("escalation_policy", "escalation policy"),
            ("urgency", "urgency"),
            ("status_page_component", "status page component"),
            ("acknowledgement_timeout", "acknowledgement timeout"),
            ("auto_resolve_timeout", "auto-resolve timeout"),
        ):
            was, now = getattr(a, field), getattr(b, field)
            if was != now:
                lines.append(f"- **{b.name}** (`{sid}`): {label} {_text(was)} → {_text(now)}.")
    return lines


def _text(value: Any) -> str:
    if value is None:
        return "none"
    if isinstance(value, timedelta):
        return format_duration(value)
    return str(value)


def receiver_changes(before: OrgConfig, after: OrgConfig) -> list[str]:
    try:
        from alerts.routing import receiver_table
    except ImportError:  # the alerting package is not installed: nothing to compare
        return []
    old = {(s, sev): r for s, sev, r in receiver_table(before)}
    new = {(s, sev): r for s, sev, r in receiver_table(after)}
    rows = []
    for key in sorted(set(old) | set(new)):
        was, now = old.get(key, "—"), new.get(key, "—")
        if was != now:
            rows.append(f"| `{key[0]}` | {key[1]} | {was} | {now} |")
    if not rows:
        return []
    return ["| Service | Severity | Receiver before | Receiver after |", "|---|---|---|---|", *rows]


def _flatten(data: Any, prefix: str = "") -> dict[str, Any]:
    if isinstance(data, dict):
        out: dict[str, Any] = {}
        for key, value in data.items():
            out.update(_flatten(value, f"{prefix}.{key}" if prefix else str(key)))
        return out
    return {prefix: data}


def threshold_changes(before: OrgConfig, after: OrgConfig) -> list[str]:
    lines = []
    old = _flatten(before.alerting.thresholds.model_dump(mode="json"))
    new = _flatten(after.alerting.thresholds.model_dump(mode="json"))
    for key in sorted(set(old) | set(new)):
        if old.get(key) != new.get(key):
            lines.append(f"- `{key}`: {_text(old.get(key))} → {_text(new.get(key))}")
    old_services = {s.id: s for s in before.services}
    for service in after.services:
        if service.id not in old_services:
            continue
        a = _flatten(old_services[service.id].alerts.model_dump(mode="json"))
        b = _flatten(service.alerts.model_dump(mode="json"))
        for key in sorted(set(a) | set(b)):
            if a.get(key) != b.get(key):
                lines.append(
                    f"- `{service.id}` alerts `{key}`: {_text(a.get(key))} → {_text(b.get(key))}"
                )
    return lines


def status_page_changes(before: OrgConfig, after: OrgConfig) -> list[str]:
    def components(org: OrgConfig) -> dict[str, tuple[str, Any]]:
        if org.status_page is None:
            return {}
        return {c.id: (g.name, c) for g in org.status_page.groups for c in g.components}

    old, new = components(before), components(after)
    lines = []
    for cid in sorted(set(new) - set(old)):
        lines.append(f"- Added **{new[cid][1].name}** (`{cid}`) in {new[cid][0]}.")
    for cid in sorted(set(old) - set(new)):
        lines.append(f"- Removed **{old[cid][1].name}** (`{cid}`) from {old[cid][0]}.")
    for cid in sorted(set(old) & set(new)):
        (og, oc), (ng, nc) = old[cid], new[cid]
        if oc.name != nc.name:
            lines.append(f"- `{cid}` is renamed: {oc.name} → {nc.name}.")
        if og != ng:
            lines.append(f"- **{nc.name}** (`{cid}`) moves from {og} to {ng}.")
        if oc.checks != nc.checks:
            lines.append(f"- **{nc.name}** (`{cid}`): synthetic checks change.")
    a, b = before.status_page, after.status_page
    if a and b and (a.name, a.url, a.domain) != (b.name, b.url, b.domain):
        lines.append(f"- The page: {a.name} at {a.url} → {b.name} at {b.url}.")
    return lines


def people_changes(before: OrgConfig, after: OrgConfig) -> list[str]:
    old = {p.id: p for p in before.people}
    new = {p.id: p for p in after.people}
    lines = [f"- Added {new[i].name} ({new[i].role})." for i in sorted(set(new) - set(old))]
    lines += [f"- Removed {old[i].name} ({old[i].role})." for i in sorted(set(old) - set(new))]
    for pid in sorted(set(old) & set(new)):
        if old[pid].role != new[pid].role:
            lines.append(f"- {new[pid].name}: role {old[pid].role} → {new[pid].role}.")
        if old[pid].email != new[pid].email:
            lines.append(f"- {new[pid].name}: email {old[pid].email} → {new[pid].email}.")
    return lines


def _span(start: datetime, end: datetime, zone: str) -> str:
    def local(moment: datetime) -> datetime:
        return moment if moment.tzinfo is None else moment.astimezone(ZoneInfo(zone))

    lo, hi = local(start), local(end)
    return f"from {lo:%a %Y-%m-%d %H:%M} to {hi:%a %Y-%m-%d %H:%M} ({zone})"


def time_off_changes(before: OrgConfig, after: OrgConfig) -> list[str]:
    """Time off and overrides added or removed, as sentences a reviewer reads aloud."""
    lines = []

    def away(org: OrgConfig, entry: TimeOff) -> str:
        note = f": {entry.note}" if entry.note else ""
        when = _span(entry.start, entry.end, org.org.time_zone)
        return f"{_person(org, entry.person)} is away {when}{note}."

    def covers(org: OrgConfig, entry: Override) -> str:
        found = [s for s in org.schedules if s.id == entry.schedule]
        name, zone = (found[0].name, found[0].zone) if found else (entry.schedule, "UTC")
        note = f": {entry.note}" if entry.note else ""
        return (
            f"{_person(org, entry.person)} covers **{name}** "
            f"{_span(entry.start, entry.end, zone)}{note}."
        )

    lines += [
        f"- Time off added: {away(after, e)}" for e in after.time_off if e not in before.time_off
    ]
    lines += [
        f"- Time off removed: {away(before, e)}" for e in before.time_off if e not in after.time_off
    ]
    lines += [
        f"- Override added: {covers(after, e)}"
        for e in after.overrides
        if e not in before.overrides
    ]
    lines += [
        f"- Override removed: {covers(before, e)}"
        for e in before.overrides
        if e not in after.overrides
    ]
    return lines


def config_diff(
    before: OrgConfig, after: OrgConfig, start: datetime, weeks: int, title: str
) -> str:
    """The Markdown report; empty when the change does nothing a person would notice."""
    end = start + timedelta(weeks=weeks)
    sections = [
        (f"On-call rotations (next {weeks} weeks)", rotation_changes(before, after, start, end)),
        ("Time off and overrides", time_off_changes(before, after)),
        ("Escalation", escalation_changes(before, after)),
        ("Services", service_changes(before, after)),
        ("Where alerts go", receiver_changes(before, after)),
        ("Alert thresholds", threshold_changes(before, after)),
        ("Status page", status_page_changes(before, after)),
        ("People", people_changes(before, after)),
    ]
    body = []
    for heading, lines in sections:
        if lines:
            body += [f"### {heading}", "", *lines, ""]
    if not body:
        return ""
    return "\n".join([f"## {title}", "", *body]).rstrip() + "\n"


def config_at_ref(ref: str, path: Path) -> str | None:
    """The file's text at a git ref of the repository holding it, or None when it did not
    exist there."""
    folder = path.resolve().parent
    result = subprocess.run(
        ["git", "show", f"{ref}:./{path.name}"], capture_output=True, text=True, cwd=folder
    )
    if result.returncode == 0:
        return result.stdout
    check = subprocess.run(
        ["git", "rev-parse", "--verify", "--quiet", f"{ref}^{{commit}}"],
        capture_output=True,
        cwd=folder,
    )
    if check.returncode != 0:
        fail(f"{ref!r} is not a commit, branch or tag of the git repository at {folder}", 2)
    return None


def diff_command(
    stack: StackOption = "prod",
    config: ConfigOption = None,
    base: Annotated[
        str, typer.Option("--base", "-b", help="Git ref to compare with (e.g. origin/main).")
    ] = "origin/main",
    start: Annotated[
        str | None,
        typer.Option("--from", help="First day of the rotation comparison (default: today)."),
    ] = None,
    weeks: Annotated[int, typer.Option("--weeks", min=1, max=52, help="Weeks to compare.")] = 8,
) -> None:
    """Print, in Markdown, what the config change since --base does to people (nothing when
    nothing changes)."""
    try:
        path = config_file_for(stack, config)
    except StackError as exc:
        fail(str(exc), 2)
    try:
        after = load_config(path)
    except ConfigError as exc:
        err.print(f"[bold red]error:[/] {escape(exc.report())}", highlight=False, soft_wrap=True)
        raise typer.Exit(2) from None
    text = config_at_ref(base, path)
    if text is None:
        console.print(f"## Config change for `{stack}`\n\n{path.name} is new in this change.")
        return
    with tempfile.TemporaryDirectory(prefix="irctl-diff-") as tmp:
        old_file = Path(tmp) / f"{path.stem}@{base.replace('/', '_')}.yaml"
        old_file.write_text(text)
        try:
            before = load_config(old_file)
        except ConfigError as exc:
            err.print(
                f"[bold red]error:[/] the config at {escape(base)} does not load:\n"
                + escape(exc.report()),
                highlight=False,
                soft_wrap=True,
            )
            raise typer.Exit(2) from None
    try:
        first = date.fromisoformat(start) if start else datetime.now(UTC).date()
    except ValueError:
        fail(f"--from {start!r} is not a date like 2026-12-01", 2)
    zone = ZoneInfo(after.org.time_zone)
    begin = datetime.combine(first, time(0, 0), zone).astimezone(UTC)
    report = config_diff(before, after, begin, weeks, f"What this change does to `{stack}`")
    if report:
        print(report, end="")
