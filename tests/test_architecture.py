"""The package's structure: layers that follow the data flow, no import
cycle (import-linter, contract in pyproject.toml), and a clean lint (ruff)."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from .conftest import REPO

BIN = Path(sys.executable).parent


def run(tool: str, *args: str) -> subprocess.CompletedProcess:
    env = dict(os.environ, PYTHONPATH=str(REPO))
    return subprocess.run([str(BIN / tool), *args], cwd=REPO, env=env, capture_output=True, text=True)


def test_no_layer_imports_a_higher_one():
    r = run("lint-imports", "--no-cache")
    assert r.returncode == 0 and "1 kept, 0 broken" in r.stdout, r.stdout[-3000:] + r.stderr


def test_ruff_finds_nothing():
    r = run("ruff", "check", "pgrewrite", "tests", "scripts", "benchmarks")
    assert r.returncode == 0, r.stdout[-3000:] + r.stderr
