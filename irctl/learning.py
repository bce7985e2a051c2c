"""CLI shells for learning from incidents: metrics, postmortems, live drills, calendar.

Mounted by irctl/cli.py: ``app.command("metrics")(metrics_command)``,
``app.add_typer(postmortem_app, name="postmortem")``, ``app.command("calendar")(calendar_command)``
and the live drill through ``live_drill(...)``. The logic lives in the ``learning`` package.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from irctl.common import ConfigOption, StackOption, console, err, fail, load_org
from orgconfig.model import OrgConfig

if TYPE_CHECKING:
    from learning.drill_reports import DrillReport
    from learning.incidents import IncidentRecord
    from learning.postmortem import TimelineRow

TOKEN_ENV = "PAGERDUTY_TOKEN"

ApiUrlOption = Annotated[
    str,
    typer.Option(
        "--api-url",
        envvar="PAGERDUTY_API_URL",
        help="PagerDuty REST API base URL (EU accounts: https://api.eu.pagerduty.com).",
    ),
]
TokenOption = Annotated[
    str | None,
    typer.Option(
        "--token",
        envvar=TOKEN_ENV,
        help=f"PagerDuty REST API token (read-only is enough); default from ${TOKEN_ENV}.",
        show_default=False,
    ),
]
TokenEnvOption = Annotated[
    str | None,
    typer.Option(
        "--token-env",
        metavar="VAR",
        help="Read the token from this environment variable instead of --token, as irctl "
        "drift and import do (the token stays out of the shell history).",
        show_default=False,
    ),
]
RecordsOption = Annotated[
    Path,
    typer.Option(
        "--records",
        help="Page-test record file (JSON lines) written by page-test and drills.",
    ),
]


class OutputFormat(StrEnum):
    table = "table"
    json = "json"
    markdown = "markdown"


def parse_when(text: str, *, end_of_day: bool = False) -> datetime:
    """A date (``2026-11-01``) or an ISO 8601 date-time; UTC unless an offset is given.

    A bare date as an end bound means the end of that day, so ``--until 2026-11-30``
    includes the 30th.
    """
    from learning.incidents import parse_time

    try:
        moment = parse_time(text)
    except ValueError:
        raise typer.BadParameter(
            f"{text!r} is not a date (2026-11-01) or date-time (2026-11-01T09:00:00Z)"
        ) from None
    if end_of_day and len(text.strip()) == 10:
        moment += timedelta(days=1)
    return moment


def _require_token(token: str | None, token_env: str | None = None) -> str:
    """The token from --token-env VAR when given (as `irctl drift` and `import` take it),
    else from --token / $PAGERDUTY_TOKEN."""
    if token_env:
        import os

        token = os.environ.get(token_env, "").strip()
        if not token:
            fail(f"no PagerDuty API token: environment variable {token_env} is not set or empty", 2)
    if not token:
        fail(f"no PagerDuty API token: pass --token or set ${TOKEN_ENV}", 2)
    return token


def metrics_command(
    stack: StackOption = "prod",
    config: ConfigOption = None,
    since: Annotated[
        str | None,
        typer.Option(
            metavar="DATE",
            help="Start of the window, a date or date-time (UTC). Default: 30 days ago.",
        ),
    ] = None,
    until: Annotated[
        str | None,
        typer.Option(
            metavar="DATE",
            help="End of the window; a bare date includes that whole day. Default: now.",
        ),
    ] = None,
    team: Annotated[
        list[str] | None,
        typer.Option("--team", metavar="TEAM_ID", help="Only this PagerDuty team id (repeatable)."),
    ] = None,
    service: Annotated[
        list[str] | None,
        typer.Option(
            "--service",
            metavar="SERVICE",
            help="Only this service, by PagerDuty id or name (repeatable).",
        ),
    ] = None,
    output: Annotated[
        OutputFormat, typer.Option("--format", help="table, json or markdown.")
    ] = OutputFormat.table,
    chart: Annotated[
        Path | None,
        typer.Option("--chart", help="Also write a PNG of weekly MTTA and MTTR against targets."),
    ] = None,
    api_url: ApiUrlOption = "https://api.pagerduty.com",
    token: TokenOption = None,
    token_env: TokenEnvOption = None,
    prometheus_url: Annotated[
        str | None,
        typer.Option(
            "--prometheus-url",
            help="Prometheus to read availability from: the average of probe_success over the "
            "window (avg_over_time), per service label.",
        ),
    ] = None,
    statuspage_url: Annotated[
        str | None,
        typer.Option(
            "--statuspage-url",
            help="Or the status page to read availability from: its uptime API "
            "(/api/v2/uptime.json), the share of passed synthetic checks per component over "
            "the whole UTC days of the window, counted for each service the component lists.",
        ),
    ] = None,
    probe_selector: Annotated[
        str,
        typer.Option(help="PromQL selector of the probe series, e.g. probe_success{env='prod'}."),
    ] = "probe_success",
    records: RecordsOption = Path("var/page-tests.jsonl"),
    postmortems: Annotated[
        Path,
        typer.Option(
            "--postmortems",
            help="Folder of postmortems whose front matter gives time to detect "
            "(impact_started_at, the alert's startsAt, to triggered_at).",
        ),
    ] = Path("docs/postmortems"),
    drill_reports_dir: Annotated[
        Path,
        typer.Option(
            "--drill-reports",
            help="Folder of drill reports: their pages count as page success, their "
            "'What good looks like' items as met or missed.",
        ),
    ] = Path("docs/drills/reports"),
    strict: Annotated[
        bool, typer.Option("--strict", help="Exit 1 when any target is missed (for CI).")
    ] = False,
) -> None:
    """Measure incident response against the targets: MTTA < 5 min, MTTR < 30 min,
    availability >= 99.9 %, page delivery 100 %, first public update < 15 min.

    Only paging incidents count: high urgency and not on a test or drill service of the org
    config (`learning.test_services`, and [DRILL] incidents); those are reported as page
    success instead. MTTA is the time from an incident's trigger to its FIRST
    acknowledgement; MTTR is the time from trigger to resolution. Each is shown as mean,
    median and p90 (nearest rank), per service and overall. A paging incident never
    acknowledged FAILS the MTTA target whatever the mean; incidents still open are counted
    and shown. Time to detect (alert startsAt to page) comes from the postmortems' front
    matter; time to first public update from the status page (--statuspage-url).

    Incidents and their log entries come from the PagerDuty REST API v2 (any plan; the
    command waits when PagerDuty says it is rate limited). Availability comes from
    Prometheus (--prometheus-url) or from the status page's own check results
    (--statuspage-url), whichever one is given; every service must reach 99.9 %. Page
    success comes from the page-test record file that `irctl page-test` and drills append
    to.

    Example: irctl metrics --since 2026-10-01 --until 2026-10-31 --format markdown
    """
    import pagerduty

    from learning import availability as availability_source
    from learning import metrics, pagerduty_api, public_updates, report
    from learning import records as page_records
    from learning.scope import IncidentScope

    org, _path = load_org(stack, config)
    now = datetime.now(UTC)
    end = parse_when(until, end_of_day=True) if until else now
    start = parse_when(since) if since else end - timedelta(days=30)
    if start >= end:
        fail(f"--since ({start:%Y-%m-%d %H:%M}) must be before --until ({end:%Y-%m-%d %H:%M})", 2)
    if prometheus_url and statuspage_url:
        fail(
            "give one availability source, --prometheus-url or --statuspage-url, not both",
            2,
        )
    client = pagerduty_api.RateLimitedClient(_require_token(token, token_env), base_url=api_url)
    notes: list[str] = []
    try:
        service_ids = pagerduty_api.resolve_service_ids(client, service or [])
        incidents = pagerduty_api.load_records(
            client, start, end, service_ids=service_ids, team_ids=team or []
        )
    except LookupError as exc:
        fail(str(exc), 2)
    except pagerduty.Error as exc:
        fail(f"reading incidents from {api_url} failed: {exc}", 2)
    if client.waits:
        notes.append(
            f"PagerDuty rate-limited this run; waited {sum(client.waits):g} s in "
            f"{len(client.waits)} pause(s)."
        )
    found_availability = None
    if prometheus_url:
        try:
            found_availability = availability_source.from_prometheus(
                prometheus_url, start, end, selector=probe_selector
            )
        except Exception as exc:  # the report is still useful without this figure
            notes.append(f"availability unavailable: {exc}")
    elif statuspage_url:
        try:
            found_availability = availability_source.from_statuspage(statuspage_url, start, end)
        except Exception as exc:
            notes.append(f"availability unavailable: {exc}")
        if found_availability and found_availability.no_data:
            notes.append(
                "no status page check results in the window for: "
                + ", ".join(found_availability.no_data)
            )
    try:
        page_results = metrics.page_success(page_records.read_records(records), start, end)
    except ValueError as exc:
        fail(str(exc), 2)
    updates = None
    if statuspage_url:
        try:
            updates = public_updates.first_updates(
                incidents,
                public_updates.fetch_statuspage_incidents(statuspage_url),
                public_updates.components_by_service(org),
                end,
            )
        except Exception as exc:  # the report is still useful without this figure
            notes.append(f"time to first public update unavailable: {exc}")
    else:
        notes.append("time to first public update not measured: pass --statuspage-url")
    result = metrics.build_report(
        incidents,
        start,
        end,
        availability=found_availability,
        page_results=page_results,
        notes=notes,
        scope=IncidentScope.from_org(org),
        detection=detection_times(postmortems, org, {i.id for i in incidents}),
        public_updates=updates,
        drills=read_drill_reports(drill_reports_dir, org, start, end, notes),
    )
    if output is OutputFormat.json:
        print(report.to_json(result))
    elif output is OutputFormat.markdown:
        print(report.to_markdown(result), end="")
    else:
        print(report.to_table(result), end="")
    if chart is not None:
        report.write_chart(result, chart)
        err.print(f"wrote {chart}")
    if strict and not result.passed:
        raise typer.Exit(1)


def detection_times(folder: Path, org: OrgConfig, incident_ids: set[str]) -> list[timedelta]:
    """Time to detect of the window's incidents, from their postmortems' front matter."""
    from learning import postmortem

    found = []
    for path in postmortem_files([folder]) if folder.is_dir() else []:
        record, _problems = postmortem.read_postmortem(path.read_text(), org, date.today())
        if record and record.time_to_detect is not None and incident_ids & set(record.incidents):
            found.append(record.time_to_detect)
    return found


StatuspageSourceOption = Annotated[
    str | None,
    typer.Option("--statuspage-url", help="Status page whose public API gives the updates."),
]
PrometheusSourceOption = Annotated[
    str | None,
    typer.Option("--prometheus-url", help="Prometheus whose ALERTS series give alert times."),
]
RepoOption = Annotated[
    Path, typer.Option("--repo", help="Git repository holding learning.deploy_branch.")
]


def gather_timeline(
    record: IncidentRecord,
    org: OrgConfig,
    *,
    statuspage_url: str | None,
    prometheus_url: str | None,
    repo: Path,
) -> tuple[list[TimelineRow], list[str]]:
    """Rows from every configured source besides PagerDuty, and a note per source that was
    not given or failed (a timeline with a gap says so)."""
    from learning import public_updates, timeline

    now = datetime.now(UTC)
    since, until = timeline.window(record, now)
    rows: list[TimelineRow] = []
    notes: list[str] = []
    if statuspage_url:
        try:
            found = public_updates.fetch_statuspage_incidents(statuspage_url)
            rows += timeline.statuspage_rows(record, found, org, now)
        except Exception as exc:  # the timeline is still useful without this source
            notes.append(f"status page updates unavailable: {exc}")
    else:
        notes.append("no status page updates: pass --statuspage-url")
    service = timeline.service_id_for(record, org)
    if prometheus_url and service:
        try:
            body = timeline.fetch_alerts(prometheus_url, service, since, until)
            rows += timeline.alert_rows(body)
        except Exception as exc:
            notes.append(f"alert start times unavailable: {exc}")
    elif not prometheus_url:
        notes.append("no alert start times: pass --prometheus-url")
    else:
        notes.append(f"no alert start times: PagerDuty service {record.service_name!r} is not "
                     "a service of the org config")  # fmt: skip
    branch = org.learning.deploy_branch
    if branch:
        try:
            rows += timeline.deploy_rows(repo, branch, since, until)
        except (RuntimeError, OSError) as exc:
            notes.append(f"deploys unavailable: {exc}")
    else:
        notes.append("no deploys: set learning.deploy_branch in the org config")
    return rows, notes


incident_app = typer.Typer(help="One incident, from everything that saw it.", no_args_is_help=True)


@incident_app.command("timeline")
def incident_timeline(
    incident: Annotated[str, typer.Argument(help="PagerDuty incident id.")],
    stack: StackOption = "prod",
    config: ConfigOption = None,
    statuspage_url: StatuspageSourceOption = None,
    prometheus_url: PrometheusSourceOption = None,
    repo: RepoOption = Path("."),
    output: Annotated[
        OutputFormat, typer.Option("--format", help="table or markdown.")
    ] = OutputFormat.table,
    api_url: ApiUrlOption = "https://api.pagerduty.com",
    token: TokenOption = None,
    token_env: TokenEnvOption = None,
) -> None:
    """Merge PagerDuty's log entries, the status page's updates, the alerts' start times
    (Prometheus ALERTS) and deploys (git log of learning.deploy_branch) into one timeline,
    from two hours before the page to the resolution. `postmortem new` takes the same
    sources for the draft's timeline."""
    import pagerduty

    from learning import pagerduty_api, timeline
    from learning.postmortem import timeline_table

    org, _path = load_org(stack, config)
    client = pagerduty_api.RateLimitedClient(_require_token(token, token_env), base_url=api_url)
    try:
        record = pagerduty_api.load_record(client, incident)
    except pagerduty.Error as exc:
        fail(f"could not read incident {incident} from {api_url}: {exc}", 2)
    rows, notes = gather_timeline(
        record, org, statuspage_url=statuspage_url, prometheus_url=prometheus_url, repo=repo
    )
    merged = timeline.merged(record, rows)
    if output is OutputFormat.markdown:
        print(f"# Incident #{record.number} {record.id}: {record.title}\n")
        print(timeline_table(merged))
    else:
        print(f"Incident #{record.number} {record.id}: {record.title} ({record.service_name})")
        for row in merged:
            who = f" [{row.who}]" if row.who else ""
            print(f"{row.at:%Y-%m-%d %H:%M:%S}  {row.source:<12}  {row.what}{who}")
    for note in notes:
        err.print(f"note: {note}", highlight=False, markup=False)


