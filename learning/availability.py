"""Availability over a window, from Prometheus' blackbox-style ``probe_success`` series or
from the status page's uptime API (``/api/v2/uptime.json``)."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from typing import Any

import httpx

from learning.metrics import Availability


def probe_success_query(seconds: int, selector: str, label: str) -> str:
    """``avg by (label) (avg_over_time(SELECTOR[Ns]))``: the fraction of probes that passed."""
    return f"avg by ({label}) (avg_over_time({selector}[{seconds}s]))"


def parse_vector(body: dict[str, object], label: str) -> dict[str, float]:
    if body.get("status") != "success":
        raise RuntimeError(f"Prometheus answered {body.get('status')}: {body.get('error')}")
    data = body.get("data")
    if not isinstance(data, dict) or data.get("resultType") != "vector":
        raise RuntimeError("Prometheus answered something other than an instant vector")
    values: dict[str, float] = {}
    for sample in data.get("result", []):
        name = sample["metric"].get(label, "(no label)")
        values[name] = float(sample["value"][1])
    return values


def from_prometheus(
    url: str,
    since: datetime,
    until: datetime,
    *,
    selector: str = "probe_success",
    label: str = "service",
    client: httpx.Client | None = None,
) -> Availability:
    """Per-service availability over [since, until), evaluated at ``until``.

    Prometheus keeps 15 days by default: over a longer window it averages only what is
    still stored.
    """
    seconds = max(1, int((until - since).total_seconds()))
    query = probe_success_query(seconds, selector, label)
    http = client or httpx.Client(timeout=30)
    try:
        answer = http.get(
            url.rstrip("/") + "/api/v1/query",
            params={"query": query, "time": f"{until.timestamp():.3f}"},
        )
        answer.raise_for_status()
        per_service = parse_vector(answer.json(), label)
    finally:
        if client is None:
            http.close()
    overall = sum(per_service.values()) / len(per_service) if per_service else None
    return Availability(source=f"Prometheus {query}", per_service=per_service, overall=overall)


# The status page answers at most this many UTC days per request (statuspage/uptime.py).
STATUSPAGE_MAX_DAYS = 92


def utc_days(since: datetime, until: datetime) -> tuple[date, date]:
    """First and last UTC day that [since, until) touches: the status page counts check
    results per UTC day."""
    last = until.date() if until.time() != time() else until.date() - timedelta(days=1)
    return since.date(), last


def from_statuspage(
    url: str,
    since: datetime,
    until: datetime,
    *,
    client: httpx.Client | None = None,
) -> Availability:
    """Per-service availability from the status page's measured check results.

    Each component's uptime (passed checks / all checks) counts for every service it lists.
    ``overall`` is the mean over components with results, each counted once, like the
    Prometheus figure averages one probe series per component. A window longer than one
    request allows is read in parts and summed.
    """
    first, last = utc_days(since, until)
    endpoint = url.rstrip("/") + "/api/v2/uptime.json"
    counts: dict[str, list[int]] = {}  # component id -> [checks_ok, checks_total]
    services: dict[str, list[str]] = {}
    http = client or httpx.Client(timeout=30)
    try:
        start = first
        while start <= last:
            end = min(last, start + timedelta(days=STATUSPAGE_MAX_DAYS - 1))
            answer = http.get(
                endpoint, params={"since": start.isoformat(), "until": end.isoformat()}
            )
            if answer.status_code != 200:
                raise RuntimeError(f"{endpoint} answered {answer.status_code}: {_reason(answer)}")
            for component in answer.json()["components"]:
                ok_total = counts.setdefault(component["id"], [0, 0])
                ok_total[0] += int(component["checks_ok"])
                ok_total[1] += int(component["checks_total"])
                services[component["id"]] = list(component["services"]) or [component["id"]]
            start = end + timedelta(days=1)
    finally:
        if client is None:
            http.close()
    per_component = {cid: ok / total for cid, (ok, total) in counts.items() if total}
    per_service = {
        service: fraction for cid, fraction in per_component.items() for service in services[cid]
    }
    no_data = tuple(s for cid in counts if cid not in per_component for s in services[cid])
    overall = sum(per_component.values()) / len(per_component) if per_component else None
    return Availability(
        source=f"status page {endpoint}, UTC days {first} to {last}",
        per_service=per_service,
        overall=overall,
        no_data=no_data,
    )


def _reason(answer: httpx.Response) -> str:
    try:
        body: Any = answer.json()
    except ValueError:
        return answer.text[:200] or answer.reason_phrase
    return str(body.get("error")) if isinstance(body, dict) else answer.reason_phrase
