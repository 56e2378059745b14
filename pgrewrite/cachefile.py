"""The one on-disk form of everything pgrewrite caches: data, never code.

A cache directory may be shared, or restored in CI from other runs, so what
is in it is input from others. Every cache file is

    MAGIC (16 bytes) | FORMAT (2 bytes, big-endian) | blake2b-16 of payload | payload

where the payload is JSON (orjson): lists, dicts, strings, numbers. Reading
builds nothing but those; the callers turn them into pgrewrite's own values
with explicit converters (pgrewrite/codec.py and the modules that own a
cached shape). A file that is not ours, of another FORMAT, cut short,
bit-flipped, of the wrong shape or over MAX_FILE_BYTES (never read into
memory) is a miss: the caller recomputes and replaces it, and `take_note()`
names it in one note of the run.

The checksum detects damage, not forgery: whoever can write the directory
can write a valid entry (docs/threat-model.md says what that can and cannot
change). A file written and read with a `key` (the rules cache and the
stores kept on stat keys, keyed with the user's cachekey.py) carries a MAC
instead: HMAC-SHA256 of its file name and payload under that key, cut to
the same 16 bytes. Only the key's owner can write one that reads back, and
only under the name it was written for (an older entry copied over a newer
one's name does not verify).
"""
from __future__ import annotations

import errno
import hashlib
import hmac
import itertools
import json
import os
import re
import stat
import struct
from pathlib import Path

import orjson

MAGIC = b"pgrewrite-cache\n"
# bump when the shape of any cached value changes: older files are then misses
FORMAT = 4
_DIGEST = 16
_HEADER = struct.Struct(f">{len(MAGIC)}sH{_DIGEST}s")
HEADER_SIZE = _HEADER.size
# the largest cache file read or written. The biggest pgrewrite writes for the
# whole 6.12 tree is the include specs, ~16 MB; a bigger file in a shared
# directory is someone else's (or a runaway): a miss, never read into memory.
MAX_FILE_BYTES = 64 * 1024 * 1024

# Every converter failure on a file with a valid checksum (someone wrote it
# on purpose, or another pgrewrite with the same FORMAT): a miss, never a traceback
SHAPE_ERRORS = (KeyError, IndexError, TypeError, ValueError, AttributeError)

# bad entries met in this process since the last take_bad(): (path, why)
_bad: list[tuple[str, str]] = []
# other notes about the cache since the last take_note() (e.g. no cache key)
_notes: list[str] = []


# A control character in a JSON payload (other than tab, newline and carriage
# return): escaped below U+0020 (\u001b, \b, \f) when the backslash itself is
# not escaped, DEL and C1 (U+0080-U+009F, CSI among them) raw. What pgrewrite
# writes as text (reasons, notes, names) never holds one; a forged entry could
# put terminal escapes into a run's output (a title, the clipboard, a screen
# cleared), so `plain_text` files holding one are neither read nor written.
_CONTROL = re.compile(rb'(?<!\\)(?:\\\\)*\\(?:u00(?:[01][0-9a-fA-F]|7[fF]|[89][0-9a-fA-F])|[bf])'
                      rb'|\x7f|\xc2[\x80-\x9f]')


# One of these is in any text _CONTROL matches: a few substring scans
# (memchr speed) answer for nearly every payload, where the regex, which
# starts with a lookbehind, tests every byte (~1% of a cold run's CPU).
_CONTROL_HINTS = (b"\\u00", b"\\b", b"\\f", b"\x7f", b"\xc2")


def has_control(payload) -> bool:
    """Does the JSON `payload` (bytes, or a memoryview of bytes) hold a
    control character a terminal acts on?"""
    # a view is screened through the bytes it shows, and more (its .obj)
    whole = payload.obj if isinstance(payload, memoryview) else payload
    if isinstance(whole, (bytes, bytearray)) and not any(h in whole for h in _CONTROL_HINTS):
        return False
    return _CONTROL.search(payload) is not None


