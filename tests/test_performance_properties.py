"""What the speed work must not change (issue 6); no timing assertions here.

- `--jobs 1` and `--jobs 2` print the same JSON;
- a warm cache gives the same JSON as a cold run, and an edited file or rule
  is re-analysed;
- the prefilter keeps the same files inside and outside a git work tree;
- the needle-based lexer finds exactly what the old single-regex lexer found;
- the new names' screened substring test answers as the plain one;
- leaving name-free function bodies out of the parse changes no result;
- skipping `has` walks whose required literals are missing changes no result;
- the worker pool's handler thread waits instead of looping while results wait.
"""
from __future__ import annotations

import os
import random
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from pgrewrite import files, git, store
from pgrewrite.cli import cli
from pgrewrite.lex import Lexer

SAMPLE = Path(__file__).resolve().parent.parent / "sample-tree"
RULES = Path(__file__).resolve().parent.parent / "semantic-rules"
NAMES = ["PAGE_SIZE", "PAGE_SHIFT", "PAGE_MASK", "PAGE_ALIGN", "PAGE_ALIGN_DOWN", "PAGE_ALIGNED", "offset_in_page"]


def scan_json(tree: Path, *args) -> str:
    old = os.getcwd()
    os.chdir(tree)
    try:
        r = CliRunner().invoke(cli, ["scan", ".", "--format", "json", *args], catch_exceptions=False)
    finally:
        os.chdir(old)
    assert r.exit_code in (0, 4, 5), r.output
    return r.output


def big_tree(tmp_path: Path) -> Path:
    """sample-tree plus copies of its C files: enough tasks for the pool."""
    tree = tmp_path / "tree"
    shutil.copytree(SAMPLE, tree, symlinks=True)
    for i, src in enumerate(sorted(tree.glob("mm/*.c"))):
        for k in range(3):
            shutil.copy(src, tree / "mm" / f"copy{k}_{i}_{src.name}")
    return tree


def test_jobs_1_and_2_print_the_same_json(tmp_path):
    tree = big_tree(tmp_path)
    one = scan_json(tree, "--no-cache", "--jobs", "1")
    two = scan_json(tree, "--no-cache", "--jobs", "2")
    assert one == two
    assert '"sites": 0' not in one


def test_warm_cache_is_the_cold_result_and_edits_are_seen(tmp_path):
    tree = big_tree(tmp_path)
    cache = tmp_path / "cache"
    cold = scan_json(tree, "--cache-dir", str(cache), "--jobs", "2")
    assert scan_json(tree, "--cache-dir", str(cache), "--jobs", "2") == cold
    assert scan_json(tree, "--no-cache", "--jobs", "1") == cold
    # an edited file is analysed again
    victim = sorted(tree.glob("mm/*.c"))[0]
    victim.write_bytes(victim.read_bytes() + b"\nunsigned long pgrewrite_cache_test = PAGE_SIZE;\n")
    edited = scan_json(tree, "--cache-dir", str(cache), "--jobs", "2")
    assert edited == scan_json(tree, "--no-cache", "--jobs", "1")
    assert edited != cold


def test_a_changed_rule_is_re_evaluated(tmp_path):
    tree = big_tree(tmp_path)
    rules = tmp_path / "rules"
    shutil.copytree(RULES, rules)
    cache = tmp_path / "cache"
    before = scan_json(tree, "--cache-dir", str(cache), "--rules", str(rules))
    rule = sorted(rules.glob("*/*.yaml"))[0]
    text = rule.read_text()
    m = re.search(r"^reason:.*$", text, re.M)
    assert m is not None
    rule.write_text(text[:m.start()] + "reason: changed for the cache test" + text[m.end():])
    after = scan_json(tree, "--cache-dir", str(cache), "--rules", str(rules))
    assert after == scan_json(tree, "--no-cache", "--rules", str(rules))
    if "changed for the cache test" not in after:      # the rule matched nothing here
        assert after == before


def test_prefilter_is_the_same_inside_and_outside_git(tmp_path):
    inside, _ = files.expand([str(SAMPLE)], NAMES, cwd=SAMPLE)
    copy = tmp_path / "copy"
    shutil.copytree(SAMPLE, copy, symlinks=True)
    outside, _ = files.expand([str(copy)], NAMES, cwd=copy)
    no_git, _ = files.expand([str(copy)], NAMES, cwd=copy, use_git=False)
    assert [c.display for c in outside] == [c.display for c in inside]
    # without git every source file is a candidate; the prefilter only drops
    # files that have no whole-word family name
    word = re.compile(r"(?<![A-Za-z0-9_])(?:" + "|".join(NAMES) + r")(?![A-Za-z0-9_])")
    kept = {c.display for c in outside}
    for c in no_git:
        assert (c.display in kept) == bool(word.search(c.path.read_text(errors="replace"))), c.display


EDGE_LINES = [b"PAGE_SIZE", b"xPAGE_SIZE", b"PAGE_SIZEx", b"1PAGE_SHIFT", b"PAGE_SHIFT9", b"_PAGE_MASK",
              b"PAGE_MASK_", b"$PAGE_MASK", b"PAGE_MASK$", b"PAGE_ALIGNED", b"PAGE_ALIGN_DOWNx", b"PAGE_ALIGN_",
              b"\xc3\xa9PAGE_SIZE", b"PAGE_SIZE\xc3\xa9", b"\xe9offset_in_page\xff", b"offset_in_pages",
              b"x offset_in_page(p)", b"PAGE_SIZ", b"PAGE.SIZE", b"PAGE_SIZE_PAGE_SIZE PAGE_SIZEPAGE_SIZE",
              b"xPAGE_SIZE PAGE_SIZE", b"offset_in_pte", b"(PG_SIZE)", b"xPG_SIZE", b"offset_in_pgx"]


@pytest.mark.parametrize("pcre", [True, False], ids=["git-grep-P", "git-grep-E"])
def test_grep_words_means_a_word_as_git_grep_w_does(tmp_path, monkeypatch, pcre):
    """Both forms of the whole-word search (-P with lookarounds, -E -w) pick
    the lines the Python word test picks, for the old and the new names."""
    if pcre and not git.has_pcre():
        pytest.skip("this git has no PCRE")
    monkeypatch.setattr(git, "has_pcre", lambda: pcre)
    (tmp_path / "t.c").write_bytes(b"\n".join(EDGE_LINES) + b"\n")
    for names in (NAMES, ["PTE_SIZE", "PG_SIZE", "offset_in_pte", "offset_in_pg"]):
        r = subprocess.run(["git", "grep", "--no-index", "-n", "-a", *git.grep_words(names)],
                           cwd=tmp_path, capture_output=True, check=False)
        assert r.returncode in (0, 1), r.stderr
        got = [int(line.split(b":")[1]) for line in r.stdout.splitlines()]
        word = re.compile(rb"(?<![A-Za-z0-9_])(?:" + b"|".join(n.encode() for n in names) + rb")(?![A-Za-z0-9_])")
        assert got == [i for i, line in enumerate(EDGE_LINES, 1) if word.search(line)]
        assert got


