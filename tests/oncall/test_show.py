"""`irctl oncall show`: hand-offs in the schedule's local time, the same in July and January."""

from __future__ import annotations

import subprocess
import sys

import pytest

from tests.conftest import PROD, ROOT


def irctl(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "irctl", *args],
        capture_output=True,
        text=True,
        cwd=ROOT,
        check=False,
        env={"COLUMNS": "200", "PATH": "/usr/bin:/bin"},
    )


def show(at: str) -> str:
    result = irctl("oncall", "show", "--config", str(PROD), "--at", at)
    assert result.returncode == 0, result.stderr
    return " ".join(result.stdout.split())


@pytest.mark.parametrize(
    ("week", "local", "utc", "handover"),
    [
        # Two-week turns from Mon 2026-01-05 09:00 Berlin: both Mondays are hand-off days.
        ("2027-07-05", "Mon 05 Jul 09:00 Europe/Berlin", "07:00 UTC", "Alex Rivera │ Sam Okafor"),
        ("2027-01-04", "Mon 04 Jan 09:00 Europe/Berlin", "08:00 UTC", "Sam Okafor │ Alex Rivera"),
    ],
)
def test_berlin_handoff_is_0900_local_in_summer_and_winter(
    week: str, local: str, utc: str, handover: str
) -> None:
    output = show(week)
    assert f"│ Platform primary │ {local} │ {utc} │ {handover} │" in output


def test_square_brackets_in_names_and_keys_are_text_not_markup(prod_data, write_config) -> None:
    # Rich reads "[/x]" as a closing tag: printed as markup it ended in exit 70 (and
    # "[bold]" vanished from messages).
    prod_data["people"][0]["name"] = "Alex [/x] Rivera"
    config = write_config(prod_data)
    shown = irctl("oncall", "show", "--config", str(config))
    assert shown.returncode == 0, shown.stderr
    assert "Alex [/x] Rivera" in shown.stdout

    config.write_text(config.read_text() + '"[/x]": 1\n"[bold]typo": 2\n')
    checked = irctl("config", "check", "--config", str(config))
    assert checked.returncode == 2, checked.stderr
    message = " ".join(checked.stderr.split())
    assert "unknown key '[/x]'" in message and "unknown key '[bold]typo'" in message
    diffed = irctl("diff", "--config", str(config), "--base", "HEAD")
    assert diffed.returncode == 2, diffed.stderr
    assert "unknown key '[/x]'" in " ".join(diffed.stderr.split())


def test_a_week_without_a_handoff_still_shows_the_next_one() -> None:
    # 2027-01-11 starts an odd week of the two-week turns: the primary hands off the Monday
    # after, which the two-week view (like the on-call table above it) shows.
    output = show("2027-01-11")
    assert "│ Platform primary │ Mon 18 Jan 09:00 Europe/Berlin │ 08:00 UTC │" in output
