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
