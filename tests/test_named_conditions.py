"""Named conditions (semantic-rules/conditions.yaml, `use: NAME`): one
condition several rules share. A rule that uses one matches exactly where
it would with the condition written out; a wrong name, a condition that
uses itself, one used where it cannot be evaluated, and a bad entry are
load errors with file and line; the rule set's digest (and so the result
cache) follows the file."""
from __future__ import annotations

import pytest

from pgrewrite import api
from pgrewrite.model import Verdict
from pgrewrite.rules.loader import load_ruleset

from .test_rule_language import problems, rules_dir

MAPS = """\
maps-pages:
  note: the function maps pages
  condition:
    inside: {kind: function, has: {call: 'kmap_local_page|page_address'}}
user-signs:
  note: the function sees user memory
  condition:
    any:
      - call: 'copy_(to|from)_user'
      - {kind: parameter_declaration, regex: '__user'}
"""

RULE = """\
meaning: pg
reason: a size in a function that maps pages and sees no user memory
match:
  all:
    - use: maps-pages
    - not: {inside: {kind: function, has: {use: user-signs}}}
examples:
  match: ["void f(struct page *p) { void *a = kmap_local_page(p); n = PAGE_SIZE; }"]
  no-match: ["void f(struct page *p, char __user *u) { void *a = kmap_local_page(p); n = PAGE_SIZE; }"]
"""

WRITTEN_OUT = """\
meaning: pg
reason: a size in a function that maps pages and sees no user memory
match:
  all:
    - inside: {kind: function, has: {call: 'kmap_local_page|page_address'}}
    - not: {inside: {kind: function, has: {any: [{call: 'copy_(to|from)_user'}, {kind: parameter_declaration, regex: '__user'}]}}}
examples:
  match: ["void f(struct page *p) { void *a = kmap_local_page(p); n = PAGE_SIZE; }"]
  no-match: ["void f(void) { n = PAGE_SIZE; }"]
"""

CODE = b"""\
void a(struct page *p, int n)
{
\tvoid *v = kmap_local_page(p);
\tn = PAGE_SIZE;
}
void b(struct page *p, char __user *u, int n)
{
\tvoid *v = page_address(p);
\tn = PAGE_SIZE;
}
void c(struct page *p, int n)
{
\tvoid *v = kmap_local_page(p);
\tcopy_to_user(u, v, PAGE_SIZE);
}
void d(int n)
{
\tn = PAGE_SIZE;
}
"""


def verdicts(rs) -> list[tuple[int, Verdict]]:
    return [(d.site.line, d.verdict) for d in api.scan_bytes("fs/x.c", CODE, rs).decisions]


def test_a_named_condition_matches_as_if_written_out(tmp_path):
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    named = load_ruleset(rules_dir(tmp_path / "a", {"conditions.yaml": MAPS, "pg/ctx.yaml": RULE}))
    written = load_ruleset(rules_dir(tmp_path / "b", {"pg/ctx.yaml": WRITTEN_OUT}))
    assert [r.id for r in named.rules] == ["ctx"]          # conditions.yaml is not a rule
    got = verdicts(named)
    assert got == verdicts(written)
    assert got == [(4, Verdict.PG), (9, Verdict.UNKNOWN), (14, Verdict.UNKNOWN), (18, Verdict.UNKNOWN)]


def test_explain_shows_the_name_used(tmp_path):
    rs = load_ruleset(rules_dir(tmp_path, {"conditions.yaml": MAPS, "pg/ctx.yaml": RULE}))
    from pgrewrite.explain import explain
    text = explain(api.Engine(rs), "fs/x.c", CODE, 4, None)
    assert "+ use maps-pages" in text


@pytest.mark.parametrize("rule, conditions, expected", [
    (RULE.replace("use: maps-pages", "use: map-pages"), MAPS,
     "rules/pg/bad.yaml:5: match/all/0/use: no condition named 'map-pages' in conditions.yaml "
     "(it names: maps-pages, user-signs)"),
    (RULE, None, "rules/pg/bad.yaml:5: match/all/0/use: no condition named 'maps-pages' in conditions.yaml "
                 "(it names: none)"),
    # a site condition asked of a node (inside a `has`)
    (RULE.replace("has: {use: user-signs}", "has: {use: at-site}"),
     MAPS + "at-site:\n  note: the site is code\n  condition: {context: [code]}\n",
     "rules/pg/bad.yaml:6: match/all/1/not/inside/has/use: condition 'at-site' (rules/conditions.yaml:12) "
     "cannot be used at a node: 'context' cannot be used at a node"),
])
def test_a_wrong_use_is_a_load_error_with_file_and_line(tmp_path, rule, conditions, expected):
    files = {"pg/bad.yaml": rule}
    if conditions is not None:
        files["conditions.yaml"] = conditions
    assert problems(tmp_path, files) == [expected]


