"""`irctl postmortem audit` against the local PagerDuty: what the process promised and has not
happened is listed, with exit 1; test pages, drills and covered incidents are not."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from modulo_pagerduty import modulo_pagerduty, postmortem_cli
from typer.testing import CliRunner

from sandbox.pagerduty import FakePagerDuty, FakePagerDutyServer
from tests.conftest import PROD

TOKEN = "audit-token"
ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "docs" / "postmortems" / "2026-11-03-checkout-card-payments-declined.md"
NOW = datetime.now(UTC).replace(microsecond=0)


def iso(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def seed(fake: FakePagerDuty, service: str, title: str, days_ago: float, urgency: str) -> str:
    opened = NOW - timedelta(days=days_ago)
    incident = fake.seed_incident(
        {
            "service_id": service,
            "title": title,
            "created_at": iso(opened),
            "urgency": urgency,
            "timeline": [
                {"at": iso(opened + timedelta(minutes=3)), "action": "acknowledge",
                 "by": "Sam Okafor"},
                {"at": iso(opened + timedelta(minutes=40)), "action": "resolve",
                 "by": "Sam Okafor"},
            ],
        }
    )  # fmt: skip
    return incident.id


@pytest.fixture
def server() -> Iterator[FakePagerDutyServer]:
    with modulo_pagerduty(TOKEN, NOW, "PAPI001", "PTEST01", "PWEB001") as running:
        yield running


def filed(folder: Path, incident: str, resolved: datetime, *, held: bool, due: str) -> Path:
    """The worked example, rewritten as the postmortem of ``incident``."""
    text = EXAMPLE.read_text()
    text = text.replace("incidents: [Q1PAY4CHK0UT7]", f"incidents: [{incident}]")
    text = text.replace("resolved_at: 2026-11-03T10:41:30Z", f"resolved_at: {iso(resolved)}")
    text = text.replace("  held: true", f"  held: {str(held).lower()}")
    text = text.replace("  date: 2026-11-06", f"  date: {resolved.date()}")
    text = text.replace(
        "    due: 2026-11-10\n    type: mitigate\n    priority: P2\n"
        "    ticket: https://github.com/modulo/platform/issues/414\n    status: done",
        f"    due: {due}\n    type: mitigate\n    priority: P2\n"
        "    ticket: https://github.com/modulo/platform/issues/414\n    status: open",
    )
    path = folder / f"{resolved.date()}-{incident.lower()}.md"
    path.write_text(text)
    return path


def audit(
    server: FakePagerDutyServer, folder: Path, monkeypatch: pytest.MonkeyPatch, *extra: str
) -> Any:
    monkeypatch.setenv("PD_AUDIT_TOKEN", TOKEN)
    return CliRunner().invoke(
        postmortem_cli(),
        ["postmortem", "audit", "--config", str(PROD), "--dir", str(folder),
         "--api-url", server.url, "--token-env", "PD_AUDIT_TOKEN", "--as-of", iso(NOW), *extra],
    )  # fmt: skip


def test_audit_lists_a_missing_postmortem_a_late_review_and_an_overdue_action(
    server: FakePagerDutyServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    fake = server.fake
    missing = seed(fake, "PAPI001", "Public API down", days_ago=3, urgency="high")
    seed(fake, "PTEST01", "Daily page test", days_ago=3, urgency="low")
    seed(fake, "PAPI001", "[DRILL] database-outage", days_ago=3, urgency="high")
    seed(fake, "PWEB001", "Web slow, still within the draft deadline", days_ago=0.5,
         urgency="high")  # fmt: skip
    covered = seed(fake, "PWEB001", "Web front end down", days_ago=10, urgency="high")
    resolved = NOW - timedelta(days=10) + timedelta(minutes=40)
    overdue = (NOW - timedelta(days=2)).date().isoformat()
    path = filed(tmp_path, covered, resolved, held=False, due=overdue)
    number = fake.incidents[missing].number

    result = audit(server, tmp_path, monkeypatch)

    assert result.exit_code == 1, result.output
    lines = result.stdout.splitlines()
    missing_resolved = NOW - timedelta(days=3) + timedelta(minutes=40)
    draft_due = missing_resolved + timedelta(hours=24)
    assert lines[0] == (
        f"Paging incident without a postmortem: #{number} {missing}: Public API down (Public "
        f"API), resolved {missing_resolved:%Y-%m-%d %H:%M} UTC: draft due "
        f"{draft_due:%Y-%m-%d %H:%M} UTC, 47h20m00s ago; start one with "
        f"`irctl postmortem new {missing}`"
    )
    review_due = resolved + timedelta(days=7)
    assert lines[1] == (
        f"Review not held in time: {path}: review not held, due "
        f"{review_due:%Y-%m-%d %H:%M} UTC, {_ago(review_due)} ago"
    )
    action_line = next(n for n, t in enumerate(path.read_text().split("\n"), 1)
                       if "- action: Add a feature flag" in t)  # fmt: skip
    assert lines[2] == (
        f"Open action past its due date: {path}:{action_line}: 'Add a feature flag that routes "
        "card payments back to the previous API version in one step' (owner jordan-lee, P2, "
        f"https://github.com/modulo/platform/issues/414) was due {overdue}, 2 days ago"
    )
    assert lines[3].startswith("3 overdue item(s); 5 incidents in the last 90 days, 1 postmortems")
    assert "Daily page test" not in result.stdout
    assert "DRILL" not in result.stdout
    assert "still within" not in result.stdout


def _ago(due: datetime) -> str:
    from learning.metrics import format_duration

    return format_duration(NOW - due)


def test_audit_writes_markdown_for_the_job_summary_and_passes_when_nothing_is_due(
    server: FakePagerDutyServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    covered = seed(server.fake, "PAPI001", "Public API down", days_ago=3, urgency="high")
    resolved = NOW - timedelta(days=3) + timedelta(minutes=40)
    filed(tmp_path, covered, resolved, held=False, due=(NOW + timedelta(days=4)).date().isoformat())

    result = audit(server, tmp_path, monkeypatch, "--format", "markdown")

    assert result.exit_code == 0, result.output
    assert result.stdout.startswith("# Postmortem audit, ")
    assert "Nothing overdue" in result.stdout


def test_audit_without_the_token_variable_fails_clearly(
    server: FakePagerDutyServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("NO_SUCH_TOKEN", raising=False)
    result = CliRunner().invoke(
        postmortem_cli(),
        ["postmortem", "audit", "--config", str(PROD), "--dir", str(tmp_path),
         "--api-url", server.url, "--token-env", "NO_SUCH_TOKEN"],
    )  # fmt: skip

    assert result.exit_code == 2
    assert "$NO_SUCH_TOKEN is not set" in result.output
