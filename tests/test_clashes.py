"""semantic-rules/clashes.yaml: declared clash resolutions.

x86's PTE_SHIFT (index bits of a page table) blocks the generic PTE_SHIFT
tree-wide. With an entry in clashes.yaml, `series` renames it (definition and
every use in scope, C and assembly, comments included) in a preparatory
patch before the one introducing the names, `apply` makes the same renames,
and `scan` says so and gives the sites it blocked their rule verdict. The
real engine and commands on a small git tree (test_series_apply's helpers).
"""
from __future__ import annotations

import re
from pathlib import Path

import pytest

from pgrewrite import api
from pgrewrite.edits import self_check
from pgrewrite.model import Edit
from pgrewrite.rules.loader import RuleError

from .conftest import copy_rules
from .test_series import FILES, HISTORY, git, make_tree
from .test_series_apply import PATHS, am_and_apply, first_patch, run, series, tree_files

X86_ENTRY = """\
- name: PTE_SHIFT
  defined-in: [arch/x86/include/asm/pgtable.h]
  rename-to: PTE_INDEX_BITS
  scope: ['arch/x86/**']
  why: >-
    x86's PTE_SHIFT is ilog2(PTRS_PER_PTE), the number of index bits one
    page-table level resolves (9), not the shift of the page a PTE maps.
"""

CLASH = {
    "arch/x86/include/asm/pgtable.h": (
        "/* SPDX-License-Identifier: GPL-2.0 */\n"
        "#ifndef _ASM_X86_PGTABLE_H\n"
        "#define _ASM_X86_PGTABLE_H\n"
        "\n"
        "/* PTE_SHIFT: index bits of one page-table level */\n"
        "#define PTE_SHIFT ilog2(PTRS_PER_PTE)\n"
        "\n"
        "static inline int page_level_shift(int level)\n"
        "{\n"
        "\treturn (PAGE_SHIFT - PTE_SHIFT) + level * PTE_SHIFT;\n"
        "}\n"
        'static const char *pte_shift_name = "PTE_SHIFT";\n'
        "#endif\n"),
    # a rule renames PAGE_SHIFT to the generic PTE_SHIFT in the same file
    # whose own PTE_SHIFT use is renamed first
    "arch/x86/mm/walk.c": (
        "#include <asm/pgtable.h>\n"
        "#include <linux/mm.h>\n"
        "unsigned long pt_index(unsigned long a) { return (a >> PTE_SHIFT) & 511; }\n"
        "void *pfn_va(unsigned long pfn)\n"
        "{\n"
        "\treturn __va(pfn << PAGE_SHIFT);\n"
        "}\n"),
    "arch/x86/kernel/head_64.S": (
        "#include <asm/pgtable.h>\n"
        "\tshrq\t$PTE_SHIFT, %rax\t/* PTE_SHIFT index bits */\n"),
    "mm/pfn.c": ("#include <linux/mm.h>\n"
                 "void *pfn_to_va(unsigned long pfn)\n{\n"
                 "\treturn __va(pfn << PAGE_SHIFT);\n}\n"),
}
# the definition's prefix comes from its history, as for the other patches
CLASH_HISTORY = HISTORY + [("x86/mm: document page_level_shift()",
                            {"arch/x86/include/asm/pgtable.h": "/* nine */\n"})]


@pytest.fixture(autouse=True)
def isolated(monkeypatch, tmp_path):
    monkeypatch.setenv("GIT_CONFIG_GLOBAL", "/dev/null")
    monkeypatch.setenv("GIT_CONFIG_SYSTEM", "/dev/null")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))


def scan(tree: Path, monkeypatch, rules: Path, *paths: str):
    return run(tree, monkeypatch, "scan", *(paths or PATHS), "--no-cache", "-j", "1", "--rules", str(rules))


