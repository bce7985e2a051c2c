"""The off-cluster copy warning: which stacks get it, and when it goes away."""

from __future__ import annotations

from typing import Any

import pytest

from deploy.statuspage_copy import is_production, off_cluster_warnings
from orgconfig.model import OrgConfig


@pytest.mark.parametrize(
    ("stack", "production"),
    [
        ("prod", True),
        ("production", True),
        ("prod-eu", True),
        ("dev", False),
        ("staging", False),
        ("product", False),
    ],
)
def test_which_stacks_are_production(stack: str, production: bool) -> None:
    assert is_production(stack) is production


def test_prod_without_s3_copy_is_warned_and_with_it_is_not(prod_data: dict[str, Any]) -> None:
    prod_data["status_page"].pop("s3_copy", None)
    without = OrgConfig.model_validate(prod_data)
    (warning,) = off_cluster_warnings("prod", without)
    assert "publishes no off-cluster copy" in warning and "status_page.s3_copy" in warning
    assert off_cluster_warnings("dev", without) == []
    prod_data["status_page"]["s3_copy"] = {"bucket": "modulo-status-page"}
    assert off_cluster_warnings("prod", OrgConfig.model_validate(prod_data)) == []