def read_drill_reports(
    folder: Path, org: OrgConfig, since: datetime, until: datetime, notes: list[str]
) -> list[DrillReport]:
    """The window's drill reports; a report that cannot count is named in the notes."""
    from learning import drill_reports

    found = []
    for path in sorted(folder.glob("*.md")) if folder.is_dir() else []:
        report, problems = drill_reports.read_report(path.read_text(), org, known_scenarios())
        if report is None:
            notes.append(f"drill report {path} not counted: {'; '.join(problems)}")
        else:
            found.append(report)
    return drill_reports.in_window(found, since, until)


# --------------------------------------------------------------------------- postmortems

REPO_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_TEMPLATE = REPO_ROOT / "docs" / "postmortem-template.md"

postmortem_app = typer.Typer(
    help="Blameless postmortems: start one prefilled from PagerDuty, check one before review.",
    no_args_is_help=True,
)


@postmortem_app.command("new")
def postmortem_new(
    incident: Annotated[str, typer.Argument(help="PagerDuty incident id, e.g. Q1ABCDEF2GHIJ3.")],
    stack: StackOption = "prod",
    config: ConfigOption = None,
    out_dir: Annotated[
        Path, typer.Option("--out-dir", help="Folder for the new postmortem.")
    ] = Path("docs/postmortems"),
    template: Annotated[
        Path, typer.Option("--template", help="Postmortem template with {{field}} markers.")
    ] = DEFAULT_TEMPLATE,
    owner: Annotated[
        str | None,
        typer.Option(
            help="Person id (org config) who owns the postmortem. Default: whoever "
            "acknowledged first, when they are in the config."
        ),
    ] = None,
    impact_started_at: Annotated[
        str | None,
        typer.Option(
            "--impact-started-at",
            metavar="TIME",
            help="The first alert's startsAt (UTC), for time to detect.",
        ),
    ] = None,
    review_at: Annotated[
        str | None,
        typer.Option(
            "--review-at",
            metavar="TIME",
            help="Review meeting start (UTC). Default: 14:00 on the last weekday "
            "before the review deadline.",
        ),
    ] = None,
    force: Annotated[bool, typer.Option("--force", help="Overwrite an existing file.")] = False,
    statuspage_url: StatuspageSourceOption = None,
    prometheus_url: PrometheusSourceOption = None,
    repo: RepoOption = Path("."),
    api_url: ApiUrlOption = "https://api.pagerduty.com",
    token: TokenOption = None,
    token_env: TokenEnvOption = None,
) -> None:
    """Write docs/postmortems/DATE-SLUG.md from the template, prefilled from PagerDuty
    (front matter, impact window, acknowledgement and resolution times, tiers reached,
    responders, the timeline from the incident's log), with deadlines counted from the
    incident's RESOLUTION as the org config sets them (default: draft 24 h, review and
    follow-ups 7 days), and an .ics invitation for the review addressed to the responders."""
    import pagerduty

    from learning import pagerduty_api, postmortem

    org, _path = load_org(stack, config)
    if owner is not None and owner not in {p.id for p in org.people}:
        fail(f"--owner {owner!r} is not a person id in the org config", 2)
    started = parse_when(impact_started_at) if impact_started_at else None
    client = pagerduty_api.RateLimitedClient(_require_token(token, token_env), base_url=api_url)
    try:
        record = pagerduty_api.load_record(client, incident)
    except pagerduty.Error as exc:
        fail(f"could not read incident {incident} from {api_url}: {exc}", 2)
    if not template.exists():
        fail(f"template {template} not found", 2)
    rows, notes = gather_timeline(
        record, org, statuspage_url=statuspage_url, prometheus_url=prometheus_url, repo=repo
    )
    fields = postmortem.prefill_fields(
        record, org, owner=owner, impact_started_at=started, extra_rows=rows
    )
    text = postmortem.new_postmortem(template.read_text(), fields)
    path = out_dir / postmortem.file_name(record)
    if path.exists() and not force:
        fail(f"{path} already exists (use --force to overwrite)", 1)
    out_dir.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    print(f"wrote {path}")
    if record.resolved_at is None:
        err.print("the incident is still open: no review invitation until it is resolved")
    else:
        rules = org.learning.postmortems
        starts = (
            parse_when(review_at)
            if review_at
            else postmortem.review_time(record.resolved_at, rules)
        )
        invitation, unknown = postmortem.review_invitation(
            record, org, starts, str(path), now=lambda: datetime.now(UTC)
        )
        ics = path.with_suffix(".review.ics")
        ics.write_bytes(invitation)
        print(f"wrote {ics} (review {starts:%Y-%m-%d %H:%M} UTC)")
        if unknown:
            err.print(
                "not invited (not people in the org config): " + ", ".join(unknown),
                highlight=False,
                markup=False,
            )
    for note in notes:
        err.print(f"timeline: {note}", highlight=False, markup=False)
    console.print(
        "next: fill in every section and the front matter (severity, review date, action "
        "items), then run `irctl postmortem check " + str(path) + "`"
    )