@pytest.mark.parametrize("conditions, expected", [
    ("loop-a:\n  note: a\n  condition: {use: loop-b}\nloop-b:\n  note: b\n  condition: {not: {use: loop-a}}\n",
     ["rules/conditions.yaml:3: loop-a/condition/use: condition 'loop-b' (rules/conditions.yaml:5) cannot be used "
      "at a site (a rule's match): condition 'loop-a' uses itself: loop-a -> loop-b -> loop-a",
      "rules/conditions.yaml:6: loop-b/condition/not/use: condition 'loop-a' (rules/conditions.yaml:2) cannot be "
      "used at a site (a rule's match): condition 'loop-b' uses itself: loop-b -> loop-a -> loop-b"]),
    ("no-note:\n  condition: {call: f}\n", ["rules/conditions.yaml:2: no-note: 'note' is a required property"]),
    ("Bad_Name:\n  note: n\n  condition: {call: f}\n",
     ["rules/conditions.yaml:1: (top level): 'Bad_Name' does not match '^[a-z0-9][a-z0-9-]*$'"]),
    ("bad-regex:\n  note: n\n  condition: {call: '(f'}\n",
     ["rules/conditions.yaml:3: bad-regex/condition/call: bad regular expression '(f': "
      "missing ), unterminated subpattern at position 0"]),
])
def test_a_bad_named_condition_is_a_load_error_at_its_entry(tmp_path, conditions, expected):
    assert problems(tmp_path, {"conditions.yaml": conditions, "pg/good.yaml": RULE.replace("use: maps-pages", "token: [PAGE_SIZE]")
                                .replace("- not: {inside: {kind: function, has: {use: user-signs}}}", "- context: [code]")}) == expected


def test_the_digest_follows_conditions_yaml(tmp_path):
    """The result cache is keyed on the rule set's digest: a changed named
    condition must not reuse results of the old one."""
    d = rules_dir(tmp_path, {"conditions.yaml": MAPS, "pg/ctx.yaml": RULE})
    before = load_ruleset(d).digest
    (d / "conditions.yaml").write_text(MAPS.replace("kmap_local_page|page_address", "kmap_local_page"))
    changed = load_ruleset(d)
    assert changed.digest != before
    assert verdicts(changed)[1] == (9, Verdict.UNKNOWN)


def test_a_cached_rule_set_keeps_its_named_conditions(tmp_path):
    """The rules cache keeps conditions.yaml's document with the rules': a
    warm load compiles the same rules."""
    d = rules_dir(tmp_path, {"conditions.yaml": MAPS, "pg/ctx.yaml": RULE})
    cold = load_ruleset(d, cache_dir=tmp_path / "cache")
    warm = load_ruleset(d, cache_dir=tmp_path / "cache")
    assert list((tmp_path / "cache" / "rules").iterdir())
    assert warm.digest == cold.digest
    assert verdicts(warm) == verdicts(cold)


def test_the_shipped_rules_share_their_page_contents_conditions():
    """pg-page-contents-function and pg-page-contents-size once repeated
    each other's lists; both now use the shipped named conditions, and a
    named condition is compiled once for every rule that uses it (so its
    `has` and `inside` answers are memoised across them)."""
    from pgrewrite.rules import conditions as C

    def uses(cond):
        if type(cond) is C.Use:
            yield cond
        for child in cond.children:
            yield from uses(child)

    rs = api.load_rules()
    found = {r: {u.name: u.item for u in uses(rs.by_id(r).match)}
             for r in ("pg-page-contents-function", "pg-page-contents-size")}
    for names in found.values():
        assert {"maps-page-contents", "user-memory-signs"} <= names.keys()
    one, other = found.values()
    assert one["maps-page-contents"] is other["maps-page-contents"]
    assert one["user-memory-signs"] is other["user-memory-signs"]
