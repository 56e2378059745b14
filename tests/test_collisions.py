"""Which existing definitions of the new names capture which files (include-graph model)."""
from __future__ import annotations

import dataclasses

from pathlib import Path

import shutil

import pytest

from pgrewrite import api, preparation, store
from pgrewrite import collisions as coll

NAMES = ("PTE_SIZE", "PG_SIZE", "PTE_SHIFT", "PG_SHIFT", "PTE_MASK", "PG_MASK")

TREE = {
    # x86: PTE_SHIFT in the arch-wide pgtable header, reached through <linux/mm.h>
    "arch/x86/include/asm/pgtable.h": "#ifndef _ASM_PGTABLE_H\n#include <asm/page.h>\n\n"
                                      "#define PTE_SHIFT ilog2(PTRS_PER_PTE)\n#endif\n",
    "arch/x86/include/asm/page.h": "#include <linux/types.h>\n",
    "arch/x86/include/asm/tlb.h": "/* x86 has its own: no pgtable.h here */\n",
    "arch/x86/mm/init.c": "#include <linux/mm.h>\n",
    "include/linux/types.h": "",
    "include/linux/mm.h": "#ifndef _LINUX_MM_H\n#define _LINUX_MM_H\n#include <linux/types.h>\n"
                          "#ifdef CONFIG_MMU\n# include <asm/pgtable.h>\n#endif\n#endif\n",
    "include/linux/pfn.h": "#define PFN_UP(x) (((x) + PAGE_SIZE-1) >> PAGE_SHIFT)\n",
    "include/linux/lonely.h": "#define LONELY PAGE_SIZE\n",
    "mm/foo.c": '#include <linux/mm.h>\n#include <linux/pfn.h>\n#include <generated/autoconf.h>\n',
    "mm/bar.c": "#include <linux/types.h>\n#include <linux/lonely.h>\n",
    # asm-generic: <asm/cache.h> is a generated wrapper on x86, so it reaches x86's pgtable.h
    "include/asm-generic/cache.h": "#include <asm/pgtable.h>\n",
    "mm/cache.c": "#include <asm/cache.h>\n",
    # ... but x86's own <asm/tlb.h> wins over asm-generic's
    "include/asm-generic/tlb.h": "#include <asm/pgtable.h>\n",
    "mm/tlb.c": "#include <asm/tlb.h>\n",
    # powerpc: PTE_SIZE in a header only KVM code includes
    "arch/powerpc/include/asm/kvm_book3s_32.h": "#define PTE_SIZE\t12\n",
    "arch/powerpc/include/asm/kvm_book3s.h": "#include <asm/kvm_book3s_32.h>\n",
    "arch/powerpc/include/asm/pgtable.h": "#include <asm/page.h>\n",
    "arch/powerpc/include/asm/page.h": "",
    "arch/powerpc/kvm/book3s.c": "#include <linux/mm.h>\n#include <asm/kvm_book3s.h>\n",
    "arch/powerpc/mm/init.c": "#include <linux/mm.h>\n",
    # driver-local definitions: in a .c file, and in a header next to it
    "drivers/foo/foo.c": "#include <linux/types.h>\n#define PG_SIZE 0x1000\n",
    "drivers/foo/wrap.c": '#include "foo.c"\n',
    "drivers/foo/other.c": "#include <linux/mm.h>\n",
    "drivers/bar/regs.h": "#define PG_MASK 0xffff\n",
    "drivers/bar/main.c": '#include "regs.h"\n',
    "drivers/bar/sub/deep.c": '#include "../regs.h"\n',
}


