"""A variable or parameter named as a function-like member of the family
(nand_base.c's `unsigned int offset_in_page`) is not a use of the macro:
the preprocessor expands offset_in_page only before a `(`. Such sites are
skipped with that reason, never renamed and never left `unknown`."""
from __future__ import annotations

from pgrewrite import api
from pgrewrite.output import to_document

SOURCE = """\
int nand_read_page_op(struct chip *chip, unsigned int offset_in_page, void *buf);

static int read_column(struct chip *chip, unsigned int offset_in_page, void *buf)
{
	if (offset_in_page >= chip->writesize)
		return -EINVAL;
	return chip->read(chip, offset_in_page, buf);
}

static void copy_part(struct page *page, char *dst, unsigned long addr)
{
	memcpy(dst, page_address(page) + offset_in_page(addr), 64);
}

static unsigned long local_name(unsigned long offset)
{
	loff_t offset_in_page;

	offset_in_page = offset % 4096;
	return offset_in_page + PAGE_SIZE;
}
"""


def verdicts(tmp_path, ruleset):
    (tmp_path / "nand.c").write_text(SOURCE)
    doc = to_document(api.scan_paths(["nand.c"], ruleset, use_cache=False, cwd=tmp_path, jobs=1))
    return [(s["line"], s["token"], s["verdict"], s["reason"]) for s in doc["sites"]]


def test_a_parameter_or_local_of_the_name_is_skipped_with_its_declaration(tmp_path, ruleset):
    got = verdicts(tmp_path, ruleset)
    skipped = {(line, reason) for line, token, verdict, reason in got
               if token == "offset_in_page" and verdict == "skipped"}
    assert {line for line, _ in skipped} == {1, 3, 5, 7, 17, 19, 20}
    assert all("a parameter or variable of the same name (declared on line" in r and "expanded only before a `(`" in r
               for _, r in skipped)
    assert "declared on line 1" in dict(skipped)[1]      # a prototype's parameter
    assert ("declared on line 3" in dict(skipped)[5]) and ("declared on line 17" in dict(skipped)[19])


def test_the_macro_itself_is_still_a_site_to_decide(tmp_path, ruleset):
    got = verdicts(tmp_path, ruleset)
    calls = [v for line, token, v, _ in got if line == 12 and token == "offset_in_page"]
    assert calls and calls[0] != "skipped"
    # a family constant beside the local is decided as before, not skipped
    assert [v for line, token, v, _ in got if token == "PAGE_SIZE"] != ["skipped"]
