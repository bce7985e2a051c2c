"""Layers that stay in order (STYLE.md, "the shape of the house"), read from the source with
`ast`: the typed model and the pure builders never import Pulumi, the components, the CLI or
the sandbox; the sandbox never imports the CLI; the status page imports none of the IaC code
(it reads the config file the IaC renders). The plan recorder and redaction that
`deploy/render.py` uses live below the CLI, in `iac/`."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from tests.conftest import ROOT

BUILDERS = ["orgconfig", "oncall", "alerts", "deploy", "learning"]
UPPER = ["pulumi", "pulumi_kubernetes", "pulumi_pagerduty", "pulumi_policy", "components",
         "irctl", "sandbox"]  # fmt: skip
IAC = [*UPPER, "iac", "orgconfig", "oncall", "alerts", "deploy", "learning", "policy"]
RULES: dict[str, list[str]] = {
    **{package: UPPER for package in BUILDERS},
    "sandbox": ["irctl"],
    "statuspage": IAC,
}


def imported_modules(path: Path, root: Path = ROOT) -> list[str]:
    """Every module a file imports, at the top or inside functions (relative ones resolved)."""
    tree = ast.parse(path.read_text(), str(path))
    package = ".".join(path.relative_to(root).with_suffix("").parts[:-1])
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.rsplit(".", node.level - 1)[0] if node.level > 1 else package
                found.append(f"{base}.{node.module}" if node.module else base)
            elif node.module:
                found.append(node.module)
    return found


def forbidden(module: str, banned: list[str]) -> bool:
    return any(module == b or module.startswith(f"{b}.") for b in banned)


def violations(rules: dict[str, list[str]] = RULES, root: Path = ROOT) -> list[str]:
    out = []
    for package, banned in rules.items():
        for path in sorted((root / package).rglob("*.py")):
            relative = path.relative_to(root).as_posix()
            for module in imported_modules(path, root):
                if forbidden(module, banned):
                    out.append(f"{relative} imports {module}")
    return out


def test_builders_model_sandbox_and_status_page_import_only_downwards() -> None:
    assert violations() == []


@pytest.mark.parametrize(
    ("package", "source", "expected"),
    [
        ("deploy", "import pulumi\n", "imports pulumi"),
        ("alerts", "def f():\n    from irctl.common import fail\n", "imports irctl.common"),
        ("sandbox", "from irctl import cli\n", "imports irctl"),
        ("statuspage", "from orgconfig.model import OrgConfig\n", "imports orgconfig.model"),
        ("learning", "import components.stack\n", "imports components.stack"),
    ],
)
def test_a_planted_upward_import_is_named(
    package: str, source: str, expected: str, tmp_path: Path
) -> None:
    (tmp_path / package / "sub").mkdir(parents=True)
    (tmp_path / package / "clean.py").write_text("import yaml\nfrom . import sub\n")
    (tmp_path / package / "sub" / "planted.py").write_text(source)
    found = violations({package: RULES[package]}, tmp_path)
    assert found == [f"{package}/sub/planted.py {expected}"]
