"""Availability over a window, from Prometheus' blackbox-style ``probe_success`` series."""

from __future__ import annotations

from datetime import datetime

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