def test_declared_clash_is_renamed_first_and_frees_the_name(tmp_path, monkeypatch):
    rules = copy_rules(tmp_path / "semantic-rules", X86_ENTRY)
    tree = make_tree(tmp_path / "linux", {**FILES, **CLASH}, history=CLASH_HISTORY)
    r, patches = series(tree, tmp_path / "out", monkeypatch, rules)
    texts = [p.read_text() for p in patches]

    # the preparatory patch, before the one that introduces the names
    [prep] = [i for i, t in enumerate(texts) if i and "rename PTE_SHIFT to PTE_INDEX_BITS" in t]
    assert prep == 1 and patches[prep + 1] == first_patch(patches)
    t = texts[prep]
    assert re.search(r"^Subject: \[PATCH 1/\d+\] x86/mm: rename PTE_SHIFT to PTE_INDEX_BITS$", t, re.M), t
    assert "x86's PTE_SHIFT is ilog2(PTRS_PER_PTE), the number of index bits one" in t   # why
    assert "arch/x86/include/asm/pgtable.h:6: #define PTE_SHIFT ilog2(PTRS_PER_PTE)" in t
    touched = sorted(re.findall(r"^diff --git a/(\S+)", t, re.M))
    assert touched == ["arch/x86/include/asm/pgtable.h", "arch/x86/kernel/head_64.S", "arch/x86/mm/walk.c"]
    diff = t.split("\n-- \n")[0].splitlines()        # without the signature
    minus = [l[1:] for l in diff if l.startswith("-") and not l.startswith("---")]
    plus = [l[1:] for l in diff if l.startswith("+") and not l.startswith("+++")]
    assert [l.replace("PTE_SHIFT", "PTE_INDEX_BITS") for l in minus] == plus     # renames only
    assert "#define PTE_SHIFT\tPAGE_SHIFT" in texts[prep + 1]
    assert "PTE_SHIFT" in r.stderr and "clashes.yaml" in r.stderr   # the note on stderr

    # git am of the series == apply + the names-introducing patch
    am, ap, r = am_and_apply(tree, tmp_path, monkeypatch, patches, rules)
    assert re.search(r"^rewrote arch/x86/mm/walk\.c: 2 rename\(s\) \(1 preparatory: "
                     r"PTE_SHIFT -> PTE_INDEX_BITS\)$", r.output, re.M), r.output
    git(ap, "apply", str(first_patch(patches)))
    assert tree_files(ap) == tree_files(am)

    # definition, uses in C, headers and assembly, comments renamed; strings not
    pgtable = (am / "arch/x86/include/asm/pgtable.h").read_text()
    assert "/* PTE_INDEX_BITS: index bits of one page-table level */" in pgtable
    assert "#define PTE_INDEX_BITS ilog2(PTRS_PER_PTE)" in pgtable
    assert "- PTE_INDEX_BITS) + level * PTE_INDEX_BITS;" in pgtable
    assert '"PTE_SHIFT";' in pgtable
    assert (am / "arch/x86/kernel/head_64.S").read_text() == (
        "#include <asm/pgtable.h>\n\tshrq\t$PTE_INDEX_BITS, %rax\t/* PTE_INDEX_BITS index bits */\n")
    walk = (am / "arch/x86/mm/walk.c").read_text()
    assert "(a >> PTE_INDEX_BITS) & 511" in walk and "__va(pfn << PTE_SHIFT);" in walk
    # the rule-decided site in mm/ gets the generic name
    assert "__va(pfn << PTE_SHIFT);" in (am / "mm/pfn.c").read_text()


def test_scan_lists_the_declared_rename_and_decides_the_sites(tmp_path, monkeypatch):
    rules = copy_rules(tmp_path / "semantic-rules", X86_ENTRY)
    tree = make_tree(tmp_path / "linux", {**FILES, **CLASH}, history=[])
    out = scan(tree, monkeypatch, rules, "mm/pfn.c", "arch/x86").output
    assert re.search(r"^note: semantic-rules/clashes\.yaml:1: PTE_SHIFT \(arch/x86/include/asm/pgtable\.h:6\) "
                     r"has another meaning; apply and series first rename it to PTE_INDEX_BITS in 3 file\(s\) "
                     r"\(arch/x86/\*\*\), then define the generic PTE_SHIFT$", out, re.M), out
    assert re.search(r"^mm/pfn\.c:4:\d+: pte: PAGE_SHIFT -> PTE_SHIFT", out, re.M), out
    # in the renamed file itself too: its own PTE_SHIFT uses are renamed first
    assert re.search(r"^arch/x86/mm/walk\.c:6:\d+: pte: PAGE_SHIFT -> PTE_SHIFT", out, re.M), out
    assert "name collision" not in out