def postmortem_files(paths: list[Path]) -> list[Path]:
    """The postmortems named: files as given, folders expanded to their *.md but README."""
    found: list[Path] = []
    for path in paths:
        if path.is_dir():
            found += sorted(p for p in path.glob("*.md") if p.name.lower() != "readme.md")
        else:
            found.append(path)
    return found


TodayOption = Annotated[
    str | None,
    typer.Option("--today", metavar="DATE", help="Check as of this date (default: today, UTC)."),
]


@postmortem_app.command("check")
def postmortem_check(
    paths: Annotated[
        list[Path] | None,
        typer.Argument(help="Postmortem files or folders. Default: docs/postmortems."),
    ] = None,
    stack: StackOption = "prod",
    config: ConfigOption = None,
    today: TodayOption = None,
) -> None:
    """Fail on anything a review would send back, each as file:line with what to write
    instead: front matter (incident ids, severity SEV1-4, an owner who is a person in the org
    config, real dates, open actions not past due, type/priority/ticket/status of every
    action), the title and required sections non-empty, and blame anywhere in the file
    (phrases, people's names next to blame verbs, actions aimed at a person;
    docs/postmortems/README.md). An empty folder is an error."""
    from learning import postmortem

    org, _path = load_org(stack, config)
    as_of = parse_when(today).date() if today else datetime.now(UTC).date()
    given = paths or [Path("docs/postmortems")]
    files = postmortem_files(given)
    if not files:
        fail(
            "no postmortems found in "
            + ", ".join(str(p) for p in given)
            + ": nothing was checked (the worked example belongs there)",
            1,
        )
    failed = 0
    for path in files:
        if not path.is_file():
            print(f"{path}: no such file")
            failed += 1
            continue
        problems = postmortem.check_postmortem(path.read_text(), org, as_of)
        for problem in problems:
            where = f"{path}:{problem.line}" if problem.line else str(path)
            print(f"{where}: {problem.message}")
        failed += bool(problems)
    print(f"{len(files) - failed} of {len(files)} postmortems OK")
    if failed:
        raise typer.Exit(1)


