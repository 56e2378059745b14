"""Which files a scan reads."""
from __future__ import annotations

import os
import subprocess

import pytest

from pgrewrite.files import expand

NAMES = ["PAGE_SIZE", "PAGE_SHIFT"]


def git(cwd, *args):
    subprocess.run(["git", "-C", str(cwd), "-c", "user.name=t", "-c", "user.email=t@example.org", *args],
                   check=True, capture_output=True)


def test_git_tree_tracked_ignored_and_untracked_files(tmp_path):
    (tmp_path / "mm").mkdir()
    (tmp_path / "mm/tracked.c").write_text("int a = PAGE_SIZE;\n")
    (tmp_path / "mm/nothing.c").write_text("int a = 1;\n")
    (tmp_path / ".gitignore").write_text("/*\n!/.gitignore\n!/mm\n/mm/ignored.c\n")
    git(tmp_path, "init", "-q")
    git(tmp_path, "add", "-f", "mm/tracked.c", "mm/nothing.c", ".gitignore")
    git(tmp_path, "commit", "-qm", "base")
    # tracked but matching an ignore pattern (Debian's kernel source has "/*")
    (tmp_path / ".gitignore").write_text("/*\n/mm/ignored.c\n")
    (tmp_path / "mm/new.c").write_text("int b = PAGE_SHIFT;\n")        # untracked, not ignored
    (tmp_path / "mm/ignored.c").write_text("int c = PAGE_SHIFT;\n")    # ignored build product
    (tmp_path / ".gitignore").write_text("/mm/ignored.c\n")
    got, problems = expand(["mm"], NAMES, cwd=tmp_path)
    assert [c.display for c in got] == ["mm/new.c", "mm/tracked.c"]
    assert problems == []
    (tmp_path / ".gitignore").write_text("/*\n")
    got, _ = expand(["mm"], NAMES, cwd=tmp_path)
    assert [c.display for c in got] == ["mm/tracked.c"]


def test_outside_git_every_source_file_is_a_candidate(tmp_path):
    (tmp_path / "a.c").write_text("int a = PAGE_SIZE;\n")
    (tmp_path / "b.txt").write_text("PAGE_SIZE\n")
    got, problems = expand([".", "missing.c"], NAMES, cwd=tmp_path)
    assert [c.display for c in got] == ["a.c"]
    assert [(p.display, p.message) for p in problems] == [("missing.c", "no such file or directory; check the path")]


# --------------------------------------------------- the prefilter's cache

def forbid_grep(monkeypatch):
    """Fail the test if git grep runs; returns the list of git commands run."""
    import pgrewrite.git as git
    ran = []
    real = subprocess.Popen

    def popen(args, *a, **k):
        ran.append(list(args))
        assert "grep" not in args, f"git grep ran: {args}"
        return real(args, *a, **k)
    monkeypatch.setattr(git.subprocess, "Popen", popen)
    return ran


def trust_at_once(monkeypatch):
    """Keep answers about files changed up to now (the two seconds'
    margin would make these tests sleep)."""
    import pgrewrite.store as store
    monkeypatch.setattr(store, "STALE_NS", 0)


def displays(tmp_path, **k):
    got, _ = expand(["."], NAMES, cwd=tmp_path, **k)
    return [c.display for c in got]


def test_prefilter_cache_outside_git(tmp_path, monkeypatch):
    trust_at_once(monkeypatch)
    tree = tmp_path / "tree"
    (tree / "mm").mkdir(parents=True)
    (tree / "mm/a.c").write_text("int a = PAGE_SIZE;\n")
    (tree / "mm/none.c").write_text("int a = MY_PAGE_SIZE;\n")
    (tree / "b.h").write_text("#define X PAGE_SHIFT\n")
    cache = tmp_path / "cache"
    assert displays(tree, cache_dir=cache) == displays(tree) == ["b.h", "mm/a.c"]
    with monkeypatch.context() as m:
        forbid_grep(m)          # nothing changed: a stat per file, no search,
        from pgrewrite.files import _Known       # not even the answer per file
        m.setattr(_Known, "old", property(lambda self: pytest.fail("per-file answers read")))
        assert displays(tree, cache_dir=cache) == ["b.h", "mm/a.c"]
    with monkeypatch.context() as m:
        forbid_grep(m)
        # an edited file, a new file and a file losing its name are searched
        # again (in Python: only a few files changed)
        (tree / "mm/none.c").write_text("int a = PAGE_SIZE;\n")
        (tree / "mm/new.c").write_text("long n = offset_in_page(x) + PAGE_SHIFT;\n")
        (tree / "mm/new2.c").write_text("long n = xPAGE_SHIFT;\n")
        (tree / "b.h").write_text("#define X PAGE_SHIFTED\n")
        expect = ["mm/a.c", "mm/new.c", "mm/none.c"]
        assert displays(tree, cache_dir=cache) == expect
        assert displays(tree, cache_dir=cache) == expect
    assert displays(tree) == expect


