"""`irctl oncall ...`: coverage check and the readable on-call summary."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Annotated
from zoneinfo import ZoneInfo

import typer
from rich.markup import escape
from rich.table import Table

from irctl.common import ConfigOption, StackOption, console, err, load_org
from oncall.coverage import DEFAULT_WINDOW, PolicyCoverage, coverage
from oncall.escalation import rules
from oncall.rotation import OVERRIDE, on_call, on_call_at
from orgconfig.model import OrgConfig
from orgconfig.units import format_duration

app = typer.Typer(help="On-call schedules: coverage and who is on call when.", no_args_is_help=True)


TABLE_SPAN = timedelta(days=14)


def _local(moment: datetime, zone: str) -> str:
    return moment.astimezone(ZoneInfo(zone)).strftime("%a %d %b %H:%M")


def coverage_tables(org: OrgConfig, reports: list[PolicyCoverage]) -> list[Table]:
    tables = []
    for report in reports:
        zone = org.org.time_zone
        table = Table(title=f"Escalation policy {report.policy_id}: who is on call when ({zone})")
        for column in ("tier", "paged after", "from", "to", "person", "via"):
            table.add_column(column)
        shown = 0
        for tier in report.tiers:
            first = tier.shifts[0].start if tier.shifts else None
            for shift in tier.shifts:
                if first and shift.start - first > TABLE_SPAN:
                    continue
                shown += 1
                person = org.person(shift.person_id)
                table.add_row(
                    str(tier.number),
                    format_duration(tier.after),
                    _local(shift.start, zone),
                    _local(shift.end, zone),
                    escape(f"{person.name} ({person.role})"),
                    f"schedule {shift.schedule_id}" if shift.schedule_id else "directly",
                )
        hidden = sum(len(tier.shifts) for tier in report.tiers) - shown
        if hidden:
            table.caption = f"first {TABLE_SPAN.days} days shown; {hidden} later shifts checked"
        tables.append(table)
    return tables


@app.command("coverage")
def coverage_command(
    stack: StackOption = "prod",
    config: ConfigOption = None,
    weeks: Annotated[
        int | None,
        typer.Option(min=1, max=104, help="How far ahead to check (default: 12 months)."),
    ] = None,
    start: Annotated[
        datetime | None,
        typer.Option(formats=["%Y-%m-%d"], help="First day to check (UTC midnight); default now."),
    ] = None,
) -> None:
    """Expand every schedule with its overrides and check, tier by tier, that tier 1 always
    reaches someone, that nobody sits in two tiers at once and that nobody on time off is on
    call without an override. Exits 1 on a problem."""
    org, path = load_org(stack, config)
    begin = (
        start.replace(tzinfo=UTC) if start else datetime.now(UTC).replace(second=0, microsecond=0)
    )
    window = timedelta(weeks=weeks) if weeks else DEFAULT_WINDOW
    reports = coverage(org, begin, window)
    for table in coverage_tables(org, reports):
        console.print(table)
    for warning in (w for r in reports for w in r.warnings):
        err.print(f"[yellow]warning:[/] {escape(warning)}", highlight=False, soft_wrap=True)
    problems = [p for r in reports for p in r.problems]
    span = f"{weeks} weeks" if weeks else "12 months"
    if problems:
        err.print(f"[bold red]coverage check failed[/] for {path} ({len(problems)} problem(s)):")
        for problem in problems:
            err.print(f"  - {escape(problem)}", highlight=False, soft_wrap=True)
        raise typer.Exit(1)
    console.print(
        f"[green]coverage OK[/]: every minute of the next {span} reaches tier 1, nobody is in "
        "two tiers at once, nobody on time off is on call without an override."
    )


def handoffs(org: OrgConfig, start: datetime, end: datetime) -> Table:
    """Every hand-off in [start, end), in each schedule's own time zone and in UTC."""
    table = Table(title=f"Hand-offs from {start:%a %d %b %Y} (local time of each schedule)")
    for column in ("schedule", "local time", "UTC", "from", "to"):
        table.add_column(column)
    for schedule in org.schedules:
        zone = ZoneInfo(schedule.zone)
        previous = on_call_at(schedule, start - timedelta(seconds=1), org.overrides)
        for shift in on_call(schedule, org.overrides, start, end):
            if shift.person_id == previous and shift.start != start:
                continue
            if shift.start != start:
                table.add_row(
                    escape(schedule.name),
                    f"{shift.start.astimezone(zone):%a %d %b %H:%M} {schedule.zone}",
                    f"{shift.start:%H:%M} UTC",
                    escape(org.person(previous).name) if previous else "nobody",
                    escape(org.person(shift.person_id).name)
                    + (" (override)" if shift.rotation == OVERRIDE else ""),
                )
            previous = shift.person_id
    if not table.rows:
        table.caption = f"no hand-off before {end:%a %d %b %Y}: the same people stay on call"
    return table


