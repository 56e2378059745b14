"""A checksum finds damage, not forgery (docs/threat-model.md): whoever can
write a shared cache directory can write a valid entry for a file whose
bytes they know. Such an entry may change verdicts, but it must never make
`apply` or `series` write anything but a family rename, or a scoped
identifier rename that a rule declares: an entry with any other edit, or
with sites or edits that are not where the file has them, is a miss,
recomputed and named in the run's note."""
from __future__ import annotations

import dataclasses
import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest
from click.testing import CliRunner

from pgrewrite import cachefile, cachekey, codec, model
from pgrewrite import store as store_mod
from pgrewrite.cli import cli

from .test_robustness_support import c_file
from .test_series import FILES, make_tree

GOOD = "mm/good.c"


@pytest.fixture
def tree(tmp_path, monkeypatch):
    monkeypatch.setenv("GIT_CONFIG_GLOBAL", "/dev/null")
    monkeypatch.setenv("GIT_CONFIG_SYSTEM", "/dev/null")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))   # series has no --cache-dir
    monkeypatch.delenv("PGREWRITE_CACHE_MAX_MB", raising=False)
    monkeypatch.setattr(store_mod, "STALE_NS", 0)     # the files are brand new; trust them anyway
    root = make_tree(tmp_path / "tree", {**FILES, GOOD: c_file(0).decode()}, history=())
    monkeypatch.chdir(root)
    return root


def run(*args: str):
    r = CliRunner().invoke(cli, list(args), catch_exceptions=False)
    assert "Traceback" not in r.output
    return r


def patches(out: Path) -> dict[str, str]:
    """The series in `out`, without what differs from run to run (commit ids, dates)."""
    keep = lambda line: not re.match(r"From [0-9a-f]{40} |Date: ", line)  # noqa: E731
    return {p.name: "\n".join(filter(keep, p.read_text().splitlines())) for p in out.iterdir()}


def entries_of(store: Path, path: str) -> list[Path]:
    """The result entries of `path`; the stat index is dropped so that they are read."""
    shutil.rmtree(store / "index", ignore_errors=True)
    out = []
    for p in store.rglob("*"):
        if p.is_file() and p.parent.name == p.name[:2]:
            try:
                if codec.result_from(cachefile.decode(p.read_bytes())).path == path:
                    out.append(p)
            except (cachefile.BadEntry, *cachefile.SHAPE_ERRORS):
                pass
    return out


def forge(entry: Path, change) -> None:
    """Rewrite `entry` as its writer could: a valid checksum over other data."""
    r = codec.result_from(cachefile.decode(entry.read_bytes()))
    entry.write_bytes(cachefile.encode(codec.result_data(change(r))))


def at(data: bytes, word: bytes, nth: int = 0) -> int:
    pos = -1
    for _ in range(nth + 1):
        pos = data.index(word, pos + 1)
    return pos


def identifier_rename(data: bytes):
    """An extra edit renaming a name no rule declares (phys_addr -> evil)."""
    s = at(data, b"phys_addr", 1)
    return lambda r: dataclasses.replace(r, edits=r.edits + (
        model.Edit(s, s + 9, "phys_addr", "evil_addr", r.edits[0].rule, "identifier"),))


def family_kind_rename_of_another_name(data: bytes):
    """A `family` edit and its site on a name that is not in the family."""
    s = at(data, b"phys_addr", 1)

    def change(r):
        d = r.decisions[0]
        site = dataclasses.replace(d.site, start=s, end=s + 9, token="phys_addr", site_id="forged")
        return dataclasses.replace(r, decisions=r.decisions + (dataclasses.replace(d, site=site),),
                                   edits=r.edits + (dataclasses.replace(r.edits[0], start=s, end=s + 9,
                                                                        old="phys_addr", new="evil_addr"),))
    return change


def family_rename_to_another_name(data: bytes):
    """A real family site, renamed to a name that is not its replacement."""
    return lambda r: dataclasses.replace(r, edits=(dataclasses.replace(r.edits[0], new="EVIL_SHIFT"),
                                                   *r.edits[1:]))


