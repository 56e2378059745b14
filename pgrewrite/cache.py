"""A cache of per-file results keyed by file content and rule-set content.

The key covers everything a result depends on: the file's bytes, its
displayed path, the rule set's digest, pgrewrite's own source, the names
visible from other files (collisions) and the --unknown-as option. Change
any of them and the entry is simply not found. Entries are data, never code
(pgrewrite/cachefile.py: a header with a format version and a checksum, then
JSON; pgrewrite/codec.py turns it back into a FileResult field by field),
written atomically. An entry that is not usable is a miss, recomputed and
replaced, and named in a note of the run.

An unchanged re-run should not even read the files: one index per tree root
(and rule set and options) maps each file and the visible names it was
analysed with to the stat key it had (store.py) and its result. A file
whose stat is unchanged is a hit without being read; any other goes through
the content key above. Files the store does not trust (changed too shortly
before they were read) are not put in the index.

The directory is bounded (PGREWRITE_CACHE_MAX_MB, default 512 MiB): a run
that wrote to it adds what it wrote to a running total kept in
`size-ledger`, and when that total is over the limit, the least recently
used files (by mtime: a file read from the cache is touched) are deleted
until a quarter of the limit is free again. Files this run used or wrote
are kept. Only pgrewrite's own entries are ever deleted, recognised by name
and header (`verify/` and any unknown file stay).
"""
from __future__ import annotations

import hashlib
import math
import os
import re
import stat
import tempfile
from pathlib import Path

from . import cachefile, store
from .cachefile import touch
from .codec import result_data, result_from
from .model import FileResult
from .rules.loader import engine_digest

VERSION = b"pgrewrite-cache-3"
INDEX_VERSION = b"pgrewrite-index-4"
DEFAULT_MAX_BYTES = 512 * 1024 * 1024
LEDGER = "size-ledger"
# what prune may delete: result entries (two hex digits / key) and the
# per-tree files of index/, includes/ and prefilter/
_ENTRY_DIR = re.compile(r"[0-9a-f]{2}")
_META_DIRS = ("index", "includes", "prefilter")
# what the cache writes: hex-named files (an entry is named by its key, in
# the directory of its first two digits), each starting with cachefile's
# header; prune deletes nothing else, so a user's own files in a --cache-dir
# stay. Files of pgrewrite before the data format (`.pickle` and pickle
# protocol 2+ headers, never loaded now) are recognised too, so that they
# do not stay forever.
_OWN_NAME = re.compile(r"[0-9a-f]{16,}(\.index|\.prefilter|\.summary|\.specs|\.state|\.plan|\.pickle)?")


def _is_own(directory: str, name: str, path: str) -> bool:
    if not _OWN_NAME.fullmatch(name):
        return False
    if _ENTRY_DIR.fullmatch(directory) and not name.startswith(directory):
        return False
    # not following a link, nor waiting on a FIFO swapped in since the listing
    flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_NOFOLLOW", 0)
    try:
        fd = os.open(path, flags)
        try:
            if not stat.S_ISREG(os.fstat(fd).st_mode):
                return False
            head = os.read(fd, len(cachefile.MAGIC))
        finally:
            os.close(fd)
    except OSError:
        return False
    return head == cachefile.MAGIC or head[:1] == b"\x80"


def max_bytes_from_env() -> int:
    """PGREWRITE_CACHE_MAX_MB in bytes; ValueError saying what is wrong with it."""
    raw = os.environ.get("PGREWRITE_CACHE_MAX_MB")
    if not raw:
        return DEFAULT_MAX_BYTES
    try:
        mb = float(raw)
    except ValueError:
        mb = math.nan
    if not (0 < mb < 2 ** 40):       # also refuses nan and inf
        raise ValueError(f"PGREWRITE_CACHE_MAX_MB={raw!r}: expected a size in MiB, a number greater than 0 "
                         f"(unset: {DEFAULT_MAX_BYTES // (1024 * 1024)})")
    return max(1, int(mb * 1024 * 1024))


def default_cache_dir() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "pgrewrite"


