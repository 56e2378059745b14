"""Byte-exact rewriting and the self-checks that prove a rewrite is a rename.

Only the bytes of renamed tokens change; everything else (whitespace,
comments, CRLF, bytes that are not UTF-8) is copied through untouched.
"""
from __future__ import annotations

import os
import tempfile
from pathlib import Path

from . import parsing


class EditError(ValueError):
    pass


def rewrite(data: bytes, edits) -> bytes:
    """Apply non-overlapping edits; each edit's `old` must be what is there."""
    out, pos = [], 0
    for e in sorted(edits, key=lambda e: e.start):
        if e.start < pos:
            raise EditError(f"overlapping edits at byte {e.start}")
        if data[e.start:e.end] != e.old.encode():
            raise EditError(f"expected {e.old!r} at byte {e.start}, found {data[e.start:e.end]!r}")
        out.append(data[pos:e.start])
        out.append(e.new.encode())
        pos = e.end
    out.append(data[pos:])
    return b"".join(out)


def self_check(old: bytes, new: bytes, edits, engine) -> list[str]:
    """Problems that make a rewrite unsafe (empty list: safe).

    - the family tokens that disappeared are exactly the renamed ones;
    - the new file has no more parse errors than the old one;
    - the result is stable: renamed sites are gone, nothing else moved.
    """
    problems = []
    fam_edits = [e for e in edits if e.kind == "family"]
    before, _ = engine.counter.count(old)
    after, _ = engine.counter.count(new)
    if before - after != len(fam_edits):
        problems.append(f"family token count went from {before} to {after}, but {len(fam_edits)} were renamed")
    if parsing.count_errors(parsing.parse(new)) > parsing.count_errors(parsing.parse(old)):
        problems.append("the rewritten file has more parse errors than the original")
    if len(new) - len(old) != sum(len(e.new) - len(e.old) for e in edits):
        problems.append("the file length changed by more than the renames")
    return problems


def write_atomically(path: Path, data: bytes, expected_old: bytes) -> None:
    """Replace `path` with `data` in one rename, keeping its mode.

    Refuses if the file changed since it was read (`expected_old`). The
    temporary file lives in the same directory so the rename is atomic: a
    crash or Ctrl-C leaves either the old or the new file, never a mix.
    """
    path = Path(path)
    if path.read_bytes() != expected_old:
        raise EditError("the file changed since it was read; re-run")
    st = path.stat()
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".pgrewrite", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.chmod(tmp, st.st_mode & 0o7777)
        try:
            os.chown(tmp, st.st_uid, st.st_gid)
        except PermissionError:
            pass
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except FileNotFoundError:
            pass
        raise
