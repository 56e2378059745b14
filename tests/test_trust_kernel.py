"""Issue 15's findings on real 6.12.117 files: a refused preparatory rename
holds back every rename to its name, and verdicts and site ids do not depend
on the working directory."""
from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from pgrewrite import api, applying

pytestmark = [pytest.mark.kernel, pytest.mark.slow]


@pytest.fixture(scope="module")
def tree(kernel, tmp_path_factory) -> Path:
    """A hard-linked copy of mm/, include/ and arch/x86/ (atomic writes
    replace links: the pinned tree is never touched)."""
    copy = tmp_path_factory.mktemp("trust") / "linux"
    (copy / "arch").mkdir(parents=True)
    for part in ("mm", "include", "arch/x86"):
        subprocess.run(["cp", "-al", str(kernel / part), str(copy / part)], check=True)
    return copy


def test_refused_preparation_withholds_every_rename_to_its_name(tree, ruleset, monkeypatch):
    """x86's pgtable.h defines PTE_SHIFT (9, the index bits); clashes.yaml
    renames it to PTE_INDEX_BITS first. When that file is refused (here: it
    has uncommitted changes), no file may be rewritten to the generic
    PTE_SHIFT, which would silently mean 9."""
    monkeypatch.chdir(tree)
    result = api.scan_paths(["mm", "arch/x86/mm"], ruleset, use_cache=False)
    clean = applying.apply_result(result, ruleset, dry_run=True, allow_dirty=True)
    assert clean.withheld == []
    assert any(e.new == "PTE_SHIFT" for f in result.files for e in f.edits), "the case needs PTE_SHIFT renames"

    header = (tree / "arch/x86/include/asm/pgtable.h").resolve()
    monkeypatch.setattr(applying, "dirty_files", lambda paths: {header})
    report = applying.apply_result(result, ruleset, dry_run=True)
    assert [name for name, _ in report.withheld] == ["PTE_SHIFT"]
    assert any(p == "arch/x86/include/asm/pgtable.h" for p, _ in report.refused)
    assert len(report.rewritten) < len(clean.rewritten)
    lines = list(report.lines())
    assert any(line.startswith("withheld: every rename to PTE_SHIFT") for line in lines)

    # written for real: no rewritten file uses PTE_SHIFT, pgtable.h still defines it
    report = applying.apply_result(result, ruleset)
    assert report.rewritten
    for path, _ in report.rewritten:
        assert b"PTE_SHIFT" not in (tree / path).read_bytes() or path.startswith("arch/x86/include"), path
    assert b"#define PTE_SHIFT" in header.read_bytes()


def test_verdicts_and_ids_do_not_depend_on_the_working_directory(kernel, ruleset):
    """`cd mm && pgrewrite scan kasan` decides as the root does: path-filtered
    rules (the sanitizer area) still apply and site ids still start at the root."""
    from_root = api.scan_paths(["mm/kasan"], ruleset, use_cache=False, cwd=kernel)
    from_mm = api.scan_paths(["kasan"], ruleset, use_cache=False, cwd=kernel / "mm")

    def key(result, prefix=""):
        return sorted((prefix + d.site.path, d.site.line, d.site.col, d.verdict.value, d.rule, d.area, d.site.site_id)
                      for f in result.files for d in f.decisions)
    assert key(from_root) == key(from_mm, prefix="mm/")
    site = next(d for f in from_mm.files for d in f.decisions
                if d.site.path == "kasan/kasan_test_c.c" and d.site.line == 910)
    assert site.site.site_id.startswith("mm/kasan/kasan_test_c.c:")
    assert site.area == "sanitizer" and site.verdict.value == "unknown"
