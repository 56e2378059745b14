"""Issue 15, finding 3: the cache directory is input from others (a shared
--cache-dir, a CI cache restored from other runs). Everything in it is data
(pgrewrite/cachefile.py): a file that is not usable is a miss, recomputed
and replaced, and named in one note of the run; nothing in it is ever run."""
from __future__ import annotations

import dataclasses
import json
import pickle
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from pgrewrite import cache, cachefile, cachekey, codec, model, store
from pgrewrite.cli import cli

SAMPLE = Path(__file__).resolve().parent.parent / "sample-tree"


@pytest.fixture
def tree(tmp_path, monkeypatch):
    """A copy of sample-tree whose files every cache trusts at once (they
    are brand new: normally kept only when 2 s old)."""
    t = tmp_path / "tree"
    shutil.copytree(SAMPLE, t, symlinks=True)
    monkeypatch.setattr(store, "STALE_NS", 0)
    monkeypatch.chdir(t)
    return t


def scan(store: Path, *args) -> tuple[int, dict]:
    r = CliRunner().invoke(cli, ["scan", ".", "--format", "json", "--cache-dir", str(store), *args],
                           catch_exceptions=False)
    assert "Traceback" not in r.output
    return r.exit_code, json.loads(r.stdout)


def without_notes(doc: dict) -> dict:
    return {k: v for k, v in doc.items() if k != "notes"}


def cache_notes(doc: dict) -> list[str]:
    return [n for n in doc["notes"] if n.startswith("cache:")]


def written(store: Path) -> list[Path]:
    """Every file the cache wrote (not the size ledger)."""
    return sorted(p for p in store.rglob("*") if p.is_file() and p.name != cache.LEDGER)


class Planted:
    """Unpickling this creates `marker`: what an attacker's pickle would do."""

    def __init__(self, marker: Path):
        self.marker = marker

    def __reduce__(self):
        return (open, (str(self.marker), "w"))


@pytest.fixture
def reference(tree, tmp_path):
    """The scan without any cache: what every cached run must answer."""
    r = CliRunner().invoke(cli, ["scan", ".", "--format", "json", "--no-cache"], catch_exceptions=False)
    return r.exit_code, json.loads(r.stdout)


def test_a_planted_pickle_is_never_run_and_the_scan_stays_right(tree, tmp_path, reference):
    store = tmp_path / "cache"
    assert scan(store) == reference
    planted = written(store)
    # every kind the cache keeps: results, the stat index, the prefilter's
    # answers and summary, the collision index and include specs, the rules
    assert {p.suffix for p in planted} >= {"", ".index", ".prefilter", ".summary", ".state", ".specs",
                                            ".rules"}
    marker = tmp_path / "pwned"
    for p in planted:
        p.write_bytes(pickle.dumps(Planted(marker), protocol=pickle.HIGHEST_PROTOCOL))
    code, doc = scan(store, "-j", "2")
    assert not marker.exists()
    assert code == reference[0] and without_notes(doc) == without_notes(reference[1])
    # one note for the run, naming the files, however many workers met them
    notes = cache_notes(doc)
    assert len(notes) == 1 and f"{len(planted)} unusable cache file(s)" in notes[0], notes
    assert "not a pgrewrite cache file" in notes[0]
    # replaced: the next run uses them, and says nothing
    assert all(cachefile.is_own(str(p)) for p in written(store))
    code, doc = scan(store)
    assert not marker.exists() and cache_notes(doc) == [] and without_notes(doc) == without_notes(reference[1])


def damage(store: Path, how) -> list[Path]:
    """Apply `how(bytes) -> bytes` to every result entry; drop the stat index
    so that the entries are read."""
    shutil.rmtree(store / "index")
    entries = [p for p in written(store) if p.parent.name == p.name[:2]]
    assert entries
    for p in entries:
        p.write_bytes(how(p.read_bytes()))
    return entries


def flip_a_bit(blob: bytes) -> bytes:
    at = cachefile.HEADER_SIZE + (len(blob) - cachefile.HEADER_SIZE) // 2
    return blob[:at] + bytes([blob[at] ^ 0x04]) + blob[at + 1:]


def older_format(blob: bytes) -> bytes:
    payload = blob[cachefile.HEADER_SIZE:]
    return cachefile._HEADER.pack(cachefile.MAGIC, cachefile.FORMAT - 1, cachefile._checksum(payload)) + payload


