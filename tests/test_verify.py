"""`pgrewrite verify`: the comparison machinery on tiny objects, and the real
thing on a handful of kernel files when the kernel and a toolchain are there."""
from __future__ import annotations

import fcntl
import os
import shutil
import subprocess
from pathlib import Path

import pytest

from pgrewrite import api
from pgrewrite import verify as V

from .conftest import copy_rules

REPO = Path(__file__).resolve().parent.parent
needs_cc = pytest.mark.skipif(shutil.which("gcc") is None or shutil.which("objdump") is None,
                              reason="needs gcc and objdump")


def cc(tmp_path: Path, name: str, src: str) -> Path:
    c = tmp_path / f"{name}.c"
    c.write_text(src)
    subprocess.run(["gcc", "-O2", "-c", str(c), "-o", str(tmp_path / f"{name}.o")], check=True)
    return tmp_path / f"{name}.o"


@needs_cc
def test_compare_identical_same_code_and_different(tmp_path):
    a = cc(tmp_path, "a", "#define PAGE_SIZE 4096\nlong f(long x) { return x * PAGE_SIZE; }\n")
    b = cc(tmp_path, "b", "#define PAGE_SIZE 4096\n#define PG_SIZE PAGE_SIZE\nlong f(long x) { return x * PG_SIZE; }\n")
    c = cc(tmp_path, "c", "long f(long x) { return x * 16384; }\n")
    assert V.compare(a, b)[0] in (V.IDENTICAL, V.SAME_CODE)
    status, detail = V.compare(a, c)
    assert status == V.DIFFERS and detail
    assert V.compare(a, tmp_path / "missing.o")[0] == V.DIFFERS


@needs_cc
def test_a_pointer_in_data_to_another_symbol_differs(tmp_path):
    """objdump -s shows a relocated pointer as zeros: the relocations of data
    sections are compared too."""
    a = cc(tmp_path, "a", "extern int x, y;\nint *p = &x;\n")
    b = cc(tmp_path, "b", "extern int x, y;\nint *p = &y;\n")
    status, detail = V.compare(a, b)
    assert status == V.DIFFERS and "R_X86_64_64" in detail and " y" in detail


@needs_cc
def test_debug_info_alone_is_the_same_code(tmp_path):
    a = tmp_path / "a.c"
    a.write_text("int f(int x) { return x + 1; }\n")
    subprocess.run(["gcc", "-O2", "-c", str(a), "-o", str(tmp_path / "plain.o")], check=True)
    subprocess.run(["gcc", "-O2", "-g", "-c", str(a), "-o", str(tmp_path / "debug.o")], check=True)
    assert V.compare(tmp_path / "plain.o", tmp_path / "debug.o")[0] == V.SAME_CODE


def test_object_targets():
    assert V.object_targets(["mm"], ["mm/memory.c", "arch/x86/mm/pat.c"]) == ["mm/", "arch/x86/mm/pat.o"]
    assert V.other_arch("arch/sparc/mm/srmmu.c") and not V.other_arch("arch/x86/mm/pat.c")
    assert not V.other_arch("drivers/input/touchscreen/wdt87xx_i2c.c")
    assert V.object_targets(["mm/memory.c"], ["mm/memory.c"]) == ["mm/memory.o"]


TREE = Path(__file__).parent / "data" / "verify-tree"   # a tiny kernel with a stand-in Makefile

X86_CLASH = """\
- name: PTE_SHIFT
  defined-in: [arch/x86/include/asm/pgtable.h]
  rename-to: PTE_INDEX_BITS
  scope: ['arch/x86/**']
  why: x86's PTE_SHIFT is the number of index bits of one page-table level.
"""


def test_before_has_the_first_patchs_lines_empty(tmp_path):
    """Line numbers after the insertion points are those of the series, so a
    __LINE__ in a header (WARN/BUG tables) compiles the same before and after."""
    shutil.copytree(TREE, tmp_path / "t")
    src = tmp_path / "t"
    old = {p: (src / p).read_bytes() for p in ("include/linux/mm.h", "include/asm-generic/memory_model.h")}
    plan = V.definitions_plan(src, {"PTE_SIZE", "PG_ALIGN", "offset_in_pg"})
    assert sorted(i.path for i in plan) == ["include/asm-generic/memory_model.h",
                                            "include/linux/mm.h", "include/linux/mm.h"]
    V.insert(src, [V.blank(i) for i in plan])
    blanked = {p: (src / p).read_bytes() for p in old}
    for p in old:
        (src / p).write_bytes(old[p])
    V.insert(src, plan)
    for p in old:
        after = (src / p).read_bytes()
        assert blanked[p].count(b"\n") == after.count(b"\n") > old[p].count(b"\n")
        assert blanked[p].replace(b"\n", b"") == old[p].replace(b"\n", b"")   # only empty lines added
        def line(data):
            return next(i for i, l in enumerate(data.splitlines()) if b"__LINE__" in l or b"endif" in l)
        assert line(blanked[p]) == line(after)
    assert b"#define PTE_SIZE\tPAGE_SIZE" in (src / "include/asm-generic/memory_model.h").read_bytes()
    assert b"PTE_SHIFT" not in (src / "include/asm-generic/memory_model.h").read_bytes()


