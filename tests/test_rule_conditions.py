"""The condition table (rules/conditions.CONDITIONS) is the one list of
condition keys: where each may be used, and the rules' JSON schema, follow
from it."""
from __future__ import annotations

import json
import re

from pgrewrite.rules import conditions as C
from pgrewrite.rules.loader import DEFAULT_RULES


def test_a_key_is_allowed_where_its_class_evaluates():
    assert C.SITE_KEYS == {"all", "any", "not", "pattern", "where", "inside", "inside-call", "function", "line",
                           "context", "token", "syscall"}
    assert C.NODE_KEYS == {"all", "any", "not", "pattern", "where", "inside", "inside-call", "has", "kind", "call",
                           "text", "regex", "function", "type", "assigned-from", "syscall", "unit"}
    assert C.ASM_KEYS == {"all", "any", "not", "line", "function", "token"}


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
    names = ("PAGE_SIZE", "PAGE_SHIFT")
    compiling = C.Compiling(names, "c", lambda text, path: re.compile(text))
    cond = C.compile_cond({"any": [{"call": "kmalloc"}, {"all": [{"kind": "call"}, {"text": "vmalloc"}]}]},
                          ("match",), "node", compiling)
    assert isinstance(cond, C.Any) and len(cond.children) == 2
    assert cond.kind_filter == {"call_expression", "parenthesized_expression", "cast_expression"}
    assert cond.needs == ((False, (b"kmalloc", b"vmalloc")),)
    assert cond.reads == frozenset()
    inside = C.compile_cond({"inside": {"kind": "function", "has": {"call": "x"}}, "function": "f"},
                            ("match",), "site", compiling)
    assert isinstance(inside, C.All)
    assert inside.reads == {"scope", "function"} and inside.reads_code
    assert not C.compile_cond({"token": ["PAGE_SIZE"], "function": "f"}, ("match",), "site", compiling).reads_code