class ResultCache:
    def __init__(self, directory: Path | None, rules_digest: str, unknown_as: str | None,
                 max_bytes: int | None = None, check=None):
        self.dir = Path(directory) if directory is not None else default_cache_dir()
        # check(result, data or None): why a result read back cannot be one
        # the rules made (edits.misfit), or None; such an entry is a miss
        self.check = check
        # pgrewrite's own source too: a new version may decide differently
        self.salt = VERSION + engine_digest().encode() + rules_digest.encode() + repr(unknown_as).encode()
        self.max_bytes = max_bytes if max_bytes is not None else max_bytes_from_env()
        self.started = store.now()
        self.written = 0          # bytes this run added to the directory

    def detached(self) -> ResultCache:
        """A copy without the stat index, for a worker process that only
        reads and writes content entries (`key_of`, `get`, `put`)."""
        copy = ResultCache.__new__(ResultCache)
        copy.dir, copy.salt, copy.max_bytes, copy.started, copy.written, copy.check = (
            self.dir, self.salt, self.max_bytes, self.started, 0, self.check)
        return copy

    def key_of(self, display: str, data: bytes, captured: dict) -> str:
        """The content key of a file's result."""
        h = hashlib.blake2b(self.salt, digest_size=20)
        # fsencode: a file name that is not UTF-8 is keyed by its own bytes
        h.update(os.fsencode(display) + b"\0" + repr(sorted(captured.items())).encode() + b"\0")
        h.update(data)
        return h.hexdigest()

    # ------------------------------------------------------------ stat index

    def open_index(self, root) -> None:
        """Use the stat index of the tree at `root` for `lookup`/`record`:
        the store (store.Kept) of (path, names) -> ((stat, display), result)."""
        # the index serves results on the files' stat alone, which anyone who
        # can stat the tree knows (a forged entry could drop a file's sites):
        # it is MACed with the user's key, and not used without one. Content
        # entries stay unkeyed, so that shared caches keep hitting
        # (docs/threat-model.md)
        path, key = store.keyed_path_for(self.dir, "index", INDEX_VERSION, root, self.salt, suffix=".index")
        if path is None:
            return
        self._index = store.Kept(path, _index_from, _index_data, key)
        self._new: dict = {}

    def lookup(self, candidate, captured, name: str | None = None) -> tuple[FileResult | None, object]:
        """The stat index's result for an unchanged file: (result, None),
        when it was made under `name` (the path rules and ids saw; a result
        is written back to the file at its path, so it must be this one's).
        Otherwise (None, ticket): whoever reads the file then tries the
        content key (`key_of`, `get`) and `put`s a fresh result, and the
        ticket goes to `record` with the result, for the index."""
        kept = getattr(self, "_index", None)
        if kept is None:
            return None, None
        path = str(candidate.path)
        stamp = store.stat_of(path)
        if stamp is None:
            return None, None
        names = hashlib.blake2b(repr(sorted(captured.items())).encode(), digest_size=16).digest()
        entry = (stamp, candidate.display)
        # a file can have two entries: its result without the names visible
        # from other files and, when those matter, its result with them
        slot = (path, names)
        self._new[slot] = None          # drop the old entry unless it is still right
        result = kept.get(slot, entry)  # kept only when trusted
        if result is not None:
            if result.__class__ is list:            # as read: made a FileResult when used
                try:
                    result = result_from(result)
                except cachefile.SHAPE_ERRORS:
                    cachefile.note_bad(kept.path, f"the entry of {path} is not the data expected")
                    result = None
                else:
                    kept.old[slot] = (entry, result)    # the same object: save_index sees no change
            if result is not None and name is not None and result.path != name:
                cachefile.note_bad(kept.path, f"the entry of {path} is of another file")
                result = None
            if result is not None and self.check is not None and (why := self.check(result, None)):
                cachefile.note_bad(kept.path, f"the entry of {path} is not what the rules make: {why}")
                result = None
            if result is not None:
                self._new[slot] = kept.old[slot]
                return result, None
        return None, ((slot, entry) if kept.trusted(stamp) else None)

    def record(self, ticket, result: FileResult, written: int = 0) -> None:
        """A file's result after a `lookup` miss, and the bytes its `put`
        wrote (the put may have run in a worker process)."""
        self.written += written
        if ticket is not None and result.error is None:
            slot, entry = ticket
            # as data now: a scan records results while its workers still
            # run, and saves the index after they ended (~0.26 s of one
            # core for the bench's 4,412 files, then on the critical path)
            self._new[slot] = (entry, result_data(result))

    def save_index(self) -> None:
        """The index as it was, with this run's entries in place of the old
        ones of the files it looked up; the others (files this run did not
        look at) stay."""
        kept = getattr(self, "_index", None)
        if kept is None:
            return
        index = dict(kept.old)
        for slot, e in self._new.items():
            if e is None:
                index.pop(slot, None)
            else:
                index[slot] = e
        # entries of files looked up this run under names they no longer have
        seen = {path for path, _ in self._new}
        for slot in [s for s in index if s[0] in seen and s not in self._new]:
            del index[slot]
        self.written += kept.save(index)

    def get(self, k: str | None, name: str, data: bytes | None = None) -> FileResult | None:
        """The result kept under key `k`, if it is one of the file `name`
        (whose bytes are `data`) that the rules could have made."""
        if k is None:
            return None
        path = self.dir / k[:2] / k
        # unkeyed: text that a terminal would act on is refused (cachefile._CONTROL)
        r = cachefile.read(path, result_from, plain_text=True)
        if r is not None and r.path != name:
            cachefile.note_bad(path, "the result of another file")
            return None
        if r is not None and self.check is not None and (why := self.check(r, data)):
            cachefile.note_bad(path, f"not what the rules make: {why}")
            return None
        if r is not None:
            touch(path)                        # recently used: pruned last
        return r

    def put(self, k: str | None, result: FileResult) -> int:
        """Keep `result` under key `k`; the bytes written (for `record`)."""
        if k is None or result.error is not None:
            return 0         # errors are retried every run
        try:
            return cachefile.write(self.dir / k[:2] / k, result_data(result), plain_text=True)
        except OSError:
            return 0         # a cache that cannot be written is only slower

    def finish(self) -> None:
        """Add what this run wrote to the ledger; prune when over the limit."""
        note_written(self.dir, self.written, self.max_bytes, self.started)
        self.written = 0


