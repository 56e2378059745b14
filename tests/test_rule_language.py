"""The rule language: patterns, conditions, evidence policy, loader errors."""
from __future__ import annotations

import dataclasses
import shutil
import textwrap
from pathlib import Path

import pytest

from pgrewrite import api, parsing
from pgrewrite.classify import combine
from pgrewrite.model import RuleMatch, Verdict
from pgrewrite.rules.loader import RuleError, load_ruleset
from pgrewrite.rules.pattern import Matcher, PatternError, compile_pattern

from .conftest import REPO

FAMILY = ["PAGE_SIZE", "PAGE_SHIFT"]
EQUIV = {"PAGE_SIZE": frozenset({"PAGE_SIZE", "PTE_SIZE", "PG_SIZE"}),
         "PAGE_SHIFT": frozenset({"PAGE_SHIFT", "PTE_SHIFT", "PG_SHIFT"})}


def find(pattern: str, code: str):
    root = parsing.parse(f"void f(void) {{ {code} }}".encode())
    node, b = Matcher(EQUIV).find(compile_pattern(pattern, FAMILY), root, {})
    return (node.text.decode() if node is not None else None,
            {k: (v.text.decode() if hasattr(v, "text") else len(v)) for k, v in (b or {}).items()})


@pytest.mark.parametrize("pattern, code, text, bindings", [
    ("$A += PAGE_SIZE * $N", "addr += nr * (PAGE_SIZE);", "addr += nr * (PAGE_SIZE)", {"$A": "addr", "$N": "nr"}),
    ("$X >> PAGE_SHIFT", "y = ((phys)) >> PAGE_SHIFT;", "((phys)) >> PAGE_SHIFT", {"$X": "((phys))"}),
    ("kmalloc($$$ARGS)", "p = kmalloc(PAGE_SIZE, GFP_KERNEL);", "kmalloc(PAGE_SIZE, GFP_KERNEL)", {"$$$ARGS": 2}),
    ("f($X, $X)", "f(a, a); f(a, b);", "f(a, a)", {"$X": "a"}),
    ("kmalloc(<+... PAGE_SIZE ...+>, $$$)", "kmalloc(2 * PAGE_SIZE, GFP_KERNEL);", "kmalloc(2 * PAGE_SIZE, GFP_KERNEL)", {}),
    ("$X >> PAGE_SHIFT", "y = v >> PG_SHIFT;", "v >> PG_SHIFT", {"$X": "v"}),   # replacements match too
    ("PAGE_SIZE << $O", "n = (unsigned int)PAGE_SIZE << order;", "(unsigned int)PAGE_SIZE << order", {"$O": "order"}),  # a cast family name
])
def test_patterns_match_structurally(pattern, code, text, bindings):
    assert find(pattern, code) == (text, bindings)


@pytest.mark.parametrize("pattern, code", [
    ("f($X, $X)", "f(a, b);"),
    ("$X - PAGE_SHIFT", "y = PAGE_SHIFT - x;"),          # - is not commutative
    ("memset($P, 0, PAGE_SIZE)", "memset(p, 1, PAGE_SIZE);"),
    ("kmalloc(<+... PAGE_SIZE ...+>, $$$)", "kmalloc(64, PAGE_SIZE);"),
    ("PAGE_SIZE << $O", "n = (unsigned int)size << order;"),          # only a family name is seen through a cast
])
def test_patterns_reject(pattern, code):
    assert find(pattern, code)[0] is None


def test_pattern_that_is_not_c_is_an_error():
    with pytest.raises(PatternError):
        compile_pattern("$X >> >> PAGE_SHIFT", FAMILY)


def m(rule, meaning, priority=50, strength="strong", overrides=()):
    return RuleMatch(rule, meaning, priority, strength, f"{rule} reason", overrides)


