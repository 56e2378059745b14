"""The condition table (rules/conditions.CONDITIONS) is the one list of
condition keys: where each may be used, and the rules' JSON schema, follow
from it."""
from __future__ import annotations

import json
import re
from dataclasses import replace

import pytest

from pgrewrite.rules import conditions as C
from pgrewrite.rules.loader import DEFAULT_RULES


COMPILING = C.Compiling(("PAGE_SIZE", "PAGE_SHIFT"), "c", lambda text, path: re.compile(text))


@pytest.mark.parametrize("obj, mode, language, message", [
    ({"line": "x"}, "node", "c", "'line' cannot be used at a node"),
    ({"has": {"call": "f"}}, "site", "c", "'has' cannot be used at a site (the rule's match)"),
    ({"pattern": "PAGE_SIZE"}, "site", "asm", "'pattern' cannot be used in an asm rule (only line, function, "
                                              "token, all/any/not)"),
])
def test_a_key_is_refused_where_its_class_does_not_evaluate(obj, mode, language, message):
    with pytest.raises(C.CompileError) as e:
        C.compile_cond(obj, ("match",), mode, replace(COMPILING, language=language))
    assert e.value.message == message and e.value.path == ("match", next(iter(obj)))


def test_the_keys_of_each_place_are_those_whose_class_evaluates_there():
    assert {"line", "context", "token"} <= C.SITE_KEYS - C.NODE_KEYS
    assert {"has", "kind", "call", "text", "regex", "type", "unit", "assigned-from"} <= C.NODE_KEYS - C.SITE_KEYS
    assert {"all", "any", "not", "line", "function", "token"} <= C.ASM_KEYS
    assert not {"pattern", "inside", "context"} & C.ASM_KEYS


def test_a_mapping_compiles_its_pattern_first_and_its_where_last():
    """The pattern's bindings are there for the other keys, whatever their
    order in the file; a `where` beside an `all` checks after it."""
    cond = C.compile_cond({"call": "f", "pattern": "$X"}, ("m",), "node", COMPILING)
    assert [type(c) for c in cond.items] == [C.PatternCond, C.Call]
    cond = C.compile_cond({"where": {"$X": {"call": "f"}}, "all": [{"pattern": "$X"}], "kind": "call"},
                          ("m",), "node", COMPILING)
    assert [type(c) for c in cond.items] == [C.All, C.Kind, C.Where]


def test_the_schema_lists_exactly_the_conditions_of_the_table():
    """A condition added to the table and not to schema.json (or the
    reverse) fails here: `condition` holds every key, `inside` the keys
    evaluated at a node besides its own `kind` and `nearest`."""
    defs = json.loads((DEFAULT_RULES / "schema.json").read_text())["$defs"]
    assert set(defs["condition"]["properties"]) == set(C.CONDITIONS)
    assert set(defs["inside"]["properties"]) - {"kind", "nearest"} == C.NODE_KEYS - {"kind"}


def test_a_condition_answers_for_its_children():
    """What a `has` asks of its condition before walking: the literals any
    match needs, the node types it can hold at, and what it reads besides
    the node, all from the children up."""
    cond = C.compile_cond({"any": [{"call": "kmalloc"}, {"all": [{"kind": "call"}, {"text": "vmalloc"}]}]},
                          ("match",), "node", COMPILING)
    assert isinstance(cond, C.Any) and len(cond.children) == 2
    assert cond.kind_filter == {"call_expression", "parenthesized_expression", "cast_expression"}
    # one clause: either name, both behind the screen they share
    assert cond.needs == ((False, ((b"malloc", (b"kmalloc", b"vmalloc")),)),)
    assert cond.reads == frozenset()
    inside = C.compile_cond({"inside": {"kind": "function", "has": {"call": "x"}}, "function": "f"},
                            ("match",), "site", COMPILING)
    assert isinstance(inside, C.All)
    assert inside.reads == {"scope", "function"} and inside.reads_code
    assert not C.compile_cond({"token": ["PAGE_SIZE"], "function": "f"}, ("match",), "site", COMPILING).reads_code