def _sample_and_fixture_files() -> list[Path]:
    """Every C file of sample-tree/ and fixtures/ (the snapshots aside)."""
    return [p for top in (SAMPLE, SAMPLE.parent / "fixtures") for p in sorted(top.rglob("*.[ch]"))
            if p.is_file() and "snapshots" not in p.parts]


def _same_result_without(engine, monkeypatch, slow_down) -> int:
    """Analyse every file of _sample_and_fixture_files() as shipped, then
    again with `slow_down(m)` (a monkeypatch context) turning a fast path
    off: the same decisions, edits and notes. Returns the number of files."""
    paths = _sample_and_fixture_files()
    for p in paths:
        data = p.read_bytes()
        fast = engine.analyse(str(p), data)
        with monkeypatch.context() as m:
            slow_down(m)
            walked = engine.analyse(str(p), data)
        assert fast.decisions == walked.decisions and fast.edits == walked.edits, p
        assert fast.notes == walked.notes, p
    return len(paths)


def test_leaving_bodies_out_of_the_parse_changes_no_result(monkeypatch):
    """Every C file of sample-tree/ and fixtures/ gives the same result with
    the name-free function bodies left out of the parse as parsed whole
    (parse_errors aside: errors inside a body that is left out are not seen)."""
    from pgrewrite import api, sites
    engine = api.Engine(api.load_rules(RULES))
    paths = _sample_and_fixture_files()
    real = sites.unread_bodies
    left_out = 0
    for p in paths:
        data = p.read_bytes()
        monkeypatch.setattr(sites, "unread_bodies", real)
        left_out += bool(real(data, engine.lexer.lex(data)))
        partial = engine.analyse(str(p), data)
        monkeypatch.setattr(sites, "unread_bodies", lambda data, lexed, also=(): [])
        whole = engine.analyse(str(p), data)
        assert partial.decisions == whole.decisions and partial.edits == whole.edits, p
        assert partial.notes == whole.notes and partial.accounting_difference == whole.accounting_difference == 0, p
        assert partial.parse_errors <= whole.parse_errors, p
    assert len(paths) > 50 and left_out > 5


# ----------------------------------------------------------------- the lexer

class ReferenceLexer(Lexer):
    """The original single-regex scan: slow, but obviously right."""

    def lex(self, data):
        from pgrewrite.lex import _COMMENT_OR_LITERAL, Lexed
        alt = b"|".join(re.escape(n.encode()) for n in sorted(self.names, key=len, reverse=True))
        scan = re.compile(_COMMENT_OR_LITERAL + rb"|(?P<dir>^[ \t]*\#)"
                          + rb"|(?P<name>(?<![A-Za-z0-9_])(?:" + alt + rb")(?![A-Za-z0-9_]))", re.S | re.M)
        words, directives, comments, strings = [], [], [], []
        pos = 0
        while pos < len(data):
            m = scan.search(data, pos)
            if m is None:
                break
            kind, s, e = m.lastgroup, m.start(), m.end()
            if kind == "name":
                words.append((s, e, m.group().decode()))
            elif kind in ("bc", "lc"):
                comments.append((s, e, self.count_in(data, s, e)))
            elif kind in ("str", "chr"):
                strings.append((s, e, self.count_in(data, s, e)))
            else:
                d = self._directive(data, s + m.group().index(b"#"), comments, strings)
                directives.append(d)
                e = d.end
            pos = max(e, s + 1)
        return Lexed(words, directives, comments, strings)


def _dump(lexed):
    return (lexed.words, [(d.start, d.end, d.name, d.macro, d.macro_span, d.body_start, d.words)
                          for d in lexed.directives], lexed.comments, lexed.strings)


PIECES = [b"PAGE_SIZE", b"PAGE_ALIGN", b"PAGE_ALIGNED", b"PAGE_ALIGN_DOWN", b"offset_in_page", b"x", b"_",
          b"$", b" ", b"\t", b"\n", b"\r\n", b"\\", b"\\\n", b"/", b"*", b"/*", b"*/", b"//", b'"', b"'",
          b"#", b"# define ", b"#if ", b"#undef ", b"(", b")", b"PAGE_", b"9", b"\xc3\xa9"]


def test_lexer_matches_the_reference_on_random_input():
    fast = Lexer(NAMES)
    ref = ReferenceLexer(NAMES)
    ref.names = NAMES
    rng = random.Random(6)
    for _ in range(3000):
        data = b"".join(rng.choice(PIECES) for _ in range(rng.randint(0, 40)))
        assert _dump(fast.lex(data)) == _dump(ref.lex(data)), data


NEW_NAMES = [b"PTE_SIZE", b"PG_SIZE", b"PTE_ALIGN", b"PTE_ALIGN_DOWN", b"PG_ALIGNED", b"offset_in_pte",
             b"offset_in_pg", b"X"]


def test_the_screened_substring_test_is_the_plain_one():
    from pgrewrite.engine import _contains_any, _screen
    screen = _screen(tuple(NEW_NAMES))
    assert len(screen) < len(NEW_NAMES)
    pieces = [b"PTE_", b"PG_", b"PTE", b"PG", b"SIZE", b"ALIGN", b"_DOWN", b"offset_in_p", b"te", b"g", b"X", b" "]
    rng = random.Random(18)
    seen = set()
    for _ in range(3000):
        data = b"".join(rng.choice(pieces) for _ in range(rng.randint(0, 12)))
        for names in (tuple(NEW_NAMES), tuple(NEW_NAMES[:-1])):
            plain = any(n in data for n in names)
            assert _contains_any(data, _screen(names), names) is plain, data
            seen.add(plain)
    assert seen == {True, False}


def test_the_control_character_screen_answers_as_the_regex():
    from pgrewrite import cachefile
    pieces = [b"\\", b"u00", b"1b", b"7f", b"9b", b"20", b"b", b"f", b"\x7f", b"\xc2", b"\x80", b"\x9f", b"\xa0",
              b'"', b"x", b"\\\\"]
    rng = random.Random(15)
    seen = set()
    for _ in range(5000):
        data = b"".join(rng.choice(pieces) for _ in range(rng.randint(0, 10)))
        want = cachefile._CONTROL.search(data) is not None
        assert cachefile.has_control(data) is want, data
        assert cachefile.has_control(memoryview(b"head" + data)[4:]) is want, data
        seen.add(want)
    assert seen == {True, False}