def _checksum(payload: bytes, key: bytes | None = None, name: str = "") -> bytes:
    if key is None:
        return hashlib.blake2b(payload, digest_size=_DIGEST).digest()
    mac = hmac.new(key, os.fsencode(name) + b"\0", hashlib.sha256)
    mac.update(payload)
    return mac.digest()[:_DIGEST]


def _dumps(data) -> bytes:
    try:
        return orjson.dumps(data)
    except orjson.JSONEncodeError:
        # a file name that is not UTF-8 (surrogate escapes), which orjson
        # refuses: the standard library writes it as \udcXX escapes
        return json.dumps(data, ensure_ascii=True, separators=(",", ":")).encode()


def _loads(payload):
    try:
        return orjson.loads(payload)
    except orjson.JSONDecodeError:
        # what _dumps wrote with the standard library (lone surrogates)
        return json.loads(bytes(payload))


def encode(data, key: bytes | None = None, name: str = "") -> bytes:
    """The cache file of `data`; with `key`, MACed for the file `name`."""
    payload = _dumps(data)
    return _HEADER.pack(MAGIC, FORMAT, _checksum(payload, key, name)) + payload


def fingerprint(data) -> bytes:
    """A digest of plain data (lists of paths and stats): orjson is several
    times faster than repr() for the tree's 61,000 stats."""
    return hashlib.blake2b(_dumps(data), digest_size=20).digest()


# directories this process made or found (a result's directory is one of
# 256): no mkdir before each of a cold run's 4,400 writes
_dirs: set[str] = set()
_written = itertools.count()       # temporary names: .<name>.<pid>.<n>


def write(path: Path, data, key: bytes | None = None, plain_text: bool = False) -> int:
    """Write `data` to `path` through a temporary file and a rename, so a
    reader never sees half a file; returns the bytes written. Raises
    OSError (the callers treat an unwritable cache as a slower one). With
    `key`, the file carries a MAC of its name and data: `read` with the
    same key is the only way to read it. With `plain_text`, data holding a
    control character is not written (0): `read` would refuse it."""
    blob = encode(data, key, path.name)
    if plain_text and has_control(memoryview(blob)[HEADER_SIZE:]):
        return 0
    if len(blob) > MAX_FILE_BYTES:        # every later read would refuse it
        raise OSError(errno.EFBIG, f"a cache file of {len(blob)} bytes is over the limit", str(path))
    parent = str(path.parent)
    if parent not in _dirs:
        path.parent.mkdir(parents=True, exist_ok=True)
        _dirs.add(parent)
    try:
        fd, tmp = _create(parent, path.name)
    except FileNotFoundError:             # the directory went away since it was made
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = _create(parent, path.name)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(blob)
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise
    return len(blob)


def _create(parent: str, name: str) -> tuple[int, str]:
    """A new file only this process can have made (O_EXCL, mode 0600, not
    through a symbolic link) beside `name`: (its descriptor, its path). Its
    name is the process's and a counter's: tempfile.mkstemp's random names
    and checks of its arguments, 4,400 times in a cold run, are not needed."""
    while True:
        tmp = os.path.join(parent, f".{name}.{os.getpid()}.{next(_written)}")
        try:
            return os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC, 0o600), tmp
        except FileExistsError:
            continue                      # left by a process of the same id, long gone


def decode(blob: bytes, key: bytes | None = None, name: str = "", plain_text: bool = False):
    """The data in `blob`, or raise BadEntry saying why it is not usable.
    With `key`: only if its MAC for the file `name` verifies under the key.
    With `plain_text`: only if its text holds no control character."""
    if len(blob) < HEADER_SIZE or not blob.startswith(MAGIC):
        raise BadEntry("not a pgrewrite cache file")
    _, version, digest = _HEADER.unpack_from(blob)
    if version != FORMAT:
        raise BadEntry(f"format {version}, this pgrewrite reads {FORMAT}")
    payload = memoryview(blob)[HEADER_SIZE:]
    if key is not None:
        if not hmac.compare_digest(_checksum(payload, key, name), digest):
            raise BadEntry("its MAC does not verify under this user's cache key "
                           "(written by someone else, under another key or name, or corrupted)")
    elif _checksum(payload) != digest:
        raise BadEntry("checksum mismatch (cut short or corrupted)")
    if plain_text and has_control(payload):
        raise BadEntry("its text holds control characters (terminal escapes), which pgrewrite never writes")
    try:
        return _loads(payload)
    except (ValueError, RecursionError):      # json's JSONDecodeError is a ValueError
        raise BadEntry("checksum matches but the payload is not JSON") from None


