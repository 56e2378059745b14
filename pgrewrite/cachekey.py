"""The user's cache key: a random secret that authenticates what a run
trusts without reading the files or rules it stands for.

The rules cache (`<cache-dir>/rules/*.rules`, rules/loader.py) holds the
rule files' parsed and validated documents, which are compiled as the rules
without being validated again; the stat index (cache.py), the prefilter's
answers (files.py), the include index (collisions.py) and the preparation
plan (preparation.py) are trusted on stat keys anyone who can stat the tree
knows. A checksum cannot tell a forged file from a good one
(docs/threat-model.md), so those carry a MAC made with this key
(cachefile.write/read with `key=`): only runs of this user read them.
Result entries, found by content, stay unkeyed (shared caches).

The key lives outside any cache directory, in the user's configuration:
`$XDG_CONFIG_HOME/pgrewrite/cache-key` (default `~/.config/pgrewrite/`),
created on first use (mode 0600, in a directory made 0700) through a
temporary file that is linked into place, so a reader never sees half a key
and two runs creating it at once agree on one (the loser reads the winner's).
A key that cannot be read or created (a read-only home, a file readable by
others, ...) is no key: nothing keyed is kept, and `get()` says why for
the run's note.
"""
from __future__ import annotations

import binascii
import hashlib
import hmac
import os
import secrets
import stat
import tempfile
from pathlib import Path

KEY_BYTES = 32


class NoKey(Exception):
    """The key cannot be had; str() says why."""


def path() -> Path:
    """Where the key is: $XDG_CONFIG_HOME/pgrewrite/cache-key (an unset,
    empty or relative XDG_CONFIG_HOME means ~/.config, as the XDG spec says)."""
    base = os.environ.get("XDG_CONFIG_HOME") or ""
    if not os.path.isabs(base):
        base = os.path.join(os.path.expanduser("~"), ".config")
    return Path(base) / "pgrewrite" / "cache-key"


def key() -> bytes:
    """The user's key, created if there is none yet; NoKey saying why not."""
    where = path()
    try:
        return _read(where)
    except FileNotFoundError:
        pass
    except OSError as e:
        raise NoKey(f"{where}: cannot be read ({e.strerror or e})") from None
    try:
        _create(where)
        return _read(where)
    except OSError as e:
        raise NoKey(f"{where}: cannot be created ({e.strerror or e})") from None


def _read(where: Path) -> bytes:
    fd = os.open(where, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):
            raise NoKey(f"{where}: not a regular file")
        if st.st_mode & 0o077 or (hasattr(os, "getuid") and st.st_uid != os.getuid()):
            # a key others can read or write is no secret: the cache it signs could be theirs
            raise NoKey(f"{where}: not a secret (mode {stat.S_IMODE(st.st_mode):04o}, owner uid {st.st_uid}); "
                        f"it must be the user's own, mode 0600")
        text = os.read(fd, 4 * KEY_BYTES)
    finally:
        os.close(fd)
    try:
        secret = binascii.unhexlify(text.strip())
    except (binascii.Error, ValueError):
        secret = b""
    if len(secret) < KEY_BYTES:
        raise NoKey(f"{where}: not a key ({2 * KEY_BYTES} hexadecimal digits expected); "
                    f"delete it and a new one is made")
    return secret


def _create(where: Path) -> None:
    """A new random key at `where`, unless another run made one meanwhile.
    OSError if the directory or the file cannot be made."""
    where.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=where.parent, prefix=".cache-key.")     # mode 0600
    try:
        with os.fdopen(fd, "w") as fh:
            fh.write(secrets.token_hex(KEY_BYTES) + "\n")
            fh.flush()
            os.fsync(fh.fileno())
        try:
            os.link(tmp, where)            # never replaces a key another run made first
        except FileExistsError:
            pass                           # lost the race: the caller reads the winner's key
        except OSError:
            os.replace(tmp, where)         # no hard links on this file system: the last one stays
    finally:
        try:
            os.unlink(tmp)
        except OSError:
            pass


def tag(secret: bytes) -> str:
    """A public name of the key (it tells nothing of it), put in the names
    of the files kept with it: users sharing a cache directory each keep
    their own, instead of replacing each other's (which the other would
    then find unusable, and say so, every run)."""
    return hmac.new(secret, b"pgrewrite cache key tag", hashlib.sha256).hexdigest()[:16]


def get() -> tuple[bytes | None, str | None]:
    """(key, None), or (None, why there is none)."""
    try:
        return key(), None
    except NoKey as e:
        return None, str(e)
