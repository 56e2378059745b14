"""Unit inference (pgrewrite/inference.py) and its table (semantic-rules/units.yaml).

The propagation steps and refusals are in fixtures/units/ (snapshots, as for
rules); these tests pin the policy and the table's error messages."""
from __future__ import annotations

import shutil
import textwrap

import pytest

from pgrewrite import api
from pgrewrite.classify import UNITS, with_units
from pgrewrite.inference import Evidence
from pgrewrite.model import RuleMatch, Verdict
from pgrewrite.rules.loader import RuleError, load_ruleset

from .conftest import REPO
from .test_rule_language import rules_dir


def verdicts(code: str, path: str = "mm/x.c", ruleset=None):
    ruleset = ruleset or api.load_rules()
    r = api.scan_bytes(path, textwrap.dedent(code).encode(), ruleset)
    return [(d.site.line, d.site.token, d.verdict.value, d.rule) for d in r.decisions]


def test_a_bound_on_a_page_buffer_is_pg():
    got = verdicts("""\
        void f(struct page *page, const void *src)
        {
                char *dst = page_address(page);
                size_t len = PAGE_SIZE;
                memcpy(dst, src, len);
        }
        """)
    assert got == [(4, "PAGE_SIZE", "pg", UNITS)]


def test_a_pfn_to_a_mapping_is_pte():
    got = verdicts("""\
        int f(struct vm_area_struct *vma, struct page *page)
        {
                unsigned long pfn = page_to_pfn(page);
                return io_remap_pfn_range(vma, vma->vm_start, pfn, PAGE_SIZE, vma->vm_page_prot);
        }
        """)
    assert got == [(4, "PAGE_SIZE", "pte", UNITS)]


def test_where_pte_and_pg_meet_is_logic_naming_both():
    r = api.scan_bytes("mm/x.c", b"unsigned int f(struct vm_area_struct *vma)\n{\n"
                                  b"\treturn get_order(vma_pages(vma) * PAGE_SIZE);\n}\n", api.load_rules())
    (d,) = r.decisions
    assert d.verdict is Verdict.LOGIC and d.rule == UNITS
    assert "vma_pages()" in d.reason and "get_order()" in d.reason


def test_a_length_a_call_returns_has_the_unit_of_its_buffer():
    # units.yaml returns/bounded-by: strlcat() measures its result against buf
    show = """\
        ssize_t f(struct kobject *kobj, struct attribute *attr, char *buf)
        {
                size_t n = strlcat(buf, "x", 64);
                return n > PAGE_SIZE ? -E2BIG : n;
        }
        """
    assert verdicts(show) == [(4, "PAGE_SIZE", "pg", UNITS)]
    # a buffer of unknown extent: the result says nothing
    assert verdicts(show.replace("char *buf", "void *unused").replace("(buf,", "(fx_buf,")) == \
        [(4, "PAGE_SIZE", "unknown", None)]


def test_a_parameter_of_unknown_unit_decides_nothing():
    got = verdicts("size_t f(unsigned long nr)\n{\n\treturn nr << PAGE_SHIFT;\n}\n")
    assert got == [(3, "PAGE_SHIFT", "unknown", None)]


def test_without_units_yaml_there_is_no_inference(tmp_path):
    d = tmp_path / "rules"
    shutil.copytree(REPO / "semantic-rules", d)
    (d / "units.yaml").unlink()
    got = verdicts("size_t f(struct folio *folio)\n{\n\treturn folio_nr_pages(folio) << PAGE_SHIFT;\n}\n",
                   ruleset=load_ruleset(d))
    assert got[0][2] != "pg" or got[0][3] != UNITS


def ev(*grans):
    return [Evidence(g, f"because {g}") for g in grans]


@pytest.mark.parametrize("verdict, rule, weak, evidence, expected", [
    (Verdict.UNKNOWN, None, (), ev("pg"), (Verdict.PG, UNITS)),
    (Verdict.UNKNOWN, None, (), ev("pte", "pg"), (Verdict.LOGIC, UNITS)),
    (Verdict.PTE, "r", (), ev("pte"), (Verdict.PTE, "r")),
    # a rule's rename the other way: never settled by majority
    (Verdict.PTE, "r", (), ev("pg"), (Verdict.CONFLICT, None)),
    # a single weak signal the other way
    (Verdict.UNKNOWN, None, (RuleMatch("w", "pte", 50, "weak", "w"),), ev("pg"), (Verdict.CONFLICT, None)),
    (Verdict.LOGIC, "l", (), ev("pg"), (Verdict.LOGIC, "l")),
    (Verdict.UNKNOWN, None, (), [], (Verdict.UNKNOWN, None)),
])
def test_inference_policy(verdict, rule, weak, evidence, expected):
    got = with_units(weak, evidence, verdict, rule, "why")
    assert got[:2] == expected


