"""The docs hold together and cannot drift from the config: every link and anchor resolves,
referenced procedures exist, and who is paged when is generated from the org config."""

from __future__ import annotations

import itertools
import re
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import typer
from typer.testing import CliRunner

from irctl.learning import docs_command, known_scenarios
from learning import escalation_doc
from orgconfig.load import ConfigError, load_config
from tests.conftest import PROD

ROOT = Path(__file__).resolve().parents[2]
DOCS = ROOT / "docs"
ALL_MARKDOWN = [ROOT / "README.md", *sorted(DOCS.rglob("*.md"))]
ALERTS = [
    "ServiceDown", "HighErrorRate", "HighLatency", "DatabaseConnectionFailures",
    "PaymentProcessingFailures", "HighCPUUsage", "HighMemoryUsage", "DiskSpaceLow",
    "ErrorBudgetBurn", "Watchdog",
]  # fmt: skip
MY_DOCS = [
    DOCS / "incident-response-runbook.md",
    DOCS / "postmortem-template.md",
    DOCS / "postmortems" / "README.md",
    *sorted((DOCS / "drills").glob("*.md")),
]
SCENARIO_SECTIONS = [
    "## Starting situation",
    "## What the players see",
    "## Injects",
    "## Expected actions",
    "## What good looks like",
    "## Debrief questions",
]


def links(path: Path) -> list[str]:
    return re.findall(r"\]\(([^)#\s]+)(?:#[^)]*)?\)", path.read_text())


def test_runbook_links_every_alert_runbook() -> None:
    text = (DOCS / "incident-response-runbook.md").read_text()
    for alert in ALERTS:
        assert f"[{alert}](runbooks/{alert}.md)" in text


@pytest.mark.parametrize("path", MY_DOCS, ids=lambda p: p.name)
def test_relative_links_resolve(path: Path) -> None:
    for target in links(path):
        if target.startswith(("http://", "https://")) or "/runbooks/" in f"/{target}":
            continue  # the per-alert runbooks belong to the alerting docs
        assert (path.parent / target).exists(), f"{path.name} links to missing {target}"


def test_scenario_library_covers_the_required_scenarios() -> None:
    assert {"database-outage", "payment-provider-failure", "region-down", "paging-broken"} <= set(
        known_scenarios()
    )


@pytest.mark.parametrize("name", known_scenarios())
def test_each_scenario_has_timed_injects_and_success_criteria(name: str) -> None:
    text = (DOCS / "drills" / f"{name}.md").read_text()
    for section in SCENARIO_SECTIONS:
        assert section in text, f"{name}: missing {section}"
    times = [int(t) for t in re.findall(r"^\| T\+(\d+) \|", text, re.MULTILINE)]
    assert len(times) >= 5 and times == sorted(times)
    assert max(b - a for a, b in itertools.pairwise(times)) <= 15
    assert f"irctl drill --live {name}" in text


# --------------------------------------------------------------------------- every link


def _without_code(text: str) -> str:
    text = re.sub(r"^```.*?^```", "", text, flags=re.DOTALL | re.MULTILINE)
    return re.sub(r"`[^`\n]*`", "", text)


def anchors(path: Path) -> set[str]:
    """GitHub's heading anchors: lower case, punctuation dropped, spaces to dashes, -1 -2 for
    repeats."""
    found: set[str] = set()
    counts: dict[str, int] = {}
    for heading in re.findall(r"^#{1,6} (.+)$", _without_code(path.read_text()), re.MULTILINE):
        slug = re.sub(r"[^\w\- ]", "", heading.strip().lower()).replace(" ", "-")
        n = counts.get(slug, 0)
        counts[slug] = n + 1
        found.add(slug if n == 0 else f"{slug}-{n}")
    return found


def markdown_links(path: Path) -> list[tuple[int, str]]:
    links = []
    for number, line in enumerate(_without_code(path.read_text()).split("\n"), start=1):
        for target in re.findall(r"\]\(([^)\s]+)(?:\s+\"[^\"]*\")?\)", line):
            links.append((number, target))
    return links


def test_every_markdown_link_and_anchor_resolves() -> None:
    broken = []
    for path in ALL_MARKDOWN:
        for number, target in markdown_links(path):
            if re.match(r"^(https?|mailto):", target):
                continue
            file_part, _, anchor = target.partition("#")
            dest = (path.parent / file_part).resolve() if file_part else path
            where = f"{path.relative_to(ROOT)}:{number}: {target}"
            if not dest.exists():
                broken.append(f"{where}: no such file")
            elif anchor and dest.suffix == ".md" and anchor not in anchors(dest):
                broken.append(f"{where}: no heading #{anchor} in {dest.name}")
    assert broken == []


