"""The runbook and the drill library hold together: links resolve, sections are there."""

from __future__ import annotations

import itertools
import re
from pathlib import Path

import pytest

from irctl.learning import known_scenarios

DOCS = Path(__file__).resolve().parents[2] / "docs"
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