def verify_tree(tmp_path, monkeypatch, clashes, tree=TREE):
    # the stand-in Makefile needs no libelf or openssl, only make and gcc
    monkeypatch.setattr(V, "check_prerequisites", lambda: [])
    ruleset = api.load_rules(copy_rules(tmp_path / "semantic-rules", clashes))
    report = V.verify(tree, ["mm", "arch/x86"], ruleset, tmp_path / "work", jobs=1)
    return report, tmp_path / "work" / "src"


@needs_cc
def test_verify_makes_the_preparatory_renames_of_the_plan(tmp_path, monkeypatch):
    """clashes.yaml frees x86's PTE_SHIFT: verify renames it first, as apply
    and series do, and proves the renames to the generic PTE_SHIFT too."""
    if shutil.which("make") is None or shutil.which("rsync") is None:
        pytest.skip("needs make and rsync")
    report, src = verify_tree(tmp_path, monkeypatch, X86_CLASH)
    lines = list(report.lines())
    assert report.blocked == (), lines
    assert sorted(report.prepared) == ["arch/x86/include/asm/pgtable.h", "arch/x86/mm/walk.c"], lines
    assert "arch/x86/mm/walk.c: 1 preparatory rename(s): PTE_SHIFT -> PTE_INDEX_BITS" in lines
    assert dict(report.renamed_files) == {"arch/x86/include/asm/pgtable.h": 4, "arch/x86/mm/walk.c": 2,
                                          "mm/pfn.c": 2}, lines
    walk = (src / "arch/x86/mm/walk.c").read_text()
    assert "(a >> PTE_INDEX_BITS) & 511" in walk and "__va(pfn << PTE_SHIFT)" in walk
    assert "__va(pfn << PTE_SHIFT)" in (src / "mm/pfn.c").read_text()
    assert "#define PTE_SHIFT\tPAGE_SHIFT" in (src / "include/asm-generic/memory_model.h").read_text()
    assert [(o.path, o.status) for o in report.objects] == [
        ("arch/x86/mm/walk.o", V.IDENTICAL), ("mm/pfn.o", V.IDENTICAL)], lines
    assert report.headers["arch/x86/include/asm/pgtable.h"] == ["arch/x86/mm/walk.o"]
    assert report.ok, lines
    assert lines[-1].startswith("summary: 3 file(s) renamed (8 renames, 5 of them preparatory); "
                                "objects: 2 identical, 0 same code, 0 differ, 0 not built"), lines


@needs_cc
def test_without_a_clash_entry_the_name_is_left_out_as_series_does(tmp_path, monkeypatch):
    if shutil.which("make") is None or shutil.which("rsync") is None:
        pytest.skip("needs make and rsync")
    report, src = verify_tree(tmp_path, monkeypatch, None)
    lines = list(report.lines())
    assert report.blocked == ("PTE_SHIFT",) and not report.prepared, lines
    assert report.renamed_files == [("mm/pfn.c", 1)], lines     # PAGE_SIZE -> PG_SIZE only
    assert "#define PTE_SHIFT 9" in (src / "arch/x86/include/asm/pgtable.h").read_text()
    header = (src / "include/asm-generic/memory_model.h").read_text()
    assert "#define PTE_SIZE\tPAGE_SIZE" in header and "PTE_SHIFT" not in header
    pfn = (src / "mm/pfn.c").read_text()
    assert "PTE_SHIFT" not in pfn and "__builtin_memset(kaddr, 0, PG_SIZE)" in pfn
    assert report.ok and report.count(V.IDENTICAL) == 2, lines
    assert "note: names left out, as series leaves them out" in "\n".join(lines)


def kernel_or_skip() -> Path:
    problems = V.check_prerequisites()
    if problems:
        pytest.skip("build prerequisites missing: " + "; ".join(problems))
    r = subprocess.run([str(REPO / "scripts" / "get-kernel")], capture_output=True, text=True)
    if r.returncode != 0:
        pytest.skip(f"no kernel tree: {r.stderr.strip()}")
    return Path(r.stdout.strip().splitlines()[-1])


