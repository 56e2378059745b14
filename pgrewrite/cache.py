"""A cache of per-file results keyed by file content and rule-set content.

The key covers everything a result depends on: the file's bytes, its
displayed path, the rule set's digest, the names visible from other files
(collisions) and the --unknown-as option. Change any of them and the entry
is simply not found. Entries are pickles written atomically.
"""
from __future__ import annotations

import hashlib
import os
import pickle
import tempfile
from pathlib import Path

from .model import FileResult

VERSION = b"pgrewrite-cache-1"


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
        try:
            d = self.dir / k[:2]
            d.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(dir=d)
            with os.fdopen(fd, "wb") as fh:
                pickle.dump(result, fh, protocol=pickle.HIGHEST_PROTOCOL)
            os.replace(tmp, d / k)
        except OSError:
            pass             # a cache that cannot be written is only slower
