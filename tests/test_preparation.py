"""The existing definitions of the new names (definitions.py) and the
preparation stage (preparation.py): one model and one finder for the
collision index and the plan; the plan made after the index, from its
definitions, and cached under a key of its own."""
from __future__ import annotations

import dataclasses

import pytest

from pgrewrite import api, cachefile, preparation, store
from pgrewrite import collisions as coll
from pgrewrite.definitions import find_definitions, new_names
from pgrewrite.family import Family, Member

from .conftest import copy_rules
from .test_clashes import CLASH, X86_ENTRY
from .test_series import FILES, make_tree


@pytest.fixture(autouse=True)
def isolated(monkeypatch, tmp_path):
    monkeypatch.setenv("GIT_CONFIG_GLOBAL", "/dev/null")
    monkeypatch.setenv("GIT_CONFIG_SYSTEM", "/dev/null")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    # the files were just written: trust their stat at once
    monkeypatch.setattr(store, "STALE_NS", 0)


def test_new_names_are_the_familys_in_the_first_patchs_order():
    fam = Family((Member("PAGE_SIZE", "PTE_SIZE", "PG_SIZE", False),
                  Member("PAGE_SHIFT", "PTE_SHIFT", "PG_SHIFT", False),
                  Member("PAGE_FRAG", "PTE_FRAG", "PG_FRAG", False)))
    assert new_names(fam) == ("PTE_SHIFT", "PTE_SIZE", "PG_SHIFT", "PG_SIZE", "PTE_FRAG", "PG_FRAG")
    shipped = api.load_rules().family
    assert set(new_names(shipped)) == set(shipped.replacements)


def test_one_finder_gives_scope_and_compatibility():
    lines = [
        ("arch/sh/include/asm/page.h", 3, "#define PTE_MASK\tPAGE_MASK\t/* the same */"),
        ("arch/x86/include/asm/pgtable.h", 6, "# define PTE_SHIFT ilog2(PTRS_PER_PTE)"),
        ("drivers/x/y.c", 9, "#define PG_SIZE 0x1000 /* the chip's page, which"),
        ("include/linux/mm.h", 40, "#define PG_ALIGN(addr)\tALIGN(addr, PG_SIZE)"),
        ("include/linux/mm.h", 41, "#define PTE_ALIGN(addr) \\"),
        ("Documentation/x.rst", 2, "\t#define PG_SIZE 4096"),
        ("mm/z.c", 1, "#define PG_SIZES 3"),
        ("mm/z.c", 2, "\tx = PG_SIZE;"),
    ]
    names = new_names(api.load_rules().family)
    found = {(d.path, d.line): d for d in find_definitions(lines, names)}
    assert sorted(found) == sorted(k for k in ((p, n) for p, n, _ in lines[:6]))
    sh, x86, drv, helper, continued, doc = (found[(p, n)] for p, n, _ in lines[:6])
    assert (sh.scope, x86.scope, drv.scope, helper.scope) == ("arch:sh", "arch:x86", "local", "global")
    assert sh.shared and not drv.shared
    assert sh.compatible and helper.compatible
    assert not x86.compatible and not drv.compatible and not continued.compatible
    assert drv.body == "0x1000"            # an unterminated comment runs to the line's end
    assert sh.is_alias_of("PAGE_MASK") and not x86.is_alias_of("PAGE_SHIFT")
    assert helper.is_own() and not sh.is_own()
    # the collision index reads C and assembly only
    graph = find_definitions(lines, names, coll.GRAPH_SUFFIXES)
    assert doc not in graph and len(graph) == 5


def clash_tree(tmp_path):
    return make_tree(tmp_path / "linux", {**FILES, **CLASH}, history=[])


