"""`irctl metrics` against the local PagerDuty, with answers worked out by hand below.

Crafted incidents (November 2026, UTC; minutes after the trigger):

| id | service  | history                                                        | TTA | TTR  |
|----|----------|----------------------------------------------------------------|-----|------|
| A  | checkout | ack 2 (Alice), resolve 20                                      | 2   | 20   |
| B  | checkout | ack 4 (Alice), reassigned to Bob 6, ack 10 (Bob), resolve 40   | 4   | 40   |
| C  | checkout | escalated to tier 2 at 15, ack 18 (Bob), resolve 60            | 18  | 60   |
| D  | checkout | never acknowledged, resolved by the integration at 30          | -   | 30   |
| E  | checkout | ack 1, still open                                              | 1   | -    |
| F  | search   | ack 3, resolve 10                                              | 3   | 10   |
| G  | search   | never acknowledged, still open                                 | -   | -    |
| H  | checkout | October, outside the window                                    |     |      |

Overall: TTA 1,2,3,4,18 -> mean 28/5 = 5m36s (FAIL, target < 5 min), median 3m (rank 3
of 5), p90 18m (rank 5). TTR 10,20,30,40,60 -> mean 160/5 = 32m (FAIL, < 30 min), median
30m, p90 60m. Never acknowledged: D, G = 2. Still open: E, G = 2.
Checkout: TTA 1,2,4,18 -> mean 6m15s, median 2m (rank 2 of 4), p90 18m (rank 4);
TTR 20,30,40,60 -> mean 37m30s, median 30m, p90 60m; never acked 1, open 1.
Search: TTA 3m; TTR 10m; never acked 1, open 1.
Weeks: from Mon 2 Nov: A-D, MTTA (2+4+18)/3 = 8m, MTTR (20+40+60+30)/4 = 37m30s;
from Mon 9 Nov: E-G, MTTA (1+3)/2 = 2m, MTTR 10m.
Page tests in the window: 2 of 3 delivered -> 66.7 % (FAIL, target 100 %).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest
import typer
from typer.testing import CliRunner

from irctl.learning import metrics_command
from learning import availability, metrics, pagerduty_api
from learning.records import PageTestRecord, append_record
from sandbox.pagerduty import (
    Clock,
    EscalationTier,
    FakePagerDuty,
    FakePagerDutyServer,
    FaultPlan,
    ServiceConfig,
)
from tests.conftest import PROD

TOKEN = "metrics-token"
SINCE = datetime(2026, 11, 1, tzinfo=UTC)
UNTIL = datetime(2026, 12, 1, tzinfo=UTC)


def at(day: int, hour: int, minute: int = 0, month: int = 11) -> str:
    return datetime(2026, month, day, hour, minute, tzinfo=UTC).isoformat()


def step(action: str, day: int, hour: int, minute: int, **more: object) -> dict[str, object]:
    return {"action": action, "at": at(day, hour, minute), **more}


def crafted_fake() -> FakePagerDuty:
    fake = FakePagerDuty(
        [
            ServiceConfig(
                "PCHECK1",
                "Checkout",
                routing_keys=["c" * 32],
                tiers=[EscalationTier(15, ("Alice",)), EscalationTier(15, ("Bob",))],
                team_ids=["payments"],
            ),
            ServiceConfig(
                "PSRCH01",
                "Search",
                routing_keys=["s" * 32],
                tiers=[EscalationTier(15, ("Sam",))],
                team_ids=["discovery"],
            ),
        ],
        api_tokens=[TOKEN],
        clock=Clock(start=datetime(2026, 11, 20, tzinfo=UTC), speed=0),
    )
    specs = [
        ("PCHECK1", "A", at(2, 10), [step("acknowledge", 2, 10, 2, by="Alice"),
                                     step("resolve", 2, 10, 20, by="Alice")]),
        ("PCHECK1", "B", at(3, 10), [step("acknowledge", 3, 10, 4, by="Alice"),
                                     step("reassign", 3, 10, 6, to=["Bob"]),
                                     step("acknowledge", 3, 10, 10, by="Bob"),
                                     step("resolve", 3, 10, 40, by="Bob")]),
        ("PCHECK1", "C", at(4, 10), [step("escalate", 4, 10, 15, level=2),
                                     step("acknowledge", 4, 10, 18, by="Bob"),
                                     step("resolve", 4, 11, 0, by="Bob")]),
        ("PCHECK1", "D", at(5, 10), [step("resolve", 5, 10, 30)]),
        ("PCHECK1", "E", at(10, 10), [step("acknowledge", 10, 10, 1, by="Alice")]),
        ("PSRCH01", "F", at(11, 12), [step("acknowledge", 11, 12, 3, by="Sam"),
                                      step("resolve", 11, 12, 10, by="Sam")]),
        ("PSRCH01", "G", at(12, 12), []),
        ("PCHECK1", "H", at(20, 10, month=10), [step("resolve", 2, 10, 20, by="Alice")]),
    ]  # fmt: skip
    for service_id, title, created, timeline in specs:
        fake.seed_incident(
            {"service_id": service_id, "title": title, "created_at": created, "timeline": timeline}
        )
    return fake


@pytest.fixture
def server() -> Iterator[FakePagerDutyServer]:
    with FakePagerDutyServer(crafted_fake()) as running:
        yield running


def minutes(value: float) -> timedelta:
    return timedelta(minutes=value)


def test_records_through_pages_and_a_429_give_the_hand_computed_figures(
    server: FakePagerDutyServer,
) -> None:
    server.fake.inject_fault("rest", FaultPlan(429, count=1, after=2, retry_after_seconds=7))
    waits: list[float] = []
    client = pagerduty_api.RateLimitedClient(
        TOKEN, base_url=server.url, sleep=waits.append, page_size=2
    )

    records = pagerduty_api.load_records(client, SINCE, UNTIL)
    report = metrics.build_report(records, SINCE, UNTIL)

    assert [r.title for r in records] == ["A", "B", "C", "D", "E", "F", "G"]
    assert waits == [7.0]  # Retry-After honoured once, then the listing went on
    assert client.api_call_counts["GET /incidents"] == 5  # 4 pages of 2 + the 429

    overall = report.overall
    assert (overall.incidents, overall.never_acknowledged, overall.still_open) == (7, 2, 2)
    assert overall.mtta == metrics.DurationStats(5, minutes(5.6), minutes(3), minutes(18))
    assert overall.mttr == metrics.DurationStats(5, minutes(32), minutes(30), minutes(60))

    checkout, search = report.services
    assert checkout.scope == "Checkout"
    assert checkout.mtta == metrics.DurationStats(4, minutes(6.25), minutes(2), minutes(18))
    assert checkout.mttr == metrics.DurationStats(4, minutes(37.5), minutes(30), minutes(60))
    assert (checkout.never_acknowledged, checkout.still_open) == (1, 1)
    assert search.mtta == metrics.DurationStats(1, minutes(3), minutes(3), minutes(3))
    assert search.mttr.mean == minutes(10)
    assert (search.never_acknowledged, search.still_open) == (1, 1)

    # Every week of the window is on the axis, quiet ones with zero incidents.
    assert [(w.week_start.isoformat(), w.incidents, w.mtta_mean, w.mttr_mean,
             w.never_acknowledged) for w in report.weeks] == [
        ("2026-10-26", 0, None, None, 0),
        ("2026-11-02", 4, minutes(8), minutes(37.5), 1),
        ("2026-11-09", 3, minutes(2), minutes(10), 1),
        ("2026-11-16", 0, None, None, 0),
        ("2026-11-23", 0, None, None, 0),
        ("2026-11-30", 0, None, None, 0),
    ]  # fmt: skip


def test_first_acknowledgement_counts_and_escalation_is_seen(server: FakePagerDutyServer) -> None:
    client = pagerduty_api.RateLimitedClient(TOKEN, base_url=server.url)
    by_title = {r.title: r for r in pagerduty_api.load_records(client, SINCE, UNTIL)}

    assert by_title["B"].first_acknowledged_by == "Alice"
    assert by_title["B"].time_to_acknowledge == minutes(4)
    assert by_title["B"].responders[:2] == ("Alice", "Bob")
    assert by_title["C"].escalation_levels == (1, 2)
    assert by_title["A"].escalation_levels == (1,)
    assert by_title["D"].time_to_acknowledge is None
    assert by_title["D"].time_to_resolve == minutes(30)


def test_service_and_team_filters(server: FakePagerDutyServer) -> None:
    client = pagerduty_api.RateLimitedClient(TOKEN, base_url=server.url)

    ids = pagerduty_api.resolve_service_ids(client, ["search"])
    by_service = pagerduty_api.load_records(client, SINCE, UNTIL, service_ids=ids)
    by_team = pagerduty_api.load_records(client, SINCE, UNTIL, team_ids=["payments"])

    assert ids == ["PSRCH01"]
    assert [r.title for r in by_service] == ["F", "G"]
    assert [r.title for r in by_team] == ["A", "B", "C", "D", "E"]
    with pytest.raises(LookupError, match="no PagerDuty service 'billing'"):
        pagerduty_api.resolve_service_ids(client, ["billing"])


def cli_app() -> typer.Typer:
    app = typer.Typer()
    app.command("metrics")(metrics_command)

    @app.command("other")
    def other() -> None:  # a second command keeps typer from collapsing the group
        pass

    return app


def write_page_tests(path: Path) -> None:
    for day, delivered, error in [(3, True, None), (9, True, None), (15, False, "HTTP 400"),
                                  (40, False, "outside the window")]:  # fmt: skip
        append_record(
            path,
            PageTestRecord(
                kind="page-test",
                at=SINCE + timedelta(days=day),
                service="checkout",
                delivered=delivered,
                delivery_seconds=2.0 if delivered else None,
                error=error,
            ),
        )


def test_cli_json_and_markdown_show_targets_and_failures(
    server: FakePagerDutyServer, tmp_path: Path
) -> None:
    records = tmp_path / "page-tests.jsonl"
    write_page_tests(records)
    server.fake.inject_fault("rest", FaultPlan(429, count=1, after=3, retry_after_seconds=1))
    args = ["metrics", "--since", "2026-11-01", "--until", "2026-11-30", "--api-url", server.url,
            "--records", str(records), "--config", str(PROD)]  # fmt: skip
    runner = CliRunner()

    as_json = runner.invoke(cli_app(), [*args, "--format", "json"], env={"PAGERDUTY_TOKEN": TOKEN})
    assert as_json.exit_code == 0, as_json.output
    data = json.loads(as_json.stdout)
    assert data["overall"]["mtta"] == {
        "count": 5, "mean_seconds": 336.0, "median_seconds": 180.0, "p90_seconds": 1080.0,
    }  # fmt: skip
    assert data["overall"]["mttr"]["mean_seconds"] == 1920.0
    assert data["page_success"] == {"recorded": 3, "delivered": 2, "rate": 2 / 3}
    assert {c["name"]: c["status"] for c in data["checks"]} == {
        "MTTA (mean)": "fail",
        "MTTR (mean)": "fail",
        "Availability": "no data",
        "Page success": "fail",
    }
    assert data["notes"] == [
        "PagerDuty rate-limited this run; waited 1 s in 1 pause(s).",
        "time to first public update not measured: pass --statuspage-url",
    ]

    markdown = runner.invoke(
        cli_app(), [*args, "--format", "markdown", "--strict"], env={"PAGERDUTY_TOKEN": TOKEN}
    )
    assert markdown.exit_code == 1  # --strict: targets were missed
    assert (
        "| MTTA (mean) | 5m36s | < 5m00s | **FAIL** | 2 of 7 paging incidents never "
        "acknowledged (each is a missed target) |"
    ) in markdown.stdout
    assert "| MTTR (mean) | 32m00s | < 30m00s | **FAIL** | 2 of 7 still open |" in markdown.stdout
    assert "| Page success | 66.7 % | = 100 % | **FAIL** | 2 of 3 test pages delivered |" in (
        markdown.stdout
    )
    assert "| Checkout | 5 | 6m15s | 2m00s | 18m00s | 37m30s | 30m00s | 1h00m00s | 1 | 1 |" in (
        markdown.stdout
    )
    assert "checkout: HTTP 400" in markdown.stdout


def test_cli_table_and_chart(server: FakePagerDutyServer, tmp_path: Path) -> None:
    chart = tmp_path / "weekly.png"
    result = CliRunner().invoke(
        cli_app(),
        ["metrics", "--since", "2026-11-01", "--until", "2026-11-30", "--api-url", server.url,
         "--token", TOKEN, "--service", "Checkout", "--chart", str(chart),
         "--records", str(tmp_path / "none.jsonl"), "--config", str(PROD)],
    )  # fmt: skip

    assert result.exit_code == 0, result.output
    assert "Checkout" in result.stdout and "Search" not in result.stdout
    assert "no page tests or drills recorded" in result.stdout
    assert chart.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert chart.stat().st_size > 10_000


def test_cli_without_token_says_how_to_give_one(server: FakePagerDutyServer) -> None:
    result = CliRunner().invoke(
        cli_app(), ["metrics", "--api-url", server.url, "--config", str(PROD)], env={}
    )

    assert result.exit_code == 2
    assert "PAGERDUTY_TOKEN" in result.output


def test_cli_reads_the_token_from_the_token_env_variable(
    server: FakePagerDutyServer, tmp_path: Path
) -> None:
    args = ["metrics", "--since", "2026-11-01", "--until", "2026-11-30", "--api-url", server.url,
            "--config", str(PROD), "--records", str(tmp_path / "none.jsonl"), "--format", "json",
            "--token-env", "MY_PD_KEY"]  # fmt: skip
    unset = CliRunner().invoke(cli_app(), args, env={"PAGERDUTY_TOKEN": TOKEN})
    assert unset.exit_code == 2
    assert "environment variable MY_PD_KEY is not set or empty" in unset.output
    read = CliRunner().invoke(cli_app(), args, env={"MY_PD_KEY": TOKEN})
    assert read.exit_code == 0, read.output
    assert json.loads(read.stdout)["overall"]["mtta"]["count"] == 5
    assert TOKEN not in read.output


def test_cli_with_an_unreachable_api_exits_2(tmp_path: Path) -> None:
    result = CliRunner().invoke(
        cli_app(),
        ["metrics", "--api-url", "http://127.0.0.1:9", "--config", str(PROD)],
        env={"PAGERDUTY_TOKEN": TOKEN},
    )
    assert result.exit_code == 2
    assert "reading incidents from http://127.0.0.1:9 failed" in " ".join(result.output.split())


def test_cli_with_a_wrong_token_fails_clearly(server: FakePagerDutyServer) -> None:
    result = CliRunner().invoke(
        cli_app(), ["metrics", "--api-url", server.url, "--token", "wrong", "--config", str(PROD)]
    )

    assert result.exit_code == 2
    assert "401" in result.output


def test_availability_from_prometheus_per_service_and_check() -> None:
    seen: list[httpx.Request] = []

    def prometheus(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(
            200,
            json={"status": "success", "data": {"resultType": "vector", "result": [
                {"metric": {"service": "checkout"}, "value": [1, "0.9995"]},
                {"metric": {"service": "search"}, "value": [1, "0.998"]},
            ]}},
        )  # fmt: skip

    with httpx.Client(transport=httpx.MockTransport(prometheus)) as client:
        found = availability.from_prometheus(
            "http://prometheus:9090", SINCE, SINCE + timedelta(days=7), client=client
        )
    report = metrics.build_report([], SINCE, SINCE + timedelta(days=7), availability=found)

    assert seen[0].url.params["query"] == (
        "avg by (service) (avg_over_time(probe_success[604800s]))"
    )
    assert found.per_service == {"checkout": 0.9995, "search": 0.998}
    check = next(c for c in report.checks if c.name == "Availability")
    assert (check.value, check.status, check.note) == (
        "99.875 %",
        "fail",
        "lowest: search 99.800 %",
    )


def test_client_pauses_when_the_rate_limit_is_used_up(server: FakePagerDutyServer) -> None:
    server.fake.rate_limit_per_minute = 4  # four pages of two incidents use it all
    waits: list[float] = []
    client = pagerduty_api.RateLimitedClient(
        TOKEN, base_url=server.url, sleep=waits.append, page_size=2
    )

    incidents = pagerduty_api.fetch_incidents(client, SINCE, UNTIL)

    assert len(incidents) == 7
    # the fourth answer said "ratelimit-remaining: 0": wait for the window to reset
    assert len(waits) == 1 and 55 <= waits[0] <= 60
