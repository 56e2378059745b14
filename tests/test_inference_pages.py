"""Unit inference on values tied to struct page (issue 17, the `pages` step):
page-array indexes and the counters that are one, lengths passed with an
allocated struct page, offset_in_page() beside virt_to_page(), and where it
refuses (GUP arrays, PFN lock-step). The fixture is
fixtures/units/drivers/misc/unit_page_arrays.c; these pin what a user sees."""
from __future__ import annotations

import textwrap

import pytest

from pgrewrite import api
from pgrewrite.classify import UNITS


def scan(code: str, path: str = "drivers/x/y.c"):
    r = api.scan_bytes(path, textwrap.dedent(code).encode(), api.load_rules())
    return [(d.site.line, d.site.token, d.verdict.value, d.rule, d.reason) for d in r.decisions]


LOOP = """\
    static void f(struct page **pages, size_t size)
    {
            unsigned long n = size >> PAGE_SHIFT;
            unsigned long i;

            for (i = 0; i < n; i++)
                    put_page(pages[i]);
    }
    """


def test_a_loop_bound_over_a_page_array_is_pg_with_its_chain():
    ((line, token, verdict, rule, reason),) = scan(LOOP)
    assert (line, token, verdict, rule) == (3, "PAGE_SHIFT", "pg", UNITS)
    assert "bounds the loop over i" in reason and "indexes pages[]" in reason


def test_a_pte_count_bounding_a_page_array_loop_is_logic():
    code = LOOP.replace("size_t size", "struct vm_area_struct *vma").replace(
        "size >> PAGE_SHIFT", "(vma->vm_end - vma->vm_start) >> PAGE_SHIFT")
    ((_, _, verdict, rule, reason),) = scan(code)
    assert (verdict, rule) == ("logic", UNITS)
    assert "user address" in reason and "indexes pages[]" in reason


POOL = """\
    static int fill(struct pool *pool, int page_count)
    {
            int i;

            for (i = 0; i < page_count; i++)
                    pool->pages[i] = alloc_page(GFP_KERNEL);
            return 0;
    }

    static int grow(struct pool *pool, size_t len)
    {
            return fill(pool, len >> PAGE_SHIFT);
    }
    """


def test_an_array_filled_by_the_page_allocator_is_a_page_array_through_a_call():
    ((line, token, verdict, rule, reason),) = scan(POOL)
    assert (line, token, verdict, rule) == (12, "PAGE_SHIFT", "pg", UNITS)
    assert "bounds the loop over i" in reason and "set from alloc_page()" in reason


def test_a_user_range_bounding_the_allocator_loop_is_logic():
    code = POOL.replace("size_t len", "struct vm_area_struct *vma").replace(
        "len >> PAGE_SHIFT", "(vma->vm_end - vma->vm_start) >> PAGE_SHIFT")
    ((_, _, verdict, rule, reason),) = scan(code)
    assert (verdict, rule) == ("logic", UNITS)
    assert "user address" in reason and "alloc_page()" in reason


@pytest.mark.parametrize("change", [
    # the element comes from a call units.yaml says nothing of
    ("alloc_page(GFP_KERNEL)", "fx_get(GFP_KERNEL)"),
    # the counter does not start at 0: the bound is no count
    ("for (i = 0;", "for (i = 1;"),
])
def test_an_allocator_loop_refuses(change):
    ((_, _, verdict, _, reason),) = scan(POOL.replace(*change))
    assert "bounds the loop" not in reason


@pytest.mark.parametrize("change", [
    # GUP fills the array one entry per user page
    ("put_page(pages[i]);", "put_page(pages[i]);\n\tpin_user_pages_fast(0, n, 0, pages);"),
    # the loop also walks PFNs
    ("put_page(pages[i]);", "put_page(pages[i]), put_page(pfn_to_page(fx_pfn));"),
    # the counter's address is taken
    ("put_page(pages[i]);", "fx_next(&i, pages[i]);"),
])
def test_a_page_array_loop_refuses(change):
    ((_, _, verdict, _, _),) = scan(LOOP.replace(*change))
    assert verdict == "unknown"


def test_a_counter_that_steps_a_pfn_and_a_page_index_decides_nothing():
    code = """\
        static void f(struct vm_fault *vmf, unsigned long pfn, unsigned long size)
        {
                unsigned long i, n = size / PAGE_SIZE;
                pgoff_t pgoff = linear_page_index(vmf->vma, vmf->address);

                for (i = 0; i < n; i++)
                        pfn_to_page(pfn + i)->index = pgoff + i;
        }
        """
    assert [d[:4] for d in scan(code)] == [(3, "PAGE_SIZE", "unknown", None)]
    # without the page-cache index, the PFN side decides
    alone = code.replace("->index = pgoff + i", "->private = 0")
    assert [d[:4] for d in scan(alone)] == [(3, "PAGE_SIZE", "pte", UNITS)]


def test_a_field_the_file_pins_user_pages_into_decides_nothing_elsewhere():
    code = """\
        static int map(struct bufmap *b, unsigned long uaddr)
        {
                return pin_user_pages_fast(uaddr, b->count, FOLL_WRITE, b->page_array);
        }

        static void copy_out(struct bufmap *b, struct iov_iter *iter, size_t size)
        {
                int i;

                for (i = 0; size; i++) {
                        size_t n = min_t(size_t, size, PAGE_SIZE);

                        n = copy_page_to_iter(b->page_array[i], 0, n, iter);
                        size -= n;
                }
        }
        """
    assert [d[2:4] for d in scan(code)] == [("unknown", None)]
    # the same copy from a field no GUP call of the file fills: pg
    other = code.replace("b->page_array);", "b->pinned);")
    assert [d[2:4] for d in scan(other)] == [("pg", UNITS)]


def test_a_length_mapped_with_an_allocated_page_is_pg_and_an_unknown_page_says_nothing():
    code = """\
        static dma_addr_t f(struct device *dev)
        {
                struct page *page = alloc_page(GFP_KERNEL);

                return dma_map_page(dev, page, 0, PAGE_SIZE, DMA_TO_DEVICE);
        }
        """
    assert [d[:4] for d in scan(code)] == [(5, "PAGE_SIZE", "pg", UNITS)]
    other = code.replace("alloc_page(GFP_KERNEL)", "pfn_to_page(fx_pfn)")
    assert [d[:4] for d in scan(other)] == [(5, "PAGE_SIZE", "unknown", None)]


def test_offset_in_page_beside_virt_to_page_is_pg():
    code = """\
        static dma_addr_t f(struct device *dev, struct sk_buff *skb, unsigned int len)
        {
                return dma_map_page(dev, virt_to_page(skb->data), offset_in_page(skb->data), len, 0);
        }
        """
    ((line, token, verdict, rule, reason),) = scan(code)
    assert (line, token, verdict, rule) == (3, "offset_in_page", "pg", UNITS)
    assert "virt_to_page(skb->data) in the same call" in reason
    other = code.replace("offset_in_page(skb->data)", "offset_in_page(skb->head)")
    assert "virt_to_page" not in scan(other)[0][4]
