"""`irctl metrics` never reports a pass on a miss: unacknowledged pages fail MTTA, page tests
and drills stay out of MTTA/MTTR, quiet and unanswered weeks stay visible on the chart.

The org is tests/fixtures/modulo.yaml (`learning.test_services: [page-test]`, the service
named "Paging self-test"). Crafted incidents, November 2026 (minutes after the trigger):

| incident | service          | history                               |
|----------|------------------|---------------------------------------|
| P1       | Public API       | ack 3 (Sam), resolve 40               |
| P2       | Public API       | never acknowledged, resolve 34        |
| T1..T30  | Paging self-test | ack 1, resolve 2 (daily page tests)   |
| D1       | Public API       | "[DRILL] database-outage", ack 2, resolve 3 |

MTTA over paging incidents: 3m00s mean, but P2 was never acknowledged: FAIL. MTTR
(40 + 34) / 2 = 37m00s: FAIL (the 30 two-minute page tests would have made it 3m04s).
Page success: 31 of 31 (30 page tests + 1 drill).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import typer
from modulo_pagerduty import modulo_pagerduty
from typer.testing import CliRunner

from irctl.learning import detection_times, metrics_command
from learning import metrics, public_updates, report
from learning.incidents import IncidentRecord
from orgconfig.load import load_config
from sandbox.pagerduty import FakePagerDuty, FakePagerDutyServer
from tests.conftest import PROD

TOKEN = "honest-token"
ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "docs" / "postmortems" / "2026-11-03-checkout-card-payments-declined.md"


def at(day: int, hour: int, minute: int = 0) -> str:
    return datetime(2026, 11, day, hour, minute, tzinfo=UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def seed(
    fake: FakePagerDuty,
    service: str,
    title: str,
    day: int,
    hour: int,
    *,
    ack: int | None,
    resolve: int,
    urgency: str = "high",
) -> None:
    timeline = (
        [{"at": at(day, hour, ack), "action": "acknowledge", "by": "Sam Okafor"}]
        if (ack is not None)
        else []
    )
    timeline.append(
        {
            "at": at(day, hour, resolve),
            "action": "resolve",
            **({"by": "Sam Okafor"} if ack is not None else {}),
        }
    )
    fake.seed_incident({"service_id": service, "title": title, "created_at": at(day, hour),
                        "urgency": urgency, "timeline": timeline})  # fmt: skip


@pytest.fixture
def server() -> Iterator[FakePagerDutyServer]:
    with modulo_pagerduty(TOKEN, datetime(2026, 12, 1, tzinfo=UTC), "PAPI001", "PTEST01") as pd:
        fake = pd.fake
        seed(fake, "PAPI001", "P1", 3, 10, ack=3, resolve=40)
        seed(fake, "PAPI001", "P2", 17, 3, ack=None, resolve=34)
        for day in range(1, 31):
            seed(fake, "PTEST01", "Daily page test", day, 9, ack=1, resolve=2, urgency="low")
        seed(fake, "PAPI001", "[DRILL] database-outage", 4, 14, ack=2, resolve=3)
        yield pd


def cli() -> typer.Typer:
    app = typer.Typer()
    app.command("metrics")(metrics_command)
    app.command("other")(lambda: None)
    return app


def test_unacknowledged_page_fails_mtta_and_page_tests_stay_out(
    server: FakePagerDutyServer, tmp_path: Path
) -> None:
    result = CliRunner().invoke(
        cli(),
        ["metrics", "--config", str(PROD), "--since", "2026-11-01", "--until", "2026-11-30",
         "--api-url", server.url, "--token", TOKEN, "--format", "json",
         "--records", str(tmp_path / "none.jsonl"), "--postmortems", str(tmp_path)],
    )  # fmt: skip

    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    checks = {c["name"]: (c["value"], c["status"], c["note"]) for c in data["checks"]}
    assert checks["MTTA (mean)"] == (
        "3m00s",
        "fail",
        "1 of 2 paging incidents never acknowledged (each is a missed target)",
    )
    assert checks["MTTR (mean)"] == ("37m00s", "fail", "0 of 2 still open")
    assert checks["Page success"] == ("100.0 %", "pass", "31 of 31 test pages delivered")
    assert data["overall"]["incidents"] == 2
    assert [s["scope"] for s in data["services"]] == ["Public API"]
    assert "31 incident(s) on test or drill services counted as page success, not in " \
        "MTTA/MTTR." in data["notes"]  # fmt: skip
    weeks = {w["week_start"]: (w["incidents"], w["never_acknowledged"]) for w in data["weeks"]}
    assert weeks == {"2026-10-26": (0, 0), "2026-11-02": (1, 0), "2026-11-09": (0, 0),
                     "2026-11-16": (1, 1), "2026-11-23": (0, 0), "2026-11-30": (0, 0)}  # fmt: skip


def record(incident_id: str, service: str, minute: int, acked: bool) -> IncidentRecord:
    start = datetime(2026, 11, 3, 10, tzinfo=UTC)
    return IncidentRecord(
        id=incident_id, number=1, title=incident_id, status="resolved", urgency="high",
        service_id=service, service_name=service, team_ids=(), triggered_at=start,
        first_acknowledged_at=start + timedelta(minutes=2) if acked else None,
        first_acknowledged_by=None, resolved_at=start + timedelta(minutes=minute),
        resolved_by=None, escalation_levels=(1,), responders=(), timeline=(),
    )  # fmt: skip


def test_the_chart_keeps_quiet_weeks_and_shows_unanswered_ones() -> None:
    since, until = datetime(2026, 10, 26, tzinfo=UTC), datetime(2026, 11, 16, tzinfo=UTC)
    built = metrics.build_report([record("A", "api", 20, acked=False)], since, until)

    weeks = report.chart_weeks(built)

    assert [(w.label, w.incidents, w.mtta_text, w.mtta_missed) for w in weeks] == [
        ("w/c 26 Oct", 0, "0 incidents", False),
        ("w/c 02 Nov", 1, "1 never acked", True),
        ("w/c 09 Nov", 0, "0 incidents", False),
    ]


def test_chart_png_is_written(tmp_path: Path) -> None:
    since, until = datetime(2026, 10, 26, tzinfo=UTC), datetime(2026, 11, 16, tzinfo=UTC)
    built = metrics.build_report([record("A", "api", 20, acked=False)], since, until)

    report.write_chart(built, tmp_path / "weekly.png")

    assert (tmp_path / "weekly.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_time_to_first_public_update_matches_by_component() -> None:
    org = load_config(PROD)
    until = datetime(2026, 12, 1, tzinfo=UTC)
    records = [record("A", "Public API", 40, True), record("B", "Web front end", 40, True),
               record("C", "Payments", 40, True)]  # fmt: skip
    statuspage = [
        {"created_at": "2026-11-03T10:12:00Z", "components": [{"id": "api"}],
         "incident_updates": [{"created_at": "2026-11-03T10:12:00Z"},
                              {"created_at": "2026-11-03T10:30:00Z"}]},
        {"created_at": "2026-11-03T10:20:00Z", "components": [],
         "incident_updates": [{"created_at": "2026-11-03T10:20:00Z",
                               "affected_components": [{"code": "web", "name": "Web"}]}]},
        {"created_at": "2026-11-01T08:00:00Z", "components": [{"id": "payments"}],
         "incident_updates": [{"created_at": "2026-11-01T08:00:00Z"}]},  # another day
    ]  # fmt: skip

    found = public_updates.first_updates(
        records, statuspage, public_updates.components_by_service(org), until
    )
    built = metrics.build_report(records, until - timedelta(days=30), until, public_updates=found)

    assert found == {"A": timedelta(minutes=12), "B": timedelta(minutes=20)}
    check = next(c for c in built.checks if c.name == "First public update (mean)")
    assert (check.value, check.target, check.status) == ("16m00s", "< 15m00s", "fail")
    assert check.note == (
        "2 of 3 paging incidents had a status page update; 1 later than the target; 1 without one"
    )


def test_time_to_detect_comes_from_the_postmortems(tmp_path: Path) -> None:
    org = load_config(PROD)
    (tmp_path / "a.md").write_text(EXAMPLE.read_text())

    found = detection_times(tmp_path, org, {"Q1PAY4CHK0UT7", "OTHER"})
    built = metrics.build_report([], datetime(2026, 11, 1, tzinfo=UTC),
                                 datetime(2026, 12, 1, tzinfo=UTC), detection=found)  # fmt: skip

    assert found == [timedelta(minutes=4, seconds=12)]
    assert detection_times(tmp_path, org, {"OTHER"}) == []
    check = next(c for c in built.checks if c.name == "Time to detect (mean)")
    assert (check.value, check.status) == ("4m12s", "info")