@postmortem_app.command("audit")
def postmortem_audit(
    stack: StackOption = "prod",
    config: ConfigOption = None,
    folder: Annotated[Path, typer.Option("--dir", help="Folder of postmortems.")] = Path(
        "docs/postmortems"
    ),
    days: Annotated[
        int, typer.Option(help="How far back to look for paging incidents, in days.")
    ] = 90,
    output: Annotated[
        OutputFormat, typer.Option("--format", help="table or markdown (for a job summary).")
    ] = OutputFormat.table,
    api_url: ApiUrlOption = "https://api.pagerduty.com",
    token_env: Annotated[
        str,
        typer.Option(
            "--token-env",
            metavar="VAR",
            help="Environment variable holding the PagerDuty REST API token.",
        ),
    ] = TOKEN_ENV,
    as_of: Annotated[
        str | None,
        typer.Option("--as-of", metavar="TIME", help="Audit as of this UTC time (default: now)."),
    ] = None,
) -> None:
    """List what the postmortem process promised and has not happened, and exit 1 when
    anything is listed: paging incidents (high urgency, not a test or drill service) resolved
    longer ago than the draft deadline without a postmortem naming them; reviews not held and
    one-week follow-ups not done by the review deadline; open action items past due.
    Deadlines count from each incident's resolution, as the org config sets them."""
    import os

    import pagerduty

    from learning import audit, pagerduty_api, postmortem

    org, _path = load_org(stack, config)
    secret = os.environ.get(token_env)
    if not secret:
        fail(f"no PagerDuty API token: ${token_env} is not set", 2)
    if not folder.is_dir():
        fail(f"{folder} is not a folder of postmortems", 2)
    now = parse_when(as_of) if as_of else datetime.now(UTC)
    client = pagerduty_api.RateLimitedClient(secret, base_url=api_url)
    try:
        incidents = pagerduty_api.load_records(client, now - timedelta(days=days), now)
    except pagerduty.Error as exc:
        fail(f"reading incidents from {api_url} failed: {exc}", 2)
    filed = []
    for path in postmortem_files([folder]):
        record, problems = postmortem.read_postmortem(path.read_text(), org, now.date())
        why = "; ".join(f"line {p.line}: {p.message}" for p in problems[:1])
        filed.append(audit.FiledPostmortem(str(path), record, why))
    findings = audit.audit(incidents, filed, org, now)
    if output is OutputFormat.markdown:
        print(audit.to_markdown(findings, now), end="")
    else:
        for finding in findings:
            print(f"{audit.KINDS[finding.kind]}: {finding.where}: {finding.message}")
        print(
            f"{len(findings)} overdue item(s); {len(incidents)} incidents in the last {days} "
            f"days, {len(filed)} postmortems in {folder}"
        )
    if findings:
        raise typer.Exit(1)


