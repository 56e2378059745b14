"""Every rule has a fixture, every fixture a rule, and each fixture's scan
output and patch match the reviewed snapshots in fixtures/<rule-id>/snapshots/.

Refresh with `.venv/bin/pgrewrite test --update RULE-ID` (or `./run tests
tests/test_fixtures.py --snapshot-update`), then review the snapshot diff
like code.
"""
from __future__ import annotations

import pytest

from pgrewrite import ruletest

from .conftest import REPO

FIXTURES = REPO / "fixtures"


def test_every_rule_has_a_fixture_and_every_fixture_a_rule(engine):
    assert ruletest.coverage_problems(engine, FIXTURES) == []


@pytest.mark.parametrize("fixture", [p.name for p in ruletest.fixture_dirs(FIXTURES)])
def test_fixture_snapshot(fixture, engine, snapshot):
    d = FIXTURES / fixture
    scan, patch = ruletest.render_fixture(engine, d)
    snapshot.snapshot_dir = d / "snapshots"
    snapshot.assert_match(scan, "scan.txt")
    snapshot.assert_match(patch, "patch.diff")
