"""The decisions file: loading, validating, applying to results, editing it."""
from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import pytest
from click.testing import CliRunner

from pgrewrite.cli import cli
from pgrewrite.commands.decide import decide_command
from pgrewrite.model import Context, Decision, Edit, FileResult, RuleMatch, Site, Verdict
from pgrewrite.report.decisions import (DecisionsError, apply_decisions, context_fingerprint,
                                        decide, find_decisions_file, load_decisions)

DATA = Path(__file__).parent / "data" / "report"
WALK = "mm/memory.c:fill_pages:PAGE_SIZE:f727b9ab"
ODD = "mm/memory.c:odd:PAGE_MASK:6ac2bad5"
ZAP = "mm/memory.c:zap_pte_range:PAGE_SIZE:fd300a07"


def _decision(site_id, token, start, verdict, rule=None, matches=(), context=Context.CODE,
              function=None):
    site = Site("mm/memory.c", start, start + len(token), 1 + start // 40, 5, token,
                context=context, function=function or site_id.split(":")[1], site_id=site_id)
    repl = {"PAGE_SIZE": ("PTE_SIZE", "PG_SIZE")}.get(token, ("PTE_MASK", "PG_MASK"))
    replacement = repl[0] if verdict is Verdict.PTE else repl[1] if verdict is Verdict.PG else None
    return Decision(site, verdict, replacement, rule, "engine reason", tuple(matches))


@pytest.fixture
def result():
    walk = _decision(WALK, "PAGE_SIZE", 100, Verdict.LOGIC, "page-array-walk",
                     [RuleMatch("page-array-walk", "logic", 80, "strong", "page array"),
                      RuleMatch("pte-walker-step", "pte", 50, "weak", "addr step")])
    odd = _decision(ODD, "PAGE_MASK", 300, Verdict.UNKNOWN)
    zap = _decision(ZAP, "PAGE_SIZE", 40, Verdict.PTE, "pte-walker-step",
                    [RuleMatch("pte-walker-step", "pte", 50, "strong", "addr step")])
    return FileResult("mm/memory.c", (zap, walk, odd),
                      edits=(Edit(40, 49, "PAGE_SIZE", "PTE_SIZE", "pte-walker-step", "family", "pte"),),
                      lexical_count=3)


def _write(tmp_path, text):
    p = tmp_path / "pgrewrite-decisions.yaml"
    p.write_text(text)
    return p


def test_decision_turns_flagged_site_into_rename(tmp_path, result):
    f = load_decisions(_write(tmp_path, f"{ODD}:\n  verdict: pte\n  comment: user mask before a fault\n"))
    (new,), problems = apply_decisions(f, [result])
    assert problems == ()
    odd = next(d for d in new.decisions if d.site.site_id == ODD)
    assert (odd.verdict, odd.replacement, odd.rule) == (Verdict.PTE, "PTE_MASK", "person")
    assert odd.reason == "decided by a person: user mask before a fault"
    assert Edit(300, 309, "PAGE_MASK", "PTE_MASK", "person", "family", "pte") in new.edits
    assert len(new.edits) == 2 and list(new.edits) == sorted(new.edits)
    # the others are untouched
    assert new.decisions[0] == result.decisions[0] and new.decisions[1] == result.decisions[1]


def test_person_overrides_engine_rename_and_its_edit(result):
    (new,), problems = apply_decisions({ZAP: "pg"}, [result])
    zap = new.decisions[0]
    assert (zap.verdict, zap.replacement, zap.reason) == (Verdict.PG, "PG_SIZE", "decided by a person")
    assert new.edits == (Edit(40, 49, "PAGE_SIZE", "PG_SIZE", "person", "family", "pg"),)


def test_logic_decision_removes_the_edit_and_keeps_evidence(result):
    (new,), _ = apply_decisions({ZAP: {"verdict": "logic", "comment": "walks a page array"}}, [result])
    zap = new.decisions[0]
    assert (zap.verdict, zap.replacement, zap.rule) == (Verdict.LOGIC, None, "person")
    assert zap.matches == result.decisions[0].matches
    assert new.edits == ()


