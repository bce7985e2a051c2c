"""`irctl status ...`: the responder side of the status page, over its token API.

Mounted by irctl/cli.py with ``app.add_typer(status.app, name="status")``. It talks HTTP
only (never imports the service), so it works against any deployed status page.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Annotated, Any, NoReturn

import httpx
import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

console = Console()
err = Console(stderr=True)


def fail(message: str, code: int = 1) -> NoReturn:
    err.print(f"[bold red]error:[/] {escape(message)}", highlight=False, soft_wrap=True)
    raise typer.Exit(code)


app = typer.Typer(
    help="Post incidents, maintenance and component overrides to the status page.",
    no_args_is_help=True,
)
incident_app = typer.Typer(
    help="Open, update, resolve or hand back incidents.", no_args_is_help=True
)
maintenance_app = typer.Typer(help="Schedule and update maintenance.", no_args_is_help=True)
component_app = typer.Typer(help="Pin a component's status or hand it back.", no_args_is_help=True)
app.add_typer(incident_app, name="incident")
app.add_typer(maintenance_app, name="maintenance")
app.add_typer(component_app, name="component")


class IncidentStatus(StrEnum):
    investigating = "investigating"
    identified = "identified"
    monitoring = "monitoring"
    resolved = "resolved"
    postmortem = "postmortem"


class Impact(StrEnum):
    none = "none"
    minor = "minor"
    major = "major"
    critical = "critical"


class MaintenanceStatus(StrEnum):
    scheduled = "scheduled"
    in_progress = "in_progress"
    verifying = "verifying"
    completed = "completed"


class ComponentStatus(StrEnum):
    operational = "operational"
    degraded_performance = "degraded_performance"
    partial_outage = "partial_outage"
    major_outage = "major_outage"
    under_maintenance = "under_maintenance"


UrlOption = Annotated[
    str,
    typer.Option(
        "--url", envvar="STATUSPAGE_URL", help="Status page base URL.", show_default=False
    ),
]
TokenOption = Annotated[
    str,
    typer.Option(
        "--token",
        envvar="STATUSPAGE_API_TOKEN",
        help="Responder API token; default from $STATUSPAGE_API_TOKEN.",
        show_default=False,
    ),
]
ComponentsOption = Annotated[
    list[str] | None,
    typer.Option("--component", "-C", help="Affected component id (repeatable)."),
]
BodyOption = Annotated[str, typer.Option("--body", "-b", help="The message customers read.")]


def _call(method: str, url: str, token: str, path: str, body: Any = None) -> dict[str, Any]:
    try:
        response = httpx.request(
            method,
            url.rstrip("/") + path,
            json=body,
            headers={"authorization": f"Bearer {token}"},
            timeout=15,
        )
    except httpx.HTTPError as exc:
        fail(f"cannot reach the status page at {url}: {exc}")
    if response.status_code >= 400:
        try:
            reason = response.json().get("error", response.text)
        except ValueError:
            reason = response.text[:200]
        fail(f"{method} {path} failed with {response.status_code}: {reason}")
    return dict(response.json())


def _print_incident(data: dict[str, Any]) -> None:
    console.print(
        f"[bold]{data['id']}[/] {data['status']}: {escape(data['name'])}", highlight=False
    )


def _aware(value: str, option: str) -> str:
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        fail(f"{option} {value!r} is not an ISO 8601 time such as 2026-05-04T22:00:00Z")
    if moment.tzinfo is None:
        fail(f"{option} {value!r} has no time zone; add Z or an offset like +02:00")
    return moment.isoformat()


@app.command("show")
def show(url: UrlOption) -> None:
    """What customers see now: overall status, components, open incidents (no token)."""
    try:
        response = httpx.get(url.rstrip("/") + "/api/v2/summary.json", timeout=15)
        response.raise_for_status()
        summary = response.json()
    except (httpx.HTTPError, ValueError) as exc:
        fail(f"cannot read {url}/api/v2/summary.json: {exc}")
    console.print(f"[bold]{escape(summary['status']['description'])}[/]", highlight=False)
    table = Table("component", "status", box=None)
    for component in summary["components"]:
        name = component["name"] if component["group"] else f"  {component['name']}"
        table.add_row(escape(name), component["status"].replace("_", " "))
    console.print(table)
    for incident in summary["incidents"]:
        _print_incident(incident)


@incident_app.command("create")
def incident_create(
    name: Annotated[str, typer.Option("--name", "-n", help="Customer-facing title.")],
    body: BodyOption,
    url: UrlOption,
    token: TokenOption,
    status: IncidentStatus = IncidentStatus.investigating,
    impact: Impact = Impact.minor,
    component: ComponentsOption = None,
) -> None:
    """Open an incident (owned by a human: automation will not touch it)."""
    data = _call(
        "POST",
        url,
        token,
        "/api/v1/incidents",
        {
            "name": name,
            "body": body,
            "status": status.value,
            "impact": impact.value,
            "components": component or [],
        },
    )
    _print_incident(data)


@incident_app.command("update")
def incident_update(
    incident_id: Annotated[str, typer.Argument(help="Incident id.")],
    status: Annotated[IncidentStatus, typer.Option("--status", "-s")],
    body: BodyOption,
    url: UrlOption,
    token: TokenOption,
) -> None:
    """Post an update; from now on automation leaves the incident alone."""
    data = _call(
        "POST",
        url,
        token,
        f"/api/v1/incidents/{incident_id}/updates",
        {"status": status.value, "body": body},
    )
    _print_incident(data)


@incident_app.command("resolve")
def incident_resolve(
    incident_id: Annotated[str, typer.Argument(help="Incident id.")],
    url: UrlOption,
    token: TokenOption,
    body: Annotated[str, typer.Option("--body", "-b")] = "This incident has been resolved.",
) -> None:
    """Resolve an incident."""
    data = _call("POST", url, token, f"/api/v1/incidents/{incident_id}/resolve", {"body": body})
    _print_incident(data)


@incident_app.command("hand-back")
def incident_hand_back(
    incident_id: Annotated[str, typer.Argument(help="Incident id.")],
    url: UrlOption,
    token: TokenOption,
) -> None:
    """Let automation own the incident again (it resolves once its alerts have)."""
    data = _call("POST", url, token, f"/api/v1/incidents/{incident_id}/hand-back")
    _print_incident(data)


@app.command("publish")
def publish(
    incident_id: Annotated[str, typer.Argument(help="Id of the draft incident.")],
    url: UrlOption,
    token: TokenOption,
) -> None:
    """Make a draft incident public (Alertmanager opens drafts through `?mode=draft`)."""
    data = _call("POST", url, token, f"/api/v1/incidents/{incident_id}/publish")
    _print_incident(data)


@app.command("drafts")
def drafts(url: UrlOption, token: TokenOption) -> None:
    """List draft incidents waiting for `irctl status publish ID`."""
    data = _call("GET", url, token, "/api/v1/drafts")
    if not data["incidents"]:
        console.print("No drafts.")
    for incident in data["incidents"]:
        _print_incident(incident)


@maintenance_app.command("schedule")
def maintenance_schedule(
    name: Annotated[str, typer.Option("--name", "-n")],
    body: BodyOption,
    start: Annotated[
        str, typer.Option("--start", help="ISO 8601 with zone, e.g. 2026-05-04T22:00:00Z.")
    ],
    end: Annotated[str, typer.Option("--end", help="ISO 8601 with zone.")],
    url: UrlOption,
    token: TokenOption,
    component: ComponentsOption = None,
) -> None:
    """Announce a maintenance window; its components show under maintenance during it."""
    data = _call(
        "POST",
        url,
        token,
        "/api/v1/maintenances",
        {
            "name": name,
            "body": body,
            "scheduled_for": _aware(start, "--start"),
            "scheduled_until": _aware(end, "--end"),
            "components": component or [],
        },
    )
    _print_incident(data)


@maintenance_app.command("update")
def maintenance_update(
    maintenance_id: Annotated[str, typer.Argument(help="Maintenance id.")],
    status: Annotated[MaintenanceStatus, typer.Option("--status", "-s")],
    body: BodyOption,
    url: UrlOption,
    token: TokenOption,
) -> None:
    """Post a maintenance update (e.g. completed early)."""
    data = _call(
        "POST",
        url,
        token,
        f"/api/v1/maintenances/{maintenance_id}/updates",
        {"status": status.value, "body": body},
    )
    _print_incident(data)


@component_app.command("override")
def component_override(
    component_id: Annotated[str, typer.Argument(help="Component id.")],
    status: Annotated[ComponentStatus, typer.Option("--status", "-s")],
    url: UrlOption,
    token: TokenOption,
    reason: Annotated[str | None, typer.Option("--reason")] = None,
) -> None:
    """Pin a component's status; checks and alerts no longer move it until hand-back."""
    data = _call(
        "PUT",
        url,
        token,
        f"/api/v1/components/{component_id}/override",
        {"status": status.value, "reason": reason},
    )
    console.print(f"[bold]{component_id}[/] pinned to {data['status']}")


@component_app.command("hand-back")
def component_hand_back(
    component_id: Annotated[str, typer.Argument(help="Component id.")],
    url: UrlOption,
    token: TokenOption,
) -> None:
    """Remove the override: checks and alerts drive the component again."""
    data = _call("DELETE", url, token, f"/api/v1/components/{component_id}/override")
    console.print(f"[bold]{component_id}[/] handed back; now {data['status']}")