def test_without_the_entry_the_sites_stay_skipped(tmp_path, monkeypatch, rules_without_clashes):
    tree = make_tree(tmp_path / "linux", {**FILES, **CLASH}, history=[])
    out = scan(tree, monkeypatch, rules_without_clashes, "mm/pfn.c").output
    assert re.search(r"^mm/pfn\.c:4:\d+: skipped: PAGE_SHIFT -> - \[[\w-]+\] name collision: PTE_SHIFT is "
                     r"already defined at arch/x86/include/asm/pgtable\.h:6", out, re.M), out
    r, patches = series(tree, tmp_path / "out", monkeypatch, rules_without_clashes)
    assert not any("PTE_INDEX_BITS" in p.read_text() for p in patches)
    assert "PTE_SHIFT\t" not in first_patch(patches).read_text()


def test_an_undeclared_definition_keeps_the_name_blocked(tmp_path, monkeypatch):
    rules = copy_rules(tmp_path / "semantic-rules", X86_ENTRY)
    files = {**FILES, **CLASH, "arch/parisc/include/asm/pgtable.h": "#define PTE_SHIFT 5\n"}
    tree = make_tree(tmp_path / "linux", files, history=[])
    out = scan(tree, monkeypatch, rules, "mm/pfn.c").output
    assert ("note: semantic-rules/clashes.yaml:1: PTE_SHIFT -> PTE_INDEX_BITS not made: PTE_SHIFT stays "
            "blocked by arch/parisc/include/asm/pgtable.h:1, which clashes.yaml does not resolve") in out
    assert re.search(r"^mm/pfn\.c:4:\d+: skipped: .*name collision: PTE_SHIFT is already defined at "
                     r"arch/parisc/include/asm/pgtable\.h:1", out, re.M), out
    r, patches = series(tree, tmp_path / "out", monkeypatch, rules)
    assert not any("PTE_INDEX_BITS" in p.read_text() for p in patches[1:])
    assert "PTE_SHIFT stays blocked by arch/parisc/include/asm/pgtable.h:1" in " ".join(
        patches[0].read_text().split())


def test_self_check_allows_a_rule_to_write_the_freed_name(engine):
    old = b"#define X (PAGE_SHIFT - PTE_SHIFT)\n"
    a, b = old.index(b"PAGE_SHIFT"), old.index(b"PTE_SHIFT")
    edits = [Edit(a, a + 10, "PAGE_SHIFT", "PTE_SHIFT", None, "family"),
             Edit(b, b + 9, "PTE_SHIFT", "PTE_INDEX_BITS", None, "private")]
    new = b"#define X (PTE_SHIFT - PTE_INDEX_BITS)\n"
    assert self_check(old, new, edits, engine, "arch/x86/a.h", private={"PTE_SHIFT": "PTE_INDEX_BITS"}) == []
    # the old use left in place is still refused
    problems = self_check(old, old.replace(b"PAGE_SHIFT", b"PTE_SHIFT"), edits[:1], engine, "arch/x86/a.h",
                          private={"PTE_SHIFT": "PTE_INDEX_BITS"})
    assert any("PTE_SHIFT is still used after its preparatory rename" in p for p in problems)


# ------------------------------------------------------------------ validation

def entry(**changes) -> str:
    keys = {"name": "PTE_SHIFT", "defined-in": "[arch/x86/include/asm/pgtable.h]",
            "rename-to": "PTE_INDEX_BITS", "scope": "['arch/x86/**']",
            "why": "x86's PTE_SHIFT is the number of index bits of a page table."}
    keys.update(changes)
    lines = [f"{k}: {v}" for k, v in keys.items() if v is not None]
    return "- " + "\n  ".join(lines) + "\n"