def site_moved(data: bytes):
    """A site (and its edit) shifted off the token: the entry does not fit the file."""
    def change(r):
        d, e = r.decisions[0], r.edits[0]
        d = dataclasses.replace(d, site=dataclasses.replace(d.site, start=d.site.start + 1, end=d.site.end + 1))
        return dataclasses.replace(r, decisions=(d, *r.decisions[1:]),
                                   edits=(dataclasses.replace(e, start=e.start + 1, end=e.end + 1), *r.edits[1:]))
    return change


FORGERIES = [identifier_rename, family_kind_rename_of_another_name, family_rename_to_another_name, site_moved]


@pytest.mark.parametrize("forgery", FORGERIES, ids=lambda f: f.__name__)
def test_a_forged_entry_cannot_put_another_edit_in_a_series(tree, tmp_path, forgery):
    store = tmp_path / "xdg" / "pgrewrite"
    assert run("series", "mm", "-o", str(tmp_path / "first"), "-j1").exit_code == 0
    reference = patches(tmp_path / "first")
    data = (tree / GOOD).read_bytes()
    entries = entries_of(store, GOOD)
    assert entries
    for entry in entries:
        forge(entry, forgery(data))
    r = run("series", "mm", "-o", str(tmp_path / "again"), "-j1")
    assert r.exit_code == 0, r.output
    got = patches(tmp_path / "again")
    assert "evil" not in "".join(got.values()).lower()
    assert got == reference
    assert "cache: " in r.stderr and "unusable cache file" in r.stderr


@pytest.mark.parametrize("forgery", FORGERIES, ids=lambda f: f.__name__)
def test_a_forged_entry_cannot_make_apply_write_another_edit(tree, tmp_path, forgery):
    store = tmp_path / "xdg" / "pgrewrite"
    data = (tree / GOOD).read_bytes()
    assert run("scan", "mm").exit_code in (0, 1)
    entries = entries_of(store, GOOD)
    assert entries
    for entry in entries:
        forge(entry, forgery(data))
    r = run("apply", "mm")
    new = (tree / GOOD).read_bytes()
    assert b"evil" not in new.lower()
    assert new == data.replace(b"phys_addr >> PAGE_SHIFT", b"phys_addr >> PTE_SHIFT"), r.output


def test_a_forged_stat_index_entry_is_a_miss_too(tree, tmp_path):
    """The stat index serves a file without reading it: its results are
    checked against the rules (the bytes are checked where they are read)."""
    store = tmp_path / "xdg" / "pgrewrite"
    data = (tree / GOOD).read_bytes()
    assert run("scan", "mm").exit_code in (0, 1)
    (index,) = (store / "index").iterdir()
    key = cachekey.key()         # the index is MACed (below); sealed with the key, it is still checked
    rows = cachefile.decode(index.read_bytes(), key, index.name)
    forged = 0
    for row in rows:
        if row[3] == GOOD:
            row[4] = codec.result_data(identifier_rename(data)(codec.result_from(row[4])))
            forged += 1
    assert forged
    index.write_bytes(cachefile.encode(rows, key, index.name))
    r = run("apply", "mm")
    assert (tree / GOOD).read_bytes() == data.replace(b"phys_addr >> PAGE_SHIFT", b"phys_addr >> PTE_SHIFT")
    assert f"{index}: the entry of " in r.output and "is not what the rules make: the edit at byte" in r.output