@pytest.mark.parametrize("text, expected", [
    ("returns:\n  - {calls: [f], unit: pg-pages}\n", "units.yaml:2: returns/0/unit: 'pg-pages' is not one of"),
    ("arguments:\n  - {calls: [f], arg: 1}\n", "units.yaml:2: arguments/0"),
    ("arguments:\n  - {calls: [f], arg: 1, unit: pg-count}\n  - {calls: [f], arg: 1, unit: pg-count}\n",
     "units.yaml:3: arguments/1: f() argument 1 listed twice"),
    ("returns: [\n", "units.yaml:2: YAML syntax error"),
    ("returns:\n  - {calls: [f], unit: pg-bytes, bounded-by: 1}\n", "units.yaml:2: returns/0"),
    ("returns:\n  - {calls: [f], bounded-by: 1}\n  - {calls: [f], unit: pg-bytes}\n",
     "units.yaml:3: returns/1: f listed twice"),
    # contains: K (virt_to_page), checked as bounded-by is
    ("returns:\n  - {calls: [f], contains: 1}\n  - {calls: [f], unit: pg-page}\n",
     "units.yaml:3: returns/1: f listed twice"),
    ("returns:\n  - {calls: [f], contains: 1, unit: pg-page}\n", "units.yaml:2: returns/0"),
    ("returns:\n  - {calls: [f], contains: 0}\n", "units.yaml:2: returns/0/contains"),
])
def test_unit_table_errors_name_file_and_line(tmp_path, text, expected):
    d = rules_dir(tmp_path, {"units.yaml": text})
    shutil.copy(REPO / "semantic-rules" / "units.schema.json", d / "units.schema.json")
    with pytest.raises(RuleError) as e:
        load_ruleset(d)
    assert any(p.startswith("rules/" + expected) for p in e.value.problems), e.value.problems


UNIT_RULE = """\
meaning: pg
reason: a count of allocated pages shifted to bytes
tokens: [PAGE_SHIFT]
match:
  pattern: $N << PAGE_SHIFT
  where:
    $N: {unit: pg-count}
examples:
  match: ["unsigned long n = folio_nr_pages(folio);\\nx = n << PAGE_SHIFT;"]
  no-match: ["x = n << PAGE_SHIFT;", "unsigned long n = page_to_pfn(p);\\nx = n << PAGE_SHIFT;"]
"""


def test_rules_can_ask_what_inference_knows(tmp_path):
    d = rules_dir(tmp_path, {"pg/pg-count-bytes.yaml": UNIT_RULE})
    shutil.copy(REPO / "semantic-rules" / "units.yaml", d / "units.yaml")
    shutil.copy(REPO / "semantic-rules" / "units.schema.json", d / "units.schema.json")
    rs = load_ruleset(d)
    from pgrewrite.api import Engine
    from pgrewrite.ruletest import check_examples
    assert check_examples(Engine(rs)) == []
    got = verdicts("size_t f(struct folio *folio)\n{\n\tunsigned long n = folio_nr_pages(folio);\n"
                   "\treturn n << PAGE_SHIFT;\n}\n", ruleset=rs)
    assert got == [(4, "PAGE_SHIFT", "pg", "pg-count-bytes")]


@pytest.mark.parametrize("spellings", [
    ("unsigned", "unsigned int", "int unsigned"),
    ("long", "long int", "signed long int"[7:]),
    ("unsigned long", "long unsigned int", "unsigned long int"),
    ("const unsigned long *", "const long unsigned int*"),
])
def test_one_integer_type_is_one_signature(spellings):
    # units.yaml `parameters:` match a callback's signature by its type
    # spellings: the kernel writes `unsigned len` and `unsigned int len`
    from pgrewrite.rules.units import normal_type
    assert len({normal_type(t) for t in spellings}) == 1


def test_a_callback_spelled_unsigned_takes_the_unsigned_int_signature():
    got = verdicts("""\
        static int fx_write_begin(struct file *file, struct address_space *mapping, loff_t pos,
                                  unsigned len, struct folio **foliop, void **fsdata)
        {
                if (len == PAGE_SIZE)
                        return 1;
                return 0;
        }
        """, path="fs/fx/fx.c")
    assert got == [(4, "PAGE_SIZE", "pg", UNITS)]


def test_a_macro_body_reads_no_decision_of_the_site_at_its_fragment_offset():
    # A macro body is parsed alone: its nodes' offsets are the fragment's,
    # while strong decisions are keyed by file offsets. Moving a strongly
    # decided PAGE_SIZE (pg-sb-blocksize) along the first line makes it, at
    # one padding, sit at the body's PAGE_SIZE's fragment offset: the body's
    # `len >> PAGE_SHIFT` must stay unknown at every padding.
    macro = ("#define FX_COPY(buf, src, x) do { size_t len = PAGE_SIZE; "
             "memcpy(buf, src, len); x = len >> PAGE_SHIFT; } while (0)\n")
    seen, ruleset = set(), api.load_rules()
    for pad in range(0, 90):
        code = ("void fx_a(struct super_block *sb) {" + " " * pad + "sb->s_blocksize = PAGE_SIZE; }\n" + macro)
        got = verdicts(code, ruleset=ruleset)
        assert (1, "PAGE_SIZE", "pg", "pg-sb-blocksize") in got
        seen.add(next(v for line, tok, v, _ in got if line == 2 and tok == "PAGE_SHIFT"))
    assert seen == {"unknown"}


