"""A loader nothing can break: every bad file is refused with file:line and what is allowed,
exit code 2, never a traceback or "internal error" (exit 70)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from orgconfig.load import ConfigError, parse_config
from orgconfig.yamlsafe import MAX_ALIAS_EXPANSION, MAX_ALIASES
from tests.conftest import PROD

BASE = PROD.read_text()


def refused(text: str, **kwargs: Any) -> list[str]:
    with pytest.raises(ConfigError) as caught:
        parse_config(text, "org.yaml", **kwargs)
    return [str(p) for p in caught.value.problems]


def line_of(text: str, needle: str, occurrence: int = 1) -> int:
    lines = [n for n, line in enumerate(text.splitlines(), start=1) if needle in line]
    return lines[occurrence - 1]


def irctl_check(path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "irctl", "config", "check", "--config", str(path), *args],
        capture_output=True,
        text=True,
        timeout=120,
    )


# -------------------------------------------------------------------- duplicate keys


DUPLICATE_URGENCY = BASE.replace(
    "    urgency: high\n    status_page_component: api\n",
    "    urgency: high\n    urgency: low\n    status_page_component: api\n",
    1,
)


def test_duplicate_key_names_both_lines() -> None:
    first = line_of(DUPLICATE_URGENCY, "urgency: high")
    (problem,) = refused(DUPLICATE_URGENCY)
    assert problem.startswith(f"org.yaml:{first + 1}: services[0].urgency: duplicate key")
    assert f"first at line {first}, again at line {first + 1}" in problem


def test_duplicate_keys_are_listed_with_the_other_problems() -> None:
    text = DUPLICATE_URGENCY.replace("repeat: 2", "repeat: 12")
    problems = refused(text)
    assert len(problems) == 2  # in line order
    assert "escalation_policies[0].repeat" in problems[0]
    assert "duplicate key 'urgency'" in problems[1]


def test_the_same_key_in_different_mappings_is_fine() -> None:
    assert parse_config(BASE, "org.yaml").services[0].urgency == "high"


# -------------------------------------------------------------------- aliases


def laughs(levels: int, width: int) -> str:
    """The "billion laughs": each level lists the previous one `width` times."""
    text = 'l0: &l0 ["lol", "lol"]\n'
    for level in range(1, levels + 1):
        refs = ", ".join([f"*l{level - 1}"] * width)
        text += f"l{level}: &l{level} [{refs}]\n"
    return text + BASE


def test_billion_laughs_is_refused_with_its_line() -> None:
    problems = refused(laughs(levels=9, width=9))
    assert len(problems) == 1
    assert "org.yaml:" in problems[0]
    assert f"expand to more than {MAX_ALIAS_EXPANSION:,} extra values" in problems[0]


def test_doubling_chain_within_the_alias_count_is_refused() -> None:
    # 2 aliases per level, 40 levels: 80 aliases (under the count budget), 2^40 values.
    problems = refused(laughs(levels=40, width=2))
    assert "alias bomb" in problems[0]


def test_too_many_aliases_are_refused_before_composing() -> None:
    anchors = "a: &a x\nmany: [" + ", ".join(["*a"] * (MAX_ALIASES + 1)) + "]\n"
    (problem,) = refused(anchors + BASE)
    assert problem.startswith("org.yaml:2: ")
    assert f"more than {MAX_ALIASES} YAML aliases" in problem


def test_a_cycle_is_refused() -> None:
    (problem,) = refused("loop: &l [1, *l]\n" + BASE)
    assert "org.yaml:1:" in problem and "cycle" in problem


def test_a_few_anchors_still_work() -> None:
    text = BASE.replace(
        "    acknowledgement_timeout: 30m\n    urgency: high\n    status_page_component: api\n",
        "    acknowledgement_timeout: &ack 30m\n    urgency: high\n"
        "    status_page_component: api\n",
        1,
    ).replace(
        "    acknowledgement_timeout: 30m\n    urgency: high\n    status_page_component: web\n",
        "    acknowledgement_timeout: *ack\n    urgency: high\n    status_page_component: web\n",
        1,
    )
    assert "*ack" in text
    org = parse_config(text, "org.yaml")
    assert org.service("web").acknowledgement_timeout == org.service("api").acknowledgement_timeout


def test_deep_nesting_is_refused() -> None:
    problems = refused(BASE + "deep: " + "[" * 60 + "]" * 60 + "\n")
    assert "nested more than" in problems[0] or "nesting depth" in problems[0]


# -------------------------------------------------------------------- out-of-range scalars


def test_huge_integer_names_its_line_and_the_range() -> None:
    text = BASE.replace("repeat: 2", "repeat: " + "9" * 5000)
    (problem,) = refused(text)
    assert problem.startswith(f"org.yaml:{line_of(text, 'repeat:')}: escalation_policies[0].repeat")
    assert "(5,000 digits) is out of range" in problem


def test_huge_duration_names_its_line_and_the_limit() -> None:
    text = BASE.replace("loop_after: 30m", "loop_after: 52000000000w")
    (problem,) = refused(text)
    assert problem.startswith(f"org.yaml:{line_of(text, 'loop_after')}: escalation_policies[0]")
    assert "'52000000000w' is longer than 3650d (10 years)" in problem


def test_infinity_is_not_a_threshold() -> None:
    text = BASE.replace(
        "database_connection_failures_per_minute: 1",
        "database_connection_failures_per_minute: .inf",
    )
    (problem,) = refused(text)
    assert "alerting.thresholds.database_connection_failures_per_minute" in problem
    assert "'.inf' is not a finite number" in problem


def test_impossible_date_names_its_line() -> None:
    text = BASE.replace("first_handoff: 2026-01-05", "first_handoff: 2026-13-05", 1)
    (problem,) = refused(text)
    assert problem.startswith(f"org.yaml:{line_of(text, '2026-13-05')}: schedules[0].rotation")
    assert "'2026-13-05' is not a real date" in problem


def test_explicit_tags_with_bad_values_name_their_line() -> None:
    text = BASE.replace("repeat: 2", "repeat: !!int ''").replace(
        "  name: Modulo\n", "  name: Modulo\n  !!int 'x': 1\n", 1
    )
    problems = refused(text)
    assert any("escalation_policies[0].repeat: '' is not a valid int value" in p for p in problems)
    assert any("org.?: a key: 'x' is not a valid int value" in p for p in problems)


# -------------------------------------------------------------------- sizes


def test_description_over_pagerdutys_limit() -> None:
    text = BASE.replace(
        "description: The PostgreSQL cluster behind the API.", "description: " + "x" * 1025
    )
    (problem,) = refused(text)
    assert "services[2].description" in problem
    assert "at most 1024 characters" in problem


def test_person_name_over_pagerdutys_limit() -> None:
    (problem,) = refused(BASE.replace("name: Alex Rivera", "name: " + "A" * 101))
    assert "people[0].name" in problem and "at most 100 characters" in problem


def test_megabyte_field_is_refused_anywhere() -> None:
    text = BASE.replace("description: Checkout and billing.", "description: " + "x" * 1_000_000)
    (problem,) = refused(text)
    assert "status_page.groups[1].components[0].description" in problem
    assert "a value of 1,000,000 characters; at most 10,000" in problem


def test_oversized_file_is_refused_before_parsing() -> None:
    (problem,) = refused(BASE + "# " + "x" * 5_000_000 + "\n")
    assert "an org config may have at most 4,194,304" in problem


# -------------------------------------------------------------------- cross-field rules


def test_the_page_test_service_must_exist() -> None:
    text = BASE.replace("  - id: page-test", "  - id: paging-selftest")
    (problem,) = refused(text, page_test_service="page-test")
    assert problem.startswith(f"org.yaml:{line_of(text, 'services:')}: services: ")
    assert "no service 'page-test'" in problem and "pageTestService" in problem
    assert parse_config(text, "org.yaml", page_test_service="paging-selftest")


# -------------------------------------------------------------------- the CLI


@pytest.mark.parametrize(
    ("name", "text", "expected"),
    [
        ("duplicate", DUPLICATE_URGENCY, "duplicate key 'urgency'"),
        ("bomb", laughs(levels=9, width=9), "alias bomb"),
        ("integer", BASE.replace("repeat: 2", "repeat: " + "9" * 5000), "out of range"),
        ("duration", BASE.replace("loop_after: 30m", "loop_after: 9999999999w"), "10 years"),
    ],
)
def test_cli_exits_2_with_file_and_line(
    tmp_path: Path, name: str, text: str, expected: str
) -> None:
    path = tmp_path / f"{name}.yaml"
    path.write_text(text)
    result = irctl_check(path)
    assert result.returncode == 2, result.stderr
    assert f"{path}:" in result.stderr and expected in " ".join(result.stderr.split())
    assert "Traceback" not in result.stderr and "internal error" not in result.stderr


def test_cli_refuses_a_config_without_the_stacks_page_test_service(tmp_path: Path) -> None:
    path = tmp_path / "org.yaml"
    path.write_text(BASE.replace("  - id: page-test", "  - id: paging-selftest"))
    result = irctl_check(path, "--stack", "prod")
    assert result.returncode == 2
    assert "no service 'page-test'" in result.stderr


# -------------------------------------------------------------------- property: never crash

BASE_DATA = yaml.safe_load(BASE)
JUNK = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(10**30), max_value=10**30),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=30),
    st.sampled_from(["15m", "0m", "99999999999w", "25:99", "2026-02-30", "Europe/Nowhere", "*"]),
    st.lists(st.integers(), max_size=3),
    st.dictionaries(st.text(max_size=5), st.integers(), max_size=2),
)


def leaf_paths(value: Any, path: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    if isinstance(value, dict):
        return [p for k, v in value.items() for p in leaf_paths(v, (*path, k))] + [path]
    if isinstance(value, list):
        return [p for i, v in enumerate(value) for p in leaf_paths(v, (*path, i))] + [path]
    return [path]


PATHS = [p for p in leaf_paths(BASE_DATA) if p]


def replaced(data: Any, path: tuple[Any, ...], value: Any) -> Any:
    if not path:
        return value
    head, rest = path[0], path[1:]
    if isinstance(data, dict):
        return {**data, head: replaced(data[head], rest, value)}
    copy = list(data)
    copy[head] = replaced(data[head], rest, value)
    return copy


def assert_clean_outcome(text: str) -> None:
    try:
        parse_config(text, "org.yaml", page_test_service="page-test")
    except ConfigError as exc:
        assert exc.problems and all(str(p).startswith("org.yaml") for p in exc.problems)


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.tuples(st.sampled_from(PATHS), JUNK), min_size=1, max_size=4))
def test_mutated_values_load_or_are_refused(mutations: list[tuple[tuple[Any, ...], Any]]) -> None:
    data: Any = BASE_DATA
    for path, value in mutations:
        try:
            data = replaced(data, path, value)
        except (KeyError, IndexError, TypeError):
            continue  # an earlier mutation removed this path
    assert_clean_outcome(yaml.safe_dump(data, sort_keys=False))


TEXT_EDITS = ["", ":", "\n", "&a ", "*a", "- ", "  ", "{", "[", "'", "\t", "!!int ", "<<: *a\n"]
TEXT_EDITS += ["? ", "!!binary ", "%YAML 1.1\n", "---\n", "~", ".nan", "0x", "1e999"]


@settings(max_examples=60, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.integers(min_value=0, max_value=len(BASE) - 1),
            st.sampled_from(TEXT_EDITS),
            st.integers(min_value=0, max_value=5),
        ),
        min_size=1,
        max_size=3,
    )
)
def test_mutated_text_loads_or_is_refused(edits: list[tuple[int, str, int]]) -> None:
    text = BASE
    for at, insert, delete in edits:
        at = min(at, len(text))
        text = text[:at] + insert + text[at + delete :]
    assert_clean_outcome(text)