@pytest.mark.parametrize("matches, verdict, rule", [
    ([], Verdict.UNKNOWN, None),
    ([m("a", "pte")], Verdict.PTE, "a"),
    ([m("a", "pte", 60), m("b", "pg", 50)], Verdict.PTE, "a"),          # priority decides
    ([m("a", "pte", 60), m("b", "pg", 60)], Verdict.CONFLICT, None),    # equal priority disagrees
    ([m("a", "pte", 60), m("b", "logic", 90)], Verdict.LOGIC, "b"),
    ([m("a", "pg", 10), m("w", "pte", 99, "weak"), m("v", "pte", 99, "weak")], Verdict.PG, "a"),  # strong beats weak
    ([m("w", "pte", 40, "weak")], Verdict.UNKNOWN, None),                # one weak signal is not enough
    ([m("w", "pte", 40, "weak"), m("v", "pte", 40, "weak")], Verdict.PTE, "v+w"),
    ([m("w", "pte", 40, "weak"), m("v", "pg", 40, "weak")], Verdict.CONFLICT, None),
    ([m("w", "pte", 40, "weak"), m("v", "pte", 40, "weak"), m("l", "logic", 1, "weak")], Verdict.LOGIC, "l"),
    # a logic signal that overrides pg turns a strong pg decision into a flag ...
    ([m("a", "pg", 60), m("l", "logic", 90, "weak", ("pg",))], Verdict.LOGIC, "l"),
    # ... but leaves a strong decision of another meaning alone
    ([m("a", "pte", 60), m("l", "logic", 90, "weak", ("pg",))], Verdict.PTE, "a"),
    ([m("a", "pg", 60), m("l", "logic", 90, "weak")], Verdict.PG, "a"),
])
def test_evidence_policy(matches, verdict, rule):
    v, r, _ = combine(matches)
    assert (v, r) == (verdict, rule)


# ------------------------------------------------------------------ loader

def rules_dir(tmp_path: Path, files: dict[str, str]) -> Path:
    d = tmp_path / "rules"
    d.mkdir()
    shutil.copy(REPO / "semantic-rules" / "family.yaml", d / "family.yaml")
    shutil.copy(REPO / "semantic-rules" / "schema.json", d / "schema.json")
    for name, text in files.items():
        p = d / name
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_text(textwrap.dedent(text))
    return d


GOOD = """\
meaning: pg
reason: a good rule for tests
match:
  pattern: PAGE_SIZE << $O
examples:
  match: ["x = PAGE_SIZE << order;"]
  no-match: ["x = PAGE_SIZE;"]
"""


def problems(tmp_path, files):
    """The problems, their paths relative to tmp_path (they are printed
    relative to the working directory, or absolute outside it)."""
    with pytest.raises(RuleError) as e:
        load_ruleset(rules_dir(tmp_path, files))
    return [p.replace(f"{tmp_path}/", "") for p in e.value.problems]


def test_good_rules_load(tmp_path):
    rs = load_ruleset(rules_dir(tmp_path, {"pg/good.yaml": GOOD}))
    assert [r.id for r in rs.rules] == ["good"]


@pytest.mark.parametrize("text, expected", [
    (GOOD.replace("meaning: pg", "meaning: pg\ncolour: red"), "rules/pg/bad.yaml:2: (top level): unknown key ('colour' was unexpected)"),
    (GOOD.replace("meaning: pg", "meaning: pgg"), "rules/pg/bad.yaml:1: meaning: 'pgg' is not one of pte, pg, logic"),
    (GOOD.replace("meaning: pg", "meaning: pg\npriority: high"), "rules/pg/bad.yaml:2: priority: expected integer, got str 'high'"),
    (GOOD.replace("pattern: PAGE_SIZE << $O", "pattern: PAGE_SIZE << << $O"),
     "rules/pg/bad.yaml:4: match/pattern: pattern does not parse as one C expression or statement: 'PAGE_SIZE << << $O'"),
    (GOOD.replace("pattern: PAGE_SIZE << $O", "function: '(unclosed'"),
     "rules/pg/bad.yaml:4: match/function: bad regular expression '(unclosed': missing ), unterminated subpattern at position 0"),
    (GOOD.replace("pattern: PAGE_SIZE << $O", "pattern: kmalloc($X)"),
     "rules/pg/bad.yaml:4: match/pattern: a pattern in a rule's match must contain a family name or $SITE"),
    (GOOD.replace("match:\n", "match: [\n"), "rules/pg/bad.yaml:5: YAML syntax error"),
    (GOOD.replace("meaning: pg", "meaning: pg\noverrides: [pte]"), "rules/pg/bad.yaml:2: overrides: only a logic rule can override other verdicts"),
])
def test_rule_errors_name_file_line_and_key(tmp_path, text, expected):
    got = problems(tmp_path, {"pg/bad.yaml": text})
    assert len(got) == 1 and got[0].startswith(expected), got