@pytest.fixture(scope="module")
def tree(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("linux")
    for rel, text in TREE.items():
        p = root / rel
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_text(text)
    return root


@pytest.fixture(scope="module")
def index(tree) -> coll.CollisionIndex:
    return coll.CollisionIndex.build(tree, NAMES)


def names_seen(index, rel):
    return {d.name: f"{d.path}:{d.line}" for d in index.visible(rel)}


def test_definitions_are_found_with_their_lines(index):
    assert [str(d) for d in index.definitions] == [
        "arch/powerpc/include/asm/kvm_book3s_32.h:1",
        "arch/x86/include/asm/pgtable.h:4",
        "drivers/bar/regs.h:1",
        "drivers/foo/foo.c:2",
    ]


def test_x86_pte_shift_captures_through_linux_mm_h(index):
    assert index.captured("mm/foo.c") == {"PTE_SHIFT": "arch/x86/include/asm/pgtable.h:4"}
    assert index.captured("arch/x86/mm/init.c") == {"PTE_SHIFT": "arch/x86/include/asm/pgtable.h:4"}
    assert index.captured("include/linux/mm.h")["PTE_SHIFT"] == "arch/x86/include/asm/pgtable.h:4"


def test_a_file_that_includes_nothing_relevant_is_not_captured(index):
    assert index.captured("mm/bar.c") == {}


def test_powerpc_kvm_header_does_not_reach_mm(index):
    assert "PTE_SIZE" not in index.captured("mm/foo.c")
    assert index.captured("arch/powerpc/kvm/book3s.c") == {"PTE_SIZE": "arch/powerpc/include/asm/kvm_book3s_32.h:1"}
    # powerpc code is built for powerpc only: x86's PTE_SHIFT never reaches it
    assert index.captured("arch/powerpc/mm/init.c") == {}


def test_asm_generic_wrapper_leads_back_to_the_arch(index):
    assert index.captured("mm/cache.c") == {"PTE_SHIFT": "arch/x86/include/asm/pgtable.h:4"}
    # x86 has its own asm/tlb.h; powerpc's asm-generic/tlb.h reaches powerpc's pgtable.h only
    assert index.captured("mm/tlb.c") == {}


def test_definition_in_a_c_file_is_visible_there_and_where_it_is_included(index):
    assert index.captured("drivers/foo/foo.c") == {"PG_SIZE": "drivers/foo/foo.c:2"}
    assert index.captured("drivers/foo/wrap.c") == {"PG_SIZE": "drivers/foo/foo.c:2"}
    assert "PG_SIZE" not in index.captured("drivers/foo/other.c")
    assert "PG_SIZE" not in index.captured("mm/foo.c")


def test_quoted_includes_resolve_relative_to_the_including_file(index):
    assert index.captured("drivers/bar/main.c") == {"PG_MASK": "drivers/bar/regs.h:1"}
    assert index.captured("drivers/bar/sub/deep.c") == {"PG_MASK": "drivers/bar/regs.h:1"}
    assert "PG_MASK" not in index.captured("mm/foo.c")


def test_a_header_sees_what_the_files_including_it_see(index):
    # pfn.h includes nothing, but its macros expand in mm/foo.c after <linux/mm.h>
    assert names_seen(index, "include/linux/pfn.h") == {"PTE_SHIFT": "arch/x86/include/asm/pgtable.h:4"}
    # its only includer, mm/bar.c, sees no definition
    assert index.captured("include/linux/lonely.h") == {}
    # mm.h is compiled in powerpc KVM code too, beside kvm_book3s_32.h: a macro of
    # mm.h renamed to PTE_SIZE would expand to 12 there
    assert names_seen(index, "include/linux/mm.h").keys() == {"PTE_SHIFT", "PTE_SIZE"}
    # linux/types.h is compiled in drivers/foo/foo.c, which defines PG_SIZE
    assert names_seen(index, "include/linux/types.h").keys() == {"PTE_SHIFT", "PTE_SIZE", "PG_SIZE"}


def test_the_nearest_definition_is_named(tree):
    (tree / "drivers/foo/near.c").write_text("#include <linux/mm.h>\n#define PTE_SHIFT 3\n")
    try:
        index = coll.CollisionIndex.build(tree, NAMES)
        assert index.captured("drivers/foo/near.c") == {"PTE_SHIFT": "drivers/foo/near.c:2"}
        assert len(index.visible("drivers/foo/near.c")) == 2
    finally:
        (tree / "drivers/foo/near.c").unlink()


def test_files_outside_the_graph_use_their_own_includes(tree, index):
    (tree / "mm/script.lds").write_text("#include <linux/mm.h>\n")
    try:
        assert index.captured("mm/script.lds") == {"PTE_SHIFT": "arch/x86/include/asm/pgtable.h:4"}
    finally:
        (tree / "mm/script.lds").unlink()


def test_no_definitions_captures_nothing(tree):
    index = coll.CollisionIndex.build(tree, ("PG_ALIGN",))
    assert index.definitions == ()
    assert index.captured("mm/foo.c") == {}


def test_include_specs_reads_every_form():
    data = b'#include <a/b.h>\n  #  include "c.h"\n#\tinclude<d.h>\n// include e\nx = include;\n#include MACRO\n'
    assert coll.include_specs(data) == [(False, "a/b.h"), (True, "c.h"), (False, "d.h")]


def test_include_lines_from_git_grep_are_those_read_here(tmp_path, monkeypatch):
    files = {
        "include/a.h": b'#include <a/b.h>\n  #  include "c.h"\n#\tinclude<d.h>\n// include e\n#include MACRO\n',
        "include/crlf.h": b'#include "x.h"\r\n#include "include/y.h" /* include */\r\n',
        "mm/bin.c": b'#include <linux/mm.h>\n\0\x01#include "after_nul.h"\n\xff#include <no.h>\n',
        "mm/noeol.c": b"#include <linux/last.h>",
        "mm/none.c": b"int x;\n",
        ".hidden/h.h": b"#include <seen/only/by/git.h>\n",
    }
    for rel, data in files.items():
        (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / rel).write_bytes(data)
    (tmp_path / "mm/link.h").symlink_to("../include/a.h")      # git grep skips links
    stats, links = coll._tree_walk(tmp_path, None, stat=False).graph(tmp_path)
    rels = [r for r, _ in stats]
    assert links == {"mm/link.h"} and ".hidden/h.h" not in rels
    monkeypatch.setattr(coll, "FULL_GREP_OVER", 0)
    expected = {r: coll._read_specs(str(tmp_path / r)) for r in rels}
    assert expected["mm/link.h"] and expected["mm/bin.c"]
    assert coll._read_all_specs(tmp_path, rels, links) == expected


def _scan_pfn(tree, ruleset):
    (tree / "mm/pfn.c").write_text("#include <linux/mm.h>\nvoid *f(unsigned long pfn)\n"
                                   "{\n\treturn __va(pfn << PAGE_SHIFT);\n}\n")
    (tree / "mm/pfn2.c").write_text("#include <linux/types.h>\nvoid *f(unsigned long pfn)\n"
                                    "{\n\treturn __va(pfn << PAGE_SHIFT);\n}\n")
    try:
        result = api.scan_paths([tree / "mm/pfn.c", tree / "mm/pfn2.c"], ruleset, root=tree,
                                jobs=1, use_cache=False, cwd=tree)
    finally:
        (tree / "mm/pfn.c").unlink()
        (tree / "mm/pfn2.c").unlink()
    return {f.path: f.decisions for f in result.files}, result


def test_declared_clash_frees_the_name(tree, ruleset):
    # the shipped clashes.yaml resolves x86's PTE_SHIFT (and the powerpc KVM
    # PTE_SIZE header this tree has): the sites get their rule verdict
    by_file, result = _scan_pfn(tree, ruleset)
    for path in ("mm/pfn.c", "mm/pfn2.c"):
        [d] = by_file[path]
        assert d.verdict.value == "pte" and d.replacement == "PTE_SHIFT", (path, d.reason)
    assert any("PTE_SHIFT (arch/x86/include/asm/pgtable.h:4) has another meaning; apply and series "
               "first rename it to PTE_INDEX_BITS" in n for n in result.notes), result.notes


def test_scan_skips_captured_sites_and_names_the_definition(tree, ruleset):
    ruleset = dataclasses.replace(ruleset, clashes=())      # no clashes.yaml
    by_file, _ = _scan_pfn(tree, ruleset)
    [captured] = by_file["mm/pfn.c"]
    assert captured.verdict.value == "skipped"
    assert captured.reason.startswith("name collision: PTE_SHIFT is already defined at "
                                      "arch/x86/include/asm/pgtable.h:4")
    # pfn2.c does not see x86's PTE_SHIFT, but a shared header's clash blocks
    # the name everywhere until it is renamed (the series cannot define it)
    [blocked] = by_file["mm/pfn2.c"]
    assert blocked.verdict.value == "skipped"
    assert "(a shared header: no generic PTE_SHIFT can be added until it is renamed)" in blocked.reason


def test_shared_header_definitions_block_the_name_everywhere(index):
    # mm/bar.c cannot see powerpc's KVM-only PTE_SIZE, but the generic
    # PTE_SIZE a series adds first would clash with it on powerpc
    assert "PTE_SIZE" not in index.captured("mm/bar.c")
    assert index.unavailable("mm/bar.c")["PTE_SIZE"].startswith("arch/powerpc/include/asm/kvm_book3s_32.h:1 (a shared header")


def test_a_definition_that_is_already_the_alias_is_no_clash(tmp_path):
    (tmp_path / "arch/sh/include/asm").mkdir(parents=True)
    (tmp_path / "include/linux").mkdir(parents=True)
    (tmp_path / "arch/sh/include/asm/page.h").write_text("#define PTE_MASK\tPAGE_MASK /* same */\n")
    (tmp_path / "arch/sh/include/asm/pg.h").write_text("#define PTE_SHIFT 9\n")
    idx = coll.CollisionIndex.build(tmp_path, ["PTE_MASK", "PTE_SHIFT"], aliases={"PTE_MASK": "PAGE_MASK", "PTE_SHIFT": "PAGE_SHIFT"})
    assert [d.name for d in idx.definitions] == ["PTE_SHIFT"]


def _same_index(a, b, files):
    assert a.definitions == b.definitions and a.files == b.files
    for rel in files:
        assert a.unavailable(rel) == b.unavailable(rel), rel


def test_the_include_cache_gives_the_fresh_index_and_sees_edits(tmp_path, monkeypatch):
    root = tmp_path / "linux"
    for rel, text in TREE.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text(text)
    cache = tmp_path / "cache"
    monkeypatch.setattr(store, "STALE_NS", 0)     # the files are brand new; trust them anyway
    fresh = coll.CollisionIndex.build(root, NAMES)
    cold = coll.CollisionIndex.build(root, NAMES, cache_dir=cache)
    state = next((cache / "includes").glob("*.state"))
    warm = coll.CollisionIndex.build(root, NAMES, cache_dir=cache)
    _same_index(fresh, cold, TREE)
    _same_index(fresh, warm, TREE)
    # an include added to an existing file (same size class, new stat) is read again
    (root / "mm/bar.c").write_text("#include <linux/mm.h>\n")
    edited = coll.CollisionIndex.build(root, NAMES, cache_dir=cache)
    assert edited.captured("mm/bar.c") == {"PTE_SHIFT": "arch/x86/include/asm/pgtable.h:4"}
    _same_index(coll.CollisionIndex.build(root, NAMES), edited, TREE)
    # a new definition in a new file is found
    (root / "mm/new.c").write_text("#define PG_SHIFT 12\n")
    added = coll.CollisionIndex.build(root, NAMES, cache_dir=cache)
    assert added.captured("mm/new.c") == {"PG_SHIFT": "mm/new.c:1"}
    assert state.exists()


def test_files_changed_just_now_are_not_kept(tmp_path):
    root = tmp_path / "linux"
    for rel, text in TREE.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text(text)
    cache = tmp_path / "cache"
    coll.CollisionIndex.build(root, NAMES, cache_dir=cache)
    # every file is younger than STALE_NS: no index is kept, no specs either
    assert not list((cache / "includes").glob("*.state"))
    (root / "mm/bar.c").write_text("#include <linux/mm.h>\n")     # same mtime granule is possible
    again = coll.CollisionIndex.build(root, NAMES, cache_dir=cache)
    assert again.captured("mm/bar.c") == {"PTE_SHIFT": "arch/x86/include/asm/pgtable.h:4"}


@pytest.mark.parametrize("jobs", [1, 2])
def test_only_files_that_look_up_a_visible_name_are_analysed_again(tmp_path, ruleset, monkeypatch, jobs):
    # files are analysed before the collision index exists; a file whose
    # classification looked up a name the index says it sees is analysed
    # again with it, cold and from the cache, and an edit that removes the
    # definition frees the site
    monkeypatch.setattr(store, "STALE_NS", 0)
    root = tmp_path / "linux"
    tree = dict(TREE)
    fn = "void *f(unsigned long pfn)\n{\n\treturn __va(pfn << PAGE_SHIFT);\n}\n"
    tree["mm/pfn.c"] = "#include <linux/mm.h>\n" + fn                  # sees x86's PTE_SHIFT
    tree["mm/plain.c"] = "#include <linux/types.h>\n" + fn             # blocked: x86's is a shared header
    tree["mm/sizes.c"] = "#include <linux/mm.h>\nint n = sizeof(long) * PAGE_SIZE;\n"  # sees it, never asks
    for rel, text in tree.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text(text)
    ruleset = dataclasses.replace(ruleset, clashes=())      # no clashes.yaml

    def scan():
        r = api.scan_paths([root / "mm"], ruleset, root=root, jobs=jobs, cache_dir=tmp_path / "cache", cwd=root)
        return {f.path: f.decisions for f in r.files}, r.stats

    cold, stats = scan()
    [d] = cold["mm/pfn.c"]
    assert d.verdict.value == "skipped" and "PTE_SHIFT is already defined at arch/x86/include/asm/pgtable.h:4" in d.reason
    [d] = cold["mm/plain.c"]
    assert d.verdict.value == "skipped" and "a shared header: no generic PTE_SHIFT" in d.reason
    assert [d.verdict.value for d in cold["mm/sizes.c"]] != ["skipped"]
    assert stats["analysed"] == 3 and stats["analysed_again"] == 2
    warm, stats = scan()
    assert warm == cold and stats["cache_hits"] == 3 and stats["analysed_again"] == 0
    (root / "arch/x86/include/asm/pgtable.h").write_text("#include <asm/page.h>\n")
    freed, stats = scan()
    for path in ("mm/pfn.c", "mm/plain.c"):
        [d] = freed[path]
        assert d.verdict.value == "pte" and d.replacement == "PTE_SHIFT", (path, d.reason)
    assert stats["analysed_again"] == 0


def test_with_workers_a_file_is_analysed_again_as_soon_as_its_first_result_is_in(tmp_path, ruleset, monkeypatch):
    # with a pool, the second analysis of a file (the names the index says it
    # sees) is handed to the workers while the first analyses still come in,
    # not after all of them; the results are those of one process
    from pgrewrite.runner import _Runner
    monkeypatch.setattr(store, "STALE_NS", 0)
    root = tmp_path / "linux"
    tree = dict(TREE)
    fn = "void *f(unsigned long pfn)\n{\n\treturn __va(pfn << PAGE_SHIFT);\n}\n"
    tree["mm/pfn.c"] = "#include <linux/mm.h>\n" + fn
    tree["mm/plain.c"] = "#include <linux/types.h>\n" + fn
    for k in range(8):
        tree[f"mm/fill{k}.c"] = f"#include <linux/mm.h>\nint n{k} = sizeof(long) * PAGE_SIZE;\n"
    for rel, text in tree.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text(text)
    ruleset = dataclasses.replace(ruleset, clashes=())
    started, start = [], _Runner.start

    def recorded(self, task):
        started.append(task[0])
        return start(self, task)
    monkeypatch.setattr(_Runner, "start", recorded)

    def scan(jobs):
        r = api.scan_paths([root / "mm"], ruleset, root=root, jobs=jobs, use_cache=False, cwd=root)
        return {f.path: f.decisions for f in r.files}, r.stats
    one, one_stats = scan(1)
    assert started == []
    two, two_stats = scan(2)
    assert two == one and two_stats == one_stats and one_stats["analysed_again"] == 2
    assert sorted(started) == ["mm/pfn.c", "mm/plain.c"]
    [d] = two["mm/pfn.c"]
    assert d.verdict.value == "skipped" and "PTE_SHIFT is already defined" in d.reason


def test_without_git_the_definitions_come_from_the_tree_snapshot(tree, monkeypatch):
    # the walk behind the fallback is tree.walk's: the same definitions as
    # git grep's, dot directories and links to directories left out as the
    # include graph leaves them out
    with_git = coll.tree_definitions(tree, NAMES)
    (tree / ".pc").mkdir()
    (tree / ".pc/old.h").write_text("#define PG_SIZE 4096\n")
    (tree / "drivers/linked.h").symlink_to(tree / "include")
    try:
        monkeypatch.setattr(coll.git, "found", lambda *a, **k: None)
        walked = coll.tree_definitions(tree, NAMES)
    finally:
        (tree / ".pc/old.h").unlink()
        (tree / ".pc").rmdir()
        (tree / "drivers/linked.h").unlink()
    assert with_git and walked == with_git


def test_the_series_own_names_survive_the_include_cache(tmp_path, monkeypatch):
    # a converted tree: the first patch's own definitions are no clash, and
    # a warm index (read from the cache) says so as the cold one does
    root = tmp_path / "linux"
    tree = dict(TREE, **{"include/linux/const.h": "#define PG_SIZE PAGE_SIZE\n"})
    for rel, text in tree.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text(text)
    monkeypatch.setattr(store, "STALE_NS", 0)
    cold = coll.CollisionIndex.build(root, NAMES, cache_dir=tmp_path / "cache")
    warm = coll.CollisionIndex.build(root, NAMES, cache_dir=tmp_path / "cache")
    assert warm.fingerprint is not None                 # from the cache
    assert cold.own_names == warm.own_names == {"PG_SIZE"}
    _same_index(cold, warm, tree)


def test_include_grep_started_ahead_is_used_once_and_only_for_its_root(tmp_path, tree, monkeypatch):
    monkeypatch.setattr(coll, "FULL_GREP_OVER", 0)
    stats, links = coll._tree_walk(tree, None, stat=False).graph(tree)
    rels = [r for r, _ in stats]
    expected = {r: coll._read_specs(str(tree / r)) for r in rels}
    greps = []
    found = coll.git.found
    monkeypatch.setattr(coll.git, "found", lambda *a, **k: greps.append(a) or found(*a, **k))
    ahead = coll.IncludeLines.start(tree)
    assert coll._read_all_specs(tree, rels, links, ahead) == expected
    assert greps == []                                   # the started grep answered
    assert ahead.take(tree) is None                      # given once
    other = coll.IncludeLines.start(tmp_path)            # another root's grep: not used, ended
    proc = other._proc
    assert coll._read_all_specs(tree, rels, links, other) == expected
    assert len(greps) == 1 and proc.poll() is not None


def test_cold_scan_starts_the_include_grep_ahead_and_a_warm_one_does_not(tree, ruleset, tmp_path, monkeypatch):
    monkeypatch.setattr(coll, "FULL_GREP_OVER", 0)
    started, taken = [], []
    start, take = coll.IncludeLines.start.__func__, coll.IncludeLines.take
    monkeypatch.setattr(coll.IncludeLines, "start", classmethod(lambda cls, root: started.append(root) or start(cls, root)))
    monkeypatch.setattr(coll.IncludeLines, "take", lambda self, root: taken.append(root) or take(self, root))
    greps, fallback = [], preparation.defs_mod.new_name_lines     # the new names' grep: started ahead, taken
    search_start = preparation.NewNameSearch.start
    monkeypatch.setattr(preparation.NewNameSearch, "start", lambda self, root: greps.append(root) or search_start(self, root))
    monkeypatch.setattr(preparation.defs_mod, "new_name_lines", lambda *a, **k: greps.append("again") or fallback(*a, **k))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))     # a key of its own: the index is kept
    monkeypatch.setattr(store, "STALE_NS", 0)     # the files are brand new; trust them anyway
    root = tmp_path / "linux"
    shutil.copytree(tree, root)
    (root / "mm/pfn.c").write_text("#include <linux/mm.h>\nvoid *f(unsigned long pfn)\n"
                                   "{\n\treturn __va(pfn << PAGE_SHIFT);\n}\n")
    cache = tmp_path / "cache"
    cold = api.scan_paths([root / "mm"], ruleset, jobs=1, cache_dir=cache, cwd=root)
    assert started == [root] and taken == [root] and cold.files
    assert greps == [root]
    warm = api.scan_paths([root / "mm"], ruleset, jobs=1, cache_dir=cache, cwd=root)
    assert started == [root] and cold.files == warm.files and greps == [root]
    unrooted = api.scan_paths([tmp_path / "none"], ruleset, jobs=1, use_cache=False, cwd=tmp_path)
    assert started == [root] and unrooted.problems