# --------------------------------------------------------------------------- live drill

DRILLS_DIR = REPO_ROOT / "docs" / "drills"


def known_scenarios(drills_dir: Path = DRILLS_DIR) -> list[str]:
    return sorted(p.stem for p in drills_dir.glob("*.md") if p.name.lower() not in ("readme.md",))


def live_drill(
    scenario: Annotated[
        str, typer.Argument(help="Scenario name from docs/drills/, e.g. database-outage.")
    ],
    routing_key: Annotated[
        str | None,
        typer.Option(
            "--routing-key",
            envvar="PAGERDUTY_DRILL_ROUTING_KEY",
            help="Integration key of the dedicated DRILL service (never a production one).",
            show_default=False,
        ),
    ] = None,
    token: TokenOption = None,
    token_env: TokenEnvOption = None,
    api_url: ApiUrlOption = "https://api.pagerduty.com",
    events_url: Annotated[
        str,
        typer.Option("--events-url", envvar="PAGERDUTY_EVENTS_URL", help="Events API v2 base URL."),
    ] = "https://events.pagerduty.com",
    ack_timeout_minutes: Annotated[
        float, typer.Option("--ack-timeout", help="Minutes to wait for an acknowledgement.")
    ] = 15.0,
    poll_seconds: Annotated[float, typer.Option(help="Seconds between REST API polls.")] = 5.0,
    report_dir: Annotated[
        Path, typer.Option("--report-dir", help="Where the drill report is written.")
    ] = Path("docs/drills/reports"),
    records: RecordsOption = Path("var/page-tests.jsonl"),
    stack: StackOption = "prod",
    config: ConfigOption = None,
) -> None:
    """Live drill against real PagerDuty: trigger a clearly marked [DRILL] incident on the
    dedicated drill service, wait for a person to acknowledge it, measure the time to
    acknowledge, resolve it, write a drill report and record the page for `irctl metrics`.

    Exit code 0 when the page arrived and was acknowledged within the 5-minute target.
    """
    from learning import drill, drill_reports
    from learning import records as page_records

    org, _path = load_org(stack, config)
    scenarios = known_scenarios()
    if scenarios and scenario not in scenarios:
        fail(f"unknown scenario {scenario!r}; known: {', '.join(scenarios)}", 2)
    if not routing_key:
        fail(
            "no routing key for the drill service: pass --routing-key or set "
            "$PAGERDUTY_DRILL_ROUTING_KEY (the DRILL service's Events API v2 integration key)",
            2,
        )
    result = drill.run_live_drill(
        scenario,
        routing_key=routing_key,
        token=_require_token(token, token_env),
        api_url=api_url,
        events_url=events_url,
        ack_timeout=timedelta(minutes=ack_timeout_minutes),
        poll_seconds=poll_seconds,
        progress=lambda message: console.print(message, highlight=False, markup=False),
    )
    report_dir.mkdir(parents=True, exist_ok=True)
    report_path = report_dir / f"{result.sent_at:%Y-%m-%d-%H%M}-{scenario}.md"
    planned = next(
        (d for d in org.learning.drills
         if d.scenario == scenario and d.date == result.sent_at.date()),
        None,
    )  # fmt: skip
    scenario_doc = DRILLS_DIR / f"{scenario}.md"
    record = drill_reports.front_matter(
        scenario=scenario,
        day=result.sent_at.date(),
        facilitator=planned.facilitator if planned else None,
        incident_id=result.incident_id,
        page_delivered=result.delivered,
        time_to_acknowledge=result.time_to_acknowledge,
        criteria=drill_reports.success_criteria(scenario_doc.read_text())
        if scenario_doc.exists()
        else [],
    )
    report_path.write_text(record + "\n" + drill.drill_report(result))
    page_records.append_record(records, drill.drill_record(result))
    print(f"wrote {report_path}")
    print(f"recorded in {records}")
    tta = result.time_to_acknowledge
    if result.error:
        err.print(f"drill problem: {result.error}", highlight=False, markup=False, soft_wrap=True)
    if tta is None or tta >= timedelta(minutes=5):
        raise typer.Exit(1)


