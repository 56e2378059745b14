"""The summary says what parse errors cost: the sites in regions tree-sitter
could not parse, not only how many files have some parse error."""
from __future__ import annotations

from pgrewrite import api
from pgrewrite.output import render_summary, to_document


def test_the_summary_counts_sites_in_unparsed_regions(tmp_path, ruleset):
    (tmp_path / "broken.c").write_text(
        "int ok(void) { return PAGE_SIZE; }\n"
        "int bad(void) { return PAGE_SIZE +* ; ) }\n")
    (tmp_path / "fine.c").write_text("int f(void) { return PAGE_SHIFT; }\n")
    result = api.scan_paths(["broken.c", "fine.c"], ruleset, use_cache=False, cwd=tmp_path, jobs=1)
    doc = to_document(result)
    in_errors = sum(1 for s in doc["sites"] if "could not parse" in s["reason"])
    assert in_errors == 1
    assert (doc["summary"]["sites_in_parse_errors"], doc["summary"]["files_with_parse_errors"]) == (1, 1)
    assert ("summary: 1 sites in regions tree-sitter could not parse (1 files have some parse "
            "error), 0 files failed, accounting difference 0") in render_summary(doc)