def test_duplicate_ids_are_reported(tmp_path):
    got = problems(tmp_path, {"pg/same.yaml": GOOD, "pte/same.yaml": GOOD.replace("pg", "pte", 1)})
    assert got == ["rules/pte/same.yaml:1: duplicate rule id 'same' (also rules/pg/same.yaml); "
                   "ids are file names and must be unique"]


def test_def_use_and_declared_types(tmp_path):
    rule = """\
    meaning: pg
    reason: memset of a kmapped page
    match:
      pattern: memset($P, 0, PAGE_SIZE)
      where:
        $P: {assigned-from: {call: kmap_local_page}}
    examples:
      match: ["void *k = kmap_local_page(p);\\nmemset(k, 0, PAGE_SIZE);"]
      no-match: ["memset(k, 0, PAGE_SIZE);\\nk = kmap_local_page(p);"]
    """
    typed = """\
    meaning: pte
    reason: shift of a physical address
    match:
      pattern: $X >> PAGE_SHIFT
      where:
        $X: {type: 'phys_addr_t'}
    examples:
      match: ["phys_addr_t pa = 0;\\nx = pa >> PAGE_SHIFT;"]
      no-match: ["unsigned long pa = 0;\\nx = pa >> PAGE_SHIFT;"]
    """
    rs = load_ruleset(rules_dir(tmp_path, {"pg/kmap.yaml": rule, "pte/typed.yaml": typed}))
    from pgrewrite import ruletest
    assert ruletest.check_examples(api.Engine(rs)) == []


def test_used_as_follows_a_value_to_where_it_is_used(tmp_path):
    """`used-as`: the site's expression used in place, or stored in a local
    and used later in the function (def-use forward); a use before the
    store, or in another function, does not count."""
    rule = """\
    meaning: pg
    reason: an offset used with a mapped page
    match:
      all:
        - pattern: $A & ~PAGE_MASK
        - used-as: {inside-call: {name: memcpy_to_page}}
    examples:
      match:
        - "memcpy_to_page(p, a & ~PAGE_MASK, s, 4);"
        - "unsigned long off = a & ~PAGE_MASK;\\nmemcpy_to_page(p, off, s, 4);"
        - "unsigned long off;\\noff = (a & ~PAGE_MASK);\\nmemcpy_to_page(p, off, s, 4);"
      no-match:
        - "unsigned long off = a & ~PAGE_MASK;\\nn = DIV_ROUND_UP(off + s, PAGE_SIZE);"
        - "memcpy_to_page(p, off, s, 4);\\noff = a & ~PAGE_MASK;"
        - "f(a & ~PAGE_MASK);"
    """
    rs = load_ruleset(rules_dir(tmp_path, {"pg/used.yaml": rule}))
    from pgrewrite import ruletest
    assert ruletest.check_examples(api.Engine(rs)) == []


def test_user_pages_holds_where_the_function_works_on_user_pages(tmp_path):
    """`user-pages: true`: the site's function pins pages per user page
    itself, through a function of its file (any of its #ifdef definitions),
    or reads a units.yaml field of unit user-pages; not a function that only
    maps pages of its own, nor one that calls a pinning function it cannot see."""
    rule = """\
    meaning: logic
    reason: a page offset where user pages are pinned
    match:
      all:
        - pattern: PAGE_SIZE - $X
        - user-pages: true
    examples:
      match:
        - |
          static void f(unsigned long u, struct page **p)
          {
                  get_user_pages(u, 1, 0, p);
                  n = PAGE_SIZE - off;
          }
        - |
          static int pin(unsigned long u, struct page **p)
          {
                  return pin_user_pages_fast(u, 1, 0, p);
          }
          static void f(unsigned long u)
          {
                  struct page *pg;
                  pin(u, &pg);
                  n = PAGE_SIZE - off;
          }
        - |
          static void f(struct xdp_umem *umem, u64 a)
          {
                  struct page *pg = umem->pgs[0];
                  n = PAGE_SIZE - a;
          }
      no-match:
        - |
          static void f(struct page *page)
          {
                  void *a = kmap_local_page(page);
                  n = PAGE_SIZE - off;
          }
        - |
          static void f(unsigned long u)
          {
                  struct page *pg;
                  pin_elsewhere(u, &pg);
                  n = PAGE_SIZE - off;
          }
    """
    units = (REPO / "semantic-rules" / "units.yaml").read_text()
    d = rules_dir(tmp_path, {"logic/user.yaml": rule, "units.yaml": units})
    shutil.copy(REPO / "semantic-rules" / "units.schema.json", d / "units.schema.json")
    rs = load_ruleset(d)
    from pgrewrite import ruletest
    assert ruletest.check_examples(api.Engine(rs)) == []
    (tmp_path / "bad").mkdir()
    with pytest.raises(RuleError, match="user-pages: True was expected"):
        load_ruleset(rules_dir(tmp_path / "bad", {"logic/user.yaml": rule.replace("user-pages: true", "user-pages: false")}))


