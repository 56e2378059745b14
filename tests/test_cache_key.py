"""The user's cache key (pgrewrite/cachekey.py), which authenticates the rules
cache: where it is, how it is made, and that a run without one (a read-only
or unreadable configuration directory, a key others can read) still gives
the right verdicts, parses the rules, says why once, and never a traceback.

No test here (nor anywhere: conftest's `config_home`) touches the real
user's ~/.config."""
from __future__ import annotations

import json
import os
import shutil
import stat
from pathlib import Path

import pytest
from click.testing import CliRunner

from pgrewrite import api, cachefile, cachekey
from pgrewrite.cli import cli

from .test_robustness_support import c_file, run_cli
from .test_series import FILES, make_tree

NO_KEY = "cache: no cache key ("


@pytest.fixture
def config(tmp_path, monkeypatch) -> Path:
    home = tmp_path / "config"
    monkeypatch.setenv("XDG_CONFIG_HOME", str(home))
    return home


@pytest.fixture
def tree(tmp_path, monkeypatch):
    monkeypatch.setenv("GIT_CONFIG_GLOBAL", "/dev/null")
    monkeypatch.setenv("GIT_CONFIG_SYSTEM", "/dev/null")
    root = make_tree(tmp_path / "tree", {**FILES, "mm/good.c": c_file(0).decode()}, history=())
    monkeypatch.chdir(root)
    return root


def scan(store: Path | None) -> dict:
    cache = ["--cache-dir", str(store)] if store is not None else ["--no-cache"]
    r = CliRunner().invoke(cli, ["scan", "mm", "--format", "json", "-j1", *cache], catch_exceptions=False)
    assert "Traceback" not in r.output
    return json.loads(r.stdout)


def verdicts(doc: dict) -> list:
    return [(s["path"], s["line"], s["col"], s["verdict"], s["rule"], s["reason"]) for s in doc["sites"]]


def test_the_tests_never_use_the_real_config_directory(config_home):
    """conftest points XDG_CONFIG_HOME at a directory of the test session, for
    every test and every process they start."""
    assert os.environ["XDG_CONFIG_HOME"] == str(config_home)
    assert cachekey.path().is_relative_to(config_home)
    assert not cachekey.path().is_relative_to(Path("~/.config").expanduser())


def test_where_the_key_is(monkeypatch, tmp_path):
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "cfg"))
    assert cachekey.path() == tmp_path / "cfg" / "pgrewrite" / "cache-key"
    for unusable in ("", "relative/dir"):          # the XDG spec: only an absolute path counts
        monkeypatch.setenv("XDG_CONFIG_HOME", unusable)
        assert cachekey.path() == tmp_path / ".config" / "pgrewrite" / "cache-key"
    monkeypatch.delenv("XDG_CONFIG_HOME")
    assert cachekey.path() == tmp_path / ".config" / "pgrewrite" / "cache-key"


def test_the_key_is_made_once_private_and_kept(config):
    key = cachekey.key()
    where = config / "pgrewrite" / "cache-key"
    assert len(key) == cachekey.KEY_BYTES
    assert stat.S_IMODE(where.stat().st_mode) == 0o600
    assert stat.S_IMODE(where.parent.stat().st_mode) == 0o700
    assert len(where.read_text().strip()) == 2 * cachekey.KEY_BYTES
    assert cachekey.key() == key
    # a run that lost the race to create it links nothing over it, and reads the winner's
    cachekey._create(where)
    assert cachekey.key() == key
    assert [p.name for p in where.parent.iterdir()] == ["cache-key"]      # no temporary file left


def test_the_rules_entry_is_macd_with_the_key(tree, tmp_path, config):
    store = tmp_path / "store"
    reference = scan(store)
    (entry,) = (store / "rules").iterdir()
    blob = entry.read_bytes()
    with pytest.raises(cachefile.BadEntry, match="checksum mismatch"):
        cachefile.decode(blob)                               # no plain checksum to forge
    assert cachefile.decode(blob, cachekey.key(), entry.name)
    with pytest.raises(cachefile.BadEntry, match="MAC does not verify"):
        cachefile.decode(blob, cachekey.key(), "another-name.rules")
    # under the same name with another key: a miss, parsed again and rewritten
    other = b"another user's key".ljust(32, b"!")
    entry.write_bytes(cachefile.encode(cachefile.decode(blob, cachekey.key(), entry.name), other, entry.name))
    again = scan(store)
    assert verdicts(again) == verdicts(reference)
    assert f"{entry}: its MAC does not verify" in again["notes"][0]
    assert entry.read_bytes() == blob
    assert not scan(store).get("notes")


