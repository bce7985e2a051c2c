"""Drills as data: planned drills name a scenario and a facilitator; a drill report marks
each "What good looks like" item met or missed, and `irctl metrics` counts them."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest

from irctl.learning import DRILLS_DIR, known_scenarios, read_drill_reports
from learning import drill_reports, metrics
from learning.records import PageTestRecord
from orgconfig.load import load_config
from tests.conftest import PROD

ORG = load_config(PROD)
SINCE = datetime(2027, 1, 1, tzinfo=UTC)
UNTIL = datetime(2027, 2, 1, tzinfo=UTC)


def report_text(met: list[str], *, minutes: str = "12", incident: str = "QDRILL1") -> str:
    criteria = drill_reports.success_criteria((DRILLS_DIR / "database-outage.md").read_text())
    text = drill_reports.front_matter(
        scenario="database-outage",
        day=date(2027, 1, 6),
        facilitator="jordan-lee",
        incident_id=incident,
        page_delivered=True,
        time_to_acknowledge=timedelta(minutes=2),
        criteria=criteria,
    )
    for value in met:
        text = text.replace("met: null", f"met: {value}", 1)
    return text.replace(
        "first_public_update_minutes: null", f"first_public_update_minutes: {minutes}"
    )


@pytest.mark.parametrize("name", known_scenarios())
def test_every_scenario_has_criteria_a_report_can_mark(name: str) -> None:
    items = drill_reports.success_criteria((DRILLS_DIR / f"{name}.md").read_text())

    assert len(items) >= 3
    assert all(item and not item.startswith("-") for item in items)


def test_the_planned_drills_name_scenarios_and_people_of_the_org() -> None:
    assert ORG.learning.drills, "the example org plans its quarterly drills"
    for drill in ORG.learning.drills:
        assert drill.scenario in known_scenarios()
        assert drill.date.weekday() == 2  # first Wednesday of the quarter
        assert ORG.person(drill.facilitator)


def test_a_marked_report_feeds_the_metrics() -> None:
    text = report_text(["true", "true", "false", "true", "true", "true"])

    report, problems = drill_reports.read_report(text, ORG, known_scenarios())
    assert problems == [] and report is not None
    built = metrics.build_report(
        [],
        SINCE,
        UNTIL,
        page_results=metrics.page_success(
            [PageTestRecord("drill", SINCE + timedelta(days=5), "drill", True,
                            incident_id="QDRILL1")],
            SINCE, UNTIL,
        ),
        drills=[report],
    )  # fmt: skip

    checks = {c.name: c for c in built.checks}
    criteria = checks["Drill criteria met"]
    assert (criteria.value, criteria.status) == ("5 of 6", "fail")
    assert criteria.note == (
        "1 drill(s); missed: database-outage: First status page update by T+15, then every "
        "30 minutes or sooner."
    )
    update = checks["First public update in drills (mean)"]
    assert (update.value, update.status) == ("12m00s", "pass")
    # The record file already counted this drill's page: not twice.
    assert checks["Page success"].note == "1 of 1 test pages delivered"


def test_an_unmarked_report_is_named_not_counted(tmp_path: Path) -> None:
    (tmp_path / "2027-01-06-1400-database-outage.md").write_text(report_text(["true"]))
    (tmp_path / "2027-01-07-1400-database-outage.md").write_text(
        report_text(["true"] * 6, incident="QDRILL2")
    )
    notes: list[str] = []

    found = read_drill_reports(tmp_path, ORG, SINCE, UNTIL, notes)

    assert [r.incident_id for r in found] == ["QDRILL2"]
    assert notes[0].startswith(
        f"drill report {tmp_path / '2027-01-06-1400-database-outage.md'} not counted: "
        "criterion 'Exactly one incident commander at any time, and everyone knows who it "
        "is.': met is 'null', write true or false"
    )
    built = metrics.build_report([], SINCE, UNTIL, drills=found)
    page = next(c for c in built.checks if c.name == "Page success")
    assert (page.value, page.note) == ("100.0 %", "1 of 1 test pages delivered")
