"""The result cache stays bounded: least recently used files go first,
this run's files and anything that is not pgrewrite's own entry stay."""
from __future__ import annotations

import os
import shutil
import time
from pathlib import Path

from click.testing import CliRunner

from pgrewrite import cache, cachefile
from pgrewrite import store as store_mod
from pgrewrite.cli import cli

SAMPLE = Path(__file__).resolve().parent.parent / "sample-tree"
RULES = Path(__file__).resolve().parent.parent / "semantic-rules"


def entry(d: Path, name: str, size: int, age_s: float, head: bytes = cachefile.MAGIC) -> Path:
    d.mkdir(parents=True, exist_ok=True)
    p = d / name
    p.write_bytes(head + b"x" * (size - len(head)))
    t = time.time() - age_s
    os.utime(p, (t, t))
    return p


def test_prune_deletes_least_recently_used_first(tmp_path):
    old = entry(tmp_path / "ab", "ab0100000000000000", 400, 300)
    # an index an older pgrewrite pickled: never read now, but pruned like ours
    older_index = entry(tmp_path / "index", "0123456789abcdef.pickle", 300, 400, head=b"\x80")
    mid = entry(tmp_path / "cd", "cd0100000000000000", 200, 200)
    new = entry(tmp_path / "ef", "ef0100000000000000", 100, 100)
    mine = entry(tmp_path / "ef", "ef0200000000000000", 500, 0)               # written by this run
    verify = entry(tmp_path / "verify" / "ab", "build.o", 5000, 1000)   # not a cache entry
    stray = entry(tmp_path, "notes.txt", 5000, 1000)
    left = cache.prune(tmp_path, max_bytes=1000, keep_after_ns=time.time_ns() - 10_000_000_000)
    # 1500 bytes > 1000: oldest first until at most 750 are left
    assert not older_index.exists() and not old.exists() and not mid.exists()
    assert new.exists() and mine.exists() and verify.exists() and stray.exists()
    assert left == 600


def test_prune_never_deletes_this_runs_files(tmp_path):
    a = entry(tmp_path / "ab", "ab0100000000000000", 800, 0)
    b = entry(tmp_path / "ab", "ab0200000000000000", 800, 0)
    assert cache.prune(tmp_path, max_bytes=100, keep_after_ns=time.time_ns() - 60_000_000_000) == 1600
    assert a.exists() and b.exists()


def test_ledger_counts_writes_and_prunes_over_the_limit(tmp_path):
    old = entry(tmp_path / "ab", "ab0100000000000000", 700, 100)
    now = time.time_ns()
    cache.note_written(tmp_path, 100, max_bytes=1000, keep_after_ns=now)   # no ledger: counted
    assert (tmp_path / cache.LEDGER).read_text() == "700"
    cache.note_written(tmp_path, 200, max_bytes=1000, keep_after_ns=now)   # 900: no pruning
    assert old.exists() and (tmp_path / cache.LEDGER).read_text() == "900"
    entry(tmp_path / "cd", "cd0100000000000000", 400, 0)
    cache.note_written(tmp_path, 400, max_bytes=1000, keep_after_ns=now)   # 1300: counted, 1100: pruned
    assert not old.exists()
    assert (tmp_path / cache.LEDGER).read_text() == "400"


def test_scans_with_changing_rules_keep_the_cache_under_the_limit(tmp_path, monkeypatch):
    tree = tmp_path / "tree"
    shutil.copytree(SAMPLE, tree, symlinks=True)
    rules = tmp_path / "rules"
    shutil.copytree(RULES, rules)
    store = tmp_path / "cache"
    monkeypatch.chdir(tree)
    # the copied files are brand new: trust their stat from the first run,
    # or what a run writes grows once they are 2 s old (a slow machine's
    # second run) and the limit taken from the first run is too small
    monkeypatch.setattr(store_mod, "STALE_NS", 0)
    outputs, first, limit = [], None, None
    for i in range(4):
        if i == 1:
            # the limit: room for a run and a half (what one run writes on
            # sample-tree grows with the rules and the result format)
            limit = int(sum(size for _, size, _ in cache.cache_files(store)) * 1.5)
            monkeypatch.setenv("PGREWRITE_CACHE_MAX_MB", str(limit / (1024 * 1024)))
        # another rule set each time: every result is new
        rule = sorted(rules.glob("*/*.yaml"))[0]
        rule.write_text(rule.read_text() + f"\n# edit {i}\n")
        r = CliRunner().invoke(cli, ["scan", ".", "--format", "json", "--cache-dir", str(store),
                                     "--rules", str(rules)], catch_exceptions=False)
        assert r.exit_code in (0, 4, 5), r.output
        outputs.append(r.output)
        files = cache.cache_files(store)
        assert limit is None or sum(size for _, size, _ in files) <= limit, i
        if first is None:
            first = [p for _, _, p in files if "/index/" in p or Path(p).parent.name not in cache._META_DIRS]
    assert first and not any(os.path.exists(p) for p in first)     # the first run's results were pruned
    assert len(set(outputs)) == 1
    # and a warm run after pruning still gives the same answer
    r = CliRunner().invoke(cli, ["scan", ".", "--format", "json", "--cache-dir", str(store),
                                 "--rules", str(rules)], catch_exceptions=False)
    assert r.output == outputs[-1]