# --------------------------------------------------------------------------- calendar


def calendar_command(
    stack: StackOption = "prod",
    config: ConfigOption = None,
    out_dir: Annotated[
        Path, typer.Option("--out-dir", help="Folder for oncall.ics and one PERSON-ID.ics each.")
    ] = Path("out/calendar"),
    since: Annotated[str | None, typer.Option(help="First day (UTC date). Default: today.")] = None,
    days: Annotated[int, typer.Option(help="How many days of shifts to include.")] = 180,
    drill_every_months: Annotated[
        int, typer.Option("--drill-every", help="Months between drills (3 = quarterly).")
    ] = 3,
    drill_weekday: Annotated[
        str, typer.Option(help="Drills fall on the first such weekday of the month.")
    ] = "wed",
    drill_time: Annotated[str, typer.Option(help="Drill start time, HH:MM UTC.")] = "14:00",
) -> None:
    """Write iCalendar files of the on-call shifts and the drill cadence, for people to
    subscribe to: oncall.ics with everyone, and PERSON-ID.ics with one person's shifts
    (plus every drill). Shifts come from the same rotation maths as the PagerDuty
    schedules."""
    from datetime import time as time_of_day

    from learning import oncall_calendar

    org, _path = load_org(stack, config)
    start = (
        parse_when(since)
        if since
        else datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    )
    end = start + timedelta(days=days)
    try:
        hours, minutes = (int(x) for x in drill_time.split(":"))
        cadence = oncall_calendar.DrillCadence(
            every_months=drill_every_months,
            weekday=drill_weekday.lower()[:3],
            start_time=time_of_day(hours, minutes),
        )
    except ValueError as exc:
        fail(f"bad drill cadence: {exc}", 2)
    shifts = oncall_calendar.all_shifts(org, start, end)
    drills = oncall_calendar.drill_starts(cadence, start, end)
    generated = datetime.now(UTC).replace(microsecond=0)
    out_dir.mkdir(parents=True, exist_ok=True)
    everyone = oncall_calendar.build_calendar(
        org, shifts, drills, generated_at=generated, drill_duration=cadence.duration
    )
    (out_dir / "oncall.ics").write_bytes(everyone.to_ical())
    written = [out_dir / "oncall.ics"]
    for person in org.people:
        own = [s for s in shifts if s.person_id == person.id]
        if not own:
            continue
        calendar = oncall_calendar.build_calendar(
            org, own, drills, generated_at=generated, drill_duration=cadence.duration,
            name=f"{person.name} on call",
        )  # fmt: skip
        (out_dir / f"{person.id}.ics").write_bytes(calendar.to_ical())
        written.append(out_dir / f"{person.id}.ics")
    print(
        f"{len(shifts)} shifts and {len(drills)} drills from {start:%Y-%m-%d} to "
        f"{end:%Y-%m-%d}; wrote:"
    )
    for path in written:
        print(f"  {path}")


