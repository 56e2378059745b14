"""A value's unit from its own other uses (pgrewrite/uses.py, issue 17).

Each step and refusal has a fixture in fixtures/units/mm/unit_uses*.c
(snapshots); these tests pin the chain a reader sees and the refusals
that matter most for soundness."""
from __future__ import annotations

import textwrap

from pgrewrite import api
from pgrewrite.classify import UNITS


def decisions(code: str, path: str = "mm/x.c"):
    r = api.scan_bytes(path, textwrap.dedent(code).encode(), api.load_rules())
    return [(d.site.line, d.site.token, d.verdict.value, d.rule, d.reason) for d in r.decisions]


def test_a_parameter_compared_with_a_folio_count_is_pg_and_the_chain_names_the_use():
    (got,) = decisions("""\
        bool f(struct folio *folio, unsigned long nr)
        {
                if (nr > folio_nr_pages(folio))
                        return false;
                return g(nr << PAGE_SHIFT);
        }
        """)
    assert got[:4] == (5, "PAGE_SHIFT", "pg", UNITS)
    assert "nr is a count of PG pages by its use at line 3" in got[4]
    assert "folio_nr_pages()" in got[4]


def test_a_local_set_once_takes_the_unit_its_use_expects():
    (got,) = decisions("""\
        bool f(struct vm_area_struct *vma, unsigned long len)
        {
                unsigned long nr = lookup(len);
                if (nr > vma_pages(vma))
                        return false;
                return g(nr * PAGE_SIZE);
        }
        """)
    assert got[:4] == (6, "PAGE_SIZE", "pte", UNITS)
    assert "by its use at line 4" in got[4]


def test_uses_that_disagree_give_no_unit_not_a_majority():
    (got,) = decisions("""\
        bool f(struct vm_area_struct *vma, struct folio *a, struct folio *b, unsigned long n)
        {
                g(n << PAGE_SHIFT);
                return n > vma_pages(vma) && n < folio_nr_pages(a) && n != folio_nr_pages(b);
        }
        """)
    assert got[2] == "unknown"


def test_a_value_written_twice_is_not_one_value():
    for change in ("n = h(n);", "n++;", "do_div(n, 3);", "k(&n);"):
        (got,) = decisions(f"""\
            bool f(struct vm_area_struct *vma, u64 n)
            {{
                    g(n << PAGE_SHIFT);
                    {change}
                    return n > vma_pages(vma);
            }}
            """)
        assert got[2] == "unknown", change


def test_two_family_uses_no_rule_decided_do_not_decide_each_other():
    got = decisions("""\
        void f(unsigned long n)
        {
                g(n << PAGE_SHIFT);
                h(n * PAGE_SIZE);
        }
        """)
    assert [d[2] for d in got] == ["unknown", "unknown"]


def test_a_length_takes_no_granularity_from_its_uses():
    # ioremap() takes the length as PTE bytes, but the length itself has no
    # granularity: the allocation beside it rounds it to PG pages
    got = decisions("""\
        void f(phys_addr_t phys, size_t len, struct device *dev, dma_addr_t *h)
        {
                void __iomem *p = ioremap(phys, len);
                g(p, dma_alloc_coherent(dev, PAGE_ALIGN(len), h, GFP_KERNEL));
        }
        """)
    assert [d[2] for d in got] == ["unknown"]


def test_an_address_only_by_the_use_itself_not_through_a_sum():
    got = decisions("""\
        bool f(struct vm_area_struct *vma, unsigned long addr, unsigned long len)
        {
                if ((addr | len) & ~PAGE_MASK)
                        return false;
                return addr >= vma->vm_start && addr + len <= vma->vm_end;
        }
        """)
    assert got[0][2] == "unknown"       # addr | len: no single operand
    (got,) = decisions("""\
        bool f(struct vm_area_struct *vma, unsigned long len)
        {
                if (len & ~PAGE_MASK)
                        return false;
                return vma->vm_start + len <= vma->vm_end;
        }
        """)
    assert got[2] == "unknown"


def test_a_unit_condition_sees_where_a_value_comes_from_not_its_uses():
    # fpfn's unit comes only from its use (compared with a ttm_tt's page
    # count, a count of struct pages): inference may say so, as evidence, but
    # the rules' `unit:` conditions ask where a value comes from, so the
    # PFN-named rule is not silenced and the two disagree: a conflict for a
    # person, not a pg rename (gold round 5: both readers said PTE in such a
    # TTM function)
    got = [d[:4] for d in decisions("""\
        static bool fx_intersects(struct ttm_tt *tt, u64 start, u64 size)
        {
                unsigned long fpfn = start >> PAGE_SHIFT;
                unsigned long lpfn = fpfn + (size >> PAGE_SHIFT);

                return tt->num_pages < lpfn && tt->num_pages > fpfn;
        }
        """)]
    assert (4, "PAGE_SHIFT", "conflict", None) in got
