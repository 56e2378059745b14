"""Rules skipped at a site because the text around it lacks what their match
needs (classify.region_needs): the same verdicts as trying every rule."""
from __future__ import annotations

import re
from pathlib import Path

from pgrewrite import api, classify
from pgrewrite.rules import conditions as C
from pgrewrite.rules import literals
from pgrewrite.rules.pattern import compile_pattern

ROOT = Path(__file__).resolve().parent.parent
RULES = ROOT / "semantic-rules"


def c_files():
    return [p for top in (ROOT / "sample-tree", ROOT / "fixtures") for p in sorted(top.rglob("*.[ch]"))
            if p.is_file() and "snapshots" not in p.parts]


def test_skipping_rules_by_the_text_they_need_changes_no_result(monkeypatch):
    engine = api.Engine(api.load_rules(RULES))
    tried = {"with": 0, "without": 0}
    real = classify.Classifier.evaluate
    key = "with"

    def counting(self, rule, env):
        tried[key] += 1
        return real(self, rule, env)
    monkeypatch.setattr(classify.Classifier, "evaluate", counting)
    needs = engine.classifier._needs
    paths = c_files()
    for p in paths:
        data = p.read_bytes()
        key = "with"
        engine.classifier._needs = needs
        pruned = engine.analyse(str(p), data)
        key = "without"
        engine.classifier._needs = {rule: () for rule in needs}
        every = engine.analyse(str(p), data)
        assert pruned.decisions == every.decisions and pruned.edits == every.edits, p
        assert pruned.notes == every.notes, p
    assert len(paths) > 50
    # and it does skip rules: a fifth of the evaluations at least
    assert tried["with"] < 0.8 * tried["without"], tried


def test_region_needs_of_the_condition_shapes():
    family = api.load_rules(RULES).family.names
    memset = C.PatternCond(compile_pattern("memset($P, $V, PAGE_SIZE)", family))
    vmap = C.Inside(C.Has(C.Call(re.compile("vmap|vm_map_ram"))), frozenset({"function_definition"}))
    gup = C.InsideCall(re.compile(r"get_user_pages\w*"), frozenset({2}))
    # a site pattern needs its plain words (not metavariables, not family names)
    assert classify.region_needs(memset) == ({"memset"},)
    # `inside` needs what its condition needs of the ancestor, `inside-call` the callee
    assert classify.region_needs(vmap) == ({"vmap", "vm_map_ram"},)
    assert classify.region_needs(gup) == ({"get_user_pages"},)
    assert set(classify.region_needs(C.All([memset, vmap]))) == {frozenset({"memset"}), frozenset({"vmap", "vm_map_ram"})}
    assert classify.region_needs(C.Any([memset, gup])) == ({"memset", "get_user_pages"},)
    # an item that needs nothing (or reads outside the text: a function name) makes `any` need nothing
    assert classify.region_needs(C.Any([memset, C.Function(re.compile("f"))])) == ()
    assert classify.region_needs(C.Not(memset)) == ()
    # strings that may stand for undecodable bytes need nothing
    assert literals.as_bytes(literals.clauses([literals.Clause.of({"a\ufffd"})])) == ()
    assert literals.as_bytes(classify.region_needs(memset)) == ((False, (b"memset",)),)
