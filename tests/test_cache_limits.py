"""Issue 15: a cache file is input from others, so its size is bounded
(pgrewrite/cachefile.py, MAX_FILE_BYTES): a bigger file is a miss with one
note, never read into memory; pgrewrite never writes one."""
from __future__ import annotations

import errno
import json
import shutil
import tracemalloc
from pathlib import Path

import pytest
from click.testing import CliRunner

from pgrewrite import cachefile
from pgrewrite import store as store_mod
from pgrewrite.cli import cli

SAMPLE = Path(__file__).resolve().parent.parent / "sample-tree"


def sparse(path: Path, size: int) -> None:
    """A file of `size` bytes that takes no disk (and would take `size` of memory if read)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "wb") as fh:
        fh.write(cachefile.encode([]))
        fh.truncate(size)


def test_a_file_over_the_limit_is_a_miss_and_is_not_read(tmp_path):
    big = tmp_path / "ab" / "abcd"
    sparse(big, 4 * cachefile.MAX_FILE_BYTES)
    cachefile.take_bad()
    tracemalloc.start()
    try:
        assert cachefile.read(big) is None
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < cachefile.MAX_FILE_BYTES // 8, peak
    assert cachefile.take_bad() == [(str(big), f"{4 * cachefile.MAX_FILE_BYTES} bytes, over the 64 MiB "
                                                "limit of a cache file; not read")]


def test_a_file_at_the_limit_is_read(tmp_path, monkeypatch):
    monkeypatch.setattr(cachefile, "MAX_FILE_BYTES", 1000)
    blob = cachefile.encode(["x" * (1000 - len(cachefile.encode([""])))])
    assert len(blob) == 1000
    (tmp_path / "ok").write_bytes(blob)
    (tmp_path / "over").write_bytes(blob + b" ")
    cachefile.take_bad()
    assert cachefile.read(tmp_path / "ok") is not None
    assert cachefile.read(tmp_path / "over") is None
    assert [why for _, why in cachefile.take_bad()] == [
        "1001 bytes, over the 0 MiB limit of a cache file; not read"]


def test_an_entry_over_the_limit_is_never_written(tmp_path, monkeypatch):
    """It would be refused by every later read: writing it is an OSError,
    which every caller takes as a cache that cannot be written (slower)."""
    monkeypatch.setattr(cachefile, "MAX_FILE_BYTES", 100)
    target = tmp_path / "entry"
    with pytest.raises(OSError) as e:
        cachefile.write(target, ["x" * 200])
    assert e.value.errno == errno.EFBIG
    assert list(tmp_path.iterdir()) == []          # no temporary file left either
    assert cachefile.write(target, ["x"]) > 0


def test_a_scan_with_a_huge_planted_index_is_right_and_notes_it_once(tmp_path, monkeypatch):
    tree = tmp_path / "tree"
    shutil.copytree(SAMPLE, tree, symlinks=True)
    monkeypatch.setattr(store_mod, "STALE_NS", 0)     # the files are brand new; trust them anyway
    monkeypatch.chdir(tree)
    store = tmp_path / "cache"

    def scan(*args):
        r = CliRunner().invoke(cli, ["scan", ".", "--format", "json", *args], catch_exceptions=False)
        assert "Traceback" not in r.output
        doc = json.loads(r.stdout)
        return r.exit_code, {k: v for k, v in doc.items() if k != "notes"}, doc["notes"]

    reference = scan("--no-cache")
    assert scan("--cache-dir", str(store))[:2] == reference[:2]
    (index,) = (store / "index").iterdir()
    sparse(index, 2 * cachefile.MAX_FILE_BYTES)
    code, doc, notes = scan("--cache-dir", str(store))
    assert (code, doc) == reference[:2]
    assert [n for n in notes if n.startswith("cache:")] == [
        f"cache: 1 unusable cache file(s) ignored and recomputed ({index}: {2 * cachefile.MAX_FILE_BYTES} "
        "bytes, over the 64 MiB limit of a cache file; not read)"]
    assert index.stat().st_size < cachefile.MAX_FILE_BYTES      # replaced by a good one