@pytest.fixture
def verify_work(tmp_path):
    """Where the kernel verify test copies the tree and builds (about 1.7
    GB): one directory kept between runs, whatever the checkout, so the
    prepared build is reused and a clean checkout (CI) leaves nothing new
    behind (one directory per checkout filled the disk). A suite that finds
    it in use by another (its lock held) works in its own tmp_path, which
    pytest prunes. PGREWRITE_VERIFY_WORK names another place."""
    if os.environ.get("PGREWRITE_VERIFY_WORK"):
        yield Path(os.environ["PGREWRITE_VERIFY_WORK"])
        return
    kept = Path.home() / ".cache" / "pgrewrite" / "verify-test"
    kept.parent.mkdir(parents=True, exist_ok=True)
    with open(kept.parent / "verify-test.lock", "w") as lock:
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            yield tmp_path / "verify"
            return
        yield kept


@pytest.mark.kernel
@pytest.mark.slow
def test_verify_a_handful_of_kernel_files(ruleset, verify_work):
    """x86_64 defconfig objects of a few mm/ files are identical before and
    after the renames (about 3 minutes the first time: copy, prepare, 2 builds)."""
    tree = kernel_or_skip()
    work = verify_work
    files = ["mm/memory.c", "mm/mmap.c", "mm/mprotect.c", "mm/page_alloc.c", "mm/not-there.c"]
    report = V.verify(tree, files, ruleset, work, jobs=os.cpu_count() or 2)
    lines = list(report.lines())
    assert report.renamed_files, lines
    assert report.count(V.DIFFERS) == 0, lines
    assert report.count(V.IDENTICAL) + report.count(V.SAME_CODE) >= 2, lines
    assert report.ok, lines


def tree_with_inline_pfn_to_kaddr(tmp_path) -> Path:
    """The verify tree with x86's pfn_to_kaddr(): an inline function using
    PAGE_SHIFT above <asm-generic/memory_model.h>, as in 6.12."""
    if shutil.which("make") is None or shutil.which("rsync") is None:
        pytest.skip("needs make and rsync")
    tree = tmp_path / "tree"
    shutil.copytree(TREE, tree)
    page = tree / "arch/x86/include/asm/page.h"
    page.write_text(page.read_text().replace(
        "#include <asm-generic/memory_model.h>",
        "static inline void *pfn_to_kaddr(unsigned long pfn)\n{\n\treturn __va(pfn << PAGE_SHIFT);\n}\n"
        "#include <asm-generic/memory_model.h>"))
    return tree


@needs_cc
def test_a_rename_above_the_definitions_does_not_build(tmp_path, monkeypatch):
    """x86's asm/page.h includes asm-generic/memory_model.h, where the series
    defines PTE_SHIFT, at its end: a rename in an inline function above that
    line does not compile (found on the whole series, docs/verify.md). Every
    object is reported with the compiler's error."""
    tree = tree_with_inline_pfn_to_kaddr(tmp_path)
    report, src = verify_tree(tmp_path, monkeypatch, X86_CLASH, tree)
    lines = list(report.lines())
    assert "__va(pfn << PTE_SHIFT)" in (src / "arch/x86/include/asm/page.h").read_text()
    assert report.count(V.DIFFERS) == 2 and not report.ok, lines
    for o in report.objects:
        assert o.detail.startswith("built before the renames, not after (first error of the build after: ")
        assert "PTE_SHIFT" in o.detail and "undeclared" in o.detail, o.detail


@needs_cc
def test_with_linux_const_h_the_names_are_defined_before_any_header_uses_them(tmp_path, monkeypatch):
    """The fix of the case above, as in 6.12: every arch defines PAGE_SIZE
    with _AC() from <linux/const.h>, so the series puts PTE_*/PG_* there,
    and an inline function above <asm-generic/memory_model.h> builds."""
    tree = tree_with_inline_pfn_to_kaddr(tmp_path)
    (tree / "include/linux/const.h").write_text(
        "#ifndef _LINUX_CONST_H\n#define _LINUX_CONST_H\n\n#define _AC(X, Y)\t(X##Y)\n\n#endif\n")
    page = tree / "arch/x86/include/asm/page.h"
    page.write_text(page.read_text().replace(
        "#define _ASM_X86_PAGE_H\n", "#define _ASM_X86_PAGE_H\n#include <linux/const.h>\n"))
    report, src = verify_tree(tmp_path, monkeypatch, X86_CLASH, tree)
    lines = list(report.lines())
    assert "__va(pfn << PTE_SHIFT)" in (src / "arch/x86/include/asm/page.h").read_text()
    assert "#define PTE_SHIFT\tPAGE_SHIFT" in (src / "include/linux/const.h").read_text()
    assert "PTE_SHIFT" not in (src / "include/asm-generic/memory_model.h").read_text()
    assert report.ok and report.count(V.DIFFERS) == 0, lines
