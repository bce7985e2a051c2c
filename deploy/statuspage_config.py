"""The status page service's config file, rendered from the typed org config.

The output is exactly the format `statuspage/config.py` accepts (a test validates it with
that model); the status page never imports this code, the file is the contract.
"""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

from orgconfig.model import OrgConfig
from orgconfig.statuspage import ComponentGroup, HttpCheck, TcpCheck


def slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-") or "page"


def _seconds(delta: timedelta) -> str:
    # The status page's durations have no weeks; whole seconds (or ms) read the same to it.
    millis = round(delta.total_seconds() * 1000)
    return f"{millis // 1000}s" if millis % 1000 == 0 else f"{millis}ms"


def _check(check: HttpCheck | TcpCheck) -> dict[str, Any]:
    out: dict[str, Any] = {
        "id": check.id,
        "type": check.type,
        "interval": _seconds(check.interval),
        "timeout": _seconds(check.timeout),
        "failures_before_partial_outage": check.failures_before_partial_outage,
        "failures_before_major_outage": check.failures_before_major_outage,
    }
    if isinstance(check, HttpCheck):
        out.update(url=check.url, method=check.method, expected_status=check.expected_status)
        if check.body_contains is not None:
            out["body_contains"] = check.body_contains
        if check.degraded_latency is not None:
            out["degraded_latency"] = _seconds(check.degraded_latency)
    else:
        out.update(host=check.host, port=check.port)
    return out


def group_id(group: ComponentGroup) -> str:
    return group.id or slug(group.name)


def statuspage_config(org: OrgConfig) -> dict[str, Any]:
    """The status page config as a plain dict (dump it as YAML). Requires `org.status_page`."""
    page = org.status_page
    if page is None:
        raise ValueError("the org config has no status_page section")
    services_of: dict[str, list[str]] = {}
    for service in org.services:
        if service.status_page_component:
            services_of.setdefault(service.status_page_component, []).append(service.id)
    config: dict[str, Any] = {
        "page": {
            "id": slug(page.name),
            "name": page.name,
            "url": page.url,
            "time_zone": org.org.time_zone,
        },
        "groups": [
            {
                "id": group_id(group),
                "name": group.name,
                "components": [
                    {
                        "id": component.id,
                        "name": component.name,
                        "description": component.description,
                        "services": services_of.get(component.id, []),
                        "checks": [_check(c) for c in component.checks],
                    }
                    for component in group.components
                ],
            }
            for group in page.groups
        ],
        "alertmanager": {"critical_status": page.critical_status},
    }
    if page.s3_copy is not None:
        s3: dict[str, Any] = {"bucket": page.s3_copy.bucket, "prefix": page.s3_copy.prefix}
        if page.s3_copy.endpoint_url:
            s3["endpoint_url"] = page.s3_copy.endpoint_url
        if page.s3_copy.region:
            s3["region"] = page.s3_copy.region
        config["publish"] = {"s3": s3}
    return config
