"""`--check` (git am + checkpatch) and the `pgrewrite series` command."""
from __future__ import annotations

import shutil
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

sys.path.insert(0, str(Path(__file__).parent))
from test_series import (DATE, FILES, SCANNED, fake_scan, git, isolated_git,  # noqa: E402,F401
                         make_tree)

from pgrewrite.series import SeriesOptions, build_series  # noqa: E402
from pgrewrite.series.check import check_series  # noqa: E402

from tests.conftest import kernel_tree  # noqa: E402

KERNEL = kernel_tree() or Path("/nonexistent-kernel-tree")

# A stand-in for checkpatch.pl with its --terse --showfile output format: an
# ERROR for every added line with trailing whitespace, a WARNING over 100 columns.
FAKE_CHECKPATCH = r"""#!/usr/bin/perl
my ($file, $line) = ("", 0);
while (<STDIN>) {
    if (/^\+\+\+ b\/(\S+)/) { $file = $1; next; }
    if (/^@@ -\d+(?:,\d+)? \+(\d+)/) { $line = $1 - 1; next; }
    next if /^---/;
    if (/^\+/) { $line++;
        print "$file:$line: ERROR:TRAILING_WHITESPACE: trailing whitespace\n" if /[ \t]\n$/;
        print "$file:$line: WARNING:LONG_LINE: line length exceeds 100 columns\n" if length($_) > 102;
    } elsif (/^ /) { $line++; }
}
"""


def build(tree: Path, out: Path):
    results = fake_scan(tree, sorted(p for p in FILES if p.endswith((".c", ".h"))))
    report = build_series(tree, results, out, SeriesOptions(date=DATE, get_maintainer=False))
    files = sorted({f for p in report.patches for f in p.files})
    return report, files


def with_fake_checkpatch(files: dict[str, str]) -> dict[str, str]:
    return {**files, "scripts/checkpatch.pl": FAKE_CHECKPATCH}


def test_check_separates_introduced_from_preexisting_errors(tmp_path):
    files = with_fake_checkpatch(FILES)
    # a line that already ends in whitespace, and a rename that pushes a line over 100
    files["mm/old.c"] = "int a = PAGE_SIZE; /* pg:one-page-buffer */ \n"
    files["mm/long.c"] = ("int b = " + "x" * 85 + " + PAGE_SIZE; /* pte:long-one */\n")
    tree = make_tree(tmp_path / "linux", files)
    results = fake_scan(tree, sorted(p for p in files if p.endswith((".c", ".h"))))
    report = build_series(tree, results, tmp_path / "out", SeriesOptions(date=DATE))
    checked = check_series(tree, report.base_commit, [p.path for p in report.patches[1:]],
                           sorted({f for p in report.patches for f in p.files}))
    assert checked.checkpatch == "ran"
    assert all(p.applied for p in checked.patches)
    mm = next(c for c in checked.patches if "mm/old.c" in c.patch.read_text())
    # mm/old.c's line ended in whitespace before; mm/long.c's was over 100 before
    assert sorted(f.type for f in mm.preexisting) == ["LONG_LINE", "TRAILING_WHITESPACE"]
    assert mm.errors == ()
    assert checked.ok
    # the long line got longer but was over 100 before: pre-existing too
    assert not any(f.type == "LONG_LINE" for c in checked.patches for f in c.introduced)


def test_check_fails_when_a_patch_does_not_apply(tmp_path):
    tree = make_tree(tmp_path / "linux", with_fake_checkpatch(FILES))
    report, files = build(tree, tmp_path / "out")
    broken = report.patches[3].path
    broken.write_text(broken.read_text().replace("-", "-XX", 1).replace("\n-\t", "\n-\tXX", 1))
    checked = check_series(tree, report.base_commit, [p.path for p in report.patches[1:]], files)
    assert not checked.ok
    assert [c.applied for c in checked.patches] == [True, True, False, False, False, False]
    assert "does NOT apply" in "\n".join(checked.lines())
    assert git(tree, "status", "--porcelain") == ""


def test_check_reports_introduced_error(tmp_path):
    files = with_fake_checkpatch(FILES)
    tree = make_tree(tmp_path / "linux", files)
    report, touched = build(tree, tmp_path / "out")
    # hand-edit one patch so that it adds trailing whitespace: the series' own error
    p = report.patches[2].path
    added = "+\tfor (; start < end; start += PTE_SIZE) /* pte:tlb-flush-stride */\n"
    assert added in p.read_text()
    p.write_text(p.read_text().replace(added, added[:-1] + " \n"))
    checked = check_series(tree, report.base_commit, [x.path for x in report.patches[1:]],
                           touched)
    assert checked.patches[1].applied
    assert [f.type for f in checked.patches[1].errors] == ["TRAILING_WHITESPACE"]
    assert not checked.ok


