"""Postmortems as records: `irctl postmortem new` prefills from PagerDuty with deadlines
counted from the incident's resolution; `irctl postmortem check` is hard to fool.

The org is tests/fixtures/modulo.yaml: people alex-rivera (Alex Rivera), sam-okafor (Sam
Okafor), jordan-lee, morgan-chen, casey-novak, priya-shah.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import icalendar
import pytest
from modulo_pagerduty import modulo_pagerduty, postmortem_cli
from typer.testing import CliRunner

from irctl.learning import DEFAULT_TEMPLATE
from learning.blame import BLAME_PHRASES, BlameScanner
from learning.postmortem import REQUIRED_SECTIONS, check_postmortem, deadlines, real_date
from orgconfig.load import load_config
from orgconfig.model import PostmortemDeadlines
from sandbox.pagerduty import FakePagerDutyServer
from tests.conftest import PROD

TOKEN = "pm-token"
ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "docs" / "postmortems" / "2026-11-03-checkout-card-payments-declined.md"
ORG = load_config(PROD)


@pytest.fixture
def server() -> Iterator[FakePagerDutyServer]:
    with modulo_pagerduty(TOKEN, datetime(2026, 11, 20, tzinfo=UTC), "PPAYMNT") as running:
        running.fake.seed_incident(
            {
                "service_id": "PPAYMNT",
                "title": "Payments | card payments failing",
                "created_at": "2026-11-03T10:00:00Z",
                "timeline": [
                    {"at": "2026-11-03T10:15:00Z", "action": "escalate", "level": 2},
                    {"at": "2026-11-03T10:18:00Z", "action": "acknowledge", "by": "Sam Okafor"},
                    {"at": "2026-11-03T10:21:00Z", "action": "reassign",
                     "to": ["Contractor Kim"]},
                    {"at": "2026-11-03T10:52:30Z", "action": "resolve", "by": "Jordan Lee"},
                ],
            }
        )  # fmt: skip
        yield running


def invoke(*args: str) -> Any:
    return CliRunner().invoke(postmortem_cli(), ["postmortem", *args])


def incident_id(server: FakePagerDutyServer) -> str:
    return next(iter(server.fake.incidents))


def new_args(server: FakePagerDutyServer, out: Path, *more: str) -> list[str]:
    return ["new", incident_id(server), "--config", str(PROD), "--out-dir", str(out),
            "--api-url", server.url, "--token", TOKEN, *more]  # fmt: skip


def test_new_fills_the_record_and_counts_deadlines_from_the_resolution(
    server: FakePagerDutyServer, tmp_path: Path
) -> None:
    result = invoke(*new_args(server, tmp_path, "--impact-started-at", "2026-11-03T09:57:00Z"))

    assert result.exit_code == 0, result.output
    path = tmp_path / "2026-11-03-payments-card-payments-failing.md"
    text = path.read_text()
    front = text.split("\n---\n", 1)[0]
    assert f"incidents: [{incident_id(server)}]" in front
    assert "owner: sam-okafor" in front  # who acknowledged first, as a config person id
    assert "impact_started_at: 2026-11-03T09:57:00Z" in front
    assert "triggered_at: 2026-11-03T10:00:00Z" in front
    assert "resolved_at: 2026-11-03T10:52:30Z" in front
    # Resolved 11-03 10:52:30: actions due a week after the RESOLUTION, not after today.
    assert "    due: 2026-11-10\n" in front
    assert "| Draft due | 2026-11-04 10:52:30 UTC |" in text
    assert "| Review due | 2026-11-10 10:52:30 UTC |" in text
    assert "- Detected: 2026-11-03 10:00:00 UTC, time to detect 3m00s" in text
    assert "- Acknowledged: 2026-11-03 10:18:00 UTC by Sam Okafor, 18m00s after the page" in text
    assert "| 2026-11-03 10:18:00 | PagerDuty | acknowledge: Acknowledged by Sam Okafor. |" in text
    assert "{{" not in text

    # The review invitation goes to the responders the org config knows, at a stable UID.
    ics = path.with_suffix(".review.ics")
    assert f"wrote {ics} (review 2026-11-09 14:00 UTC)" in result.stdout
    event = icalendar.Calendar.from_ical(ics.read_bytes()).walk("VEVENT")[0]
    assert event.decoded("dtstart") == datetime(2026, 11, 9, 14, 0, tzinfo=UTC)
    assert str(event["uid"]) == f"postmortem-review-{incident_id(server)}@irctl"
    attendees = sorted(str(a) for a in event.get("attendee"))
    assert attendees == ["mailto:jordan.lee@modulo.example.com",
                         "mailto:sam.okafor@modulo.example.com"]  # fmt: skip
    assert "not invited (not people in the org config): Contractor Kim" in result.output

    # A fresh draft is not ready for review, and says what to write.
    check = invoke("check", str(path), "--config", str(PROD), "--today", "2026-11-04")
    assert check.exit_code == 1
    assert f"{path}:5: `severity` is still the placeholder" in check.stdout
    assert f'{path}:{line_of(path, "## Trigger")}: section "## Trigger" is empty' in check.stdout


def test_deadlines_follow_the_org_config(
    server: FakePagerDutyServer,
    tmp_path: Path,
    prod_data: dict[str, Any],
    write_config: Callable[[dict[str, Any]], Path],
) -> None:
    prod_data["learning"] = {
        "postmortems": {"draft_within": "2d", "review_within": "5d", "actions_within": "14d"}
    }
    config = write_config(prod_data)
    args = new_args(server, tmp_path)
    args[args.index(str(PROD))] = str(config)

    result = invoke(*args)

    assert result.exit_code == 0, result.output
    text = (tmp_path / "2026-11-03-payments-card-payments-failing.md").read_text()
    assert "| Draft due | 2026-11-05 10:52:30 UTC |" in text
    assert "| Review due | 2026-11-08 10:52:30 UTC |" in text
    assert "    due: 2026-11-17\n" in text
    # 11-08 is a Sunday: the review goes to Friday 11-06, two days after resolution at least.
    assert "(review 2026-11-06 14:00 UTC)" in result.stdout


def test_deadlines_count_from_resolution() -> None:
    resolved = datetime(2026, 11, 2, 23, 30, tzinfo=UTC)

    due = deadlines(resolved, PostmortemDeadlines())

    assert due.draft == datetime(2026, 11, 3, 23, 30, tzinfo=UTC)
    assert due.review == datetime(2026, 11, 9, 23, 30, tzinfo=UTC)
    assert due.actions == date(2026, 11, 9)


def test_new_refuses_to_overwrite(server: FakePagerDutyServer, tmp_path: Path) -> None:
    assert invoke(*new_args(server, tmp_path)).exit_code == 0

    again = invoke(*new_args(server, tmp_path))

    assert again.exit_code == 1
    assert "already exists" in again.output


def test_new_for_an_unknown_incident_fails_clearly(server: FakePagerDutyServer) -> None:
    result = invoke("new", "NOPE", "--config", str(PROD), "--api-url", server.url,
                    "--token", TOKEN)  # fmt: skip
    assert result.exit_code == 2
    assert "could not read incident NOPE" in result.output


# --------------------------------------------------------------------------- check


def test_the_worked_example_passes_on_any_day() -> None:
    for today in ("2026-11-06", "2031-01-01"):
        result = invoke("check", str(EXAMPLE.parent), "--config", str(PROD), "--today", today)

        assert result.exit_code == 0, result.output
        assert result.stdout.endswith("1 of 1 postmortems OK\n")


def variant(tmp_path: Path, *swaps: tuple[str, str]) -> Path:
    text = EXAMPLE.read_text()
    for old, new in swaps:
        assert old in text, old
        text = text.replace(old, new, 1)
    path = tmp_path / "variant.md"
    path.write_text(text)
    return path


def line_of(path: Path, needle: str) -> int:
    return next(n for n, line in enumerate(path.read_text().split("\n"), 1) if needle in line)


def check(path: Path, today: str = "2026-11-20") -> Any:
    return invoke("check", str(path), "--config", str(PROD), "--today", today)


def test_a_blaming_title_fails_with_its_line(tmp_path: Path) -> None:
    path = variant(
        tmp_path,
        ("# Postmortem: Card payments declined at checkout for 45 minutes",
         "# Postmortem: Sam carelessly broke checkout"),
    )  # fmt: skip

    result = check(path)

    assert result.exit_code == 1
    n = line_of(path, "# Postmortem:")
    assert f'{path}:{n}: blaming phrase "carelessly": describe the action and what made it ' in (
        result.stdout
    )
    assert f'{path}:{n}: "Sam carelessly" puts a person next to "carelessly"' in (result.stdout)


def test_an_owner_that_is_not_a_person_fails(tmp_path: Path) -> None:
    path = variant(
        tmp_path,
        ("owner: alex-rivera\nimpact", "owner: Platform team\nimpact"),
        ("    owner: jordan-lee", "    owner: Jordan Lee"),
    )

    result = check(path)

    assert result.exit_code == 1
    assert (
        f"{path}:5: `owner` 'Platform team' is not a person: write ONE person's id from the "
        "org config (alex-rivera, casey-novak, jordan-lee, morgan-chen, priya-shah, "
        "sam-okafor); a team or a role cannot own an action"
    ) in result.stdout
    n = line_of(path, "owner: Jordan Lee")
    assert f"{path}:{n}: `owner` 'Jordan Lee' is not a person: write their id 'jordan-lee'" in (
        result.stdout
    )


def test_impossible_and_past_due_dates_fail(tmp_path: Path) -> None:
    path = variant(
        tmp_path,
        ("    due: 2026-11-10\n    type: detect", "    due: 2026-02-30\n    type: detect"),
        ("    due: 2026-11-10\n    type: prevent", "    due: 2020-01-01\n    type: prevent"),
        ("priority: P1\n    ticket: https://github.com/modulo/platform/issues/413\n"
         "    status: done",
         "priority: P1\n    ticket: https://github.com/modulo/platform/issues/413\n"
         "    status: open"),
    )  # fmt: skip

    result = check(path)

    assert result.exit_code == 1
    impossible = line_of(path, "2026-02-30")
    assert (
        f"{path}:{impossible}: `due`: 2026-02-30 is not a real calendar date: February 2026 "
        "has 28 days"
    ) in result.stdout
    past = line_of(path, "2020-01-01")
    assert f"{path}:{past}: open action 'Reject a payment provider" in result.stdout
    assert "was due 2020-01-01 (2515 days ago): finish it and set `status: done`" in (result.stdout)


@pytest.mark.parametrize(
    ("sentence", "flagged"),
    [
        ("Sam forgot to renew the certificate.", '"forgot"'),
        ("The deploy failed to run the migration.", '"failed to"'),
        ("Someone should have checked the changelog.", '"should have checked"'),
        ("Jordan Lee ignored the warning in the channel.", '"Jordan Lee ignored"'),
        ("The outage was caused by Alex.", '"caused by Alex"'),
        ("It was human error.", '"human error"'),
    ],
)
def test_blame_in_the_prose_fails_with_its_line(
    tmp_path: Path, sentence: str, flagged: str
) -> None:
    path = variant(tmp_path, ("The staging environment uses", f"{sentence} The staging uses"))

    result = check(path)

    assert result.exit_code == 1
    assert f"{path}:{line_of(path, sentence)}: " in result.stdout
    assert flagged in result.stdout


def test_actions_aimed_at_a_person_fail(tmp_path: Path) -> None:
    path = variant(
        tmp_path,
        ("  - action: Add a feature flag that routes card payments back to the previous API "
         "version in one step", "  - action: Retrain Bob on the payment runbook"),
        ("- Wallet payments were unaffected", "- Remind Priya to post sooner. Wallets were"),
    )  # fmt: skip

    result = check(path)

    assert result.exit_code == 1
    retrain = line_of(path, "Retrain Bob")
    assert f'{path}:{retrain}: action "Retrain Bob" is aimed at a person: aim it at the system' in (
        result.stdout
    )
    assert f'{path}:{line_of(path, "Remind Priya")}: action "Remind Priya" is aimed' in (
        result.stdout
    )


def test_missing_and_empty_sections_fail(tmp_path: Path) -> None:
    path = variant(
        tmp_path,
        ("## Trigger\n\nAt 09:55 UTC a configuration change set `PAYMENT_API_VERSION` from "
         "`2025-06` to `2026-10`\nfor all payment traffic. The change was reviewed and deployed "
         "through the normal pipeline.\n", "## Trigger\n\n<!-- what started it -->\nTBD\n"),
        ("## Customer-facing message", "## Message"),
    )  # fmt: skip

    result = check(path)

    assert result.exit_code == 1
    assert f'{path}:{line_of(path, "## Trigger")}: section "## Trigger" is empty' in result.stdout
    assert f'{path}: missing section "## Customer-facing message"' in result.stdout


def test_a_file_without_front_matter_or_with_bad_fields_says_what_to_write(
    tmp_path: Path,
) -> None:
    bare = tmp_path / "bare.md"
    bare.write_text("# Postmortem: x\n")
    fields = variant(
        tmp_path,
        ("severity: SEV2", "severity: critical"),
        ("    type: detect", "    type: monitoring"),
        ("  held: true", "  held: yes please"),
        ("resolved_at: 2026-11-03T10:41:30Z", "resolved_at: yesterday"),
    )

    result = invoke("check", str(bare), str(fields), "--config", str(PROD))

    assert result.exit_code == 1
    out = result.stdout
    assert f"{bare}:1: no front matter: start the file with '---'" in out
    assert f"{fields}:4: `severity` is 'critical', not one of SEV1, SEV2, SEV3, SEV4" in out
    assert f"{fields}:{line_of(fields, 'type: monitoring')}: `type` is 'monitoring', not one of " \
        "prevent, detect, mitigate, process" in out  # fmt: skip
    assert f"{fields}:11: `held` is 'yes please': write true or false" in out
    assert f"{fields}:8: `resolved_at` 'yesterday' is not a time" in out
    assert "0 of 2 postmortems OK" in out


def test_an_empty_folder_is_an_error_not_a_pass(tmp_path: Path) -> None:
    (tmp_path / "README.md").write_text("# Postmortems\n")

    result = invoke("check", str(tmp_path), "--config", str(PROD))

    assert result.exit_code == 1
    assert f"no postmortems found in {tmp_path}" in result.output
    assert "0 of 0" not in result.output


def test_blameless_narration_of_what_people_did_passes() -> None:
    scanner = BlameScanner(ORG.people)
    lines = [
        "Sam acknowledged the page and rolled back the configuration at 10:39.",
        "The health check did not notice the declines; the alert counted errors only.",
        "Alex Rivera took incident command and asked for a status page update.",
        "Train the decline-rate model on November's data.",
        "Remind the rotation of the new runbook step in the weekly meeting.",
    ]
    assert scanner.scan(lines) == []


def test_real_calendar_dates() -> None:
    assert real_date("2028-02-29") == (date(2028, 2, 29), "")
    assert real_date("2026-13-01")[1] == "2026-13-01 is not a real calendar date: month 13 " \
        "does not exist"  # fmt: skip
    assert real_date("10/11/2026")[1].startswith("'10/11/2026' is not a date: write YYYY-MM-DD")


def test_the_template_has_every_required_section_and_an_incident_fills_it() -> None:
    text = DEFAULT_TEMPLATE.read_text()
    for section in REQUIRED_SECTIONS:
        assert f"\n## {section}\n" in text
    problems = check_postmortem(text, ORG, date(2026, 11, 4))
    assert not [p for p in problems if "missing section" in p.message]


def test_blame_phrases_are_documented_for_writers() -> None:
    readme = (ROOT / "docs" / "postmortems" / "README.md").read_text()
    for phrase in BLAME_PHRASES:
        assert f"`{phrase}`" in readme, phrase


def test_every_review_invitation_is_stable_between_runs(
    server: FakePagerDutyServer, tmp_path: Path
) -> None:
    first, second = tmp_path / "a", tmp_path / "b"
    assert invoke(*new_args(server, first)).exit_code == 0
    assert invoke(*new_args(server, second)).exit_code == 0

    uids = [
        str(icalendar.Calendar.from_ical(p.read_bytes()).walk("VEVENT")[0]["uid"])
        for p in (*first.glob("*.ics"), *second.glob("*.ics"))
    ]

    assert len(uids) == 2 and uids[0] == uids[1]


@pytest.mark.parametrize(
    ("command", "placeholder"),
    [
        (["postmortem", "new"], "docs/postmortems/DATE-SLUG.md"),
        (["calendar"], "one PERSON-ID.ics each"),
        (["render"], "out/STACK"),
    ],
)
def test_help_shows_file_name_placeholders(command: list[str], placeholder: str) -> None:
    # Rich help swallows "<date>"-style placeholders: it printed "docs/postmortems/-.md".
    from irctl.cli import app

    result = CliRunner().invoke(app, [*command, "--help"], env={"COLUMNS": "300"})
    assert result.exit_code == 0
    assert placeholder in result.stdout
