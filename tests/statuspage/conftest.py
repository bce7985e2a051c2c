"""Shared fixtures of the status page tests."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from live_service import Live, make_config, start_service


@pytest.fixture
def live(tmp_path: Path) -> Iterator[Live]:
    yield from start_service(make_config(), f"sqlite:///{tmp_path / 'status.db'}")()
