"""Random and mutated kernel-style C through the scanner and the rewriter.

Properties: no crash; the accounting is exact (or the file is reported with
an error); the rewrite changes only family tokens into their PTE/PG names;
a second analysis of the rewritten bytes finds no site at a renamed place.
"""
from __future__ import annotations

import difflib

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pgrewrite import api
from pgrewrite.edits import new_positions, rewrite

SNIPPETS = [
    b"static unsigned long f(phys_addr_t phys_addr)\n{\n\treturn phys_addr >> PAGE_SHIFT;\n}\n",
    b"static void g(struct page *page)\n{\n\tmemset(page_address(page), 0, PAGE_SIZE);\n"
    b"\tvoid *p = (void *)__get_free_pages(GFP_KERNEL, get_order(PAGE_SIZE << 2));\n}\n",
    b"#define PFN_UP(x)\t(((x) + PAGE_SIZE-1) >> PAGE_SHIFT)\n#if PAGE_SHIFT > 12\n"
    b"# define BIG 1 /* PAGE_SIZE in a comment */\n#endif\n",
    b"for (addr = start; addr < end; addr += PAGE_SIZE, pte++)\n\tset_pte_at(mm, addr, pte, pfn_pte(pfn, prot));\n",
    b"static char buf[PAGE_SIZE] __aligned(PAGE_SIZE);\nconst char *s = \"PAGE_SIZE\\\n continued\";\n",
    b"len = PAGE_ALIGN(len);\nif (offset_in_page(addr) || !PAGE_ALIGNED(start))\n\treturn -EINVAL;\n"
    b"start = PAGE_ALIGN_DOWN(start) & PAGE_MASK;\n",
    b"asm volatile(\"invlpg (%0)\" :: \"r\" (addr & PAGE_MASK) : \"memory\");\n",
    b"#define X(n) n##PAGE_SIZE\n#define Y PAGE_SIZE \\\n\t+ PAGE_SHIFT\n",
]
FAMILY = [b"PAGE_SIZE", b"PAGE_SHIFT", b"PAGE_MASK", b"PAGE_ALIGN(x)", b"PAGE_ALIGN_DOWN(x)",
          b"PAGE_ALIGNED(p)", b"offset_in_page(p)", b"PAGE_SIZEX", b"_PAGE_SIZE", b"PAGE_SIZE$"]
DELIMITERS = [b"/*", b"*/", b"//", b"\"", b"'", b"\\\n", b"\\\r\n", b"\r\n", b"\n", b"#", b"##",
              b"#define Z ", b"#if ", b"{", b"}", b"(", b")", b";", b"\\"]

mutation = st.one_of(
    st.tuples(st.just("insert"), st.integers(0, 10_000), st.binary(min_size=1, max_size=4)),
    st.tuples(st.just("delete"), st.integers(0, 10_000), st.integers(1, 8)),
    st.tuples(st.just("token"), st.integers(0, 10_000), st.sampled_from(FAMILY)),
    st.tuples(st.just("delim"), st.integers(0, 10_000), st.sampled_from(DELIMITERS)),
    st.tuples(st.just("crlf"), st.integers(0, 10_000), st.just(b"")),
)


@st.composite
def mutated_c(draw):
    parts = draw(st.lists(st.sampled_from(SNIPPETS), min_size=1, max_size=4))
    data = bytearray(b"".join(parts))
    for kind, pos, arg in draw(st.lists(mutation, max_size=8)):
        pos %= len(data) + 1
        if kind == "delete":
            del data[pos:pos + arg]
        elif kind == "crlf":
            data = bytearray(bytes(data).replace(b"\n", b"\r\n"))
        else:
            data[pos:pos] = arg
    return bytes(data)


@pytest.fixture(scope="module")
def fam(ruleset):
    return ruleset.family


def check(engine, fam, data: bytes):
    problem = api.input_problem(data)
    if problem is not None:
        return                                   # reported as an error, never analysed
    result = engine.analyse("mm/fuzz.c", data)   # must not raise
    assert result.accounting_difference == 0 or result.error, (result.lexical_count, len(result.decisions))
    new = rewrite(data, result.edits)
    edits = sorted(result.edits, key=lambda e: e.start)
    spans_new = new_positions(edits)
    for e in edits:
        if e.kind == "family":
            assert e.old in fam.names and e.new in (fam.member(e.old).pte, fam.member(e.old).pg)
    # an independent diff: every changed byte lies inside one renamed token
    sm = difflib.SequenceMatcher(None, data, new, autojunk=False)
    for op, i1, i2, j1, j2 in sm.get_opcodes():
        if op == "equal":
            continue
        assert any(e.start <= i1 and i2 <= e.end and s <= j1 and j2 <= t
                   for e, (s, t) in zip(edits, spans_new)), (op, data[i1:i2], new[j1:j2])
    # the second run does not see the renamed tokens as sites any more
    again = engine.analyse("mm/fuzz.c", new)
    renamed = {s for e, (s, _) in zip(edits, spans_new) if e.kind == "family"}
    assert not renamed & {d.site.start for d in again.decisions}
    assert not renamed & {e.start for e in again.edits if e.kind == "family"}


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                                  HealthCheck.too_slow])
@given(data=mutated_c())
def test_mutated_c(engine, fam, data):
    check(engine, fam, data)


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.binary(max_size=300).map(lambda b: b + b" PAGE_SIZE "))
def test_random_bytes(engine, fam, data):
    check(engine, fam, data)


def test_every_snippet_is_renamed(engine, fam):
    for s in SNIPPETS:
        check(engine, fam, s)
        check(engine, fam, s.replace(b"\n", b"\r\n"))
