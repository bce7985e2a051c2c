"""`irctl postmortem new` prefills from PagerDuty; `irctl postmortem check` guards the review."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

from irctl.learning import DEFAULT_TEMPLATE, postmortem_app
from learning.postmortem import BLAME_PHRASES, REQUIRED_SECTIONS, check_postmortem
from sandbox.pagerduty import (
    Clock,
    EscalationTier,
    FakePagerDuty,
    FakePagerDutyServer,
    ServiceConfig,
)

TOKEN = "pm-token"


@pytest.fixture
def server() -> Iterator[FakePagerDutyServer]:
    fake = FakePagerDuty(
        [
            ServiceConfig(
                "PCHECK1",
                "Checkout",
                routing_keys=["c" * 32],
                tiers=[EscalationTier(15, ("Alice Ops",)), EscalationTier(15, ("Bob Lead",))],
            )
        ],
        api_tokens=[TOKEN],
        clock=Clock(start=datetime(2026, 11, 20, tzinfo=UTC), speed=0),
    )
    fake.seed_incident(
        {
            "service_id": "PCHECK1",
            "title": "Checkout | payments failing",
            "created_at": "2026-11-03T10:00:00Z",
            "timeline": [
                {"at": "2026-11-03T10:15:00Z", "action": "escalate", "level": 2},
                {"at": "2026-11-03T10:18:00Z", "action": "acknowledge", "by": "Bob Lead"},
                {"at": "2026-11-03T10:21:00Z", "action": "acknowledge", "by": "Alice Ops"},
                {"at": "2026-11-03T10:52:30Z", "action": "resolve", "by": "Bob Lead"},
            ],
        }
    )
    with FakePagerDutyServer(fake) as running:
        yield running


def app() -> typer.Typer:
    root = typer.Typer()
    root.add_typer(postmortem_app, name="postmortem")
    return root


def incident_id(server: FakePagerDutyServer) -> str:
    return next(iter(server.fake.incidents))


def test_new_writes_a_prefilled_postmortem(server: FakePagerDutyServer, tmp_path: Path) -> None:
    result = CliRunner().invoke(
        app(),
        ["postmortem", "new", incident_id(server), "--out-dir", str(tmp_path),
         "--api-url", server.url, "--token", TOKEN],
    )  # fmt: skip

    assert result.exit_code == 0, result.output
    path = tmp_path / "2026-11-03-checkout-payments-failing.md"
    assert f"wrote {path}" in result.stdout
    text = path.read_text()
    assert text.startswith("# Postmortem: Checkout | payments failing\n")
    assert "- Impact window (UTC): 2026-11-03 10:00:00 to 2026-11-03 10:52:30 (52m30s)" in text
    assert "- Acknowledged: 2026-11-03 10:18:00 UTC by Bob Lead, 18m00s after the page" in text
    assert "- Resolved: 2026-11-03 10:52:30 UTC, 52m30s after the page" in text
    assert "- Escalation tiers reached: tier 1, tier 2" in text
    assert "- Responders: Alice Ops, Bob Lead" in text
    assert (
        "| 2026-11-03 10:15:00 | escalate: Escalated to level 2: Bob Lead. | - | timeout |" in text
    )
    assert "| 2026-11-03 10:18:00 | acknowledge: Acknowledged by Bob Lead. | Bob Lead |" in text
    assert "{{" not in text
    now = datetime.now(UTC)
    assert f"| Review meeting due | {(now + timedelta(hours=24)):%Y-%m-%d} " in text
    assert f"| <what will change> | <owner> | {(now + timedelta(weeks=1)):%Y-%m-%d} |" in text

    # A fresh draft is not ready for review: it says what is missing.
    check = CliRunner().invoke(app(), ["postmortem", "check", str(path)])
    assert check.exit_code == 1
    assert 'action item "<what will change>" has no owner' in check.stdout


def test_new_refuses_to_overwrite(server: FakePagerDutyServer, tmp_path: Path) -> None:
    args = ["postmortem", "new", incident_id(server), "--out-dir", str(tmp_path),
            "--api-url", server.url, "--token", TOKEN]  # fmt: skip
    assert CliRunner().invoke(app(), args).exit_code == 0

    again = CliRunner().invoke(app(), args)

    assert again.exit_code == 1
    assert "already exists" in again.output


def test_new_for_an_unknown_incident_fails_clearly(server: FakePagerDutyServer) -> None:
    result = CliRunner().invoke(
        app(), ["postmortem", "new", "NOPE", "--api-url", server.url, "--token", TOKEN]
    )
    assert result.exit_code == 3
    assert "could not read incident NOPE" in result.output


GOOD = """# Postmortem: Checkout down

## Summary
Checkout returned errors for 20 minutes after a config change.

## Impact
About 300 orders failed.

## Timeline
| Time | What |
|---|---|
| 10:00 | Deploy. Someone said "human error" in Slack. |

## Detection
The ServiceDown alert paged after 2 minutes.

## Response
The on-call rolled back.

## Contributing factors
The config change was not validated in CI.

## What went well
Rollback took one command.

## Where we got lucky
It happened in the morning.

## Action items
| Action | Owner | Due | Ticket |
|---|---|---|---|
| Validate config in CI | Alice Ops | 2026-12-01 | OPS-1 |
"""


def test_a_complete_blameless_postmortem_passes(tmp_path: Path) -> None:
    path = tmp_path / "good.md"
    path.write_text(GOOD)

    result = CliRunner().invoke(app(), ["postmortem", "check", str(path)])

    assert result.exit_code == 0, result.output
    assert "1 of 1 postmortems OK" in result.stdout


def test_check_reports_each_problem_with_file_and_line(tmp_path: Path) -> None:
    bad = (
        GOOD.replace("## Where we got lucky\nIt happened in the morning.\n\n", "")
        .replace("The config change was not validated in CI.",
                 "Bob was careless and it was human error.")
        .replace("| Validate config in CI | Alice Ops | 2026-12-01 | OPS-1 |",
                 "| Validate config in CI | <owner> | 2026-12-01 | OPS-1 |\n"
                 "| Add a canary | Carol | next week | |\n"
                 "| Page earlier | Dan |  | |")
    )  # fmt: skip
    path = tmp_path / "bad.md"
    path.write_text(bad)

    result = CliRunner().invoke(app(), ["postmortem", "check", str(path), str(tmp_path / "x.md")])

    assert result.exit_code == 1
    lines = result.stdout.splitlines()
    assert lines[:6] == [
        f'{path}: missing section "## Where we got lucky"',
        f'{path}:21: blame language "careless" in "Contributing factors": describe what made '
        "the action reasonable at the time, and what will change",
        f'{path}:21: blame language "human error" in "Contributing factors": describe what '
        "made the action reasonable at the time, and what will change",
        f'{path}:29: action item "Validate config in CI" has no owner',
        f"{path}:30: action item \"Add a canary\" has due date 'next week', not YYYY-MM-DD",
        f'{path}:31: action item "Page earlier" has no due date',
    ]
    assert "0 of 2 postmortems OK" in result.stdout


def test_the_template_itself_has_every_required_section() -> None:
    text = DEFAULT_TEMPLATE.read_text()
    missing = [p for p in check_postmortem(text) if "missing section" in p.message]

    assert missing == []
    for section in REQUIRED_SECTIONS:
        assert f"## {section}\n" in text


def test_blame_words_are_documented_for_writers() -> None:
    readme = (DEFAULT_TEMPLATE.parent / "postmortems" / "README.md").read_text()
    for phrase in BLAME_PHRASES:
        assert f"`{phrase}`" in readme
