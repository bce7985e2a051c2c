"""The status page service's config file, rendered from the typed org config.

The output is exactly the format `statuspage/config.py` accepts: checks are that module's
own models, and the result is validated with its `parse_config` before it is returned. The
status page never imports this code; the file is the contract.
"""

from __future__ import annotations

import re
from typing import Any

from orgconfig.model import OrgConfig
from orgconfig.statuspage import ComponentGroup, HttpCheck, TcpCheck
from statuspage.config import ConfigError, parse_config


def slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-") or "page"


def _check(check: HttpCheck | TcpCheck) -> dict[str, Any]:
    # The same model the service reads, dumped in its own spelling ("30s", "1500ms").
    return check.model_dump(mode="json", exclude_none=True)


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
    try:
        parse_config(config, "the status page config rendered from the org config")
    except ConfigError as exc:
        # Cross-component rules (unique ids, one component per service) are the service's.
        raise ValueError(str(exc)) from None
    return config