@pytest.mark.parametrize("how, why", [
    (flip_a_bit, "checksum mismatch"),
    (lambda blob: blob[:len(blob) // 2], "checksum mismatch"),                 # cut short
    (lambda blob: blob[:cachefile.HEADER_SIZE - 3], "not a pgrewrite cache file"),
    (older_format, f"format {cachefile.FORMAT - 1}, this pgrewrite reads {cachefile.FORMAT}"),
    (lambda blob: cachefile.encode({"not": "a result"}), "not the data this pgrewrite expects"),
], ids=["bit-flip", "truncated", "header-only", "older-format", "other-shape"])
def test_a_bad_entry_is_a_miss_recomputed_replaced_and_noted(tree, tmp_path, reference, how, why):
    store = tmp_path / "cache"
    assert scan(store) == reference
    entries = damage(store, how)
    code, doc = scan(store, "-j", "2")
    assert code == reference[0] and without_notes(doc) == without_notes(reference[1])
    notes = cache_notes(doc)
    assert len(notes) == 1 and f"{len(entries)} unusable" in notes[0] and why in notes[0], notes
    assert str(entries[0]) in notes[0] or "more" in notes[0]
    for p in entries:                       # replaced by a good entry
        assert codec.result_from(cachefile.decode(p.read_bytes())).path
    code, doc = scan(store)
    assert cache_notes(doc) == []


def test_a_bit_flip_in_the_stat_index_is_noted_once(tree, tmp_path, reference):
    store = tmp_path / "cache"
    assert scan(store) == reference
    (index,) = (store / "index").iterdir()
    index.write_bytes(flip_a_bit(index.read_bytes()))
    code, doc = scan(store)
    assert without_notes(doc) == without_notes(reference[1])
    assert cache_notes(doc) == [f"cache: 1 unusable cache file(s) ignored and recomputed "
                                f"({index}: its MAC does not verify under this user's cache key "
                                f"(written by someone else, under another key or name, or corrupted))"]


def test_decode_names_what_is_wrong():
    good = cachefile.encode([1, "two", None])
    assert cachefile.decode(good) == [1, "two", None]
    for blob, why in [(b"", "not a pgrewrite"), (pickle.dumps({"a": 1}), "not a pgrewrite"),
                      (flip_a_bit(good), "checksum"), (good[:-1], "checksum"),
                      (older_format(good), "format")]:
        with pytest.raises(cachefile.BadEntry, match=why):
            cachefile.decode(blob)


def sample_result() -> model.FileResult:
    site = model.Site("mm/x.c", 10, 19, 2, 5, "PAGE_SIZE", model.Context.MACRO, "f", False, True, "id1")
    other = dataclasses.replace(site, path="elsewhere.c", function=None)
    match = model.RuleMatch("r", "pg", 50, "strong", "why", ("pte",), "area", ("pg",), True)
    decisions = (model.Decision(site, model.Verdict.PG, "PG_SIZE", "r", "why", (match,), "hw", "because"),
                 model.Decision(other, model.Verdict.SKIPPED, None, None, "", ()))
    return model.FileResult("mm/x.c", decisions, (model.Edit(10, 19, "PAGE_SIZE", "PG_SIZE", "r", "family", "pg"),),
                            model.Mentions(3, 4), 2, True, None, ("a note",), "abc", frozenset({"PTE_SHIFT"}))


def test_a_result_goes_through_the_data_form_unchanged():
    r = sample_result()
    back = codec.result_from(cachefile.decode(cachefile.encode(codec.result_data(r))))
    assert back == r and hash(back.decisions[0].site) == hash(r.decisions[0].site)
    assert type(back.decisions[0].verdict) is model.Verdict and type(back.consulted) is frozenset


def test_the_converters_name_every_field_of_the_model():
    """A field added to a model class without the converters (and a FORMAT
    bump) would be lost in the cache silently."""
    for cls, names in codec.FIELDS.items():
        assert tuple(f.name for f in dataclasses.fields(cls)) == names, cls


@pytest.mark.parametrize("change", [
    lambda v: v[:-1],                                 # a field missing
    lambda v: [*v[:4], "4", *v[5:]],                  # lexical_count a string
    lambda v: [v[0], [[*v[1][0][:1], "maybe", *v[1][0][2:]]], *v[2:]],      # an unknown verdict
    lambda v: [v[0], [[["x"] * 11, *v[1][0][1:]]], *v[2:]],                   # a site of strings
    lambda v: {"path": v[0]},
])
def test_data_of_another_shape_is_refused(change):
    data = codec.result_data(sample_result())
    with pytest.raises(cachefile.SHAPE_ERRORS):
        codec.result_from(change(data))


def test_formats_without_notes_say_it_on_stderr(tree, tmp_path, reference):
    store = tmp_path / "cache"
    assert scan(store) == reference
    damage(store, flip_a_bit)
    r = CliRunner().invoke(cli, ["scan", ".", "--format", "sarif", "--cache-dir", str(store)],
                           catch_exceptions=False)
    assert r.exit_code == reference[0]
    notes = [line for line in r.stderr.splitlines() if line.startswith("note: cache:")]
    assert len(notes) == 1 and "checksum mismatch" in notes[0], r.stderr


def test_a_fifo_in_place_of_an_entry_does_not_block_the_run(tree, tmp_path, reference):
    import os
    store = tmp_path / "cache"
    assert scan(store) == reference
    (index,) = (store / "index").iterdir()
    index.unlink()
    os.mkfifo(index)
    code, doc = scan(store)
    assert without_notes(doc) == without_notes(reference[1])
    assert cache_notes(doc) == [f"cache: 1 unusable cache file(s) ignored and recomputed "
                                f"({index}: not a regular file)"]


def test_a_result_of_another_file_is_not_taken(tree, tmp_path, reference):
    """apply writes a result's edits to the file at the result's path: an
    entry (with a good checksum) that names another file is a miss."""
    store = tmp_path / "cache"
    assert scan(store) == reference
    entries = damage(store, lambda blob: blob)
    victim = entries[0]
    data = cachefile.decode(victim.read_bytes())
    data[0] = "../../elsewhere.c"
    victim.write_bytes(cachefile.encode(data))
    code, doc = scan(store)
    assert without_notes(doc) == without_notes(reference[1])
    assert cache_notes(doc) == [f"cache: 1 unusable cache file(s) ignored and recomputed "
                                f"({victim}: the result of another file)"]


def test_a_plan_with_paths_outside_the_tree_is_refused():
    from pgrewrite.series.definitions import Definition, LocalRename, Preparation
    d = Definition("drivers/x.h", 3, "PG_SIZE", "#define PG_SIZE 1", False)
    prep = Preparation((d,), {}, (LocalRename(d, "X_PG_SIZE", ("drivers/x.h",)),))
    assert codec.preparation_from(cachefile.decode(cachefile.encode(codec.preparation_data(prep)))) == prep
    for bad in ("../outside.h", "/etc/passwd", "drivers/../../x.h"):
        data = codec.preparation_data(dataclasses.replace(
            prep, renames=(LocalRename(d, "X_PG_SIZE", (bad,)),)))
        with pytest.raises(cachefile.SHAPE_ERRORS):
            codec.preparation_from(data)


def test_file_names_that_are_not_utf8_do_not_break_the_cache(tree, tmp_path):
    """Such names are refused by the scan (one problem line, see
    test_trust_inputs.py); the run around them is cached and found again,
    and the cache's format itself keeps the surrogate escapes orjson refuses."""
    import os
    odd = os.fsencode(tree / "mm") + b"/odd-\xff.c"
    with open(odd, "wb") as fh:
        fh.write(b"unsigned long odd = PAGE_SIZE;\n")
    store = tmp_path / "cache"
    first = scan(store)
    assert not any("odd-" in s["path"] for s in first[1]["sites"])
    assert first[1]["sites"], "the other files are scanned"
    again = scan(store)
    assert again == first and cache_notes(again[1]) == []
    for p in written(store):                # all but the results are MACed with the user's key
        keyed = p.parent.name in ("rules", "index", "prefilter", "includes")
        cachefile.decode(p.read_bytes(), *((cachekey.key(), p.name) if keyed else ()))
    assert cachefile.decode(cachefile.encode(["odd-\udcff.c"])) == ["odd-\udcff.c"]


def test_a_write_makes_its_directory_again_if_it_went_away(tmp_path):
    """Directories are made once per process (no mkdir before each of a
    cold run's writes); one pruned or removed since is made again."""
    entry = tmp_path / "ab" / "abcdef"
    assert cachefile.write(entry, ["first"]) > 0
    shutil.rmtree(tmp_path / "ab")
    assert cachefile.write(entry, ["second"]) > 0
    assert cachefile.decode(entry.read_bytes()) == ["second"]
    assert [p.name for p in (tmp_path / "ab").iterdir()] == ["abcdef"]     # no temporary file left


def test_a_write_replaces_an_entry_and_leaves_no_temporary_file(tmp_path):
    entry = tmp_path / "ab" / "abcdef"
    for data in (["one"], ["two"]):
        assert cachefile.write(entry, data) > 0
    assert cachefile.decode(entry.read_bytes()) == ["two"]
    assert [p.name for p in (tmp_path / "ab").iterdir()] == ["abcdef"]
    assert entry.stat().st_mode & 0o777 == 0o600
