"""Run from a directory outside the tree (`~/pgrewrite/.venv/bin/pgrewrite
scan ~/linux/mm` from the checkout), every command prints paths relative to
the tree root, never `../../<the tree's absolute path>/mm/...`, and says once
which root that is; inside the tree nothing changes."""
from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest
from click.testing import CliRunner

from pgrewrite.cli import cli
from pgrewrite.shownpaths import path_view

SAMPLE = Path(__file__).parent.parent / "sample-tree"


@pytest.fixture
def places(tmp_path, monkeypatch):
    """(the tree, a directory outside it); the cwd is the latter."""
    tree = tmp_path / "src" / "linux"
    shutil.copytree(SAMPLE, tree)
    for cmd in (["init", "-q"], ["add", "-A"],
                ["-c", "user.name=t", "-c", "user.email=t@example.org", "commit", "-qm", "base"]):
        subprocess.run(["git", *cmd], cwd=tree, check=True)
    elsewhere = tmp_path / "work" / "checkout"
    elsewhere.mkdir(parents=True)
    monkeypatch.chdir(elsewhere)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    return tree, elsewhere


def run(*args, code=0):
    r = CliRunner().invoke(cli, [str(a) for a in args], catch_exceptions=False)
    assert r.exit_code == code, r.output
    return r


def test_the_view_maps_into_the_tree_and_leaves_the_rest(tmp_path):
    tree, out = tmp_path / "linux", tmp_path / "x"
    (tree / "mm").mkdir(parents=True)
    out.mkdir()
    view = path_view(tree, out)
    assert view.base == tree
    assert view("../linux/mm/memory.c") == "mm/memory.c"
    assert view(str(tree / "mm/memory.c")) == "mm/memory.c"
    assert view("../elsewhere/a.c") == "../elsewhere/a.c"          # not in the tree: as given
    (tmp_path / "link").symlink_to(tree)
    assert view("../link/mm/memory.c") == "mm/memory.c"
    # inside the tree, or no tree: paths stay relative to the working directory
    assert path_view(tree, tree / "mm").base is None
    assert path_view(tree, tree).base is None
    assert path_view(None, out)("a.c") == "a.c"


def test_scan_formats_print_paths_from_the_tree_root_and_name_it(places):
    tree, _ = places
    text = run("scan", tree / "mm", "--no-cache").stdout
    lines = text.splitlines()
    assert lines[0] == f"pgrewrite: Entering directory '{tree}'"       # what make prints: editors follow it
    sites = [ln for ln in lines[1:] if not ln.startswith(("summary:", "note:"))]
    assert sites and all(ln.startswith("mm/") for ln in sites)
    assert "../" not in text
    assert f"summary: paths are relative to the tree root {tree}" in text
    for ln in sites:                   # each path opens from the root it names
        assert (tree / ln.split(":", 1)[0]).is_file()

    doc = json.loads(run("scan", tree / "mm", "--format", "json", "--no-cache").stdout)
    assert doc["paths_relative_to"] == str(tree)
    assert {s["path"].split("/", 1)[0] for s in doc["sites"]} == {"mm"}

    sarif = json.loads(run("scan", tree / "mm", "--format", "sarif", "--no-cache").stdout)
    run_ = sarif["runs"][0]
    assert run_["originalUriBaseIds"]["%SRCROOT%"]["uri"] == tree.as_uri() + "/"
    assert all(r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"].startswith("mm/")
               for r in run_["results"])

    report = run("scan", tree / "mm", "--format", "report", "--no-cache").stdout.splitlines()
    assert report[0] == f"pgrewrite: Entering directory '{tree}'" and report[1].startswith("mm/")
    org = run("scan", tree / "mm", "--format", "org", "--no-cache").stdout.splitlines()
    assert org[0] == f"# paths are relative to {tree}" and "[[view:mm/" in org[1]

    run("scan", tree / "mm", "--format", "html", "-o", "r.html", "--no-cache")
    page = Path("r.html").read_text()
    assert f"paths are relative to the tree root {tree}" in page
    assert f"cd {tree} &amp;&amp; pgrewrite decide mm/" in page
    assert 'class="code' in page                # the code around each site was read from the tree

    Path("old.json").write_text(json.dumps(doc))
    cmp = run("scan", tree / "mm", "--compare", "old.json", "--no-cache").stdout
    assert cmp.splitlines()[0] == f"pgrewrite: Entering directory '{tree}'"


def test_inside_the_tree_paths_stay_relative_to_the_working_directory(places, monkeypatch):
    tree, _ = places
    monkeypatch.chdir(tree / "mm")
    text = run("scan", ".", "--no-cache").stdout
    assert "Entering directory" not in text and "paths are relative" not in text
    assert text.startswith("filemap.c:")
    doc = json.loads(run("scan", ".", "--format", "json", "--no-cache").stdout)
    assert "paths_relative_to" not in doc


def test_explain_coverage_decide_and_apply_from_outside(places):
    tree, elsewhere = places
    memory = tree / "mm" / "memory.c"
    line = next(i for i, t in enumerate(memory.read_text().splitlines(), 1) if "addr += PAGE_SIZE" in t)

    out = run("explain", f"{memory}:{line}").stdout.splitlines()
    assert out[0] == f"pgrewrite: Entering directory '{tree}'"
    assert out[1].startswith(f"mm/memory.c:{line}:")
    r = run("explain", f"{memory}:9999", code=2)
    assert "error: mm/memory.c:9999: the file has" in r.output

    cov = run("coverage", tree, "--no-cache").stdout
    assert cov.splitlines()[0] == f"pgrewrite: Entering directory '{tree}'"
    assert "e.g. ../" not in cov and "e.g. mm/" in cov

    # the decision goes into the site's tree, not the working directory's
    r = run("decide", f"{memory}:{line}", "pte", "-m", "walks PTEs")
    assert r.stdout.startswith(f"{tree / 'pgrewrite-decisions.yaml'}: mm/memory.c:")
    assert sorted(p.name for p in elsewhere.iterdir()) == []
    status = subprocess.run(["git", "status", "--short"], cwd=tree, capture_output=True, text=True).stdout
    assert status == "?? pgrewrite-decisions.yaml\n"          # and no lock file beside it
    text = run("scan", memory, "--no-cache").stdout
    assert f"mm/memory.c:{line}:" in text and "[person]" in text

    r = run("apply", tree / "mm", "--no-cache")
    assert r.stderr.splitlines()[0] == f"pgrewrite: Entering directory '{tree}'"
    assert "rewrote mm/memory.c:" in r.stdout and "../" not in r.output
    assert "PTE_SIZE" in memory.read_text()


def test_a_vanished_decision_is_reported_from_anywhere(places, monkeypatch):
    tree, _ = places
    memory = tree / "mm" / "memory.c"
    line = next(i for i, t in enumerate(memory.read_text().splitlines(), 1) if "addr += PAGE_SIZE" in t)
    run("decide", f"{memory}:{line}", "pte")
    memory.write_text(memory.read_text().replace("addr += PAGE_SIZE", "addr += PAGE_SIZE * 1"))
    for cwd in (Path.cwd(), tree / "mm", tree):
        monkeypatch.chdir(cwd)
        r = run("scan", memory, "--no-cache")
        assert "vanished: mm/memory.c:" in r.stderr, cwd
