"""`pgrewrite coverage`: per-directory verdict counts and what is left undecided.

The snapshot uses the bundled sample tree and a frozen copy of a few rules
(tests/data/coverage/rules), so it changes when the report or the sample
tree changes, not whenever a rule is added. Refresh with --snapshot-update
and review the diff.
"""
from __future__ import annotations

import json

from click.testing import CliRunner

from pgrewrite.cli import cli
from pgrewrite.commands.coverage import row_of

from .conftest import REPO

RULES = REPO / "tests" / "data" / "coverage" / "rules"
SNAPSHOTS = REPO / "tests" / "snapshots" / "coverage"


def _run(monkeypatch, *args):
    monkeypatch.chdir(REPO / "sample-tree")
    r = CliRunner().invoke(cli, ["coverage", ".", "--rules", str(RULES), "--no-cache", "-j", "1", *args])
    assert r.exit_code == 0, r.output
    return r.output


def test_rows():
    assert row_of("arch/x86/mm/tlb.c") == "arch/x86"
    assert row_of("arch/x86") == "arch/x86"
    assert row_of("arch/x86_64/foo.c") == "arch"
    assert row_of("arch/arm64/mm/mmu.c") == "arch"
    assert row_of("include/linux/mm.h") == "include/linux"
    assert row_of("include/asm-generic/page.h") == "include/asm-generic"
    assert row_of("include/uapi/linux/mman.h") == "include"
    assert row_of("mm/filemap.c") == "mm"
    assert row_of("setup.c") == "."


def test_rows_of_the_paths_given():
    from pgrewrite.commands.coverage import row_in
    given = ["mm/kasan", "mm/damon"]
    assert row_in("mm/kasan/common.c", given) == "mm/kasan"
    assert row_in("mm/kasan/hw/tags.c", given) == "mm/kasan/hw"
    assert row_in("mm/damon/core.c", given) == "mm/damon"
    assert row_in("mm/memory.c", ["mm"]) == "mm"
    assert row_in("mm/kfence/core.c", ["mm"]) == "mm/kfence"
    assert row_in("mm/kasan/init.c", ["mm", "mm/kasan"]) == "mm/kasan"
    assert row_in("arch/x86/mm/tlb.c", ["."]) == "arch/x86"        # the tree: its usual rows


def test_one_row_per_path_given_then_its_subdirectories(monkeypatch):
    monkeypatch.chdir(REPO / "sample-tree")
    r = CliRunner().invoke(cli, ["coverage", "arch/x86", "mm", "--rules", str(RULES), "--no-cache",
                                 "-j", "1", "--format", "json", "--no-shapes"])
    assert r.exit_code == 0, r.output
    assert [row["row"] for row in json.loads(r.stdout)["rows"]] == [
        "arch/x86/include", "arch/x86/kernel", "arch/x86/mm", "mm"]


def test_text_report_on_sample_tree(monkeypatch, snapshot):
    out = _run(monkeypatch)
    # the tree root is machine-specific: keep it out of the snapshot
    lines = out.splitlines(keepends=True)
    assert lines[0].startswith("tree: ")
    snapshot.snapshot_dir = SNAPSHOTS
    snapshot.assert_match("".join(lines[1:]), "sample-tree.txt")


def test_json_report_adds_up(monkeypatch):
    doc = json.loads(_run(monkeypatch, "--format", "json"))
    total = doc["total"]
    assert total["sites"] == sum(r["sites"] for r in doc["rows"])
    for v in ("pte", "pg", "logic", "conflict", "unknown", "skipped"):
        assert total[v] == sum(r[v] for r in doc["rows"])
    assert {r["row"] for r in doc["rows"]} >= {"mm", "arch/x86", "include/linux"}
    decided = total["pte"] + total["pg"] + total["logic"]
    assert total["decided_pct"] == round(100.0 * decided / total["sites"], 1)
    # every unknown site gets a shape; calls only where the site is an argument
    assert sum(x["count"] for x in doc["unknown_shapes"]) <= total["unknown"]
    assert all(x["example"].count(":") == 2 for x in doc["unknown_shapes"])