def test_vanished_decision_is_reported(tmp_path, result):
    f = load_decisions(_write(tmp_path, "# header\n"
                              f"{WALK}: pte\n"
                              "mm/memory.c:gone:PAGE_SIZE:deadbeef: pg   # was here\n"
                              "arch/x86/mm/cpa.c:other:PAGE_SIZE:12345678: pte\n"))
    _, problems = apply_decisions(f, [result])
    assert [(p.kind, p.site_id, p.line) for p in problems] == [
        ("vanished", "mm/memory.c:gone:PAGE_SIZE:deadbeef", 3)]
    # decisions for files this run did not read are not "vanished"
    assert str(problems[0]) == (f"{tmp_path / 'pgrewrite-decisions.yaml'}:3: vanished: "
                                "mm/memory.c:gone:PAGE_SIZE:deadbeef: no site with this id exists "
                                "any more; the statement or its function changed, or the site was removed")


def test_context_fingerprint_change_is_reported_but_applied(result):
    walk = result.decisions[1]
    fp = context_fingerprint(walk)
    assert fp.startswith("e1:") and len(fp) == 11
    (same,), problems = apply_decisions({WALK: {"verdict": "pte", "context": fp}}, [result])
    assert problems == ()
    changed = replace(result, decisions=(result.decisions[0],
                                         replace(walk, matches=walk.matches[:1]),
                                         result.decisions[2]))
    (new,), problems = apply_decisions({WALK: {"verdict": "pte", "context": fp}}, [changed])
    assert [p.kind for p in problems] == ["context-changed"]
    assert new.decisions[1].verdict is Verdict.PTE
    # the site's place, as the output prints paths (from the tree root when
    # run from outside it: issue 19, point 13)
    path, line = walk.site.path, walk.site.line
    assert str(problems[0]).endswith(f"look at the site again ({path}:{line})")
    assert problems[0].shown(lambda p: "ROOT/" + p).endswith(f"look at the site again (ROOT/{path}:{line})")


def test_fingerprint_same_from_model_and_from_json_site(result):
    walk = result.decisions[1]
    as_json = {"context": "code", "function": walk.site.function,
               "matches": [{"rule": m.rule, "meaning": m.meaning, "priority": m.priority,
                            "strength": m.strength, "reason": m.reason}
                           for m in reversed(walk.matches)]}
    assert context_fingerprint(as_json) == context_fingerprint(walk)
    # line, column and reason texts do not enter the fingerprint
    moved = replace(walk, site=replace(walk.site, line=99, start=999), reason="other words")
    assert context_fingerprint(moved) == context_fingerprint(walk)


def test_rename_of_a_definition_is_refused(result):
    define = _decision("mm/memory.c:PAGE_SIZE:PAGE_SIZE:0badf00d", "PAGE_SIZE", 500,
                       Verdict.SKIPPED, context=Context.DEFINITION)
    r = replace(result, decisions=result.decisions + (define,))
    (new,), problems = apply_decisions({define.site.site_id: "pte"}, [r])
    assert [p.kind for p in problems] == ["not-renameable"]
    assert new.decisions[-1] == define


def test_invalid_entries_are_problems_with_lines(tmp_path):
    f = load_decisions(_write(tmp_path, "a.c:f:PAGE_SIZE:1: pte\n"
                                        "a.c:f:PAGE_SIZE:2: maybe\n"
                                        "a.c:f:PAGE_SIZE:3:\n  verdict: pg\n  colour: red\n"))
    assert list(f.entries) == ["a.c:f:PAGE_SIZE:1"]
    assert [(p.kind, p.line) for p in f.problems] == [("invalid", 2), ("invalid", 3)]
    assert "maybe" in f.problems[0].message and "colour" in f.problems[1].message


@pytest.mark.parametrize("text", ["- a\n- b\n", "a: pte\na: pg\n", "a: [\n"])
def test_unreadable_files_raise(tmp_path, text):
    with pytest.raises(DecisionsError):
        load_decisions(_write(tmp_path, text))


def test_missing_file_means_no_decisions(tmp_path):
    f = load_decisions(tmp_path / "none.yaml")
    assert f.entries == {} and f.problems == ()


KEPT = """\
# Decisions for the mm series.
# Reviewed with Alice.

# --- page arrays ---
mm/memory.c:fill_pages:PAGE_SIZE:f727b9ab: logic   # needs nth_page rework
mm/gup.c:follow:PAGE_SHIFT:77ab01cd:
  verdict: pg    # folio index
  comment: "index: page cache"
# --- the end ---
"""


