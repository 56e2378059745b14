"""Which files a scan reads."""
from __future__ import annotations

import subprocess

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