def test_lexer_matches_the_reference_on_the_sample_tree():
    fast = Lexer(NAMES)
    ref = ReferenceLexer(NAMES)
    ref.names = NAMES
    for p in sorted(SAMPLE.rglob("*")):
        if p.is_file() and files.is_source(p.name):
            data = p.read_bytes()
            assert _dump(fast.lex(data)) == _dump(ref.lex(data)), p


def test_the_stat_index_answers_an_unchanged_rerun_without_reading(tmp_path, monkeypatch):
    from pgrewrite import api, cache as cache_mod
    tree = big_tree(tmp_path)
    ruleset = api.load_rules(RULES)
    cache = tmp_path / "cache"
    monkeypatch.setattr(store, "STALE_NS", 0)   # the files are brand new; trust them anyway
    cold = api.scan_paths(["."], ruleset, jobs=1, cache_dir=cache, cwd=tree)
    assert list((cache / "index").glob("*.index"))
    reads = []
    real_key = cache_mod.ResultCache.key_of
    monkeypatch.setattr(cache_mod.ResultCache, "key_of",
                        lambda self, display, data, cap: reads.append(display) or real_key(self, display, data, cap))
    warm = api.scan_paths(["."], ruleset, jobs=1, cache_dir=cache, cwd=tree)
    assert reads == [] and warm.files == cold.files
    assert warm.stats["cache_hits"] == warm.stats["candidates"]
    # a same-size edit changes the stat: that file (only) is read and analysed again
    victim = sorted(tree.glob("mm/*.c"))[0]
    data = victim.read_bytes()
    assert b"PAGE_SIZE" in data
    victim.write_bytes(data.replace(b"PAGE_SIZE", b"PAGE_MASK", 1))
    edited = api.scan_paths(["."], ruleset, jobs=1, cache_dir=cache, cwd=tree)
    assert reads == [f"mm/{victim.name}"] or reads == [str(victim.relative_to(tree))]
    assert edited.stats["analysed"] == 1
    assert edited.files == api.scan_paths(["."], ruleset, jobs=1, use_cache=False, cwd=tree).files
    # a file changed just before its stat was taken is not kept in the index:
    # it is read again on every run (the other files still are not)
    monkeypatch.setattr(store, "STALE_NS", 10**15)
    victim.write_bytes(data)
    for _ in range(2):
        reads.clear()
        again = api.scan_paths(["."], ruleset, jobs=1, cache_dir=cache, cwd=tree)
        assert len(reads) == 1 and again.files == cold.files


@pytest.mark.parametrize("jobs", [1, 2])
def test_workers_keep_results_under_the_key_of_the_bytes_they_read(tmp_path, monkeypatch, jobs):
    # without the stat index every file is read again, and its result found
    # by content in the entries the (worker) analysis wrote; the ledger
    # counts what the workers wrote
    from pgrewrite import api, cache as cache_mod
    tree = big_tree(tmp_path)
    ruleset = api.load_rules(RULES)
    cache = tmp_path / "cache"
    monkeypatch.setattr(store, "STALE_NS", 0)   # the files are brand new; trust them anyway
    cache.mkdir()
    (cache / cache_mod.LEDGER).write_text("0")     # counted from here on
    cold = api.scan_paths(["."], ruleset, jobs=jobs, cache_dir=cache, cwd=tree)
    assert cold.stats["analysed"] == cold.stats["candidates"] > 8 and cold.stats["cache_hits"] == 0
    entries = list(cache.glob("[0-9a-f][0-9a-f]/*"))
    assert len(entries) == cold.stats["candidates"] + cold.stats["analysed_again"]
    assert int((cache / cache_mod.LEDGER).read_text()) >= sum(f.stat().st_size for f in entries)
    shutil.rmtree(cache / "index")
    warm = api.scan_paths(["."], ruleset, jobs=jobs, cache_dir=cache, cwd=tree)
    assert warm.stats["analysed"] == 0 and warm.stats["cache_hits"] == warm.stats["candidates"]
    assert warm.files == cold.files
    # an entry is keyed by the bytes it was made from
    victim = sorted(tree.glob("mm/*.c"))[0]
    victim.write_bytes(victim.read_bytes().replace(b"PAGE_SIZE", b"PAGE_MASK", 1))
    shutil.rmtree(cache / "index")
    edited = api.scan_paths(["."], ruleset, jobs=jobs, cache_dir=cache, cwd=tree)
    assert edited.stats["analysed"] == 1
    assert edited.files == api.scan_paths(["."], ruleset, jobs=1, use_cache=False, cwd=tree).files


def test_results_made_by_another_pgrewrite_are_not_reused(tmp_path, monkeypatch):
    from pgrewrite import api, cache as cache_mod
    tree = big_tree(tmp_path)
    ruleset = api.load_rules(RULES)
    cache = tmp_path / "cache"
    first = api.scan_paths(["."], ruleset, jobs=1, cache_dir=cache, cwd=tree)
    again = api.scan_paths(["."], ruleset, jobs=1, cache_dir=cache, cwd=tree)
    assert again.stats["analysed"] == 0 and again.files == first.files
    monkeypatch.setattr(cache_mod, "engine_digest", lambda: "another version of pgrewrite")
    other = api.scan_paths(["."], ruleset, jobs=1, cache_dir=cache, cwd=tree)
    assert other.stats["analysed"] == other.stats["candidates"] and other.files == first.files


def test_a_file_without_names_in_code_is_not_parsed_whole(monkeypatch):
    # every name is in a directive, a macro body or a comment: the sites are
    # all found and classified, but only the macro body is parsed
    from pgrewrite import api, parsing
    parsed = []
    real = parsing.parse
    monkeypatch.setattr(parsing, "parse", lambda data: parsed.append(len(data)) or real(data))
    src = (b"/* PAGE_SIZE in a comment */\n#if PAGE_SHIFT > 12\n#define BUF_SIZE (2 * PAGE_SIZE)\n#endif\n"
           b"static int broken(void { return 0; }\n")
    engine = api.Engine(api.load_rules(RULES))
    r = engine.analyse("drivers/x.c", src)
    assert sorted((d.site.token, d.site.context.value) for d in r.decisions) == [
        ("PAGE_SHIFT", "condition"), ("PAGE_SIZE", "macro")]
    assert r.accounting_difference == 0 and r.mentions.comments == 1
    assert not r.parse_errors and len(src) not in parsed
    # the code uses the macro: unit inference follows it there, so the file is parsed
    uses = src.replace(b"return 0;", b"return BUF_SIZE;")
    r = engine.analyse("drivers/x.c", uses)
    assert r.parse_errors and len(uses) in parsed
    # with a name in code the whole file is parsed, and its errors reported
    r = engine.analyse("drivers/x.c", src + b"int n = PAGE_SIZE;\n")
    assert r.parse_errors and len(src) + 19 in parsed