def summary(org: OrgConfig, now: datetime) -> list[Table]:
    """Who is on call this week and next, the escalation ladders, the services."""
    this_monday = datetime.combine(now.date() - timedelta(days=now.weekday()), datetime.min.time())
    zone = ZoneInfo(org.org.time_zone)
    weeks = [this_monday.replace(tzinfo=zone) + timedelta(days=7 * i, hours=12) for i in (0, 1)]
    on_call = Table(
        title=f"{escape(org.org.name)}: who is on call (checked Monday noon, {zone.key})"
    )
    on_call.add_column("schedule")
    on_call.add_column(f"this week ({weeks[0]:%d %b})")
    on_call.add_column(f"next week ({weeks[1]:%d %b})")
    for schedule in org.schedules:
        names = []
        for moment in weeks:
            person = on_call_at(schedule, moment, org.overrides)
            names.append(escape(org.person(person).name) if person else "[red]nobody[/]")
        on_call.add_row(escape(schedule.name), *names)

    ladders = Table(title="Escalation ladders (unacknowledged incident)")
    for column in ("policy", "tier", "paged after", "targets", "PagerDuty rule delay"):
        ladders.add_column(column)
    for policy in org.escalation_policies:
        for number, (tier, rule) in enumerate(zip(policy.tiers, rules(policy), strict=True), 1):
            targets = escape(
                ", ".join(
                    org.schedule(t.schedule).name if t.schedule else org.person(t.person or "").name
                    for t in tier.targets
                )
            )
            ladders.add_row(
                policy.id,
                str(number),
                format_duration(tier.after) if tier.after else "at once",
                targets,
                f"{rule.delay_minutes} min",
            )
        ladders.add_row(policy.id, "", "", f"then repeats {policy.repeat}x", "")

    services = Table(title="Paged services")
    for column in (
        "service",
        "escalation",
        "urgency",
        "ack timeout",
        "auto-resolve",
        "status page",
    ):
        services.add_column(column)
    for service in org.services:
        services.add_row(
            escape(f"{service.name} ({service.id})"),
            service.escalation_policy,
            service.urgency,
            format_duration(service.acknowledgement_timeout)
            if service.acknowledgement_timeout
            else "off",
            format_duration(service.auto_resolve_timeout)
            if service.auto_resolve_timeout
            else "off",
            service.status_page_component or "-",
        )
    week_start = weeks[0] - timedelta(hours=12)
    # The same two weeks as the on-call table above.
    return [on_call, handoffs(org, week_start, week_start + timedelta(days=14)), ladders, services]


@app.command("show")
def show_command(
    stack: StackOption = "prod",
    config: ConfigOption = None,
    at: Annotated[
        datetime | None, typer.Option(formats=["%Y-%m-%d"], help="Show the week of this date.")
    ] = None,
) -> None:
    """Print who is on call this week and next, the escalation ladders and the services."""
    org, _ = load_org(stack, config)
    for table in summary(org, at or datetime.now(UTC)):
        console.print(table)
