"""Whether a stack's status page survives its cluster: the warning `irctl validate` prints.

A status page served only from the cluster it reports on goes down with it, exactly when
customers look (FACTS: "don't share fate"). The off-cluster copy is the S3 bucket the
leader replica publishes the page, the JSON and the feed to (statuspage/publish.py).
"""

from __future__ import annotations

from orgconfig.model import OrgConfig


def is_production(stack: str) -> bool:
    """`prod`, `production` and `prod-<anything>` (say, `prod-eu`) are production stacks."""
    return stack in ("prod", "production") or stack.startswith(("prod-", "production-"))


def off_cluster_warnings(stack: str, org: OrgConfig) -> list[str]:
    page = org.status_page
    if not is_production(stack) or page is None or page.s3_copy is not None:
        return []
    return [
        f"stack {stack!r} publishes no off-cluster copy of the status page: when the cluster "
        "is down, so is the page. Add status_page.s3_copy (bucket in the config; credentials "
        "as the secret settings statuspageS3AccessKeyId and statuspageS3SecretAccessKey)"
    ]
