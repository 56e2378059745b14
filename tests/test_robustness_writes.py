"""Safe writes: atomic, mode and owner kept, never over a changed or dirty
file, and an interrupted apply leaves every file old or new."""
from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from pgrewrite import api
from pgrewrite.applying import apply_result
from pgrewrite.edits import EditError, write_atomically

from .test_robustness_support import c_file, expected_rename, is_root, leftovers, make_tree

REPO = Path(__file__).resolve().parent.parent


@pytest.fixture
def snap(snapshot):
    snapshot.snapshot_dir = Path(__file__).parent / "snapshots" / "robustness"
    return snapshot


def test_write_keeps_mode_bits_and_owner(tmp_path):
    p = tmp_path / "x.c"
    p.write_bytes(b"old")
    if is_root():
        os.chown(p, 1234, 5678)
    p.chmod(0o2751)                       # setgid and unusual permission bits (after chown, which clears set-id)
    write_atomically(p, b"new", b"old")
    st = p.stat()
    assert p.read_bytes() == b"new"
    assert st.st_mode & 0o7777 == 0o2751
    if is_root():
        assert (st.st_uid, st.st_gid) == (1234, 5678)
    assert leftovers(tmp_path) == []


def test_write_refuses_a_file_changed_since_it_was_read(tmp_path):
    p = tmp_path / "x.c"
    p.write_bytes(b"changed by someone else")
    with pytest.raises(EditError, match="changed since it was read"):
        write_atomically(p, b"new", b"what we read")
    assert p.read_bytes() == b"changed by someone else"
    assert leftovers(tmp_path) == []


def test_write_never_replaces_a_symlink(tmp_path):
    (tmp_path / "real.c").write_bytes(b"old")
    (tmp_path / "link.c").symlink_to("real.c")
    with pytest.raises(EditError, match="symbolic link"):
        write_atomically(tmp_path / "link.c", b"new", b"old")
    assert (tmp_path / "link.c").is_symlink() and (tmp_path / "real.c").read_bytes() == b"old"


def test_apply_refuses_a_file_edited_after_the_scan(tmp_path, ruleset, snap):
    a, b = make_tree(tmp_path, 2)
    result = api.scan_paths(["mm"], ruleset, jobs=1, use_cache=False, cwd=tmp_path)
    b.write_bytes(b.read_bytes() + b"/* edited meanwhile */\n")
    report = apply_result(result, ruleset, allow_dirty=True, cwd=tmp_path)
    snap.assert_match("\n".join(report.lines()) + "\n", "apply_changed_since_scan.txt")
    assert a.read_bytes() == expected_rename(c_file(0))
    assert b.read_bytes().endswith(b"/* edited meanwhile */\n") and b"PTE_SHIFT" not in b.read_bytes()


def git(cwd, *args):
    subprocess.run(["git", "-c", "user.name=t", "-c", "user.email=t@example.org", *args], cwd=cwd,
                   check=True, capture_output=True)


def test_apply_refuses_uncommitted_files_unless_allowed(tmp_path, ruleset, snap):
    files = make_tree(tmp_path, 4)
    git(tmp_path, "init", "-q")
    git(tmp_path, "add", "mm/file000.c", "mm/file001.c", "mm/file002.c")
    git(tmp_path, "commit", "-qm", "base")
    files[1].write_bytes(files[1].read_bytes() + b"/* my uncommitted work */\n")   # modified
    git(tmp_path, "add", "mm/file001.c")
    files[2].write_bytes(files[2].read_bytes() + b"/* unstaged */\n")              # modified, unstaged
    # file003.c is untracked: no committed copy to go back to
    snapshot_before = {p: p.read_bytes() for p in files}
    result = api.scan_paths(["mm"], ruleset, jobs=1, use_cache=False, cwd=tmp_path)
    report = apply_result(result, ruleset, cwd=tmp_path)
    snap.assert_match("\n".join(report.lines()) + "\n", "apply_dirty.txt")
    assert files[0].read_bytes() == expected_rename(snapshot_before[files[0]])
    for p in files[1:]:
        assert p.read_bytes() == snapshot_before[p]
    report = apply_result(result, ruleset, allow_dirty=True, cwd=tmp_path)
    assert [p for p, _ in report.rewritten] == ["mm/file001.c", "mm/file002.c", "mm/file003.c"]
    for p in files[1:]:
        assert p.read_bytes() == expected_rename(snapshot_before[p])