def test_misfit_names_what_does_not_fit():
    from pgrewrite import edits
    from pgrewrite.rules.loader import load_ruleset
    ruleset = load_ruleset(None)
    data = b"x = PAGE_SIZE + PAGE_SIZEX;\n"
    site = model.Site("a.c", 4, 13, 1, 5, "PAGE_SIZE")
    good = model.FileResult("a.c", (model.Decision(site, model.Verdict.PG, "PG_SIZE", "r", "why"),),
                            (model.Edit(4, 13, "PAGE_SIZE", "PG_SIZE", "r", "family", "pg"),))
    assert edits.misfit(ruleset, good, data) is None
    inside = dataclasses.replace(site, start=16, end=25)        # the start of PAGE_SIZEX
    assert "whole word at byte 16" in edits.misfit(
        ruleset, dataclasses.replace(good, decisions=(dataclasses.replace(good.decisions[0], site=inside),),
                                     edits=()), data)
    assert edits.misfit(ruleset, dataclasses.replace(good, edits=()), b"x = PAGE_SIZ") is not None
    odd = dataclasses.replace(good.edits[0], kind="shell")
    assert "unknown kind 'shell'" in edits.misfit(ruleset, dataclasses.replace(good, edits=(odd,)))


def rules_entry(store: Path) -> Path:
    (entry,) = (store / "rules").iterdir()
    return entry


def without_notes(output: str) -> dict:
    doc = json.loads(output)
    return {k: v for k, v in doc.items() if k != "notes"}


def forged_rules(entry: Path) -> list:
    """The entry's rule documents with other reasons and priorities: what
    scan shows, and series' commit messages. The data is plain JSON after
    the header: a forger reads it without any key."""
    rows = json.loads(entry.read_bytes()[cachefile.HEADER_SIZE:])
    forged = 0
    for _, doc, _ in rows:
        if isinstance(doc, dict) and "reason" in doc:
            doc["reason"] = "forged reason"
            doc["priority"] = doc.get("priority", 0) + 1
            forged += 1
    assert forged
    return rows


# how the forger seals the entry: a valid checksum (what any writer of the
# directory can make), or a MAC under a key of their own (another user's)
SEALS = {
    "checksum": lambda rows, name: cachefile.encode(rows),
    "another-key": lambda rows, name: cachefile.encode(rows, key=b"not this user's key".ljust(32, b"!"), name=name),
}


def drop_results(store: Path) -> None:
    """Results made with the true rules would hide a forged rule: analysed again."""
    for other in store.iterdir():
        if other.name != "rules":
            shutil.rmtree(other) if other.is_dir() else other.unlink()


@pytest.mark.parametrize("seal", SEALS)
def test_a_forged_rules_cache_entry_does_not_change_the_rules(tree, tmp_path, seal):
    """The rules cache is keyed with the user's own secret (cachekey.py): a
    forged entry is a miss, named once in the note, parsed again and replaced."""
    store = tmp_path / "store"
    args = ["scan", "mm", "--format", "json", "--cache-dir", str(store)]
    first = run(*args)
    reference = without_notes(first.output)
    assert not json.loads(first.output).get("notes")
    entry = rules_entry(store)
    true_entry = entry.read_bytes()
    entry.write_bytes(SEALS[seal](forged_rules(entry), entry.name))
    drop_results(store)
    r = run(*args)
    assert without_notes(r.output) == reference
    (note,) = json.loads(r.output)["notes"]
    assert note.startswith("cache: 1 unusable cache file(s) ignored and recomputed")
    assert f"{entry}: its MAC does not verify under this user's cache key" in note
    assert entry.read_bytes() == true_entry         # replaced by the true documents
    assert not json.loads(run(*args).output).get("notes")


def test_an_entry_the_user_wrote_for_other_rules_does_not_verify_under_another_name(tree, tmp_path):
    """The MAC covers the entry's name (the rules directory and the hash of its
    files): the user's own entry of other rules (an older version, another
    --rules directory), copied over the current one's name, is a miss too."""
    from .conftest import copy_rules
    store = tmp_path / "store"
    other_rules = copy_rules(tmp_path / "other" / "semantic-rules")
    rule = next(other_rules.glob("pte/*.yaml"))
    text = rule.read_text()
    rule.write_text(re.sub(r"(?m)^reason: .*$", "reason: the reason of other rules", text, count=1))
    run("scan", "mm", "--format", "json", "--cache-dir", str(store / "other"), "--rules", str(other_rules))
    mine = rules_entry(store / "other")
    args = ["scan", "mm", "--format", "json", "--cache-dir", str(store / "true")]
    reference = without_notes(run(*args).output)
    entry = rules_entry(store / "true")
    entry.write_bytes(mine.read_bytes())
    drop_results(store / "true")
    r = run(*args)
    assert "the reason of other rules" not in r.output
    assert without_notes(r.output) == reference
    assert "its MAC does not verify" in json.loads(r.output)["notes"][0]