class BadEntry(ValueError):
    pass


def read(path: Path, convert=None, key: bytes | None = None, plain_text: bool = False):
    """`convert(data)` of the cache file at `path` (the data itself without
    `convert`), or None: missing (a plain miss) or unusable (a miss that is
    recorded for the run's note). `convert` raising one of SHAPE_ERRORS
    means the data is not of the shape expected. With `key`, a file whose
    MAC (see `write`) does not verify is unusable; with `plain_text`, one
    whose text holds a control character."""
    try:
        blob = _read_regular(path)
    except FileNotFoundError:
        return None
    except OSError as e:
        note_bad(path, f"cannot be read ({e.strerror or e})")
        return None
    except BadEntry as e:
        note_bad(path, str(e))
        return None
    try:
        data = decode(blob, key, os.path.basename(path), plain_text)
        return convert(data) if convert is not None else data
    except BadEntry as e:
        note_bad(path, str(e))
    except SHAPE_ERRORS:
        note_bad(path, "not the data this pgrewrite expects there")
    return None


def _read_regular(path) -> bytes:
    """The bytes of the regular file at `path`. BadEntry for anything else
    (a FIFO or device put there would block the run or never end) and for a
    file over MAX_FILE_BYTES, which is never read into memory: its size is
    checked first, and no more than the limit is read if it grows meanwhile."""
    fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):
            raise BadEntry("not a regular file")
        if st.st_size > MAX_FILE_BYTES:
            raise BadEntry(_too_big(st.st_size))
        with os.fdopen(fd, "rb", closefd=False) as fh:
            blob = fh.read(MAX_FILE_BYTES + 1)
        if len(blob) > MAX_FILE_BYTES:
            raise BadEntry(_too_big(len(blob)))
        return blob
    finally:
        os.close(fd)


def _too_big(size: int) -> str:
    return f"{size} bytes, over the {MAX_FILE_BYTES // (1024 * 1024)} MiB limit of a cache file; not read"


def is_own(path: str) -> bool:
    """Does the file at `path` start with our header (any FORMAT)?"""
    try:
        with open(path, "rb") as fh:
            return fh.read(len(MAGIC)) == MAGIC
    except OSError:
        return False


def note_bad(path, why: str) -> None:
    _bad.append((str(path), why))


def note(text: str) -> None:
    """A note about the cache for the run (`cache: ` + text), said once."""
    if text not in _notes:
        _notes.append(text)


def take_bad() -> list[tuple[str, str]]:
    """The bad entries recorded in this process since the last call."""
    out = list(_bad)
    _bad.clear()
    return out


def take_note(more=()) -> tuple[str, ...]:
    """One note for the run naming the bad entries met (in this process,
    plus `more` from worker processes), or none; then the other notes."""
    bad = take_bad() + list(more)
    others = tuple(f"cache: {text}" for text in _notes)
    _notes.clear()
    if not bad:
        return others
    seen = dict(bad)               # a file met twice is named once
    shown = "; ".join(f"{p}: {why}" for p, why in list(seen.items())[:3])
    rest = f"; and {len(seen) - 3} more" if len(seen) > 3 else ""
    return (f"cache: {len(seen)} unusable cache file(s) ignored and recomputed "
            f"({shown}{rest})",) + others


def touch(path) -> None:
    """Mark a cache file recently used (pruning deletes the oldest first)."""
    try:
        os.utime(path)
    except OSError:
        pass