def test_cli_series_with_check(tmp_path, monkeypatch):
    from pgrewrite.cli import cli
    tree = make_tree(tmp_path / "linux", with_fake_checkpatch(FILES))
    monkeypatch.chdir(tree)
    res = CliRunner().invoke(cli, ["series", "mm", "arch", "-o", str(tmp_path / "out"),
                                   "--check", "--no-get-maintainer"])
    assert res.exit_code == 0, res.output
    assert "0000-cover-letter.patch" in res.output
    assert "check: OK" in res.output
    assert git(tree, "status", "--porcelain") == ""
    # a second run into the same directory refuses instead of mixing two series
    res = CliRunner().invoke(cli, ["series", "mm", "-o", str(tmp_path / "out")])
    assert res.exit_code == 1 and "already holds .patch files" in res.output


def test_cli_series_check_with_an_output_directory_relative_to_the_cwd(tmp_path, monkeypatch):
    # `-o ../series`, as a kernel developer types it: git am runs in a scratch
    # clone, which must still find the patches
    from pgrewrite.cli import cli
    tree = make_tree(tmp_path / "linux", with_fake_checkpatch(FILES))
    monkeypatch.chdir(tree)
    res = CliRunner().invoke(cli, ["series", "mm", "arch", "-o", "../series", "--check", "--no-get-maintainer"])
    assert res.exit_code == 0, res.output
    assert "check: OK" in res.output and "does NOT apply" not in res.output
    assert (tmp_path / "series" / "0000-cover-letter.patch").is_file()


def test_cli_refuses_collisions_on_request(tmp_path, monkeypatch):
    from pgrewrite.cli import cli
    files = {**FILES, "arch/x86/include/asm/pgtable.h": "#define PTE_SHIFT ilog2(PTRS_PER_PTE)\n"}
    tree = make_tree(tmp_path / "linux", files)
    monkeypatch.chdir(tree)
    res = CliRunner().invoke(cli, ["series", "mm", "-o", str(tmp_path / "out"),
                                   "--collisions", "refuse"])
    assert res.exit_code == 3
    assert "arch/x86/include/asm/pgtable.h:1" in res.output


@pytest.mark.kernel
@pytest.mark.skipif(not (KERNEL / "scripts/checkpatch.pl").is_file(), reason="no kernel tree: run scripts/get-kernel or set PGREWRITE_KERNEL")
def test_real_checkpatch_accepts_the_series(tmp_path):
    files = dict(FILES)
    tree = make_tree(tmp_path / "linux", files)
    for name in ("checkpatch.pl", "spelling.txt", "const_structs.checkpatch"):
        dst = tree / "scripts" / name
        dst.parent.mkdir(exist_ok=True)
        shutil.copy(KERNEL / "scripts" / name, dst)
    git(tree, "add", "scripts")
    git(tree, "commit", "-q", "-m", "scripts: add checkpatch")
    report, touched = build(tree, tmp_path / "out")
    checked = check_series(tree, report.base_commit, [p.path for p in report.patches[1:]],
                           touched)
    assert checked.checkpatch == "ran"
    assert checked.ok, "\n".join(checked.lines())
    assert not [f for c in checked.patches for f in c.introduced], "\n".join(checked.lines())


@pytest.mark.kernel
@pytest.mark.skipif(not (KERNEL / "scripts/get_maintainer.pl").is_file(), reason="no kernel tree: run scripts/get-kernel or set PGREWRITE_KERNEL")
def test_get_maintainer_agrees_with_our_maintainers_parser(tmp_path):
    tree = make_tree(tmp_path / "linux", FILES)
    shutil.copy(KERNEL / "scripts/get_maintainer.pl", tree / "scripts.pl")
    (tree / "scripts").mkdir()
    (tree / "scripts.pl").rename(tree / "scripts/get_maintainer.pl")
    # get_maintainer.pl wants to run at the top of a kernel tree
    for name in ("COPYING", "CREDITS", "Kbuild", "Makefile", "README"):
        (tree / name).write_text("stub\n")
    for d in ("Documentation", "fs", "init", "ipc", "kernel", "lib"):
        (tree / d).mkdir(exist_ok=True)
        (tree / d / "stub").write_text("stub\n")
    git(tree, "add", "-A")
    git(tree, "commit", "-q", "-m", "top-level stubs")
    results = fake_scan(tree, SCANNED)
    with_script = build_series(tree, results, tmp_path / "a", SeriesOptions(date=DATE))
    without = build_series(tree, results, tmp_path / "b",
                           SeriesOptions(date=DATE, get_maintainer=False))
    for a, b in zip(with_script.patches[1:], without.patches[1:]):
        assert a.to and set(a.to) == set(b.to), a.subject
        assert set(a.cc) == set(b.cc), a.subject