def test_decide_keeps_comments_and_order(tmp_path):
    p = _write(tmp_path, KEPT)
    decide(ODD, "pte", "user mask", path=p)
    decide("mm/gup.c:follow:PAGE_SHIFT:77ab01cd", "logic", context="e1:0000abcd", path=p)
    decide(WALK, "pg", path=p)
    text = p.read_text()
    assert text.startswith("# Decisions for the mm series.\n# Reviewed with Alice.\n\n# --- page arrays ---\n")
    # the end-of-line comment stays, in its column
    assert f"{WALK}: pg      # needs nth_page rework\n" in text
    assert ("mm/gup.c:follow:PAGE_SHIFT:77ab01cd:\n  verdict: logic # folio index\n"
            "  comment: \"index: page cache\"\n  context: e1:0000abcd\n# --- the end ---\n") in text
    assert text.endswith(f"# --- the end ---\n{ODD}:\n  verdict: pte\n  comment: user mask\n")
    entries = load_decisions(p).entries
    assert [e.verdict.value for e in entries.values()] == ["pg", "logic", "pte"]
    assert entries["mm/gup.c:follow:PAGE_SHIFT:77ab01cd"].comment == "index: page cache"


def test_decide_new_file_has_a_header(tmp_path):
    p = tmp_path / "d.yaml"
    decide(ZAP, "pte", path=p)
    decide(WALK, "logic", "why: because", path=p)
    text = p.read_text()
    assert text.startswith("# pgrewrite-decisions.yaml:")
    assert load_decisions(p).entries[WALK].comment == "why: because"


def test_decide_rejects_bad_input(tmp_path):
    with pytest.raises(ValueError):
        decide(ZAP, "maybe", path=tmp_path / "d.yaml")
    with pytest.raises(ValueError):
        decide(" ", "pte", path=tmp_path / "d.yaml")
    assert not (tmp_path / "d.yaml").exists()


def test_find_decisions_file_is_the_tree_roots(tmp_path):
    assert find_decisions_file(tmp_path) == (tmp_path / "pgrewrite-decisions.yaml").resolve()


def test_a_decisions_file_above_the_tree_root_is_not_used(tmp_path, monkeypatch):
    """Finding 6 of issue 15: /tmp/pgrewrite-decisions.yaml changed verdicts
    in a tree under /tmp. Only the root's file (or --decisions) applies."""
    tree = tmp_path / "linux"
    (tree / "arch" / "x86").mkdir(parents=True)
    (tree / "include" / "linux").mkdir(parents=True)
    (tree / "mm").mkdir()
    (tree / "mm" / "a.c").write_text("int f(void)\n{\n\treturn PAGE_SIZE;\n}\n")
    monkeypatch.chdir(tree)
    r = CliRunner().invoke(cli, ["scan", "mm", "--no-cache", "--format", "json"])
    site_id = json.loads(r.output)["sites"][0]["site_id"]
    _write(tmp_path, f"{site_id}: pg\n")          # above the root: ignored
    r = CliRunner().invoke(cli, ["scan", "mm", "--no-cache", "--format", "json"])
    assert json.loads(r.output)["sites"][0]["verdict"] == "unknown"
    r = CliRunner().invoke(cli, ["scan", "mm", "--no-cache", "--format", "json",
                                 "--decisions", str(tmp_path / "pgrewrite-decisions.yaml")])
    assert json.loads(r.output)["sites"][0]["verdict"] == "pg"
    _write(tree, f"{site_id}: pte\n")             # at the root: used, also from a subdirectory
    monkeypatch.chdir(tree / "mm")
    r = CliRunner().invoke(cli, ["scan", ".", "--no-cache", "--format", "json"])
    assert json.loads(r.output)["sites"][0]["verdict"] == "pte"


def test_decisions_file_with_aliases_is_refused(tmp_path):
    p = _write(tmp_path, "a: &x pg\nb: *x\n")
    with pytest.raises(DecisionsError, match="anchors and aliases"):
        load_decisions(p)


@pytest.mark.parametrize("kind", ["directory", "not-utf8"])
def test_unreadable_decisions_file_is_a_clear_error(tmp_path, kind):
    p = tmp_path / "pgrewrite-decisions.yaml"
    if kind == "directory":
        p.mkdir()
    else:
        p.write_bytes(b"a: \xff\xfe\n")
    with pytest.raises(DecisionsError, match="is a directory|not UTF-8"):
        load_decisions(p)