@pytest.mark.parametrize("text, expected", [
    ("name: PTE_SHIFT\n", "semantic-rules/clashes.yaml:1: (top level): expected a list of entries"),
    (entry(**{"scope": None}), "semantic-rules/clashes.yaml:1: 0: 'scope' is a required property"),
    (entry(colour="red"), "semantic-rules/clashes.yaml:6: 0: unknown key ('colour' was unexpected)"),
    (entry(**{"rename-to": "'PTE INDEX'"}), "semantic-rules/clashes.yaml:3: 0/rename-to: 'PTE INDEX' does not match"),
    (entry(name="PTE_WIDTH"), "semantic-rules/clashes.yaml:1: 0/name: 'PTE_WIDTH' is not one of the new names"),
    (entry(**{"rename-to": "PG_SHIFT"}), "semantic-rules/clashes.yaml:3: 0/rename-to: 'PG_SHIFT' is itself a family"),
    (entry(scope="['arch/x86/mm/**']"), "semantic-rules/clashes.yaml:2: 0/defined-in: "
                                        "arch/x86/include/asm/pgtable.h is not matched by scope"),
    (entry() + entry(**{"rename-to": "X86_PTE_BITS", "scope": "['arch/**']"}),
     "semantic-rules/clashes.yaml:9: 1/scope: overlaps entry 0 (line 1) for PTE_SHIFT"),
    ("- name: [\n", "semantic-rules/clashes.yaml:2: YAML syntax error"),
], ids=["not-a-list", "missing-key", "unknown-key", "bad-identifier", "not-a-new-name", "rename-to-family-name",
        "definition-outside-scope", "overlapping-scopes", "yaml-syntax"])
def test_clashes_yaml_errors_are_rule_errors(tmp_path, text, expected):
    rules = copy_rules(tmp_path / "semantic-rules", text)
    with pytest.raises(RuleError) as e:
        api.load_rules(rules)
    assert any(p.startswith(expected) for p in e.value.problems), e.value.problems


def test_clashes_yaml_is_part_of_the_rules_hash(tmp_path):
    a = api.load_rules(copy_rules(tmp_path / "a" / "semantic-rules", X86_ENTRY))
    b = api.load_rules(copy_rules(tmp_path / "b" / "semantic-rules", X86_ENTRY.replace("PTE_INDEX_BITS", "X86_PT_BITS")))
    c = api.load_rules(copy_rules(tmp_path / "c" / "semantic-rules"))
    assert len({a.digest, b.digest, c.digest}) == 3
    assert [x.rename_to for x in a.clashes] == ["PTE_INDEX_BITS"] and c.clashes == ()


@pytest.mark.parametrize("text, extra, expected", [
    (entry(), {"drivers/misc/bits.c": "int b = PTE_INDEX_BITS;\n"},
     "semantic-rules/clashes.yaml:3: 0/rename-to: PTE_INDEX_BITS is already used at drivers/misc/bits.c:1; "
     "choose a name that does not occur in the tree"),
    (entry(**{"defined-in": "[arch/x86/include/asm/pgtable.h, arch/x86/mm/walk.c]"}), {},
     "semantic-rules/clashes.yaml:2: 0/defined-in: arch/x86/mm/walk.c does not define PTE_SHIFT"),
    (entry(), {"arch/x86/include/asm/pgtable_64.h": "#define PTE_SHIFT 9\n"},
     "semantic-rules/clashes.yaml:4: 0/scope: arch/x86/include/asm/pgtable_64.h:1 defines PTE_SHIFT inside "
     "this scope but is not listed in defined-in"),
], ids=["rename-to-in-use", "defined-in-defines-nothing", "unlisted-definition-in-scope"])
def test_clashes_that_do_not_fit_the_tree_are_refused(tmp_path, monkeypatch, text, extra, expected):
    rules = copy_rules(tmp_path / "semantic-rules", text)
    tree = make_tree(tmp_path / "linux", {**FILES, **CLASH, **extra}, history=[])
    for args in (["scan", "mm/pfn.c"], ["apply", "mm"], ["series", *PATHS, "-o", str(tmp_path / "out")]):
        r = run(tree, monkeypatch, *args, "--no-cache" if args[0] != "series" else "-j1",
                "--rules", str(rules))
        assert r.exit_code == 3, (args, r.output)
        assert f"error: {expected}" in r.output, (args, r.output)
    assert not (tmp_path / "out").exists() or not list((tmp_path / "out").glob("*.patch"))
    assert git(tree, "status", "--porcelain") == ""