PRIVATE = "drivers/misc/wdt.c"


@pytest.fixture
def tree_with_a_private_definition(tree):
    """The tree, with a driver's private PG_SIZE: the preparation plan
    (`includes/*.plan`) renames it first."""
    (tree / PRIVATE).write_text("#define PG_SIZE\t0x1000\nint wdt_len(void) { return PG_SIZE; }\n")
    subprocess.run(["git", "add", PRIVATE], cwd=tree, check=True)
    subprocess.run(["git", "-c", "user.name=t", "-c", "user.email=t@example.org", "commit", "-qm", "wdt"],
                   cwd=tree, check=True)
    return tree


def test_a_forged_plan_cannot_make_apply_rename_another_identifier(tree_with_a_private_definition, tmp_path):
    """The plan holds the preparatory renames apply makes (`a private PG_SIZE
    -> WDT_PG_SIZE`); it is trusted on the tree's stat fingerprint, which is
    in the file itself (and which anyone who can stat the tree can compute).
    A forged plan must not put any other rename into a file apply writes."""
    tree = tree_with_a_private_definition
    store = tmp_path / "xdg" / "pgrewrite"
    data = (tree / GOOD).read_bytes()
    assert run("scan", "mm", "drivers").exit_code in (0, 1)
    (plan,) = (store / "includes").glob("*.plan")
    saved = json.loads(plan.read_bytes()[cachefile.HEADER_SIZE:])
    assert saved["preparation"]["renames"], saved            # the driver's PG_SIZE
    line = data[:at(data, b"phys_addr", 1)].count(b"\n") + 1
    saved["preparation"]["renames"].append([[GOOD, line, "phys_addr", "phys_addr", False], "evil_addr", [GOOD]])
    plan.write_bytes(cachefile.encode(saved))
    r = run("apply", "mm", "drivers")
    new = (tree / GOOD).read_bytes()
    assert b"evil" not in new.lower(), r.output
    assert new == data.replace(b"phys_addr >> PAGE_SHIFT", b"phys_addr >> PTE_SHIFT"), r.output
    assert b"return WDT_PG_SIZE;" in (tree / PRIVATE).read_bytes()     # the true plan, made again
    assert f"{plan}: its MAC does not verify" in r.output


def test_a_forged_collision_index_cannot_hide_a_clashing_definition(tree, tmp_path):
    """The collision index (`includes/*.state`) says which definitions of the
    new names exist and which files see them, trusted on the same stat
    fingerprint. One that hides x86's PTE_SHIFT (the index bits of a page
    table) would let apply rename x86's PAGE_SHIFT uses to PTE_SHIFT while
    that definition stays: code that compiles and is wrong. It must be a miss."""
    from .test_clashes import CLASH
    for rel, text in CLASH.items():
        (tree / rel).parent.mkdir(parents=True, exist_ok=True)
        (tree / rel).write_text(text)
    subprocess.run(["git", "add", "."], cwd=tree, check=True)
    subprocess.run(["git", "-c", "user.name=t", "-c", "user.email=t@example.org", "commit", "-qm", "x86"],
                   cwd=tree, check=True)
    store = tmp_path / "xdg" / "pgrewrite"
    assert run("scan", "mm", "arch").exit_code in (0, 1)
    (state,) = (store / "includes").glob("*.state")
    saved = json.loads(state.read_bytes()[cachefile.HEADER_SIZE:])
    assert [d[2] for d in saved["index"]["definitions"]] == ["PTE_SHIFT"]
    saved["index"]["definitions"], saved["index"]["_bit_pass"] = [], []
    state.write_bytes(cachefile.encode(saved))
    for plan in (store / "includes").glob("*.plan"):
        plan.unlink()                      # made again from the index
    r = run("apply", "mm", "arch")
    header = (tree / "arch/x86/include/asm/pgtable.h").read_text()
    assert "#define PTE_INDEX_BITS ilog2(PTRS_PER_PTE)" in header, r.output
    assert f"{state}: its MAC does not verify" in r.output


