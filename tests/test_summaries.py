"""Function summaries (pgrewrite/summaries.py): units across the calls
between one file's functions. Each step and refusal has a fixture in
fixtures/units/ (snapshots); these tests pin what the fixtures cannot show:
the file's kind, bodies left out of the parse, and that facts never cross
files."""
from __future__ import annotations

import json
import textwrap

from click.testing import CliRunner

from pgrewrite import api, store
from pgrewrite.classify import UNITS
from pgrewrite.cli import cli

from .test_inference import verdicts

CALLEE = """\
static size_t fx_shift(unsigned long n)
{
        return n << PAGE_SHIFT;
}

static size_t fx_caller(struct folio *folio)
{
        return fx_shift(folio_nr_pages(folio));
}
"""


def test_a_static_function_takes_its_callers_unit():
    assert verdicts(CALLEE) == [(3, "PAGE_SHIFT", "pg", UNITS)]


def test_a_header_static_function_is_not_file_local():
    # every file that includes the header may call it with another unit
    assert verdicts(CALLEE, path="include/linux/x.h") == [(3, "PAGE_SHIFT", "unknown", None)]


def test_the_chain_names_the_function_and_the_call():
    r = api.scan_bytes("mm/x.c", CALLEE.encode(), api.load_rules())
    (d,) = r.decisions
    assert "n is argument 1 of fx_shift(), its one call passes folio_nr_pages(folio) (line 8)" in d.reason


def test_a_callee_body_left_out_of_the_parse_is_read_again():
    # no family name in fx_len's body: the file's tree leaves it out
    # (sites._parse); its sink is found all the same, with the file's lines
    code = """\
        static void fx_len(struct page *page, size_t len)
        {
                void *kaddr = kmap_local_page(page);

                memset(kaddr, 0, len);
        }

        static void fx_call(struct page *page)
        {
                fx_len(page, PAGE_SIZE);
        }
        """
    r = api.scan_bytes("mm/x.c", textwrap.dedent(code).encode(), api.load_rules())
    (d,) = r.decisions
    assert d.verdict.value == "pg" and d.rule == UNITS
    assert "passed to fx_len() argument 2 (line 10), its len (line 5)" in d.reason
    assert "kaddr = kmap_local_page(page) (line 3)" in d.reason


def test_a_call_in_a_body_left_out_of_the_parse_counts_as_a_caller():
    # fx_other passes a PFN; its body holds no family name, so it is only
    # read when fx_shift's callers are asked for: they disagree
    code = CALLEE + """
static size_t fx_other(struct page *page)
{
        return fx_shift(page_to_pfn(page));
}
"""
    assert verdicts(code) == [(3, "PAGE_SHIFT", "unknown", None)]


def test_an_address_taken_in_an_initializer_left_out_of_the_parse_refuses():
    code = CALLEE + "\nstatic const struct fx_ops ops = {\n        .size = fx_shift,\n};\n"
    assert verdicts(code) == [(3, "PAGE_SHIFT", "unknown", None)]


def test_summaries_never_cross_files():
    # the callee is in another file: nothing is known of its parameter
    callee = "static size_t fx_shift(unsigned long n)\n{\n        return n << PAGE_SHIFT;\n}\n"
    assert verdicts(callee) == [(3, "PAGE_SHIFT", "unknown", None)]


def test_a_cached_verdict_follows_an_edit_of_another_function(tmp_path, monkeypatch):
    # the site's verdict depends on its caller, elsewhere in the same file:
    # the file's bytes are its cache key, so editing the caller is a miss
    monkeypatch.setattr(store, "STALE_NS", 0)      # trust brand-new files at once
    monkeypatch.chdir(tmp_path)
    (tmp_path / "mm").mkdir()
    f = tmp_path / "mm" / "x.c"
    cache_dir = tmp_path / "cache"

    def scan() -> list[str]:
        r = CliRunner().invoke(cli, ["scan", ".", "--format", "json", "--cache-dir", str(cache_dir)],
                               catch_exceptions=False)
        return [s["verdict"] for s in json.loads(r.stdout)["sites"]]

    f.write_text(CALLEE)
    assert scan() == ["pg"] and scan() == ["pg"]            # the second from the cache
    f.write_text(CALLEE.replace("folio_nr_pages(folio)", "page_to_pfn(&folio->page)"))
    assert scan() == ["pte"]
