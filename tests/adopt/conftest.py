"""A seeded PagerDuty account on loopback, for import and drift tests."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime
from pathlib import Path

import pytest

from sandbox.pagerduty import FakePagerDuty, FakePagerDutyServer
from sandbox.pagerduty_account import Account, account_from_yaml

ACCOUNTS = Path(__file__).parent / "accounts"
TOKEN = "adopt-test-token-6f1c"


def override_year(today: date | None = None) -> int:
    """The fixture's Christmas override is moved to the next Christmas Eve, so it always lies
    in the year ahead that `import` and `drift` read overrides for."""
    today = today or datetime.now(UTC).date()
    return today.year if today < date(today.year, 12, 24) else today.year + 1


def realistic_account() -> Account:
    account = account_from_yaml(ACCOUNTS / "realistic.yaml")
    year = override_year()
    for override in account.overrides:
        for key in ("start", "end"):
            override[key] = f"{year}{override[key][4:]}"
    return account


def seeded(account: Account) -> FakePagerDuty:
    return FakePagerDuty(api_tokens=[TOKEN], account=account)


@pytest.fixture
def realistic() -> Account:
    return realistic_account()


@pytest.fixture
def server(realistic: Account) -> Iterator[FakePagerDutyServer]:
    with FakePagerDutyServer(seeded(realistic)) as running:
        yield running


def use_project(monkeypatch: pytest.MonkeyPatch, root: Path, page_test_service: str) -> None:
    """Run the CLI from a project of its own whose `prod` stack pages `page_test_service` in
    the daily page test (an imported account has no `page-test` service)."""
    root.mkdir(parents=True, exist_ok=True)
    (root / "Pulumi.yaml").write_text("name: incident-response\nruntime: python\n")
    (root / "Pulumi.prod.yaml").write_text(
        f"config:\n  incident-response:pageTestService: {page_test_service}\n"
    )
    monkeypatch.chdir(root)


TOKEN_ENV = "ADOPT_TEST_TOKEN"


def import_account(api_url: str, out: Path, *extra: str) -> tuple[int, str]:
    """`irctl import pagerduty` in-process; (exit code, output with rich's wrapping undone)."""
    from typer.testing import CliRunner

    from irctl.cli import app

    result = CliRunner().invoke(
        app,
        ["import", "pagerduty", "--api-url", api_url, "--token-env", TOKEN_ENV,
         "--out", str(out), *extra],
        env={TOKEN_ENV: TOKEN},
    )  # fmt: skip
    return result.exit_code, " ".join(result.output.split())


def run_cli(*args: str, env: dict[str, str] | None = None) -> tuple[int, str]:
    """Any irctl command in-process, the token in TOKEN_ENV unless `env` says otherwise."""
    from typer.testing import CliRunner

    from irctl.cli import app

    result = CliRunner().invoke(app, list(args), env={TOKEN_ENV: TOKEN} if env is None else env)
    return result.exit_code, result.output


def run_drift(api_url: str, config: Path, *extra: str) -> tuple[int, str]:
    return run_cli("drift", "--config", str(config), "--api-url", api_url,
                   "--token-env", TOKEN_ENV, *extra)  # fmt: skip
