"""`pgrewrite verify`: the comparison machinery on tiny objects, and the real
thing on a handful of kernel files when the kernel and a toolchain are there."""
from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

from pgrewrite import verify as V

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


def test_object_targets():
    assert V.object_targets(["mm"], ["mm/memory.c", "arch/x86/mm/pat.c"]) == ["mm/", "arch/x86/mm/pat.o"]
    assert V.object_targets(["mm/memory.c"], ["mm/memory.c"]) == ["mm/memory.o"]


def fake_tree(root: Path) -> Path:
    (root / "include/asm-generic").mkdir(parents=True)
    (root / "include/linux").mkdir(parents=True)
    (root / "include/asm-generic/memory_model.h").write_text(
        "#ifndef __ASM_MEMORY_MODEL_H\n#define __ASM_MEMORY_MODEL_H\n\n#include <linux/pfn.h>\n\n#endif\n")
    (root / "include/linux/mm.h").write_text(
        "#define PAGE_ALIGNED(addr)\tIS_ALIGNED((unsigned long)(addr), PAGE_SIZE)\n"
        "#define offset_in_page(p)\t((unsigned long)(p) & ~PAGE_MASK)\n")
    (root / "arch/x86/include/asm").mkdir(parents=True)
    (root / "arch/x86/include/asm/pgtable.h").write_text("#define PTE_SHIFT\t9\n#define PG_SIZE PAGE_SIZE\n")
    return root


def test_aliases_are_the_series_first_patch_and_blocked_names_are_left_out(tmp_path):
    from pgrewrite.collisions import Definition
    tree = fake_tree(tmp_path)
    defs = [Definition("PTE_SHIFT", "arch/x86/include/asm/pgtable.h", 1),
            Definition("PG_SIZE", "arch/x86/include/asm/pgtable.h", 2)]
    blocked = V.blocked_names(defs, tree)
    assert blocked == ("PTE_SHIFT",)            # PG_SIZE is defined the same way: compatible
    V.add_aliases(tree, blocked)
    header = (tree / "include/asm-generic/memory_model.h").read_text()
    assert "#define PTE_SIZE\tPAGE_SIZE" in header and "PTE_SHIFT" not in header
    mm = (tree / "include/linux/mm.h").read_text()
    assert "#define PG_ALIGN(addr)\tALIGN(addr, PG_SIZE)" in mm and "#define offset_in_pte(p)" in mm


def kernel_or_skip() -> Path:
    problems = V.check_prerequisites()
    if problems:
        pytest.skip("build prerequisites missing: " + "; ".join(problems))
    r = subprocess.run([str(REPO / "scripts" / "get-kernel")], capture_output=True, text=True)
    if r.returncode != 0:
        pytest.skip(f"no kernel tree: {r.stderr.strip()}")
    return Path(r.stdout.strip().splitlines()[-1])


@pytest.mark.kernel
@pytest.mark.slow
def test_verify_a_handful_of_kernel_files(ruleset):
    """x86_64 defconfig objects of a few mm/ files are identical before and
    after the renames (about 3 minutes the first time: copy, prepare, 2 builds)."""
    tree = kernel_or_skip()
    work = Path(os.environ.get("PGREWRITE_VERIFY_WORK") or Path.home() / ".cache" / "pgrewrite" / "verify-test")
    files = ["mm/memory.c", "mm/mmap.c", "mm/mprotect.c", "mm/page_alloc.c", "mm/not-there.c"]
    report = V.verify(tree, files, ruleset, work, jobs=os.cpu_count() or 2)
    lines = list(report.lines())
    assert report.renamed_files, lines
    assert report.count(V.DIFFERS) == 0, lines
    assert report.count(V.IDENTICAL) + report.count(V.SAME_CODE) >= 2, lines
    assert report.ok, lines