def test_json_is_what_json_dumps_writes_with_or_without_orjson(monkeypatch):
    import json
    import sys
    from pgrewrite.output import render_json
    docs = [{"summary": {"sites": 2, "verdicts": {}}, "sites": [{"path": "mm/a.c", "line": 1, "matches": [],
                                                               "replacement": None, "ok": True}], "notes": []},
            {"sites": [{"reason": "caf\u00e9 \u2013 d\u00e9j\u00e0", "path": "x\\y\"z"}]},    # json escapes these
            {}]
    for doc in docs:
        expected = json.dumps(doc, indent=2) + "\n"
        assert render_json(doc) == expected
        monkeypatch.setitem(sys.modules, "orjson", None)     # not installed
        assert render_json(doc) == expected
        monkeypatch.delitem(sys.modules, "orjson")


# ------------------------------------------------- `has` pruned by its literals

@pytest.mark.parametrize("regex, clauses", [
    (r"^[\w.>-]*(->|\.)?(total_vm|locked_vm)$", [{"total_vm", "locked_vm"}]),
    (r"vmap|vmap_\w+|__vmap_pages_range\w*|vm_map_ram", [{"vmap", "vm_map_ram"}]),
    (r"(add|inc|dec|get)_mm_counter\w*|vm_stat_account",
     [{"add_mm_counter", "inc_mm_counter", "dec_mm_counter", "get_mm_counter", "vm_stat_account"}]),
    (r"k[mz]alloc", [{"kmalloc", "kzalloc"}]),
    (r"(abc)+def", [{"abc"}, {"def"}]),
    (r"a(?=xyz)b|cd", [{"ab", "cd"}]),
    # requires nothing: an optional part, an empty branch, a class, nothing literal
    (r"a?", []), (r"abc|", []), (r"[^a]", []), (r".*", []), (r"(?i:abc)", []),
])
def test_literals_every_match_needs(regex, clauses):
    from pgrewrite.rules import literals
    got = literals.required(re.compile(regex))
    assert [set(c) for c in got] == clauses
    assert not any(c.ignore_case for c in got)


def test_literals_of_a_regex_that_ignores_case_are_lower_case():
    from pgrewrite.rules import literals
    (clause,) = literals.required(re.compile(r"(?i)^\w*(uaddr|User)\w*$"))
    assert clause.ignore_case and set(clause) == {"uaddr", "user"}


def test_literals_common_words_rank_last():
    from pgrewrite.rules import literals
    got = literals.required(re.compile(r"struct\s+folio\s*\*"))
    assert [set(c) for c in got][:2] == [{"folio"}, {"struct"}]


def shipped_regexes():
    from pgrewrite import api
    from pgrewrite.rules import conditions as C
    out, stack = [], []
    for rule in api.load_rules(RULES).rules:
        stack += [rule.match, *rule.where.values()]
    while stack:
        c = stack.pop()
        if isinstance(c, (C.Text, C.Call)):
            out.append(c)
        stack.extend(c.children)
    return out


def test_a_text_a_shipped_regex_matches_has_its_literals():
    """Soundness on real text: every node text of sample-tree/ and fixtures/
    that a shipped `regex:` or `call:` matches holds the strings the pruning
    requires of it (and the pruning does prune: some texts lack them)."""
    from pgrewrite import parsing
    from pgrewrite.rules import conditions as C
    conds = shipped_regexes()
    assert len(conds) > 40 and all(c.needs for c in conds[:3])
    texts = set()
    for top in (SAMPLE, SAMPLE.parent / "fixtures"):
        for p in sorted(top.rglob("*.[ch]")):
            if "snapshots" in p.parts:
                continue
            stack = [parsing.parse(p.read_bytes())]
            while stack:
                n = stack.pop()
                texts.add(n.text)
                stack.extend(n.children)
    matched = pruned = 0
    for c in conds:
        need = c.needs
        for t in texts:
            hit = c.node(None, _TextNode(t), {}) is not None
            matched += hit
            if hit:
                assert C._may_contain(t, need), (c.label, t[:80])
            pruned += not C._may_contain(t, need)
    assert matched > 100 and pruned > 1000


class _TextNode:
    """A node with only a text, as Text.node and Call.node read it."""

    type = "identifier"

    def __init__(self, text):
        self.text = text


def test_pruning_has_by_its_literals_changes_no_result(monkeypatch):
    """Every C file of sample-tree/ and fixtures/ gives the same result with
    and without skipping the `has` walks whose literals are missing."""
    from pgrewrite import api
    from pgrewrite.rules import conditions as C
    engine = api.Engine(api.load_rules(RULES))
    real_may = C._may_contain
    calls = {"pruned": 0}

    def counting(text, need):
        ok = real_may(text, need)
        calls["pruned"] += not ok
        return ok
    monkeypatch.setattr(C, "_may_contain", counting)
    # a property wins over the cached values
    files = _same_result_without(engine, monkeypatch, lambda m: m.setattr(C.Cond, "needs", property(lambda cond: ())))
    assert files > 50 and calls["pruned"] > 100


def test_splitting_a_has_any_through_named_conditions_changes_no_result(monkeypatch):
    """`has: {any: [{use: NAME}, ...]}` walks each alternative of the named
    `any`s by its own kinds (Has._alternatives flattens them); walking the
    nested `any` at every descendant gives the same results. The shipped
    context rules take their exclusions this way (conditions.yaml)."""
    from pgrewrite import api
    from pgrewrite.rules import conditions as C
    rules = api.load_rules(RULES)
    engine = api.Engine(rules)
    split = [c for r in rules.rules for c in _walk_conds(r.match)
             if type(c) is C.Has and c._split and any(type(i) is C.Use for i in _walk_conds(c.cond))]
    assert split, "no shipped rule splits a has-any through a named condition"
    # the old walk: the top `any`'s own items, a named `any` walked whole at each node
    files = _same_result_without(engine, monkeypatch, lambda m: (
        m.setattr(C.Has, "_items", property(lambda h: tuple(h.cond.items) if type(h.cond) is C.Any else (h.cond,))),
        m.setattr(C.Has, "_split", property(lambda h: type(h.cond) is C.Any and len(h.cond.items) > 1 and all(
            i.kind_filter is not None or i.needs for i in h.cond.items)))))
    assert files > 50


def _walk_conds(cond):
    yield cond
    for child in cond.children:
        yield from _walk_conds(child)