def test_decide_writes_atomically_and_keeps_the_mode(tmp_path, monkeypatch):
    p = _write(tmp_path, "# people's decisions\nold:c:PAGE_SIZE:1: pte\n")
    p.chmod(0o640)
    import os

    def full_disk(*a, **k):
        raise OSError(28, "No space left on device")
    monkeypatch.setattr(os, "fsync", full_disk)
    with pytest.raises(OSError):
        decide("new:c:PAGE_SIZE:2", "pg", path=p)
    assert p.read_text() == "# people's decisions\nold:c:PAGE_SIZE:1: pte\n"
    assert sorted(x.name for x in tmp_path.iterdir()) == ["pgrewrite-decisions.yaml"]
    monkeypatch.undo()
    decide("new:c:PAGE_SIZE:2", "pg", path=p)
    assert "new:c:PAGE_SIZE:2: pg" in p.read_text() and (p.stat().st_mode & 0o777) == 0o640


def _decide_at_once(tmp_path, loop: str) -> Path:
    """Eight processes each running `loop` (deciding site ids from `i`, the
    process number) on one decisions file, all at once."""
    import subprocess
    import sys
    p = _write(tmp_path, "")
    code = f"import sys; from pgrewrite.report.decisions import decide\ni = sys.argv[1]\n{loop}"
    procs = [subprocess.Popen([sys.executable, "-c", code, str(i), str(p)]) for i in range(8)]
    assert [q.wait() for q in procs] == [0] * 8
    return p


def test_concurrent_decides_keep_every_entry(tmp_path):
    p = _decide_at_once(tmp_path, "decide(f'f.c:fn:PAGE_SIZE:{i}', 'pg', path=sys.argv[2])")
    assert len(load_decisions(p).entries) == 8
    assert sorted(x.name for x in tmp_path.iterdir()) == ["pgrewrite-decisions.yaml"]   # no lock file left


def test_the_lock_file_is_removed_yet_excludes_under_contention(tmp_path):
    """Each holder unlinks the lock file while others wait on it: those
    must notice and lock the new one, or two writers would lose entries.
    Eight processes deciding ten sites each."""
    p = _decide_at_once(tmp_path, "for k in range(10): decide(f'f.c:fn:PAGE_SIZE:{i}-{k}', 'pg', path=sys.argv[2])")
    assert len(load_decisions(p).entries) == 80
    assert sorted(x.name for x in tmp_path.iterdir()) == ["pgrewrite-decisions.yaml"]


def test_a_lock_file_left_by_a_killed_decide_is_used_and_removed(tmp_path):
    p = _write(tmp_path, "")
    (tmp_path / ".pgrewrite-decisions.yaml.lock").write_text("")
    decide("f.c:fn:PAGE_SIZE:1", "pte", path=p)
    assert sorted(x.name for x in tmp_path.iterdir()) == ["pgrewrite-decisions.yaml"]


def test_decide_command(tmp_path, monkeypatch):
    doc = json.loads((DATA / "scan.json").read_text())
    scan = tmp_path / "scan.json"
    scan.write_text(json.dumps(doc))
    runner = CliRunner()
    monkeypatch.chdir(tmp_path)
    res = runner.invoke(decide_command, [ODD, "PTE", "-m", "mask of a user address", "--scan", str(scan)])
    assert res.exit_code == 0, res.output
    entry = load_decisions("pgrewrite-decisions.yaml").entries[ODD]
    site = next(s for s in doc["sites"] if s["site_id"] == ODD)
    assert (entry.verdict, entry.comment, entry.context) == (
        Verdict.PTE, "mask of a user address", context_fingerprint(site))
    res = runner.invoke(decide_command, ["mm/memory.c:nope:PAGE_SIZE:0", "pg", "--scan", str(scan)])
    assert res.exit_code != 0 and "no site with id" in res.output
    res = runner.invoke(decide_command, [ODD, "pgg"])
    assert res.exit_code == 2
    res = runner.invoke(decide_command, [WALK, "logic", "--file", "other.yaml", "--scan", str(scan)])
    assert res.exit_code == 0 and load_decisions("other.yaml").entries[WALK].verdict is Verdict.LOGIC
