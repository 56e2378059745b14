"""A cache of per-file results keyed by file content and rule-set content.

The key covers everything a result depends on: the file's bytes, its
displayed path, the rule set's digest, the names visible from other files
(collisions) and the --unknown-as option. Change any of them and the entry
is simply not found. Entries are pickles written atomically.

An unchanged re-run should not even read the files: one index per tree root
(and rule set and options) maps each file to the stat it had, (size,
mtime_ns, ctime_ns, inode), the visible names it was analysed with, and its
result. A file whose stat is unchanged is a hit without being read; any
other goes through the content key above. Files changed less than STALE_NS
before their stat was taken are not put in the index (an edit within the
same timestamp granule would not show in the stat).
"""
from __future__ import annotations

import hashlib
import os
import pickle
import tempfile
import time
from pathlib import Path

from .model import FileResult

VERSION = b"pgrewrite-cache-1"
INDEX_VERSION = b"pgrewrite-index-1"
STALE_NS = 2_000_000_000


def default_cache_dir() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "pgrewrite"


class ResultCache:
    def __init__(self, directory: Path | None, rules_digest: str, unknown_as: str | None):
        self.dir = Path(directory) if directory is not None else default_cache_dir()
        self.salt = VERSION + rules_digest.encode() + repr(unknown_as).encode()

    def _key(self, display: str, data: bytes, captured: dict) -> str:
        h = hashlib.blake2b(self.salt, digest_size=20)
        h.update(display.encode() + b"\0" + repr(sorted(captured.items())).encode() + b"\0")
        h.update(data)
        return h.hexdigest()

    # ------------------------------------------------------------ stat index

    def open_index(self, root) -> None:
        """Use the stat index of the tree at `root` for `lookup`/`put`."""
        try:
            where = str(Path(root).resolve())
        except OSError:
            where = str(root)
        h = hashlib.blake2b(INDEX_VERSION + self.salt + b"\0" + where.encode(), digest_size=16).hexdigest()
        self._index_path = self.dir / "index" / f"{h}.pickle"
        try:
            with open(self._index_path, "rb") as fh:
                old = pickle.load(fh)
        except (OSError, pickle.PickleError, EOFError, AttributeError, ValueError, ImportError, IndexError):
            old = None
        self._index = old if isinstance(old, dict) else {}
        self._new: dict = {}
        self._pending: dict = {}

    def lookup(self, candidate, captured) -> tuple[FileResult | None, str | None]:
        """(cached result, None), or (None, content key to `put` the fresh result under)."""
        index = getattr(self, "_index", None)
        if index is None:
            k = self.key(candidate, captured)
            return self.get(k), k
        path = str(candidate.path)
        try:
            st = os.stat(path)
        except OSError:
            return None, None
        stamp = (st.st_size, st.st_mtime_ns, st.st_ctime_ns, st.st_ino)
        names = hashlib.blake2b(repr(sorted(captured.items())).encode(), digest_size=16).digest()
        trusted = max(st.st_mtime_ns, st.st_ctime_ns) < time.time_ns() - STALE_NS
        entry = (stamp, candidate.display, names)
        self._new[path] = None          # drop the old entry unless it is still right
        hit = index.get(path)
        if hit is not None and hit[0] == entry:     # trusted when it was recorded
            self._new[path] = hit
            return hit[1], None
        k = self.key(candidate, captured)
        r = self.get(k)
        if r is not None:
            if trusted:
                self._new[path] = (entry, r)
            return r, None
        if trusted and k is not None:
            self._pending[k] = (path, entry)
        return None, k

    def save_index(self) -> None:
        if getattr(self, "_index", None) is None:
            return
        index = dict(self._index)
        changed = False
        for path, e in self._new.items():
            if index.get(path) is not e:
                changed = True
                if e is None:
                    index.pop(path, None)
                else:
                    index[path] = e
        if not changed:
            return
        try:
            self._index_path.parent.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(dir=self._index_path.parent)
            with os.fdopen(fd, "wb") as fh:
                pickle.dump(index, fh, protocol=pickle.HIGHEST_PROTOCOL)
            os.replace(tmp, self._index_path)
        except OSError:
            pass

    def key(self, candidate, captured) -> str | None:
        try:
            return self._key(candidate.display, candidate.path.read_bytes(), captured)
        except OSError:
            return None

    def get(self, k: str | None) -> FileResult | None:
        if k is None:
            return None
        try:
            with open(self.dir / k[:2] / k, "rb") as fh:
                r = pickle.load(fh)
            return r if isinstance(r, FileResult) else None
        except (OSError, pickle.PickleError, EOFError, AttributeError, ValueError):
            return None

    def put(self, k: str | None, result: FileResult) -> None:
        if k is None or result.error is not None:
            return           # errors are retried every run
        pending = getattr(self, "_pending", {}).pop(k, None)
        if pending is not None:
            self._new[pending[0]] = (pending[1], result)
        try:
            d = self.dir / k[:2]
            d.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(dir=d)
            with os.fdopen(fd, "wb") as fh:
                pickle.dump(result, fh, protocol=pickle.HIGHEST_PROTOCOL)
            os.replace(tmp, d / k)
        except OSError:
            pass             # a cache that cannot be written is only slower
