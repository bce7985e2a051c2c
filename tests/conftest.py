"""Shared test helpers: the repo root and a factory for config variants."""

from __future__ import annotations

import copy
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

ROOT = Path(__file__).resolve().parent.parent
# Tests own their org (tests/fixtures/README.md): never the example org people edit.
PROD = ROOT / "tests" / "fixtures" / "modulo.yaml"
DEV = ROOT / "tests" / "fixtures" / "modulo-dev.yaml"


@pytest.fixture
def prod_data() -> dict[str, Any]:
    return yaml.safe_load(PROD.read_text())


@pytest.fixture
def write_config(tmp_path: Path) -> Callable[[dict[str, Any]], Path]:
    counter = iter(range(1000))

    def write(data: dict[str, Any]) -> Path:
        path = tmp_path / f"config-{next(counter)}.yaml"
        path.write_text(yaml.safe_dump(copy.deepcopy(data), sort_keys=False))
        return path

    return write