# An apply whose writes are slow (fsync sleeps), so that it can be interrupted
# in the middle of a write; it says "writing" on stderr each time.
SLOW_APPLY = r"""
import os, signal, sys, time
# Ctrl-C as a terminal's foreground job gets it: a shell that starts the
# tests as a background job (`(cmd &)`) hands them SIGINT ignored, and
# apply rightly keeps an ignored SIGINT ignored
signal.signal(signal.SIGINT, signal.default_int_handler)
real_fsync = os.fsync
def slow_fsync(fd):
    sys.stderr.write("writing\n"); sys.stderr.flush()
    time.sleep(0.2)
    real_fsync(fd)
os.fsync = slow_fsync
from pgrewrite.cli import main
sys.argv = ["pgrewrite", "apply", "mm", "--no-cache", "-j1", "--no-git"]
main()
"""


def start_slow_apply(tree: Path) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-c", SLOW_APPLY], cwd=tree, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, env={**os.environ, "PYTHONPATH": str(REPO)})


def wait_for_writes(proc: subprocess.Popen, n: int) -> list[str]:
    seen = []
    while len([s for s in seen if s == "writing"]) < n:
        line = proc.stderr.readline().decode()
        assert line, "apply ended before it was interrupted"
        seen.append(line.strip())
    time.sleep(0.05)            # well inside the 0.2 s write
    return seen


def old_or_new(files, originals) -> tuple[int, int]:
    old = new = 0
    for p in files:
        data = p.read_bytes()
        if data == originals[p]:
            old += 1
        else:
            assert data == expected_rename(originals[p]), f"{p} is neither old nor new"
            new += 1
    return old, new


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM, signal.SIGKILL], ids=["SIGINT", "SIGTERM", "SIGKILL"])
def test_interrupted_apply_leaves_every_file_old_or_new(tmp_path, sig, ruleset, snap):
    files = make_tree(tmp_path, 40)
    originals = {p: p.read_bytes() for p in files}
    proc = start_slow_apply(tmp_path)
    wait_for_writes(proc, 6)
    proc.send_signal(sig)
    out, err = proc.communicate(timeout=60)
    old, new = old_or_new(files, originals)
    assert 5 <= new <= 6 and old == 40 - new
    if sig == signal.SIGKILL:
        assert proc.returncode == -signal.SIGKILL
        assert len(leftovers(tmp_path)) <= 1      # a kill -9 can leave the one temporary file...
    else:
        assert proc.returncode == 130
        assert leftovers(tmp_path) == []          # ...Ctrl-C and SIGTERM never do
        tail = [line for line in err.decode().splitlines() if line.startswith(("interrupted", "summary"))]
        assert f"; {40 - new - 1} file(s) were not reached" in tail[0]
        snap.assert_match(re.sub(r"\d+", "N", "\n".join(tail)) + "\n", "apply_interrupted.txt")
    # a second run finishes the job (and removes what a kill -9 left)
    again = subprocess.run([sys.executable, "-m", "pgrewrite.cli", "apply", "mm", "--no-cache", "-j1", "--no-git"],
                           cwd=tmp_path, capture_output=True, env={**os.environ, "PYTHONPATH": str(REPO)})
    assert again.returncode == 0, again.stderr.decode()
    assert old_or_new(files, originals) == (0, 40)
    assert leftovers(tmp_path) == []
