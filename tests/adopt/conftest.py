"""A seeded PagerDuty account on loopback, for import and drift tests."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from sandbox.pagerduty import FakePagerDuty, FakePagerDutyServer
from sandbox.pagerduty_account import Account, account_from_yaml

ACCOUNTS = Path(__file__).parent / "accounts"
TOKEN = "adopt-test-token-6f1c"


def seeded(account: Account) -> FakePagerDuty:
    return FakePagerDuty(api_tokens=[TOKEN], account=account)


@pytest.fixture
def realistic() -> Account:
    return account_from_yaml(ACCOUNTS / "realistic.yaml")


@pytest.fixture
def server(realistic: Account) -> Iterator[FakePagerDutyServer]:
    with FakePagerDutyServer(seeded(realistic)) as running:
        yield running
