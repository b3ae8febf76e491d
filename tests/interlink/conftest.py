"""Fixtures for the interlink tests (helpers in linkdata.py)."""
from __future__ import annotations

from pathlib import Path

import pytest

from .linkdata import SHARED, features, make_synthetic


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """../shared/data next to the repository; tests that need it skip when it is absent."""
    data = SHARED / "data"
    if not data.is_dir():
        pytest.skip(f"real datasets not found at {data} (../shared is absent)")
    return data


@pytest.fixture(scope="session")
def synthetic():
    src, tgt = make_synthetic()
    return features(src, "s"), features(tgt, "t")