def test_the_command_runs_with_the_cyclic_collector_relaxed():
    # the main process, like the workers, collects cycles every 20,000
    # allocations instead of 700 (a warm whole-tree scan spent a sixth of
    # its CPU in the collector); the JSON is that of the default threshold
    def run(entry):
        code = ("import gc, sys; from pgrewrite import cli; sys.argv = ['pgrewrite'] + sys.argv[1:]\n"
                f"try:\n    {entry}()\nexcept SystemExit:\n    pass\nprint(gc.get_threshold(), file=sys.stderr)")
        r = subprocess.run([sys.executable, "-c", code, "scan", "--format", "json", "--no-cache", "-j1", "mm"],
                           cwd=SAMPLE, capture_output=True, text=True, timeout=300)
        return r.stdout, r.stderr.strip().splitlines()[-1]
    relaxed, threshold = run("cli.main")
    plain, default = run("cli.cli")
    assert threshold == "(20000, 50, 50)" and default == "(700, 10, 10)"
    assert relaxed == plain and '"sites"' in relaxed


def _echo(x):
    return x


@pytest.mark.skipif(not hasattr(os, "fork"), reason="the runner's pool forks")
@pytest.mark.parametrize("stock", [False, True])
def test_the_pools_worker_handler_waits_instead_of_looping(monkeypatch, stock):
    # multiprocessing's own Pool wakes its worker-handler thread whenever a
    # result waits in the queue, until the result handler takes it: a loop
    # that cost ~0.9 s of the main process's CPU in a cold scan. The
    # runner's pool wakes it for a change of the pool only. (`stock`: the
    # stdlib's, to show that the count below tells them apart.)
    import multiprocessing as mp
    import multiprocessing.pool as mpool

    from pgrewrite.runner import _Pool
    wakes = []
    wait = mpool.Pool._wait_for_updates

    def counted(*args, **kwargs):
        wakes.append(1)
        return wait(*args, **kwargs)
    monkeypatch.setattr(mpool.Pool, "_wait_for_updates", staticmethod(counted))
    ctx = mp.get_context("fork")
    pool = mpool.Pool(2, context=ctx) if stock else _Pool(2, context=ctx)
    try:
        assert list(pool.imap(_echo, range(3000), chunksize=1)) == list(range(3000))
    finally:
        pool.close()
        pool.join()
    if stock:
        assert len(wakes) > 50
    else:
        assert len(wakes) <= 5      # start, close, the drained cache


# --------------------------------------------- seventh pass on issue 18 (speed6)

def _shipped_needs():
    """Every text requirement of the shipped rules: classify's per rule
    (of the site's top-level item) and each condition's (`has`)."""
    from pgrewrite import api
    from pgrewrite.classify import Classifier
    ruleset = api.load_rules(RULES)
    needs = [n for n in Classifier(ruleset)._needs.values() if n]
    stack = [r.match for r in ruleset.rules]
    while stack:
        c = stack.pop()
        if c.needs:
            needs.append(c.needs)
        stack.extend(x for x in c.children if x is not None)
    return needs


