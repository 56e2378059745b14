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
    """A copy of mm/, include/ and arch/x86/. Not hard links: making a link
    changes the pinned tree's ctimes, and every later warm run there would
    take its files as changed."""
    copy = tmp_path_factory.mktemp("trust") / "linux"
    (copy / "arch").mkdir(parents=True)
    for part in ("mm", "include", "arch/x86"):
        subprocess.run(["cp", "-a", str(kernel / part), str(copy / part)], check=True)
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


def test_an_unreadable_tracked_file_is_a_failed_file(kernel, ruleset, tmp_path):
    """Finding 5: with mm/memory.c unreadable (mode 000, in a process that
    root's override does not help), `scan mm` used to exit 0 with "0 files
    failed" and 95 sites fewer, because git grep's "Permission denied" was
    ignored. Now it is one failed file, with its reason, and exit 4 in
    `scan`, `apply` and `series`; every other site is still there."""
    import json
    import os

    from .test_robustness_support import run_cli, unprivileged_prefix
    prefix = unprivileged_prefix(tmp_path)
    if prefix is None:
        pytest.skip("cannot run a process that is refused a mode-000 file here (root without setpriv)")
    tree = tmp_path / "linux"
    tree.mkdir()
    # a real copy (not hard links: chmod would reach the pinned tree)
    subprocess.run(["cp", "-r", str(kernel / "mm"), str(tree / "mm")], check=True)
    for f in ("MAINTAINERS", "include/linux/mm.h", "include/asm-generic/memory_model.h"):
        (tree / f).parent.mkdir(parents=True, exist_ok=True)
        (tree / f).write_bytes((kernel / f).read_bytes())
    env = {**os.environ, "XDG_CACHE_HOME": str(tmp_path / "xdg"), "GIT_CONFIG_GLOBAL": "/dev/null",
           "GIT_CONFIG_SYSTEM": "/dev/null"}
    for args in (["init", "-q"], ["config", "user.name", "T"], ["config", "user.email", "t@example.org"],
                 ["add", "-A"], ["commit", "-qm", "6.12.117"]):
        subprocess.run(["git", *args], cwd=tree, check=True, env=env)
    full = api.scan_paths(["mm"], ruleset, use_cache=False, cwd=tree)
    in_memory_c = sum(1 for d in full.decisions() if d.site.path == "mm/memory.c")
    assert in_memory_c > 50 and not full.failed

    (tree / "mm/memory.c").chmod(0)
    reason = "mm/memory.c: error: permission denied; make the file readable to include it"
    r = run_cli(prefix, ["scan", "mm", "--format", "json", "-j2"], tree, env)
    assert r.returncode == 4, r.stderr
    doc = json.loads(r.stdout)
    assert doc["summary"]["files_failed"] == 1, doc["summary"]
    assert len(doc["sites"]) == sum(1 for _ in full.decisions()) - in_memory_c
    assert doc["files"] == [{"path": "mm/memory.c", "error": "permission denied; make the file readable to include it",
                             "parse_errors": 0, "accounting_difference": 0}]

    r = run_cli(prefix, ["apply", "mm", "--dry-run", "-j2"], tree, env)
    assert r.returncode == 4, r.stderr
    assert reason in r.stderr.splitlines()

    r = run_cli(prefix, ["series", "mm", "-j2", "-o", str(tmp_path / "out"), "--no-get-maintainer"], tree, env)
    assert r.returncode == 4, r.stderr
    assert "1 file(s) could not be scanned and are not in the series:" in r.stderr
    assert "  mm/memory.c: permission denied; make the file readable to include it" in r.stderr.splitlines()
