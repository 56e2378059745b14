"""Shared fixtures for the test suite."""
from __future__ import annotations

import os
import shutil
import sys
import textwrap
from pathlib import Path

import pytest

from pgrewrite import api

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "scripts"))
from kernel_tree import find_kernel  # noqa: E402

from .test_robustness_support import unprivileged_prefix  # noqa: E402


def rules_with_mined(tmp_path: Path, mined_text: str) -> Path:
    """A copy of the shipped rules whose units-mined.yaml is `mined_text`
    (dedented): what the scan reads from mined data, in isolation."""
    d = tmp_path / "semantic-rules"
    shutil.copytree(REPO / "semantic-rules", d, ignore=shutil.ignore_patterns("units-mined.yaml"))
    (d / "units-mined.yaml").write_text(textwrap.dedent(mined_text))
    return d


@pytest.fixture(scope="session", autouse=True)
def config_home(tmp_path_factory) -> Path:
    """Every test, and every process a test starts, has its own configuration
    directory: pgrewrite keeps the user's cache key there (cachekey.py), and
    no test may read or write the real user's (~/.config/pgrewrite). One for
    the session, so that a rules cache shared by tests stays valid; a test
    that needs another sets XDG_CONFIG_HOME itself (monkeypatch)."""
    old = os.environ.get("XDG_CONFIG_HOME")
    home = tmp_path_factory.mktemp("config")
    os.environ["XDG_CONFIG_HOME"] = str(home)
    yield home
    if old is None:
        os.environ.pop("XDG_CONFIG_HOME", None)
    else:
        os.environ["XDG_CONFIG_HOME"] = old


@pytest.fixture(scope="session")
def ruleset():
    return api.load_rules()


@pytest.fixture(scope="session")
def engine(ruleset):
    return api.Engine(ruleset)


def kernel_tree() -> Path | None:
    """The pinned 6.12.117 tree as `scripts/get-kernel --no-fetch` finds it
    ($PGREWRITE_KERNEL, else its cache; `./run tests` fetches it), else None.
    Every test and benchmark finds the tree through that one script."""
    return find_kernel(REPO)


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


@pytest.fixture
def unprivileged(tmp_path) -> list[str]:
    """The command prefix under which a mode-000 file or directory refuses a
    process (setpriv for root); the test is skipped where there is none."""
    got = unprivileged_prefix(tmp_path)
    if got is None:
        pytest.skip("cannot run a process that is refused a mode-000 file or directory here (root without setpriv)")
    return got