def test_prune_keeps_a_users_files_that_only_look_like_entries(tmp_path):
    """Issue 15, finding 7: a --cache-dir that is a user's directory loses
    nothing the cache did not write (recognised by name and header)."""
    theirs = tmp_path / "ab" / ("ab" + "0" * 16)
    theirs.parent.mkdir()
    theirs.write_bytes(b"a user's file, not a cache file" * 100)
    notes = tmp_path / "ab" / "notes.txt"
    notes.write_bytes(cachefile.MAGIC * 300)
    old = time.time() - 1000
    for p in (theirs, notes):
        os.utime(p, (old, old))
    cache.prune(tmp_path, max_bytes=10, keep_after_ns=time.time_ns())
    assert theirs.exists() and notes.exists()


def test_a_fifo_in_place_of_the_ledger_does_not_block_the_run(tmp_path):
    """The ledger is in the cache directory: whoever can write it may put a
    FIFO there (reading it would wait for a writer forever), or a link to a
    device or to a file of theirs. It is read as a small regular file only;
    anything else is no count (the directory is counted again, and the
    ledger replaced)."""
    import threading
    kept = entry(tmp_path / "ab", "ab0100000000000000", 700, 100)
    ledger = tmp_path / cache.LEDGER
    os.mkfifo(ledger)
    done = threading.Thread(target=cache.note_written, args=(tmp_path, 100, 1000, time.time_ns()), daemon=True)
    done.start()
    done.join(timeout=20)
    if done.is_alive():               # unblock it, then fail
        os.close(os.open(ledger, os.O_WRONLY | os.O_NONBLOCK))
        done.join(timeout=20)
        raise AssertionError("the run waited on a FIFO put in place of the ledger")
    assert kept.exists() and ledger.is_file() and ledger.read_text() == "700"


def test_a_ledger_that_is_not_a_count_of_ours_is_counted_again(tmp_path):
    """A link (to a file of someone's, to /dev/zero), a negative count that
    would never prune, or something that is not a count: counted again."""
    old = entry(tmp_path / "ab", "ab0100000000000000", 700, 100)
    new = entry(tmp_path / "cd", "cd0100000000000000", 400, 0)
    ledger = tmp_path / cache.LEDGER
    theirs = tmp_path / "theirs"
    theirs.write_text("5")
    for planted in (lambda: ledger.symlink_to(theirs), lambda: ledger.write_text("-1000000000000"),
                    lambda: ledger.write_text("0x10")):
        ledger.unlink(missing_ok=True)
        planted()
        cache.note_written(tmp_path, 400, max_bytes=1000, keep_after_ns=time.time_ns() - 10_000_000_000)
        assert not ledger.is_symlink() and theirs.read_text() == "5"
        if old.exists():          # 1100 bytes counted: over the limit, the oldest goes
            raise AssertionError(f"the planted ledger was believed: {ledger.read_text()}")
        assert new.exists() and ledger.read_text() == "400"
        old = entry(tmp_path / "ab", "ab0100000000000000", 700, 100)


def test_prune_does_not_wait_on_a_fifo_swapped_in_for_an_entry(tmp_path):
    """Pruning checks each file's header: an entry replaced by a FIFO after
    it was listed (a race whoever can write the directory can try again and
    again) must not make it wait for a writer."""
    import threading
    fifo = tmp_path / "ab" / "ab0100000000000000"
    fifo.parent.mkdir()
    os.mkfifo(fifo)
    got = []
    done = threading.Thread(target=lambda: got.append(cache._is_own("ab", fifo.name, str(fifo))), daemon=True)
    done.start()
    done.join(timeout=20)
    if done.is_alive():
        os.close(os.open(fifo, os.O_WRONLY | os.O_NONBLOCK))
        done.join(timeout=20)
        raise AssertionError("pruning waited on a FIFO")
    assert got == [False]
