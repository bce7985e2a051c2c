"""One incident's timeline from everything that saw it: PagerDuty's log entries, the status
page's updates (its public API), the alerts' start times (Prometheus' ``ALERTS`` series) and
deploys (the Git log of the org config's ``learning.deploy_branch``).

Alertmanager forgets resolved alerts, so the alert times come from Prometheus, which keeps
``ALERTS{alertstate="pending"|"firing"}`` for its retention (15 days by default): the first
``firing`` sample is the alert's ``startsAt`` as Alertmanager received it (Prometheus sends
the time the alert fired), the first ``pending`` sample is when its condition first held.
Both are accurate to the rule evaluation interval and the query step.
"""

from __future__ import annotations

import subprocess
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx

from learning.incidents import IncidentRecord, parse_time
from learning.postmortem import TimelineRow, pagerduty_rows
from learning.public_updates import component_of, components_by_service, matching_incidents
from orgconfig.model import OrgConfig

LOOK_BACK = timedelta(hours=2)  # alerts and deploys before the page that may explain it
QUERY_STEP_SECONDS = 15


def window(record: IncidentRecord, until: datetime) -> tuple[datetime, datetime]:
    return record.triggered_at - LOOK_BACK, record.resolved_at or until


def statuspage_rows(
    record: IncidentRecord,
    statuspage_incidents: Sequence[Mapping[str, Any]],
    org: OrgConfig,
    until: datetime,
) -> list[TimelineRow]:
    component = component_of(record, components_by_service(org))
    if component is None:
        return []
    rows = []
    for incident in matching_incidents(record, statuspage_incidents, component, until):
        for update in incident.get("incident_updates") or []:
            rows.append(
                TimelineRow(
                    parse_time(str(update["created_at"])),
                    "Status page",
                    f"{update.get('status', '')}: {update.get('body', '')}".strip(": "),
                )
            )
    return rows


def service_id_for(record: IncidentRecord, org: OrgConfig) -> str | None:
    """The config service id of a PagerDuty incident (by name or id), the alerts' label."""
    for service in org.services:
        if record.service_name.lower() == service.name.lower() or record.service_id == service.id:
            return service.id
    return None


def alert_rows(body: Mapping[str, Any]) -> list[TimelineRow]:
    """The first ``pending`` and ``firing`` sample of each alert in a Prometheus
    ``query_range`` answer over ``ALERTS``."""
    if body.get("status") != "success":
        raise RuntimeError(f"Prometheus answered {body.get('status')}: {body.get('error')}")
    rows = []
    for series in body["data"]["result"]:
        labels = series["metric"]
        if not series.get("values"):
            continue
        first = datetime.fromtimestamp(float(series["values"][0][0]), tz=UTC)
        state = labels.get("alertstate", "")
        what = "startsAt (firing)" if state == "firing" else "condition true (pending)"
        rows.append(
            TimelineRow(
                first,
                "Alertmanager",
                f"{labels.get('alertname', '?')} {labels.get('severity', '')} {what}".replace(
                    "  ", " "
                ),
            )
        )
    return rows


def fetch_alerts(
    url: str, service: str, since: datetime, until: datetime, client: httpx.Client | None = None
) -> dict[str, Any]:
    http = client or httpx.Client(timeout=30)
    try:
        answer = http.get(
            url.rstrip("/") + "/api/v1/query_range",
            params={
                "query": f'ALERTS{{service="{service}"}}',
                "start": f"{since.timestamp():.3f}",
                "end": f"{until.timestamp():.3f}",
                "step": f"{QUERY_STEP_SECONDS}s",
            },
        )
        answer.raise_for_status()
        return dict(answer.json())
    finally:
        if client is None:
            http.close()


def deploy_rows(repo: Path, branch: str, since: datetime, until: datetime) -> list[TimelineRow]:
    """Commits on ``branch`` committed in [since, until]: every merge there is a deploy."""
    result = subprocess.run(
        ["git", "-C", str(repo), "log", branch, "--first-parent",
         f"--since={since.isoformat()}", f"--until={until.isoformat()}",
         "--format=%cI%x09%an%x09%h %s"],
        capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    if result.returncode != 0:
        raise RuntimeError(f"git log {branch} in {repo} failed: {result.stderr.strip()}")
    rows = []
    for line in result.stdout.splitlines():
        when, author, subject = line.split("\t", 2)
        rows.append(TimelineRow(parse_time(when), "Deploy", f"{branch}: {subject}", author))
    return rows


def merged(record: IncidentRecord, *sources: Sequence[TimelineRow]) -> list[TimelineRow]:
    rows = [*pagerduty_rows(record)]
    for source in sources:
        rows += source
    return sorted(rows, key=lambda r: (r.at, r.source))