def test_file_text_reads_what_the_module_states_far_from_the_site(tmp_path):
    """`file-text`: the file's text anywhere, not the site's line; an area
    that asks it reads code, so it withholds a strong rename too."""
    area = """\
    meaning: area
    area: fx-only-4k
    withholds: [pg]
    reason: the module refuses page sizes other than 4K
    match:
      token: [PAGE_SIZE]
      file-text: 'if \\(PAGE_SIZE != 4096\\)'
    examples:
      match:
        - "void g(void) { memset(p, 0, PAGE_SIZE); }\\nint init(void) { if (PAGE_SIZE != 4096) return -1; return 0; }"
      no-match:
        - "void g(void) { memset(p, 0, PAGE_SIZE); }"
    """
    strong = """\
    meaning: pg
    reason: a whole page cleared
    match:
      pattern: memset($P, 0, PAGE_SIZE)
    examples:
      match: ["memset(p, 0, PAGE_SIZE);"]
      no-match: ["memset(p, 0, 4096);"]
    """
    rs = load_ruleset(rules_dir(tmp_path, {"area/fx.yaml": area, "pg/strong.yaml": strong}))
    from pgrewrite import ruletest
    assert ruletest.check_examples(api.Engine(rs)) == []
    code = "void g(void *p)\n{\n\tmemset(p, 0, PAGE_SIZE);\n}\n"
    guard = "\nint init(void)\n{\n\tif (PAGE_SIZE != 4096)\n\t\treturn -1;\n\treturn 0;\n}\n"
    plain = {d.site.line: d.verdict for d in api.scan_bytes("drivers/x.c", code.encode(), rs).decisions}
    guarded = {d.site.line: d.verdict for d in api.scan_bytes("drivers/x.c", (code + guard).encode(), rs).decisions}
    assert plain[3] == Verdict.PG
    assert guarded[3] == Verdict.UNKNOWN