def test_the_link_walker_finds_a_missing_file_and_anchor(tmp_path: Path) -> None:
    page = tmp_path / "page.md"
    page.write_text("# Title\n\n## Status page updates\n\n[ok](#status-page-updates) [x](#nope) "
                    "[y](missing.md) `[not](a-link.md)`\n")  # fmt: skip

    assert anchors(page) == {"title", "status-page-updates"}
    assert markdown_links(page) == [(5, "#status-page-updates"), (5, "#nope"), (5, "missing.md")]


def test_referenced_procedures_and_contact_sheets_are_links() -> None:
    unlinked = []
    for path in ALL_MARKDOWN:
        for number, line in enumerate(_without_code(path.read_text()).split("\n"), start=1):
            if line.startswith("#"):
                continue
            if re.search(r"procedure\b|contact sheet", line, re.IGNORECASE) and "](" not in line:
                unlinked.append(f"{path.relative_to(ROOT)}:{number}: {line.strip()}")
    assert unlinked == []


def test_the_readme_cites_the_worked_postmortem() -> None:
    readme = (ROOT / "README.md").read_text()
    assert "(docs/postmortems/2026-11-03-checkout-card-payments-declined.md)" in readme


# --------------------------------------------------------------------------- generated docs


def docs_app() -> typer.Typer:
    app = typer.Typer()
    app.command("docs")(docs_command)
    app.command("other")(lambda: None)
    return app


def run_docs(config: Path, docs: Path, *more: str) -> Any:
    return CliRunner().invoke(
        docs_app(), ["docs", "--config", str(config), "--docs-dir", str(docs), *more]
    )


def test_the_escalation_block_matches_the_config_and_fails_when_it_changes(
    tmp_path: Path,
    prod_data: dict[str, Any],
    write_config: Callable[[dict[str, Any]], Path],
) -> None:
    docs = tmp_path / "docs"
    shutil.copytree(DOCS, docs)
    assert run_docs(PROD, docs).exit_code == 0
    assert run_docs(PROD, docs, "--check").exit_code == 0
    runbook = (docs / "incident-response-runbook.md").read_text()
    assert "| 2 | after 15m | whoever is on call in **Platform backup** (schedule " \
        "`platform-backup`) |" in runbook  # fmt: skip
    assert "| 3 | after 30m | **Morgan Chen**, Director of Engineering (`morgan-chen`) |" in (
        runbook
    )

    prod_data["escalation_policies"][0]["tiers"][2]["after"] = "20m"
    changed = write_config(prod_data)
    stale = run_docs(changed, docs, "--check")

    assert stale.exit_code == 1
    for name in ("escalation.md", "incident-response-runbook.md", "drills/database-outage.md"):
        assert f"{docs / name} is stale: run `irctl docs --stack prod` and commit it" in (
            stale.stdout
        )
    assert run_docs(changed, docs).exit_code == 0
    assert "| 3 | after 20m | **Morgan Chen**" in (docs / "escalation.md").read_text()


def test_drills_carry_the_generated_ladder_instead_of_naming_a_backup() -> None:
    for name in known_scenarios():
        text = (DOCS / "drills" / f"{name}.md").read_text()
        assert not re.search(r"\b(Sam|Alex) is (the )?backup", text), name
        if name != "paging-broken":
            assert "<!-- BEGIN generated: escalation-ladder" in text, name


def test_an_incident_commander_rotation_is_paged_for_sev1(
    prod_data: dict[str, Any], write_config: Callable[[dict[str, Any]], Path]
) -> None:
    prod_data["schedules"].append(
        {"id": "incident-commanders", "name": "Incident commanders", "team": "platform",
         "rotation": {"participants": ["jordan-lee", "morgan-chen"], "turn": "1w",
                      "first_handoff": "2026-01-05"}}
    )  # fmt: skip
    prod_data["learning"]["incident_commander"] = {"schedule": "incident-commanders"}
    org = load_config(write_config(prod_data))

    assert org.learning.incident_commander is not None
    assert org.learning.incident_commander.severities == ["SEV1"]
    assert escalation_doc.commander_block(org) == (
        "For SEV1, whoever is on call in **Incident commanders** (schedule "
        "`incident-commanders`) is paged alongside the service's escalation policy and is the "
        "incident commander."
    )

    prod_data["learning"]["incident_commander"] = {"schedule": "ghost", "severities": ["SEV9"]}
    with pytest.raises(ConfigError) as bad:
        load_config(write_config(prod_data))
    report = bad.value.report()
    assert "learning.incident_commander.schedule: 'ghost' is not a known schedule id" in report
    assert "learning.incident_commander.severities[0]" in report
