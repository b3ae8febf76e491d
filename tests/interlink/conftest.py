"""Fixtures for the interlink tests (helpers in linkdata.py)."""
from __future__ import annotations

import pytest

from .linkdata import features, make_synthetic


@pytest.fixture(scope="session")
def synthetic():
    src, tgt = make_synthetic()
    return features(src, "s"), features(tgt, "t")