def test_context_strength_decides_alone_but_yields_like_a_weak_signal(tmp_path):
    """`strength: context`: a weak signal that decides alone. A weak logic
    signal still flags the site, a weak signal the other way still makes a
    conflict, and an area that only lists paths withholds it (as it would
    a weak rename, never a strong one)."""
    context = """\
    meaning: pg
    strength: context
    reason: a size in a function that maps pages
    match:
      inside: {kind: function, has: {call: kmap_local_page}}
    examples:
      match: ["void f(struct page *p) { void *a = kmap_local_page(p); n = PAGE_SIZE; }"]
      no-match: ["void f(void) { n = PAGE_SIZE; }"]
    """
    weak_pte = """\
    meaning: pte
    strength: weak
    reason: a length named like a mapping step
    match:
      pattern: step = PAGE_SIZE
    examples:
      match: ["step = PAGE_SIZE;"]
      no-match: ["n = PAGE_SIZE;"]
    """
    weak_logic = """\
    meaning: logic
    strength: weak
    reason: mixed units
    match:
      pattern: mixed = PAGE_SIZE
    examples:
      match: ["mixed = PAGE_SIZE;"]
      no-match: ["n = PAGE_SIZE;"]
    """
    area = """\
    meaning: area
    area: fx-hw
    withholds: [pg]
    reason: hardware pages
    files: ['drivers/hw/**']
    match:
      token: [PAGE_SIZE]
    examples:
      match: ["n = PAGE_SIZE;"]
      no-match: ["n = 4096;"]
    """
    rs = load_ruleset(rules_dir(tmp_path, {"pg/ctx.yaml": context, "pte/wpte.yaml": weak_pte,
                                           "logic/wlogic.yaml": weak_logic, "area/hw.yaml": area}))
    from pgrewrite import ruletest
    assert ruletest.check_examples(api.Engine(rs)) == []
    code = ("void f(struct page *p, int n, int step, int mixed)\n{\n\tvoid *a = kmap_local_page(p);\n"
            "\tn = PAGE_SIZE;\n\tstep = PAGE_SIZE;\n\tmixed = PAGE_SIZE;\n}\n")
    got = {d.site.line: d for d in api.scan_bytes("drivers/x.c", code.encode(), rs).decisions}
    assert (got[4].verdict, got[4].rule) == (Verdict.PG, "ctx")        # alone, it decides
    assert got[5].verdict == Verdict.CONFLICT                           # a weak signal the other way
    assert got[6].verdict == Verdict.LOGIC                              # a weak logic signal
    hw = {d.site.line: d.verdict for d in api.scan_bytes("drivers/hw/x.c", code.encode(), rs).decisions}
    assert hw[4] == Verdict.UNKNOWN                                     # withheld by a path list


def test_declared_rename_is_applied_in_the_function_only(tmp_path):
    rule = """\
    meaning: pte
    reason: CPA counts are PTE counts
    match:
      pattern: $N * PAGE_SIZE
      where:
        $N: {regex: '^nr$'}
    rename: {from: $N, to: numpages}
    examples:
      match: ["x = nr * PAGE_SIZE;"]
      no-match: ["x = count * PAGE_SIZE;"]
    """
    rs = load_ruleset(rules_dir(tmp_path, {"pte/cpa.yaml": rule}))
    src = (b"static int cpa(unsigned long addr, int nr)\n{\n\treturn addr + nr * PAGE_SIZE + nr;\n}\n"
           b"static int other(int nr)\n{\n\treturn nr;\n}\n")
    result = api.scan_bytes("x.c", src, rs)
    new = api.rewrite(src, result.edits)
    assert new == (b"static int cpa(unsigned long addr, int numpages)\n{\n\treturn addr + numpages * PTE_SIZE + numpages;\n}\n"
                   b"static int other(int nr)\n{\n\treturn nr;\n}\n")


def test_files_that_define_page_size_themselves_are_not_renamed(ruleset):
    src = (b"#ifndef PAGE_SIZE\n#define PAGE_SIZE 4096\n#endif\n"
           b"void f(struct page *p) { memset(page_address(p), 0, PAGE_SIZE); }\n")
    user_space = api.scan_bytes("include/linux/raid/pq.h", src, ruleset)
    assert user_space.edits == ()
    assert user_space.decisions[-1].reason.startswith("the file defines PAGE_SIZE itself")
    arch = api.scan_bytes("arch/x86/include/asm/page.h", src, ruleset)
    assert [e.new for e in arch.edits] == ["PG_SIZE"]


def test_control_conditions_and_for_clauses_are_statements(tmp_path):
    # `inside: {kind: statement, nearest: true}` stops at the condition of an
    # if/while or a clause of a for header, never at the body of the
    # statement around it.
    rule = """\
    meaning: logic
    reason: a limit in pages
    match:
      inside:
        kind: statement
        nearest: true
        has: {regex: '^RLIMIT_AS$'}
    examples:
      match:
        - "if (total_vm + npages > rlimit(RLIMIT_AS) >> PAGE_SHIFT)\\n\\treturn false;"
        - "while (n < rlimit(RLIMIT_AS) >> PAGE_SHIFT)\\n\\tn++;"
        - "for (i = 0; i < rlimit(RLIMIT_AS) >> PAGE_SHIFT; i++)\\n\\tf(i);"
      no-match:
        - "if (x > PAGE_SIZE)\\n\\tlimit = rlimit(RLIMIT_AS);"
        - "for (i = 0; i < n; i += PAGE_SIZE)\\n\\tlimit = rlimit(RLIMIT_AS);"
    """
    rs = load_ruleset(rules_dir(tmp_path, {"logic/limit.yaml": rule}))
    from pgrewrite import ruletest
    assert ruletest.check_examples(api.Engine(rs)) == []


