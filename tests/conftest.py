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


def kernel_tree() -> Path | None:
    """The real 6.12 tree: $PGREWRITE_KERNEL, else where scripts/get-kernel
    unpacks it (it is fetched by `./run tests`), else None."""
    import os
    if os.environ.get("PGREWRITE_KERNEL"):
        return Path(os.environ["PGREWRITE_KERNEL"])
    cache = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "pgrewrite" / "linux-source-6.12"
    if (cache / ".complete").is_file():
        return cache
    local = Path("/work/kernel/linux-source-6.12")
    return local if (local / "include" / "linux").is_dir() else None


@pytest.fixture(scope="session")
def kernel():
    tree = kernel_tree()
    if tree is None:
        pytest.skip("no kernel tree: run scripts/get-kernel (./run tests does) or set PGREWRITE_KERNEL")
    return tree


def copy_rules(to: Path, clashes: str | None = None) -> Path:
    """A copy of the shipped rules in `to` whose clashes.yaml is `clashes`
    (None: no clashes.yaml, so every clash blocks its name as it is found)."""
    import shutil
    shutil.copytree(REPO / "semantic-rules", to, ignore=shutil.ignore_patterns("clashes.yaml"))
    if clashes is not None:
        (to / "clashes.yaml").write_text(clashes)
    return to


@pytest.fixture(scope="session")
def rules_without_clashes(tmp_path_factory) -> Path:
    return copy_rules(tmp_path_factory.mktemp("rules") / "semantic-rules")
