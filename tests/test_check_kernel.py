"""Reverse the series (issue 20): on a copy of `mm arch/x86 include` of the
pinned 6.12.117 tree, make the series with `pgrewrite series`, apply it with
`git am --empty=drop`, and turn each patch around (`git diff -R` of its
commit), so that it re-introduces PAGE_* where the series renamed it.
`check` on the reversed patches must report every re-introduced use and
suggest exactly the name the series used; the counts must match.

The reversed patches are checked in one run, last patch first: applied in
memory on top of each other, each one meets the tree as it was right after
its own commit, which is the tree its `git diff -R` is made against.
"""
from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest
from click.testing import CliRunner

from pgrewrite.cli import cli

pytestmark = [pytest.mark.kernel, pytest.mark.slow]

WORD = re.compile(rb"[A-Za-z_]\w*")


def git(cwd: Path, *args: str) -> str:
    return subprocess.run(["git", *args], cwd=cwd, check=True, capture_output=True).stdout.decode()


def renamed_uses(patch: bytes, family: set[str]) -> set[tuple[int, int, str, str]]:
    """(patch line, column in the file, PAGE_* name, the name the series used)
    of each family name a reversed patch puts back: its added lines pair
    with its removed lines one to one (a rename changes no line count),
    word for word."""
    lines = patch.split(b"\n")
    out = set()
    i = 0
    while i < len(lines):
        if not (lines[i].startswith(b"-") and not lines[i].startswith(b"--- ")):
            i += 1
            continue
        j = i
        while j < len(lines) and lines[j].startswith(b"-"):
            j += 1
        k = j
        while k < len(lines) and lines[k].startswith(b"+") and not lines[k].startswith(b"+++ "):
            k += 1
        if k - j == j - i:
            for n, (old, new) in enumerate(zip(lines[i:j], lines[j:k])):
                ow, nw = list(WORD.finditer(old[1:])), list(WORD.finditer(new[1:]))
                assert len(ow) == len(nw), (old, new)
                for a, b in zip(ow, nw):
                    if a.group() != b.group() and b.group().decode() in family:
                        out.add((j + n + 1, b.start() + 1, b.group().decode(), a.group().decode()))
        i = k
    return out


@pytest.fixture(scope="module")
def reversed_series(kernel, tmp_path_factory):
    tmp = tmp_path_factory.mktemp("reverse")
    tree = tmp / "linux"
    for part in ("mm", "arch/x86", "include", "MAINTAINERS"):
        (tree / part).parent.mkdir(parents=True, exist_ok=True)
        src = kernel / part
        shutil.copytree(src, tree / part) if src.is_dir() else shutil.copy2(src, tree / part)
    env = {"GIT_CONFIG_GLOBAL": "/dev/null", "GIT_CONFIG_SYSTEM": "/dev/null"}
    mp = pytest.MonkeyPatch()
    for k, v in env.items():
        mp.setenv(k, v)
    mp.setenv("XDG_CACHE_HOME", str(tmp / "cache"))
    mp.chdir(tree)
    git(tree, "init", "-q")
    git(tree, "config", "user.name", "Ann Author")
    git(tree, "config", "user.email", "ann@example.org")
    git(tree, "add", "-A")
    git(tree, "commit", "-qm", "6.12.117: mm arch/x86 include")
    base = git(tree, "rev-parse", "HEAD").strip()
    r = CliRunner().invoke(cli, ["series", "mm", "arch/x86", "include", "-o", str(tmp / "out"),
                                 "--no-get-maintainer", "-j", "2"], catch_exceptions=False)
    assert r.exit_code == 0, r.output
    renames = int(re.search(r"(\d+) renames", r.output).group(1))
    git(tree, "am", "--empty=drop", *sorted(map(str, (tmp / "out").glob("*.patch"))))
    reversed_patches = []
    for n, commit in enumerate(git(tree, "rev-list", "--reverse", f"{base}..HEAD").split(), 1):
        p = tmp / "reversed" / f"{n:04d}.diff"
        p.parent.mkdir(exist_ok=True)
        p.write_bytes(subprocess.run(["git", "diff", "-R", f"{commit}~1", commit], cwd=tree, check=True,
                                     capture_output=True).stdout)
        reversed_patches.append(p)
    r = CliRunner().invoke(cli, ["check", "--format", "json", *map(str, reversed(reversed_patches))],
                           catch_exceptions=False)
    mp.undo()
    return renames, reversed_patches, r


def test_check_suggests_every_name_the_series_used(reversed_series, ruleset):
    renames, patches, r = reversed_series
    doc = json.loads(r.stdout)
    assert doc["errors"] == [] and doc["failed"] == [], doc["errors"][:3] + doc["failed"][:3]
    assert r.exit_code in (6, 7), r.stderr
    family = set(ruleset.family.names)
    expected_total = 0
    for p in patches:
        expected = renamed_uses(p.read_bytes(), family)
        got = {(f["patch_line"], f["col"], f["token"], f["replacement"]) for f in doc["findings"]
               if f["patch"] == str(p) and f["verdict"] in ("pte", "pg")}
        assert got == expected, (p.name, sorted(expected - got)[:5], sorted(got - expected)[:5])
        expected_total += len(expected)
    # every rename of the series came back, and was found again
    assert expected_total == renames
    assert doc["summary"]["renames"] == renames
    # uses the series left alone on the lines it changed are reported for a person
    assert all(f["needs_person"] for f in doc["findings"] if f["verdict"] not in ("pte", "pg"))