def _index_data(index: dict) -> list:
    """The stat index as data: [path, names, stat, display, result] rows;
    results read and not used this run are written back as they were read."""
    return [[path, names.hex(), list(stamp), display, r if r.__class__ is list else result_data(r)]
            for (path, names), ((stamp, display), r) in index.items()]


def _index_from(rows) -> dict:
    """The stat index of `_index_data` rows; the results stay data until
    `lookup` uses them (each is checked then)."""
    index = {}
    for path, names, (size, mtime, ctime, ino), display, result in rows:
        if not (type(path) is str and type(display) is str and type(result) is list):
            raise TypeError("not a stat index row")
        index[(path, bytes.fromhex(names))] = (((size, mtime, ctime, ino), display), result)
    return index


def note_written(directory: Path, written: int, max_bytes: int, keep_after_ns: int) -> None:
    """Count `written` bytes into the directory's ledger, and prune it when
    the total is over `max_bytes` (or unknown: no ledger yet)."""
    if written <= 0:
        return
    ledger = Path(directory) / LEDGER
    total = _read_ledger(ledger)
    if total is not None:
        total += written
    if total is not None and total <= max_bytes:
        _write_ledger(ledger, total)
        return
    _write_ledger(ledger, prune(directory, max_bytes, keep_after_ns))


def _read_ledger(ledger: Path) -> int | None:
    """The count the ledger holds, or None: missing, or not a small regular
    file holding a count of bytes (a FIFO, which would block the run, a link
    to a device or to someone's file, a negative count that would never
    prune): the directory is then counted again and the ledger replaced."""
    flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_NOFOLLOW", 0)
    try:
        fd = os.open(ledger, flags)
    except OSError:
        return None
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            return None
        text = os.read(fd, 32)
    except OSError:
        return None
    finally:
        os.close(fd)
    return int(text) if text.isdigit() else None


def _write_ledger(ledger: Path, total: int) -> None:
    try:
        fd, tmp = tempfile.mkstemp(dir=ledger.parent)
        with os.fdopen(fd, "w") as fh:
            fh.write(str(total))
        os.replace(tmp, ledger)
    except OSError:
        pass


def cache_files(directory: Path):
    """(mtime_ns, size, path) of every file prune may delete."""
    out = []
    try:
        tops = list(os.scandir(directory))
    except OSError:
        return out
    for top in tops:
        if not (top.is_dir(follow_symlinks=False)
                and (_ENTRY_DIR.fullmatch(top.name) or top.name in _META_DIRS)):
            continue
        try:
            entries = list(os.scandir(top.path))
        except OSError:
            continue
        for e in entries:
            try:
                if e.is_file(follow_symlinks=False) and _is_own(top.name, e.name, e.path):
                    st = e.stat(follow_symlinks=False)
                    out.append((st.st_mtime_ns, st.st_size, e.path))
            except OSError:
                pass
    return out


def prune(directory: Path, max_bytes: int, keep_after_ns: int) -> int:
    """Delete the least recently used cache files until the directory holds
    at most 3/4 of `max_bytes`; files touched at or after `keep_after_ns`
    (this run's) stay whatever the size. Returns the bytes left."""
    files = cache_files(Path(directory))
    total = sum(size for _, size, _ in files)
    if total <= max_bytes:
        return total
    goal = max_bytes * 3 // 4
    for mtime, size, path in sorted(files):
        if total <= goal or mtime >= keep_after_ns:
            break
        try:
            os.unlink(path)
            total -= size
        except FileNotFoundError:
            total -= size
        except OSError:
            pass
    return total