def test_screened_clauses_answer_as_the_plain_substring_test():
    """literals.screened: each string of a clause is in exactly one group,
    behind a screen it contains, and _may_contain answers as a plain `any`
    of the strings on texts made of their pieces (present, absent, cut)."""
    from pgrewrite.rules import literals
    from pgrewrite.rules import conditions as C
    needs = _shipped_needs()
    assert len(needs) > 40
    grouped = 0
    rng = random.Random(7)
    for need in needs:
        plain = []
        for ignore_case, groups in need:
            strings = [s for screen, members in groups for s in (members or (screen,))]
            assert len(strings) == len(set(strings))
            for screen, members in groups:
                assert all(screen in s for s in members) and len(screen) >= min(
                    [literals.SCREEN_MIN, *map(len, members or (screen,))])
                grouped += len(members) > 1
            plain.append((ignore_case, strings))
        pieces = [s for _, ss in plain for s in ss] + [s[: len(s) // 2] for _, ss in plain for s in ss]
        pieces += [s[len(s) // 2:] for _, ss in plain for s in ss] + [b" ", b"_", b"x", b"\xc3\xa9"]
        for _ in range(200):
            text = b"".join(rng.choice(pieces) for _ in range(rng.randint(0, 6)))
            want = True
            for ignore_case, strings in plain:
                t = text.lower() if ignore_case else text
                if ignore_case and not text.isascii():
                    continue
                if not any(s in t for s in strings):
                    want = False
                    break
            assert C._may_contain(text, need) is want, (need, text)
    assert grouped > 10


def test_inside_at_a_site_by_kind_changes_no_result(monkeypatch):
    """Every C file of sample-tree/ and fixtures/ gives the same result
    with `inside` asked at a site over the site's ancestors of its kinds
    (Inside._at_site) as with the walk over every ancestor."""
    from pgrewrite import api
    from pgrewrite.rules import conditions as C
    engine = api.Engine(api.load_rules(RULES))
    real = C.Inside._at_site
    calls = {"n": 0}

    def counting(self, env, b):
        calls["n"] += 1
        return real(self, env, b)
    monkeypatch.setattr(C.Inside, "_at_site", counting)
    files = _same_result_without(engine, monkeypatch,
                                 lambda m: m.setattr(C.Inside, "_by_kind", property(lambda cond: False)))
    assert files > 50 and calls["n"] > 1000


def _by_kind_and_by_walk(spec: dict, source: bytes) -> tuple[list, list]:
    """Whether the site condition `spec` holds at each family site of
    `source`, asked in order with one memo: read by the site's ancestors
    of its kinds, and by the walk over every ancestor."""
    from pgrewrite.lex import Lexer
    from pgrewrite.rules import conditions as C
    from pgrewrite.rules import symbols
    from pgrewrite.rules.pattern import Matcher
    from pgrewrite.sites import find_sites
    cond = C.compile_cond(spec, ("m",), "site", C.Compiling(("PAGE_SIZE",), "c", lambda text, path: re.compile(text)))
    assert cond._by_kind
    parsed = find_sites("f.c", source, Lexer(["PAGE_SIZE"]), always_parse=True)
    got = {}
    for by_kind in (True, False):
        memo = {}
        cond.__dict__["_by_kind"] = by_kind
        got[by_kind] = [cond.site(C.Env("f.c", source, f, Matcher({"PAGE_SIZE": ["PAGE_SIZE"]}),
                                        symbols.SymbolCache(), memo=memo), {}) is not None
                        for f in parsed.sites]
    return got[True], got[False]


NESTED_LOOPS = b"""
void f(int n)
{
        for (int i = 0; i < n; i++) {
                g(i);
                while (n--)
                        h(PAGE_SIZE);
                g(PAGE_SIZE);
        }
        g(PAGE_SIZE);
}
"""


@pytest.mark.parametrize("nearest, want", [(True, [False, True, False]), (False, [True, True, False])])
def test_inside_by_kind_at_a_site_keeps_nearest(nearest, want):
    """`inside` of loops with `nearest`: only the innermost loop counts (a
    `while` without the call, inside a `for` with it); without `nearest`
    any enclosing loop does; outside both, none. Asked at each site of a
    file, in order, with one memo, by the site's ancestors of the kinds
    and by the walk over every ancestor."""
    spec = {"inside": {"kind": ["for_statement", "while_statement"], "nearest": nearest, "has": {"call": "g"}}}
    assert _by_kind_and_by_walk(spec, NESTED_LOOPS) == (want, want)


CLAUSES = b"""
void f(int n)
{
        if (n > h(PAGE_SIZE))
                g(PAGE_SIZE);
        for (n = h(1); n < PAGE_SIZE; n++)
                n += h(PAGE_SIZE);
        int m = PAGE_SIZE;
}
"""


@pytest.mark.parametrize("kind, call, want", [
    ("statement", "h", [True, False, False, True, False]),
    ("statement", "g", [False, True, False, False, False]),
    ("statement", "f", [False, False, False, False, False]),
    (["if_statement", "for_statement"], "h", [True, True, True, True, False]),
])
def test_inside_by_kind_at_a_site_reads_clauses(kind, call, want):
    """`inside: {kind: statement, nearest: true}`: the nearest statement
    is an `if`'s condition or a `for` header's clause (`<clause>`), else
    the statement itself; by the site's ancestors of the kinds as by the
    walk over every ancestor."""
    spec = {"inside": {"kind": kind, "nearest": True, "has": {"call": call}}}
    assert _by_kind_and_by_walk(spec, CLAUSES) == (want, want)


def _walked_types(owner) -> dict:
    """SymbolCache._table as it was: a walk with a stack of children."""
    from pgrewrite.rules import symbols as S
    table, stack = {}, [owner]
    while stack:
        n = stack.pop()
        if n.type in S._DECL_TYPES:
            base = S._base_type(n)
            for d in n.children_by_field_name("declarator"):
                name, stars, array = S._declarator_name(d)
                if name and name not in table:
                    table[name] = S.type_string(base, stars, array)
        if n.type == "function_definition" and n != owner:
            continue
        stack.extend(n.children)
    return table


def _walked_assignments(owner) -> list:
    from pgrewrite.rules import symbols as S
    pairs, stack = [], [owner]
    while stack:
        x = stack.pop()
        if x.type == "init_declarator":
            dn, _, _ = S._declarator_name(x.child_by_field_name("declarator"))
            v = x.child_by_field_name("value")
            if dn and v is not None:
                pairs.append((dn, x.start_byte, v))
        elif x.type == "assignment_expression":
            left = x.child_by_field_name("left")
            op = x.child_by_field_name("operator")
            right = x.child_by_field_name("right")
            if left is not None and left.type == "identifier" and right is not None and (op is None or op.type == "="):
                pairs.append((left.text.decode(errors="replace"), x.start_byte, right))
        stack.extend(x.children)
    pairs.sort(key=lambda p: p[1])
    return pairs


SHADOWED = b"""
struct s { int a; long b; };
int f(int n, char *p)
{
        unsigned long n2 = n;
        { struct page *n2 = 0; p = (char *)n2; }
        for (int i = 0; i < n; i++) { long i2 = i, n = i2; n2 = n; }
        int g(int q) { int inner = q; return inner; }
        struct { int x; char *y; } t = { 1, p };
        n = n2 = (p = 0, 3);
        return ({ int k = n; k; });
}
"""


def test_declared_types_and_assignments_by_query_are_the_walks():
    """SymbolCache's tables, found by tree-sitter's query engine, are those
    of the walk they replace (the same first declaration of a name declared
    twice, nested functions left out, assignments in the same order), for
    every function and file of sample-tree/ and fixtures/ and a file that
    shadows names on purpose."""
    from pgrewrite import parsing
    from pgrewrite.rules import symbols as S
    datas = [SHADOWED] + [p.read_bytes() for top in (SAMPLE, SAMPLE.parent / "fixtures")
                          for p in sorted(top.rglob("*.[ch]")) if p.is_file() and "snapshots" not in p.parts]
    owners = shadowed = 0
    for data in datas:
        root = parsing.parse(data)
        stack = [root]
        while stack:
            n = stack.pop()
            if n.type in ("function_definition", "translation_unit"):
                cache = S.SymbolCache()
                got, want = cache._table(n), _walked_types(n)
                assert got == want and list(got) == list(want), n.text[:60]
                assert [(a, b, v.id) for a, b, v in cache._assignments_of(n)] == \
                    [(a, b, v.id) for a, b, v in _walked_assignments(n)]
                owners += 1
            stack.extend(n.children)
        if data is SHADOWED:
            fn = next(c for c in root.children if c.type == "function_definition")
            table = S.SymbolCache()._table(fn)
            assert {"n", "n2", "i", "i2", "p", "t", "k"} <= set(table) and not {"inner", "q"} & set(table)
            shadowed = 1
    assert owners > 100 and shadowed


CALLS = b"""
void f(void)
{
        kmalloc(g(PAGE_SIZE), PAGE_SIZE);
        h(kmalloc(2 * PAGE_SIZE));
        g(PAGE_SIZE);
}
"""


@pytest.mark.parametrize("obj, want", [
    ({"name": "kmalloc"}, [True, True, True, False]),
    ({"name": "kmalloc", "nearest": True}, [False, True, True, False]),
    ({"name": "kmalloc", "arg": 2}, [False, True, False, False]),
    ({"name": "h|g", "arg": 1}, [True, False, True, True]),
    ({"name": "h", "nearest": True}, [False, False, False, False]),
])
def test_inside_call_at_a_site_is_the_walk(obj, want):
    """`inside-call` asked at a site, over the calls on its way up listed
    once per site (InsideCall._at_site), answers as the walk up with a memo
    entry per node; `nearest` stops at the innermost call, `arg` counts
    the argument's place."""
    from pgrewrite.lex import Lexer
    from pgrewrite.rules import conditions as C
    from pgrewrite.rules import symbols
    from pgrewrite.rules.pattern import Matcher
    from pgrewrite.sites import find_sites
    cond = C.compile_cond({"inside-call": obj}, ("m",), "site",
                          C.Compiling(("PAGE_SIZE",), "c", lambda text, path: re.compile(text)))
    parsed = find_sites("f.c", CALLS, Lexer(["PAGE_SIZE"]), always_parse=True)
    got = []
    for way in ("site", "walk"):
        memo = {}
        ask = cond._at_site if way == "site" else (lambda env, b: cond.node(env, env.site.node, b))
        got.append([ask(C.Env("f.c", CALLS, f, Matcher({"PAGE_SIZE": ["PAGE_SIZE"]}), symbols.SymbolCache(),
                              memo=memo), {}) is not None for f in parsed.sites])
    assert got[0] == got[1] == want


def test_inside_call_at_a_site_changes_no_result(monkeypatch):
    """Every C file of sample-tree/ and fixtures/ gives the same result with
    `inside-call` at a site by the calls on its way up as by the walk."""
    from pgrewrite import api
    from pgrewrite.rules import conditions as C
    engine = api.Engine(api.load_rules(RULES))
    files = _same_result_without(engine, monkeypatch, lambda m: m.setattr(
        C.InsideCall, "_at_site", lambda self, env, b: self.node(env, env.site.node, b)))
    assert files > 50


ANY_ORDER = b"""
void f(int x, int y)
{
        f(x);
        g(y);
        f(y);
}
"""


@pytest.mark.parametrize("items, want", [
    ([{"pattern": "g($A)"}, {"pattern": "f($A)"}], "x"),       # the first descendant, not the first item
    ([{"pattern": "f($A)"}, {"pattern": "g($A)"}], "x"),
    ([{"pattern": "g($A)"}, {"kind": "identifier", "regex": "^y$"}], "y"),
    ([{"call": "h"}, {"pattern": "g($A)"}], "y"),
    ([{"call": "h"}, {"regex": "^nothing$"}], None),
])
def test_has_any_item_by_item_finds_what_the_walk_finds(items, want):
    """`has: {any: [...]}` with each item looking for its first descendant
    on its own (Has._first_of_any) answers as the one walk trying every item
    at each descendant: the bindings of the first descendant where an item
    holds (of the first such item there)."""
    from pgrewrite import parsing
    from pgrewrite.rules import conditions as C
    from pgrewrite.rules import symbols
    from pgrewrite.rules.pattern import Matcher
    from pgrewrite.sites import find_sites
    from pgrewrite.lex import Lexer
    cond = C.compile_cond({"has": {"any": items}}, ("m",), "node",
                          C.Compiling(("PAGE_SIZE",), "c", lambda text, path: re.compile(text)))
    assert isinstance(cond, C.Has) and cond._split
    root = parsing.parse(ANY_ORDER)
    fn = next(c for c in root.children if c.type == "function_definition")
    site = find_sites("f.c", ANY_ORDER, Lexer(["PAGE_SIZE"]), always_parse=True)
    got = []
    for split in (True, False):
        cond.__dict__["_split"] = split
        env = C.Env("f.c", ANY_ORDER, site.sites[0] if site.sites else None, Matcher({"PAGE_SIZE": ["PAGE_SIZE"]}),
                    symbols.SymbolCache(), memo={})
        r = cond.node(env, fn, {})
        got.append(None if r is None else (r["$A"].text.decode() if "$A" in r else "y"))
    assert got[0] == got[1] == want


def test_has_any_item_by_item_changes_no_result(monkeypatch):
    """Every C file of sample-tree/ and fixtures/ gives the same result with
    `has: {any: ...}` item by item as with the one walk."""
    from pgrewrite import api
    from pgrewrite.rules import conditions as C
    engine = api.Engine(api.load_rules(RULES))
    split = {"n": 0}
    real = C.Has._first_of_any

    def counting(self, *a):
        split["n"] += 1
        return real(self, *a)
    monkeypatch.setattr(C.Has, "_first_of_any", counting)
    files = _same_result_without(engine, monkeypatch, lambda m: m.setattr(C.Has, "_split", property(lambda cond: False)))
    assert files > 50 and split["n"] > 50


def _fixture_sources() -> list[bytes]:
    return [p.read_bytes() for top in (SAMPLE, SAMPLE.parent / "fixtures")
            for p in sorted(top.rglob("*.[ch]")) if p.is_file() and "snapshots" not in p.parts]


def test_struct_tags_are_where_the_regex_matches():
    """filescope._struct_tags (bytes.find from the name) finds what
    `\\bstruct\\s+NAME\\b` finds, on random texts made of the pieces that
    decide a match and on every source of sample-tree/ and fixtures/."""
    from pgrewrite.filescope import _struct_tags
    rng = random.Random(11)
    pieces = [b"struct", b"s", b"foo", b"foo_", b"xfoo", b"1", b" ", b"\t", b"\n", b"\x0b", b"*", b"(", b"$", b"_"]
    for _ in range(3000):
        data = b"".join(rng.choice(pieces) for _ in range(rng.randrange(12)))
        want = [m.start() for m in re.finditer(rb"\bstruct\s+foo\b", data)]
        assert _struct_tags(data, b"foo") == want, data
    hits = 0
    for data in _fixture_sources():
        for name in set(re.findall(rb"\bstruct\s+(\w+)", data)):
            want = [m.start() for m in re.finditer(rb"\bstruct\s+" + re.escape(name) + rb"\b", data)]
            assert _struct_tags(data, name) == want, name
            hits += len(want)
    assert hits > 100


def _whole_ok_by_walk(fn, names, struct, scope, at, monkeypatch):
    """filescope._whole_ok as it was: a walk of every named node, for the
    query's answer to be checked against."""
    from pgrewrite import filescope
    monkeypatch.setattr(filescope, "nodes_of_kinds", lambda n, kinds: _walked_kinds(n, kinds))
    try:
        return filescope._whole_ok(fn, names, struct, scope, at)
    finally:
        monkeypatch.undo()


def _walked_kinds(node, kinds) -> dict:
    out, stack = {}, [node]
    while stack:
        n = stack.pop()
        if n.type in kinds:
            out.setdefault(n.type, []).append(n)
        stack.extend(n.named_children)
    return out


WHOLE = b"""
struct s { int a; int b; };
static struct s g;
void ok(struct s *p) { p->a = 1; memset(p, 0, sizeof(*p)); }
void raw(struct s *p, void *u) { copy_from_user(p, u, 8); }
void size(struct s *p) { f(p, sizeof(struct s)); }
void addr(void) { struct s x; h(&x); }
void list(void) { struct s x = {1, 2}; use(x); }
void zeros(void) { struct s x = {0}; use(x); }
"""


def test_whole_ok_by_query_is_the_walk(monkeypatch):
    """_whole_ok looks at the calls, `&` and initializer lists the query
    engine lists: any one refuses, so its answer is the walk's, for every
    function and struct of WHOLE, sample-tree/ and fixtures/ (and WHOLE
    has each way to refuse)."""
    from pgrewrite import filescope, parsing
    from pgrewrite.inference import _Function
    from pgrewrite.rules.units import UnitTable
    compared, refused = 0, set()
    for data in [WHOLE] + _fixture_sources():
        root = parsing.parse(data)
        scope = filescope.FileScope.__new__(filescope.FileScope)
        scope.s = type("S", (), {"_defs": {}})()
        structs = {m.decode() for m in re.findall(rb"\bstruct\s+(\w+)", data)}
        fns = [c for c in root.children if c.type == "function_definition"]
        for fn in fns:
            at = _Function(fn, UnitTable())
            for struct in structs:
                names = {n: "*" in t for n, t in at.types.items() if filescope._struct_of(t) == struct}
                got = filescope._whole_ok(fn, names, struct, scope, at)
                assert got == _whole_ok_by_walk(fn, names, struct, scope, at, monkeypatch)
                compared += 1
                if data is WHOLE and not got:
                    refused.add(fn.start_byte)
    assert compared > 200 and len(refused) == 4


def test_holes_by_bisection_answer_as_the_scan():
    """sites._Holes (bisection in the union of the spans) says what the
    scan of every hole said, on random nested, touching and empty spans."""
    from pgrewrite.sites import _Holes
    rng = random.Random(5)
    for _ in range(2000):
        holes = []
        for _ in range(rng.randrange(8)):
            s = rng.randrange(40)
            holes.append((s, s + rng.randrange(10), None))
        holes.sort(key=lambda h: (h[0], h[1]))
        inside = _Holes(holes)
        for p in range(-1, 52):
            assert (p in inside) == any(s <= p < e for s, e, _ in holes), (holes, p)


def test_remembered_source_and_sinks_answers_change_no_result(monkeypatch):
    """Inference keeps source()/sinks() answers computed while no Once
    guard is open: every fixture and sample-tree file gets the same
    decisions, reasons (derivations) included, as without keeping any."""
    from pgrewrite import once
    from pgrewrite.api import load_rules
    from pgrewrite.engine import Engine
    ruleset = load_rules(RULES)
    paths = [p for top in (SAMPLE, SAMPLE.parent / "fixtures") for p in sorted(top.rglob("*.[ch]"))
             if p.is_file() and "snapshots" not in p.parts]
    kept = [Engine(ruleset).analyse(str(p), p.read_bytes()) for p in paths]
    monkeypatch.setattr(once, "nothing_open", lambda: False)
    fresh = [Engine(ruleset).analyse(str(p), p.read_bytes()) for p in paths]
    assert kept == fresh
    assert sum(len(r.decisions) for r in kept) > 500


def test_no_answer_is_kept_while_a_guard_is_open():
    """once.nothing_open is False exactly while some Once computes."""
    from pgrewrite import once
    seen = []
    o = once.Once()
    assert once.nothing_open()
    o.get("q", lambda: seen.append(once.nothing_open()) or o.get("q", lambda: 1))
    assert seen == [False] and once.nothing_open()


def test_a_rules_where_screens_its_region_and_changes_no_result(monkeypatch):
    """A rule's region screen (classify.rule_needs) holds what a `where`
    needs of a metavariable one pattern binds: every file of sample-tree/
    and fixtures/ gives the same result as with the screens of the pattern
    words alone, and shipped rules have a screen only through this."""
    from pgrewrite import api, classify
    ruleset = api.load_rules(RULES)
    gained = [r.id for r in ruleset.rules if classify.rule_needs(r) != classify.region_needs(r.match, frozenset())]
    assert {"pte-pfn-shift", "pg-page-buffer", "pte-address-arith"} <= set(gained)
    screened = api.Engine(ruleset)
    with monkeypatch.context() as m:     # the classifier makes its screens when it is made
        m.setattr(classify, "rule_needs", lambda r: classify.region_needs(r.match, frozenset()))
        words = api.Engine(ruleset)
    assert screened.classifier._needs != words.classifier._needs
    paths = _sample_and_fixture_files()
    for p in paths:
        data = p.read_bytes()
        a, b = screened.analyse(str(p), data), words.analyse(str(p), data)
        assert a.decisions == b.decisions and a.edits == b.edits and a.notes == b.notes, p
    assert len(paths) > 50


@pytest.mark.parametrize("rule, screened", [
    # one pattern binds $P: what its where needs is in the region
    ({"pattern": "$P << PAGE_SHIFT", "where": {"$P": {"regex": "pfn"}}}, True),
    # alternatives never meet: each binds $P first
    ({"any": [{"pattern": "$P << PAGE_SHIFT"}, {"pattern": "PAGE_SHIFT + $P"}], "where": {"$P": {"regex": "pfn"}}},
     True),
    # an earlier pattern may bind $P elsewhere: the later one only compares
    ({"all": [{"inside": {"pattern": "f($P)"}}, {"pattern": "$P << PAGE_SHIFT"}], "where": {"$P": {"regex": "pfn"}}},
     False),
])
def test_a_where_screens_only_a_metavariable_bound_once(tmp_path, rule, screened):
    import yaml

    from pgrewrite.classify import region_needs, rule_needs
    from pgrewrite.rules.loader import load_ruleset

    from .test_rule_language import rules_dir
    where = rule.pop("where")
    doc = {"meaning": "pte", "reason": "a test rule", "match": rule, "where": where,
           "examples": {"match": ["x = pfn << PAGE_SHIFT;"], "no-match": ["x = PAGE_SIZE;"]}}
    r = load_ruleset(rules_dir(tmp_path, {"pte/t.yaml": yaml.safe_dump(doc)})).rules[0]
    assert (rule_needs(r) != region_needs(r.match, frozenset())) is screened


def test_a_files_analysis_leaves_no_reference_cycle():
    # the workers run without the cyclic collector (runner.py: one pass
    # every few dozen files): once classify closes a file's inference,
    # reference counting must free its whole analysis
    import gc

    from pgrewrite.engine import Engine, analyse_data
    from pgrewrite.rules.loader import load_ruleset

    engine = Engine(load_ruleset(RULES))
    sources = sorted(p for p in SAMPLE.rglob("*") if p.suffix in (".c", ".h"))
    assert len(sources) > 5
    gc.collect()
    was = gc.isenabled()
    gc.disable()
    gc.set_debug(gc.DEBUG_SAVEALL)
    try:
        for p in sources:
            analyse_data(engine, str(p.relative_to(SAMPLE)), p.read_bytes(), {}, None)
        gc.collect()
        ours = sorted({type(o).__module__ + "." + type(o).__name__ for o in gc.garbage
                       if type(o).__module__.startswith("pgrewrite")})
    finally:
        gc.set_debug(0)
        gc.garbage.clear()
        if was:
            gc.enable()
    assert ours == []
