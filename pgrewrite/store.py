"""What is kept across runs per file, keyed by the file's stat.

Three stores use this: the prefilter's answers (files.py), the include
lines and the built definition index (collisions.py) and the per-file
results (cache.py). Each keeps a value under the key the file had when the
value was made, (size, mtime_ns, ctime_ns, inode): a file whose key is
unchanged has the same content, without reading it. That holds only for a
file whose last change is older than STALE_NS when it is read: an edit
within the same timestamp granule would not show in its stat, so a value
made from a younger file is not kept.

Store files are cachefile data (never code), one per tree root and what
else the values depend on (`path_for`), marked used when read so that
cache.prune deletes the least recently used first. A stat key is no secret
(anyone who can stat the tree has it, and the store files hold them), so
the callers give the user's key (cachekey.py): a store file is then read
only if its MAC verifies (docs/threat-model.md).
"""
from __future__ import annotations

import hashlib
import os
import time
from pathlib import Path

from . import cachefile, cachekey
from .cachefile import touch

STALE_NS = 2_000_000_000
# the key of a file that could not be stat()ed: never equal to a real one
NO_STAT = (-1, 0, 0, 0)


def stat_key(st) -> tuple[int, int, int, int]:
    """The key of an os.stat_result."""
    return (st.st_size, st.st_mtime_ns, st.st_ctime_ns, st.st_ino)


def now() -> int:
    return time.time_ns()


def trusted(key, started: int) -> bool:
    """Can a value made from the file with stat `key`, read after `started`
    (time.time_ns()), be kept? Its last change must be STALE_NS older."""
    return key is not None and max(key[1], key[2]) < started - STALE_NS


def where(root) -> str:
    """The tree root as the stores name it: its real path."""
    try:
        return str(Path(root).resolve())
    except OSError:
        return str(root)


def path_for(cache_dir: Path, kind: str, version: bytes, root, *depends, suffix: str) -> Path:
    """The store file of `kind` (a subdirectory of the cache directory) for
    the tree at `root` and the values' other dependencies `depends`."""
    h = hashlib.blake2b(version + repr((where(root), *depends)).encode(), digest_size=16).hexdigest()
    return Path(cache_dir) / kind / f"{h}{suffix}"


def keyed_path_for(cache_dir: Path, kind: str, version: bytes, root, *depends,
                   suffix: str) -> tuple[Path | None, bytes | None]:
    """(path_for with the tag of the user's key among the dependencies, the
    key), or (None, None) without a key. For what a run trusts on stat keys
    anyone who can stat the tree knows: it is kept MACed with the key only
    (cachekey.py, docs/threat-model.md), and each user sharing a cache
    directory keeps their own file."""
    secret = cachekey.get()[0]
    if secret is None:
        return None, None
    return path_for(cache_dir, kind, version, root, *depends, cachekey.tag(secret), suffix=suffix), secret


def load(path: Path | None, convert=None, key: bytes | None = None):
    """`convert` of the data in the store file at `path`, marked recently
    used, or None (missing or unusable: cachefile notes why). With `key`
    (cachekey.py), only a file whose MAC verifies under it."""
    if path is None:
        return None
    got = cachefile.read(path, convert, key=key)
    if got is not None:
        touch(path)
    return got


def save(path: Path | None, data, key: bytes | None = None) -> int:
    """Write the store file (with `key`: MACed); the bytes written (0 if it
    cannot be written: a cache that cannot be written is only slower)."""
    if path is None:
        return 0
    try:
        return cachefile.write(path, data, key=key)
    except OSError:
        return 0


def stat_of(path: str):
    """The key of the file at `path` (links followed), or None."""
    try:
        return stat_key(os.stat(path))
    except OSError:
        return None


class Kept:
    """The values one store file keeps, name -> (stat key, value), for the
    files of one tree. `started` is taken before any file is read: a value
    is kept only for a file `trusted` then. The file is read when first
    needed; `convert` checks its data (cachefile's SHAPE_ERRORS otherwise)
    and `data`, if given, turns what is kept back into such data (else it
    is written as it is)."""

    def __init__(self, path: Path | None, convert, data=None, key: bytes | None = None):
        self.path = path
        self.started = now()
        self._convert = convert
        self._data = data
        self._key = key
        self._old: dict | None = None if path is not None else {}

    @property
    def old(self) -> dict:
        if self._old is None:
            self._old = load(self.path, self._convert, self._key) or {}
        return self._old

    def exists(self) -> bool:
        return self.path is not None and self.path.exists()

    def get(self, name, key):
        """The value kept for `name` at stat `key`, or None."""
        hit = self.old.get(name)
        return hit[1] if hit is not None and hit[0] == key else None

    def trusted(self, key) -> bool:
        return trusted(key, self.started)

    def save(self, new: dict) -> int:
        """Keep `new` (name -> (key, value)) instead, if it differs; the
        bytes written."""
        if self.path is None or new == self.old:
            return 0
        return save(self.path, self._data(new) if self._data is not None else new, self._key)