def test_the_plan_is_cached_under_its_own_key(tmp_path, monkeypatch):
    tree = clash_tree(tmp_path)
    ruleset = api.load_rules(copy_rules(tmp_path / "rules", X86_ENTRY))
    cache = tmp_path / "cache"

    def scan(rules=ruleset):
        return api.scan_paths(["mm", "arch"], rules, jobs=1, cache_dir=cache, cwd=tree)

    cold = scan()
    assert [c.new_name for c in cold.preparation.clash_renames] == ["PTE_INDEX_BITS"]
    plans = list((cache / "includes").glob("*.plan"))
    assert len(plans) == 1

    # an unchanged tree: the plan is read, not made
    made = []
    real = preparation.defs_mod.prepare
    monkeypatch.setattr(preparation.defs_mod, "prepare", lambda *a, **k: made.append(1) or real(*a, **k))
    warm = scan()
    assert warm.preparation == cold.preparation and warm.notes == cold.notes
    assert made == []

    # another clashes.yaml is another key: its own plan, the first one kept
    other = api.load_rules(copy_rules(tmp_path / "rules-other", X86_ENTRY.replace("(9)", "(nine)")))
    renames = [(c.name, c.new_name, c.files) for c in cold.preparation.clash_renames]
    assert [(c.name, c.new_name, c.files) for c in scan(other).preparation.clash_renames] == renames
    assert made == [1]
    assert len(list((cache / "includes").glob("*.plan"))) == 2
    scan()
    assert made == [1]

    # a new file changes the index's fingerprint: the plan is made again
    (tree / "arch/x86/mm/more.c").write_text("#include <asm/pgtable.h>\nint more = PTE_SHIFT;\n")
    again = scan()
    assert made == [1, 1]
    assert set(again.preparation.clash_renames[0].files) == {*cold.preparation.clash_renames[0].files,
                                                             "arch/x86/mm/more.c"}


def test_an_unusable_plan_file_is_noted_and_made_again(tmp_path):
    tree = clash_tree(tmp_path)
    ruleset = api.load_rules(copy_rules(tmp_path / "rules", X86_ENTRY))
    cache = tmp_path / "cache"
    cold = api.scan_paths(["mm", "arch"], ruleset, jobs=1, cache_dir=cache, cwd=tree)
    (plan,) = (cache / "includes").glob("*.plan")
    cachefile.write(plan, {"fingerprint": "00", "preparation": {"definitions": 3}, "notes": []})
    plan.write_bytes(plan.read_bytes().replace(b'"00"', b'"zz"'))   # a checksum that no longer fits
    warm = api.scan_paths(["mm", "arch"], ruleset, jobs=1, cache_dir=cache, cwd=tree)
    assert warm.preparation == cold.preparation
    assert any("unusable cache file" in n and str(plan.name) in n for n in warm.notes), warm.notes


def test_series_and_verify_plan_with_the_familys_new_names_as_scan_does(tmp_path, monkeypatch):
    """One way to plan: a rules directory whose family.yaml has a name the
    shipped one lacks (PG_FRAG) has the private definition of that name
    renamed first by `series` and planned by `verify` as by `scan`/`apply`,
    not only the names of the shipped family."""
    from click.testing import CliRunner

    from pgrewrite.cli import cli
    from pgrewrite.verify import plan_preparation

    rules = copy_rules(tmp_path / "rules")
    family = rules / "family.yaml"
    family.write_text(family.read_text().rstrip("\n") + "\n  PAGE_FRAG: {pte: PTE_FRAG, pg: PG_FRAG}\n")
    frag = ("// SPDX-License-Identifier: GPL-2.0-only\n#include <linux/mm.h>\n\n#define PG_FRAG 3\n\n"
            "int frag(void)\n{\n\treturn PG_FRAG + PAGE_SIZE;\n}\n")
    tree = make_tree(tmp_path / "linux", {**FILES, "mm/frag.c": frag}, history=[])
    ruleset = api.load_rules(rules)
    scanned = api.scan_paths(["mm", "include"], ruleset, jobs=1, use_cache=False, cwd=tree)
    planned = {(r.definition.name, r.new_name) for r in scanned.preparation.renames}
    assert ("PG_FRAG", "FRAG_PG_FRAG") in planned
    # verify plans on its own when the scan made no plan: the same one
    again = plan_preparation(dataclasses.replace(scanned, preparation=None), tree, ruleset)
    assert {(r.definition.name, r.new_name) for r in again.renames} == planned
    monkeypatch.chdir(tree)
    res = CliRunner().invoke(cli, ["series", "mm", "include", "-o", str(tmp_path / "out"),
                                   "--rules", str(rules), "--no-get-maintainer"])
    assert res.exit_code == 0, res.output
    assert [p.name for p in sorted((tmp_path / "out").glob("*.patch"))][:2] == [
        "0000-cover-letter.patch", "0001-mm-frag-rename-PG_FRAG-to-FRAG_PG_FRAG.patch"]