def test_a_macro_parameter_is_not_the_file_scope_variable_of_its_name():
    # a macro body's names are those where the macro is used: FX_BYTES's nr
    # is its parameter, not the file's static nr (a PG count)
    got = verdicts("""\
        static unsigned long nr;

        static void fx_set(struct folio *folio)
        {
                nr = folio_nr_pages(folio);
        }

        static unsigned long fx_bytes(void)
        {
                return nr << PAGE_SHIFT;
        }

        #define FX_BYTES(nr) ((nr) << PAGE_SHIFT)
        """)
    assert (10, "PAGE_SHIFT", "pg", UNITS) in got
    assert (13, "PAGE_SHIFT", "unknown", None) in got


def test_a_macro_the_file_undefines_is_not_decided_by_its_uses():
    # after #undef, FX_LEN's uses are another body's: the first body's
    # PAGE_SIZE learns nothing from them (here the second use would say pg)
    got = verdicts("""\
        #define FX_LEN (PAGE_SIZE - 16)
        static void fx_a(struct page *page)
        {
                memset(page_address(page), 0, FX_LEN);
        }
        #undef FX_LEN
        #define FX_LEN 64
        """)
    assert (1, "PAGE_SIZE", "unknown", None) in got
    got = verdicts("""\
        #define FX_LEN (PAGE_SIZE - 16)
        static void fx_a(struct page *page)
        {
                memset(page_address(page), 0, FX_LEN);
        }
        """)
    assert (1, "PAGE_SIZE", "pg", UNITS) in got


def test_answers_asked_before_the_rules_decided_are_not_kept_after():
    """A source() asked while the rules still run (a `unit:` condition) is
    computed without the strong decisions; once they are known (know())
    the same question is computed again from them, not answered from the
    kept answer."""
    from pgrewrite import parsing
    from pgrewrite.inference import Inference
    code = b"void f(char *buf)\n{\n\tsize_t len = PAGE_SIZE;\n\tg(len);\n}\n"
    ruleset = api.load_rules()
    root = parsing.parse(code)
    page_size = code.index(b"PAGE_SIZE")
    stack, len_use = [root], None
    while stack:
        n = stack.pop()
        if n.type == "identifier" and n.text == b"len" and n.start_byte > page_size:
            len_use = n
        stack.extend(n.children)
    inf = Inference(ruleset.units, ruleset.family, code, path="mm/x.c")
    assert inf.source_at(len_use) is None
    inf.know({page_size: "pg"})
    fact = inf.source_at(len_use)
    assert fact is not None and fact.unit.gran == "pg" and "PAGE_SIZE" in fact.why


def test_sums_feeding_each_other_are_read_in_linear_steps(monkeypatch):
    """Functions that return sums of many parts and call each other (a
    debugfs dump: `pos += scnprintf(...)`, `pos += dump_one(buf + pos, ...)`)
    : a sum started from 0 is read only when every part has a unit, so the
    first part of none ends it. Asking every part first made each level
    multiply the questions (101,220 source() questions for six levels of six
    parts; `pgrewrite mine` never finished hclge_debugfs.c)."""
    from pgrewrite.inference import Inference
    from pgrewrite.mining import Miner

    def dump_file(levels: int, parts: int = 6) -> bytes:
        out = []
        for k in range(levels):
            call = f"fx_dump{k - 1}(buf + pos, len - pos)" if k else 'scnprintf(buf + pos, len - pos, "x")'
            body = "".join(f"\tpos += {call};\n" for _ in range(parts))
            out.append(f"static int fx_dump{k}(char *buf, int len)\n{{\n\tint pos = 0;\n"
                       f"\tpos += unknown_len(buf);\n{body}\tif (pos > PAGE_SIZE)\n\t\treturn 0;\n"
                       f"\treturn pos;\n}}\n\n")
        return "".join(out).encode()

    asked = {"n": 0}
    source = Inference.source

    def counted(self, *a, **k):
        asked["n"] += 1
        return source(self, *a, **k)

    monkeypatch.setattr(Inference, "source", counted)
    counts = []
    for levels in (3, 6):
        asked["n"] = 0
        Miner(api.load_rules()).file("drivers/x/dump.c", dump_file(levels))
        counts.append(asked["n"])
    # twice the levels, about twice the questions (it was 145 times as many)
    assert counts[1] < 3 * counts[0], counts
