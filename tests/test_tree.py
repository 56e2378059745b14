"""The one walk of a tree (pgrewrite/tree.py) and the stat-keyed store (store.py)."""
from __future__ import annotations

import os

from pgrewrite import store, tree
from pgrewrite.tree import DIR_LINK, FILE, LINK


def make(root, files):
    for rel, data in files.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text(data)


TREE = {
    "mm/a.c": "int a;\n", "mm/sub/b.h": "x\n", "mm/notes.txt": "x\n", "mm/.dot.c": "x\n",
    "include/linux/mm.h": "x\n", "arch/x86/kernel/head.S": "x\n", "arch/x86/kernel/vmlinux.lds": "x\n",
    ".git/hooks/h.c": "x\n", "kernel/k.c": "x\n",
}


def test_a_walk_lists_source_files_with_their_stat_and_skips_dot_directories(tmp_path):
    make(tmp_path, TREE)
    (tmp_path / "mm/link.h").symlink_to("../include/linux/mm.h")
    (tmp_path / "mm/dir.h").symlink_to("../include")          # a directory named like a header
    (tmp_path / "mm/dangling.c").symlink_to("nowhere.c")
    snap = tree.walk(tmp_path)
    got = {os.path.relpath(p, tmp_path): (kind, key) for p, kind, key in snap.entries}
    assert sorted(got) == sorted(["mm/a.c", "mm/sub/b.h", "mm/.dot.c", "include/linux/mm.h",
                                  "arch/x86/kernel/head.S", "arch/x86/kernel/vmlinux.lds", "kernel/k.c",
                                  "mm/link.h", "mm/dir.h", "mm/dangling.c"])
    assert got["mm/a.c"] == (FILE, store.stat_key(os.lstat(tmp_path / "mm/a.c")))
    # a link's key is its target's stat: the target's edits show
    assert got["mm/link.h"] == (LINK, store.stat_key(os.stat(tmp_path / "include/linux/mm.h")))
    assert got["mm/dir.h"][0] == DIR_LINK and got["mm/dangling.c"] == (LINK, None)
    # the include graph: .h .c .S, no dot files, links named
    stats, links = snap.graph(tmp_path)
    assert sorted(r for r, _ in stats) == sorted(["mm/a.c", "mm/sub/b.h", "include/linux/mm.h", "arch/x86/kernel/head.S",
                                                  "kernel/k.c", "mm/link.h", "mm/dir.h", "mm/dangling.c"])
    assert links == {"mm/link.h", "mm/dir.h", "mm/dangling.c"}
    assert dict(stats)["mm/dangling.c"] == store.NO_STAT


def test_the_trees_walk_reuses_the_walks_of_directories_under_it(tmp_path, monkeypatch):
    make(tmp_path, TREE)
    fresh = tree.walk(tmp_path)
    walks = {str(tmp_path / d): tree.walk(tmp_path / d) for d in ("mm", "arch/x86")}
    listed = []
    real = os.scandir

    def scandir(path):
        listed.append(os.path.relpath(path, tmp_path))
        return real(path)
    monkeypatch.setattr(tree.os, "scandir", scandir)
    again = tree.walk(tmp_path, reuse=walks)
    # the same entries in the same order, and the fingerprint with them
    assert again.entries == fresh.entries and again.fingerprint == fresh.fingerprint
    # ... without listing (or stat()ing) what was walked already
    assert not any(d == "mm" or d.startswith(("mm/", "arch/x86")) for d in listed), listed
    assert "kernel" in listed


def test_a_fingerprint_changes_with_any_file(tmp_path):
    make(tmp_path, TREE)
    before = tree.walk(tmp_path).fingerprint
    assert tree.walk(tmp_path).fingerprint == before
    (tmp_path / "kernel/k.c").write_text("y\n")           # same size, new mtime
    assert tree.walk(tmp_path).fingerprint != before


def test_unlisted_directories_are_named(tmp_path, monkeypatch):
    make(tmp_path, TREE)
    locked = str(tmp_path / "mm/sub")
    real = os.scandir

    def scandir(path):
        if path == locked:
            raise PermissionError(13, "Permission denied", path)
        return real(path)
    monkeypatch.setattr(tree.os, "scandir", scandir)
    snap = tree.walk(tmp_path)
    assert snap.unlisted == {locked: "Permission denied"}
    assert "mm/a.c" in {os.path.relpath(p, tmp_path) for p, _, _ in snap.entries}
    # a walk that reuses this one names the directory too
    assert tree.walk(tmp_path, reuse={str(tmp_path / "mm"): tree.walk(tmp_path / "mm")}).unlisted == snap.unlisted


def test_a_value_is_kept_only_for_a_file_whose_last_change_is_old_enough():
    now = store.now()
    old = (1, now - 2 * store.STALE_NS, now - 2 * store.STALE_NS, 7)
    assert store.trusted(old, now)
    assert not store.trusted((1, now, now - 2 * store.STALE_NS, 7), now)     # just written
    assert not store.trusted((1, now - 2 * store.STALE_NS, now, 7), now)     # just chmod-ed or renamed
    assert not store.trusted(None, now)


def test_kept_values_answer_only_at_the_same_stat(tmp_path):
    path = tmp_path / "kind" / "x.specs"
    kept = store.Kept(path, lambda data: {k: (tuple(key), v) for k, (key, v) in data.items()})
    key = (1, 2, 3, 4)
    kept.save({"a.c": (key, ["v"])})
    again = store.Kept(path, lambda data: {k: (tuple(key), v) for k, (key, v) in data.items()})
    assert again.get("a.c", key) == ["v"]
    assert again.get("a.c", (1, 2, 3, 5)) is None and again.get("b.c", key) is None
