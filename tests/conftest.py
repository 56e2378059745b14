"""Shared fixtures for the test suite."""
from __future__ import annotations

from pathlib import Path

import pytest

from pgrewrite import api

REPO = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="session")
def ruleset():
    return api.load_rules()


@pytest.fixture(scope="session")
def engine(ruleset):
    return api.Engine(ruleset)