def test_a_forged_stat_index_entry_cannot_drop_a_files_sites(tree, tmp_path):
    """The stat index serves a file's result on its stat alone, without
    reading it: a writer who knows the stat (it is in the index file itself,
    and anyone who can stat the tree has it) but not the bytes must not be
    able to make a file's sites vanish from scan, apply or series."""
    store = tmp_path / "store"
    args = ["scan", "mm", "--format", "json", "--cache-dir", str(store)]
    reference = without_notes(run(*args).output)
    (index,) = (store / "index").iterdir()
    rows = json.loads(index.read_bytes()[cachefile.HEADER_SIZE:])
    forged = 0
    for row in rows:
        if row[3] == GOOD:
            r = codec.result_from(row[4])
            row[4] = codec.result_data(dataclasses.replace(r, decisions=(), edits=(), lexical_count=0))
            forged += 1
    assert forged
    index.write_bytes(cachefile.encode(rows))
    r = run(*args)
    assert without_notes(r.output) == reference
    assert f"{index}: its MAC does not verify" in r.output


def test_a_forged_prefilter_answer_cannot_leave_a_file_out(tree, tmp_path):
    """The prefilter's answers (does this file mention the family?) are kept
    on the files' stat: a forged `no` must not make a run silently read less."""
    store = tmp_path / "store"
    args = ["scan", "mm", "--format", "json", "--cache-dir", str(store)]
    reference = without_notes(run(*args).output)
    forged = 0
    for kept in (store / "prefilter").iterdir():
        data = json.loads(kept.read_bytes()[cachefile.HEADER_SIZE:])
        name = "good.c"                   # paths from the directory named (mm)
        if kept.suffix == ".prefilter" and name in data:
            data[name][1] = False
            forged += 1
        elif kept.suffix == ".summary":
            data[1] = [p for p in data[1] if not p.endswith(GOOD)]
            forged += 1
        kept.write_bytes(cachefile.encode(data))
    assert forged
    r = run(*args)
    assert without_notes(r.output) == reference
    assert "its MAC does not verify" in r.output


ESCAPES = "\x1b]0;forged title\x07\x1b[2J\x9b2J"


def test_a_forged_entry_cannot_put_terminal_escapes_into_the_output(tree, tmp_path):
    """Reasons and notes of a cached result are printed as they are: a forged
    entry (for a file whose bytes the forger knows) must not put control
    characters a terminal acts on (a title, the clipboard, a cleared
    screen) into a run's output: it is a miss."""
    store = tmp_path / "store"
    args = ["scan", "mm", "--cache-dir", str(store)]
    reference = run(*args).stdout
    shutil.rmtree(store / "index")
    entries = entries_of(store, GOOD)
    assert entries
    for entry in entries:
        forge(entry, lambda r: dataclasses.replace(
            r, decisions=(dataclasses.replace(r.decisions[0], reason=ESCAPES), *r.decisions[1:]),
            notes=(ESCAPES,)))
    r = run(*args)
    assert not any(c in r.output for c in "\x1b\x07\x9b"), repr(r.output)
    assert [line for line in r.stdout.splitlines() if not line.startswith("note: cache:")] == reference.splitlines()
    assert "its text holds control characters" in r.output


def test_a_result_holding_a_control_character_is_not_kept():
    """What pgrewrite would refuse to read it does not write (so such a
    result is no miss to note every run)."""
    import tempfile
    with tempfile.TemporaryDirectory() as d:
        where = Path(d) / "entry"
        assert cachefile.write(where, ["a note with \x1b[31m in it"], plain_text=True) == 0
        assert not where.exists()
        assert cachefile.write(where, ["plain\ttext\n"], plain_text=True) > 0
        assert cachefile.read(where, plain_text=True) == ["plain\ttext\n"]
