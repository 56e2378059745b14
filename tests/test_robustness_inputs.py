"""Bad input: every case gets a clear message naming the file, and the run goes on.

Each message is in a snapshot (tests/snapshots/robustness/), with temporary
paths normalised to <tmp>.
"""
from __future__ import annotations

import os
from pathlib import Path

import pytest
from click.testing import CliRunner

from pgrewrite import api
from pgrewrite.applying import apply_result
from pgrewrite.cli import cli

from .test_robustness_support import c_file, expected_rename, is_root, normalise

LATIN1 = (b"/* Copyright (c) 2003 J\xf6rg M\xfcller \xa9 -- caf\xe9 */\n"
          b"static unsigned long f(phys_addr_t phys_addr)\n{\n"
          b"\tchar *s = \"\xe9t\xe9\"; /* PAGE_SIZE in a Latin-1 comment: na\xefve */\n"
          b"\treturn phys_addr >> PAGE_SHIFT;\n}\n")


@pytest.fixture
def snap(snapshot):
    snapshot.snapshot_dir = Path(__file__).parent / "snapshots" / "robustness"
    return snapshot


def bad_tree(root: Path) -> Path:
    mm = root / "tree" / "mm"
    mm.mkdir(parents=True)
    (mm / "good.c").write_bytes(c_file(0))
    (mm / "latin1.c").write_bytes(LATIN1)
    (mm / "crlf.c").write_bytes(c_file(1, nl=b"\r\n"))
    (mm / "binary.c").write_bytes(c_file(2)[:60] + b"\0\0\x7fELF\0" + c_file(2)[60:])
    (mm / "empty.c").write_bytes(b"")
    (mm / "linked.c").symlink_to("good.c")                       # inside the tree
    outside = root / "elsewhere"
    outside.mkdir()
    (outside / "outside.c").write_bytes(c_file(3))
    (mm / "escape.c").symlink_to(os.path.relpath(outside / "outside.c", mm))   # out of the tree
    (mm / "dangling.c").symlink_to("no-such-target.c")
    (mm / "unreadable.c").write_bytes(c_file(4))
    return root / "tree"


@pytest.fixture
def unreadable(monkeypatch):
    """Make mm/unreadable.c unreadable. chmod 000 does not stop root (CI runs
    as root), so for root the read itself is made to fail the same way."""
    def arm(tree: Path):
        target = tree / "mm" / "unreadable.c"
        if not is_root():
            target.chmod(0)
            return
        real = Path.read_bytes

        def read_bytes(self):
            if self.name == "unreadable.c":
                raise PermissionError(13, "Permission denied", str(self))
            return real(self)
        monkeypatch.setattr(Path, "read_bytes", read_bytes)
    return arm


def run(args, cwd: Path):
    old = os.getcwd()
    os.chdir(cwd)
    try:
        return CliRunner().invoke(cli, args, catch_exceptions=False)
    finally:
        os.chdir(old)


def test_scan_reports_each_bad_input_and_goes_on(tmp_path, snap, unreadable):
    tree = bad_tree(tmp_path)
    unreadable(tree)
    r = run(["scan", "mm", "mm/missing.c", "--no-cache", "-j1"], tree)
    assert r.exit_code == 4          # some inputs could not be read; the others were processed
    out = normalise(r.output, tmp_path)
    snap.assert_match(out, "scan_bad_inputs.txt")
    # the good files were analysed: the link inside the tree only once, as its target
    assert out.count("mm/good.c:") == 2 and "mm/linked.c:" not in out
    assert "mm/latin1.c:5:" in out and "mm/crlf.c:7:" in out


def test_apply_rewrites_good_files_byte_exactly_and_touches_nothing_else(tmp_path, snap, unreadable):
    tree = bad_tree(tmp_path)
    before = {p: (p.read_bytes() if not p.is_symlink() else None) for p in (tree / "mm").iterdir()}
    outside = (tmp_path / "elsewhere" / "outside.c").read_bytes()
    unreadable(tree)
    r = run(["apply", "mm", "--no-cache", "-j1", "--no-git"], tree)
    snap.assert_match(normalise(r.output, tmp_path), "apply_bad_inputs.txt")
    assert r.exit_code == 4
    mm = tree / "mm"
    assert (mm / "latin1.c").read_bytes() == expected_rename(LATIN1)        # Latin-1 bytes survive
    assert (mm / "crlf.c").read_bytes() == expected_rename(c_file(1, nl=b"\r\n"))  # CRLF kept
    assert (mm / "good.c").read_bytes() == expected_rename(c_file(0))
    for name in ("binary.c", "empty.c", "unreadable.c"):
        assert Path.read_bytes.__name__ and open(mm / name, "rb").read() == before[mm / name]
    # links stay links; the one out of the tree is not written through
    assert (mm / "linked.c").is_symlink() and (mm / "escape.c").is_symlink()
    assert (tmp_path / "elsewhere" / "outside.c").read_bytes() == outside


def test_huge_files(tmp_path, snap):
    """Tens of MB: a generated file that mentions the family is skipped with a
    message; one that does not is read like any other (and costs nothing)."""
    mm = tmp_path / "mm"
    mm.mkdir()
    block = b"#define mmREG_%d 0x%x /* generated */\n"
    big = b"".join(block % (i, i) for i in range(600_000))     # about 24 MB
    assert len(big) > 20_000_000
    (mm / "huge_with_family.h").write_bytes(b"static char buf[PAGE_SIZE];\n" + big)
    (mm / "huge_without.h").write_bytes(big)
    (mm / "good.c").write_bytes(c_file(0))
    r = run(["scan", "mm", "--no-cache", "-j1"], tmp_path)
    assert r.exit_code == 4
    out = normalise(r.output, tmp_path)
    snap.assert_match(out, "scan_huge.txt")
    assert "huge_without.h" not in out


def test_file_deleted_during_the_run(tmp_path, snap, ruleset):
    mm = tmp_path / "mm"
    mm.mkdir()
    for i in range(3):
        (mm / f"f{i}.c").write_bytes(c_file(i))

    class DeleteAfterFirst:
        def phase(self, name, total=None):
            self.done = 0

        def __call__(self, n):
            self.done += n
            if self.done == 1:
                (mm / "f2.c").unlink()

    result = api.scan_paths(["mm"], ruleset, jobs=1, use_cache=False, cwd=tmp_path, progress=DeleteAfterFirst())
    lines = [f"{f.path}: error: {f.error}" for f in result.failed]
    assert [f.path for f in result.failed] == ["mm/f2.c"]
    assert result.accounting_difference == 0
    # deleted between the scan and apply: refused, the others written
    (mm / "f1.c").unlink()
    report = apply_result(result, ruleset, allow_dirty=True, cwd=tmp_path)
    lines += list(report.lines())
    snap.assert_match("\n".join(lines) + "\n", "deleted_during_run.txt")
    assert (mm / "f0.c").read_bytes() == expected_rename(c_file(0))


def test_nul_deep_inside_a_large_file_is_found(tmp_path):
    data = c_file(0) + b"/* padding */\n" * 20000 + b"int x = PAGE_SIZE;\0\n"
    assert api.input_problem(data) is not None and "line 20010" in api.input_problem(data)


def test_paths_that_are_not_there_or_not_files(tmp_path, snap):
    os.mkfifo(tmp_path / "fifo.c")          # not a regular file, given explicitly
    r = run(["scan", "nope", "nope/x.c", "fifo.c", "--no-cache", "-j1"], tmp_path)
    assert r.exit_code == 4
    snap.assert_match(normalise(r.output, tmp_path), "scan_missing_paths.txt")