# --------------------------------------------------------------------------- generated docs


def docs_command(
    stack: StackOption = "prod",
    config: ConfigOption = None,
    docs_dir: Annotated[Path, typer.Option("--docs-dir", help="The docs folder.")] = Path("docs"),
    check: Annotated[
        bool, typer.Option("--check", help="Fail if a generated part is stale; write nothing.")
    ] = False,
) -> None:
    """Generate the parts of the docs that state who is paged when, from the org config:
    docs/escalation.md (escalation ladders, incident commander, contact sheet) and every
    `<!-- BEGIN generated: NAME -->` block in docs/ (the runbook, the drills, roles.md)."""
    from learning import escalation_doc

    org, path = load_org(stack, config)
    if not docs_dir.is_dir():
        fail(f"{docs_dir} is not a folder", 2)
    wanted, problems = escalation_doc.generate(org, docs_dir)
    stale = [p for p, text in wanted.items() if not p.exists() or p.read_text() != text]
    for problem in problems:
        print(problem)
    if check:
        for item in stale:
            print(f"{item} is stale: run `irctl docs --stack {stack}` and commit it")
        if stale or problems:
            raise typer.Exit(1)
        print(f"{len(wanted)} generated document(s) match {path}")
        return
    for item in stale:
        item.write_text(wanted[item])
        print(f"wrote {item}")
    print(f"{len(wanted) - len(stale)} of {len(wanted)} generated document(s) were up to date")
    if problems:
        raise typer.Exit(1)