def test_users_sharing_a_cache_directory_keep_their_own_keyed_files(tree, tmp_path, monkeypatch):
    """Keyed files are named after their key too (cachekey.tag): two users
    who share a --cache-dir do not replace each other's, so neither finds
    the other's unusable every run; results are shared."""
    store = tmp_path / "store"
    homes = [tmp_path / "alice", tmp_path / "bob"]
    runs = []
    for home in homes + homes:
        monkeypatch.setenv("XDG_CONFIG_HOME", str(home))
        runs.append(scan(store))
    assert all(verdicts(r) == verdicts(runs[0]) for r in runs)
    assert not any(r.get("notes") for r in runs)
    assert len(list((store / "rules").iterdir())) == 2
    assert len({cachekey.tag(bytes.fromhex((h / "pgrewrite/cache-key").read_text())) for h in homes}) == 2


def test_result_entries_stay_unkeyed(tree, tmp_path, config):
    """A shared or CI cache keeps hitting across users: results carry a plain
    checksum (and are checked against the rules, edits.misfit)."""
    store = tmp_path / "store"
    scan(store)
    entries = [p for p in store.rglob("*") if p.is_file() and p.parent.name == p.name[:2]]
    assert entries
    for p in entries:
        assert cachefile.decode(p.read_bytes())
    (config / "pgrewrite" / "cache-key").unlink()            # another user, with a key of their own
    shutil.rmtree(store / "index", ignore_errors=True)      # so that the entries themselves are read
    result = api.scan_paths([tree / "mm"], api.load_rules(None, store), jobs=1, cache_dir=store)
    assert result.stats["analysed"] == 0 and result.stats["cache_hits"] == result.stats["candidates"] > 0


def config_under_a_file(tmp_path, monkeypatch) -> str:
    (tmp_path / "a-file").write_text("")
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "a-file" / "config"))
    return "Not a directory"


def config_is_a_directory_where_the_key_goes(tmp_path, monkeypatch) -> str:
    (tmp_path / "config" / "pgrewrite" / "cache-key").mkdir(parents=True)
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    return "not a regular file"


def key_others_can_read(tmp_path, monkeypatch) -> str:
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    cachekey.key()
    cachekey.path().chmod(0o644)
    return "not a secret (mode 0644"


def key_that_is_not_one(tmp_path, monkeypatch) -> str:
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    cachekey.key()
    cachekey.path().write_text("password\n")
    return "not a key"


@pytest.mark.parametrize("no_key", [config_under_a_file, config_is_a_directory_where_the_key_goes,
                                    key_others_can_read, key_that_is_not_one], ids=lambda f: f.__name__)
def test_without_a_key_the_rules_are_parsed_and_the_verdicts_are_right(tree, tmp_path, monkeypatch, no_key):
    reference = scan(None)
    why = no_key(tmp_path, monkeypatch)
    store = tmp_path / "store"
    for _ in range(2):
        doc = scan(store)
        assert verdicts(doc) == verdicts(reference)
        (note,) = doc["notes"]                               # said once, as a note
        assert note.startswith(NO_KEY) and why in note and note.endswith("(only results are cached)"), note
        for kept in ("rules", "index", "prefilter", "includes"):
            assert not (store / kept).exists()               # nothing of what is keyed is kept unkeyed
    assert not scan(None).get("notes")                       # --no-cache: no key needed, nothing said


@pytest.mark.parametrize("mode, why", [(0, "cannot be read (Permission denied)"),
                                       (0o500, "cannot be created (Permission denied)")],
                         ids=["unreadable", "read-only"])
def test_an_unreadable_or_read_only_config_directory(tree, tmp_path, unprivileged, mode, why):
    """Real processes that a mode-000 or read-only directory refuses (root
    under setpriv): the run goes on without the rules cache, says why in one
    note, and its verdicts are those of --no-cache."""
    config = tmp_path / "config"
    (config / "pgrewrite").mkdir(parents=True)
    env = {**os.environ, "XDG_CONFIG_HOME": str(config), "XDG_CACHE_HOME": str(tmp_path / "xdg")}
    reference = run_cli(unprivileged, ["scan", "mm", "-j1", "--no-cache"], tree, env)
    (config / "pgrewrite").chmod(mode)
    try:
        r = run_cli(unprivileged, ["scan", "mm", "-j1", "--cache-dir", str(tmp_path / "store")], tree, env)
    finally:
        (config / "pgrewrite").chmod(0o700)
    assert "Traceback" not in r.stderr
    assert r.returncode == reference.returncode, r.stderr
    lines = r.stdout.splitlines()
    notes = [line for line in lines + r.stderr.splitlines() if line.startswith("note: cache:")]
    assert len(notes) == 1 and NO_KEY in notes[0] and why in notes[0], r.stdout + r.stderr
    assert [line for line in lines if line not in notes] == reference.stdout.splitlines()
    assert not (config / "pgrewrite" / "cache-key").exists()