def test_prefilter_cache_keeps_no_answer_about_a_fresh_file(tmp_path):
    import time

    from pgrewrite.files import _Known
    (tmp_path / "old.c").write_text("int a = PAGE_SIZE;\n")
    time.sleep(2.1)             # its ctime is older than the margin
    (tmp_path / "fresh.c").write_text("int a = PAGE_SIZE;\n")
    cache = tmp_path / "cache"
    assert displays(tmp_path, cache_dir=cache) == ["fresh.c", "old.c"]
    kept = _Known(cache, tmp_path, NAMES, "walk").old
    assert sorted(os.path.basename(p) for p in kept) == ["old.c"]
    assert _Known(cache, tmp_path, NAMES, "walk").summary() is None    # not every file trusted
    # the same size and mtime, another content: only a fresh file could do
    # that within a timestamp granule, and its answer was not kept
    st = (tmp_path / "fresh.c").stat()
    (tmp_path / "fresh.c").write_text("int a = PAGE_SIZF;\n")
    os.utime(tmp_path / "fresh.c", ns=(st.st_atime_ns, st.st_mtime_ns))
    assert displays(tmp_path, cache_dir=cache) == ["old.c"]


def test_prefilter_cache_in_a_git_tree(tmp_path, monkeypatch):
    trust_at_once(monkeypatch)
    (tmp_path / "mm").mkdir()
    (tmp_path / "mm/tracked.c").write_text("int a = PAGE_SIZE;\n")
    (tmp_path / "mm/nothing.c").write_text("int a = 1;\n")
    (tmp_path / "mm/ignored.c").write_text("int c = PAGE_SHIFT;\n")
    (tmp_path / ".gitignore").write_text("/mm/ignored.c\n")
    git(tmp_path, "init", "-q")
    git(tmp_path, "add", "mm/tracked.c", "mm/nothing.c", ".gitignore")
    git(tmp_path, "commit", "-qm", "base")
    cache = tmp_path / "cache"
    (tmp_path / ".gitignore").write_text("/mm/ignored.c\n/cache\n")
    assert displays(tmp_path, cache_dir=cache) == displays(tmp_path) == ["mm/tracked.c"]
    with monkeypatch.context() as m:
        ran = forbid_grep(m)
        assert displays(tmp_path, cache_dir=cache) == ["mm/tracked.c"]
        assert any("ls-files" in a for a in ran)
    # edited, new untracked, and no longer ignored files: searched again
    (tmp_path / "mm/nothing.c").write_text("int a = PAGE_SIZE;\n")
    (tmp_path / "mm/new.c").write_text("int b = PAGE_SHIFT;\n")
    expect = ["mm/new.c", "mm/nothing.c", "mm/tracked.c"]
    assert displays(tmp_path, cache_dir=cache) == displays(tmp_path) == expect
    (tmp_path / ".gitignore").write_text("/cache\n")
    assert displays(tmp_path, cache_dir=cache) == displays(tmp_path) == ["mm/ignored.c", *expect]


def test_the_greps_of_later_directories_run_beside_the_first_walk(tmp_path, monkeypatch):
    # outside git, each directory named is searched by a `git grep` of its
    # own: those of the directories after the first start with the first's
    # walk instead of one after the other, and find the same files
    from pgrewrite import files, git as gitmod
    tree = tmp_path / "tree"
    for d in ("mm", "fs", "kernel"):
        (tree / d).mkdir(parents=True)
        (tree / d / "a.c").write_text("int a = PAGE_SIZE;\n")
        (tree / d / "none.c").write_text("int a = MY_PAGE_SIZE;\n")
    (tree / "kernel/b.S").write_text("mov PAGE_SHIFT, %eax\n")
    dirs = ["mm", "fs", "kernel", "mm"]
    alone = [c.display for d in dirs[:3] for c in expand([d], NAMES, cwd=tree)[0]]
    events, start, walk = [], gitmod.start, files.walk

    def started(where, *args, **kwargs):
        events.append(("grep", os.path.basename(where)))
        return start(where, *args, **kwargs)

    def walked(top, *args, **kwargs):
        events.append(("walk", os.path.basename(top)))
        return walk(top, *args, **kwargs)
    monkeypatch.setattr(gitmod, "start", started)
    monkeypatch.setattr(files, "walk", walked)
    together = [c.display for c in expand(dirs, NAMES, cwd=tree)[0]]
    assert together == sorted(alone) == ["fs/a.c", "kernel/a.c", "kernel/b.S", "mm/a.c"]
    assert events[:4] == [("grep", "fs"), ("grep", "kernel"), ("grep", "mm"), ("walk", "mm")]
    assert events.count(("grep", "fs")) == events.count(("grep", "kernel")) == 1