def test_a_command_starts_the_include_grep_before_the_rules_only_when_surely_cold(tree, ruleset, tmp_path,
                                                                                   monkeypatch):
    monkeypatch.setattr(coll, "FULL_GREP_OVER", 0)
    cold = api.start_include_grep([tree / "mm"], tmp_path / "empty-cache")
    assert cold is not None and cold.root == tree
    kept = tmp_path / "cache"
    (kept / "includes").mkdir(parents=True)
    (kept / "includes" / "0123.state").write_bytes(b"")    # an index of some tree: maybe warm, not started
    assert api.start_include_grep([tree / "mm"], kept) is None
    assert api.start_include_grep([tmp_path], None, use_cache=False) is None     # no kernel tree
    uncached = api.start_include_grep([tree / "mm"], kept, use_cache=False)
    assert uncached is not None
    uncached.close()
    # the scan takes the started grep instead of starting its own
    root = tmp_path / "linux"
    shutil.copytree(tree, root)
    (root / "mm/pfn.c").write_text("#include <linux/mm.h>\nvoid *f(unsigned long pfn)\n"
                                   "{\n\treturn __va(pfn << PAGE_SHIFT);\n}\n")
    early = api.start_include_grep([root / "mm"], None, use_cache=False)
    started = []
    start = coll.IncludeLines.start.__func__
    monkeypatch.setattr(coll.IncludeLines, "start", classmethod(lambda cls, root: started.append(root) or start(cls, root)))
    result = api.scan_paths([root / "mm"], ruleset, jobs=1, use_cache=False, cwd=root, includes=early)
    assert started == [] and early.take(root) is None and result.files
    cold.close()