def test_has_walks_every_descendant_in_order():
    # conditions._descendants (a tree-sitter cursor) lists what a walk of
    # `children` lists: every descendant, depth first, children in order,
    # and nothing beside or above the node
    from pgrewrite.rules.conditions import _descendants
    root = parsing.parse(b"int g;\nvoid f(int a) { if (a) { a = (a + 1) * PAGE_SIZE; } else return; g = a; }\n"
                         b"int h(void) { return 0; }\n")

    def by_children(n):
        out = []
        for c in n.children:
            out.append((c.id, c.type))
            out += by_children(c)
        return out
    for n in [root, *root.children, root.children[1].child_by_field_name("body")]:
        assert [(d.id, t) for d, t in _descendants(n)] == by_children(n)
    leaf = root.children[0].children[0]
    assert _descendants(leaf) == [] and leaf.child_count == 0


def test_an_area_can_withhold_only_what_inference_alone_decides():
    """`withholds-evidence: inferred`: the area leaves unknown a rename that
    unit inference made without a rule of the same meaning; a rule's rename
    (a context rule's too) and one a rule agrees with stand."""
    from pgrewrite.classify import UNITS, with_area
    area = RuleMatch("area-fx", "area", 90, "strong", "a GPU", area="fx", withholds=("pte", "pg"),
                     withholds_evidence="inferred")
    inferred = RuleMatch(UNITS, "pg", 0, "inferred", "units: ...")
    context = RuleMatch("ctx", "pg", 50, "context", "in a function that maps pages")
    assert with_area((area, inferred), Verdict.PG, UNITS, "units: ...")[0] == Verdict.UNKNOWN
    assert with_area((area, context), Verdict.PG, "ctx", "...")[0] == Verdict.PG
    assert with_area((area, context, inferred), Verdict.PG, UNITS, "units: ...")[0] == Verdict.PG
    weak = dataclasses.replace(area, withholds_evidence="weak")
    assert with_area((weak, context), Verdict.PG, "ctx", "...")[0] == Verdict.UNKNOWN


@pytest.mark.parametrize("extra, expected", [
    ("withholds-evidence: inferred", "`withholds-evidence` says which renames `withholds` leaves unknown: give `withholds` too"),
    ("withholds: [pg]\nwithholds-evidence: some", "withholds-evidence: 'some' is not one of weak, inferred"),
])
def test_withholds_evidence_is_checked(tmp_path, extra, expected):
    area = ("meaning: area\narea: fx\n" + extra + "\nreason: a test area\nmatch:\n  token: [PAGE_SIZE]\n"
            "examples:\n  match: ['n = PAGE_SIZE;']\n  no-match: ['n = 4096;']\n")
    assert any(expected in p for p in problems(tmp_path, {"area/fx.yaml": area}))


def test_a_pattern_matches_a_site_only_with_its_anchor_on_it(tmp_path):
    """A site inside a metavariable's binding is not matched: the anchor
    (the family name of the pattern) must be the site. The bound of a print
    call is not the value printed, and `any` moves on to an alternative
    whose anchor is the site."""
    bound = """\
    meaning: pg
    reason: the bound of a page-sized buffer
    match:
      pattern: snprintf($B, PAGE_SIZE, $$$A)
    examples:
      match: ["snprintf(buf, PAGE_SIZE, \\"%d\\", 1);"]
      no-match: ["snprintf(buf, 64, \\"%d\\", 1);"]
    """
    rs = load_ruleset(rules_dir(tmp_path, {"pg/bound.yaml": bound}))
    code = "int f(char *buf, long n)\n{\n\treturn snprintf(buf, PAGE_SIZE, \"%ld\", n / PAGE_SIZE);\n}\n"
    got = {(d.site.line, d.site.col): d.verdict for d in api.scan_bytes("drivers/x.c", code.encode(), rs).decisions}
    assert got == {(3, 23): Verdict.PG, (3, 45): Verdict.UNKNOWN}
