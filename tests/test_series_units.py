"""Pure parts of the series: MAINTAINERS matching, prefixes, private renames."""
from __future__ import annotations

import pytest

from pgrewrite.series.build import SeriesError, splice
from pgrewrite.lex import rename_spans
from pgrewrite.series.definitions import Definition, _covers, _private_name
from pgrewrite.series.maintainers import Maintainers, parse
from pgrewrite.series.prefix import from_paths, from_patterns

MAINTAINERS = """\
Descriptions of section entries:

	F: *Files* and directories wildcard patterns.

GENERIC
M:	Gen Eric <gen@example.org>
F:	include/linux/
F:	mm/

MM DIRECTORY WITHOUT SLASH
M:	Dir Ectory <dir@example.org>
F:	mm/kasan

ONE FILE
M:	One File <one@example.org>
R:	Re Viewer <rev@example.org>
L:	list@example.org (moderated for non-subscribers)
F:	mm/vmalloc.c

GLOB
M:	Glob Star <glob@example.org>
F:	drivers/net/*/intel/
F:	include/linux/page*.h
X:	include/linux/pageblock-flags.h

REGEX
M:	Reg Ex <regex@example.org>
N:	hugetlb

THE REST
M:	Linus <linus@example.org>
L:	lkml@example.org
F:	*
F:	*/
"""


@pytest.fixture
def maint():
    dirs = {"mm/kasan", "mm", "include/linux"}
    return Maintainers(parse(MAINTAINERS), is_dir=lambda p: p in dirs)


def test_parse_skips_the_preamble_and_keeps_fields(maint):
    names = [e.name for e in maint.entries]
    assert names == ["GENERIC", "MM DIRECTORY WITHOUT SLASH", "ONE FILE", "GLOB", "REGEX",
                     "THE REST"]
    one = maint.entries[2]
    assert one.reviewers == ("Re Viewer <rev@example.org>",)
    assert one.lists == ("list@example.org (moderated for non-subscribers)",)


@pytest.mark.parametrize("path, entry", [
    ("mm/vmalloc.c", "ONE FILE"),                 # a file pattern beats its directory
    ("mm/kasan/init.c", "MM DIRECTORY WITHOUT SLASH"),   # an existing dir gets its slash
    ("mm/kasan.c", "GENERIC"),                    # ...and is not a prefix of kasan.c
    ("mm/slub.c", "GENERIC"),
    ("drivers/net/ethernet/intel/e1000.c", "GLOB"),
    ("include/linux/pagemap.h", "GLOB"),
    ("include/linux/pageblock-flags.h", "GENERIC"),     # X: excludes
    ("include/linux/sub/pagemap.h", "GENERIC"),         # a file glob stays at its depth
    ("mm/hugetlb.c", "GENERIC"),                  # N: matches, but only at depth 0
    ("fs/hugetlbfs/inode.c", "REGEX"),            # ... which beats THE REST's -1
    ("kernel/fork.c", "THE REST"),
])
def test_longest_match_wins(maint, path, entry):
    assert maint.best(path).name == entry


def test_recipients_follow_get_maintainer(maint):
    to, cc = maint.recipients(["mm/vmalloc.c"])
    assert to == ("One File <one@example.org>", "Gen Eric <gen@example.org>")
    assert cc == ("Re Viewer <rev@example.org>", "list@example.org",
                  "Linus <linus@example.org>", "lkml@example.org")
    assert maint.recipients(["kernel/fork.c"]) == (("Linus <linus@example.org>",),
                                                   ("lkml@example.org",))


@pytest.mark.parametrize("paths, prefix", [
    (["mm/vmalloc.c"], "mm/vmalloc"),
    (["mm/a.c", "mm/b.c"], "mm"),
    (["mm/a.c", "include/linux/mm.h", "mm/b.c"], "mm"),
    (["arch/x86/mm/init.c", "arch/x86/mm/pat/set_memory.c"], "x86/mm"),
    (["arch/x86/include/asm/pgtable.h", "arch/x86/mm/init.c"], "x86"),
    (["drivers/misc/pgdemo.c"], "misc/pgdemo"),
    (["include/linux/mm.h"], "mm"),
    (["include/trace/events/f2fs.h"], "f2fs"),
    (["a.c", "b.c"], "treewide"),
])
def test_prefix_from_paths(paths, prefix):
    assert from_paths(paths) == prefix


def test_prefix_from_patterns():
    assert from_patterns(["arch/x86/xen/", "arch/x86/include/asm/xen/", "arch/x86/pci/xen.c",
                          "Documentation/x86/"]) == "x86/xen"
    assert from_patterns(["mm/", "include/linux/mm.h", "include/linux/gfp.h",
                          "include/linux/mmzone.h"]) == "mm"
    assert from_patterns(["mm/hugetlb.c", "mm/hugetlb_vmemmap.c", "mm/hugetlb_vmemmap.h",
                          "include/linux/hugetlb.h"]) == "mm"
    assert from_patterns(["*", "*/"]) is None


def test_rename_spans_skip_strings_but_not_comments():
    data = b'#define PG_SIZE 4 /* PG_SIZE */\nx = PG_SIZE + PG_SIZEX; s = "PG_SIZE"; c = \'P\';\n'
    out = splice(data, rename_spans(data, "PG_SIZE", "FOO_PG_SIZE"))
    assert out == (b'#define FOO_PG_SIZE 4 /* FOO_PG_SIZE */\n'
                   b'x = FOO_PG_SIZE + PG_SIZEX; s = "PG_SIZE"; c = \'P\';\n')


def test_definition_scopes_and_private_names():
    x86 = Definition("arch/x86/include/asm/pgtable.h", 1, "PTE_SHIFT", "", False)
    drv = Definition("drivers/net/moxa/moxart_ether.h", 1, "PG_MASK", "", False)
    c = Definition("drivers/input/wdt87xx_i2c.c", 1, "PG_SIZE", "", False)
    assert (x86.scope, drv.scope, c.scope) == ("arch:x86", "local", "local")
    assert _covers(x86, "arch/x86/mm/init.c") and not _covers(x86, "arch/arm64/mm/init.c")
    assert _covers(drv, "drivers/net/moxa/moxart_ether.c") and not _covers(drv, "mm/a.c")
    assert _covers(c, c.path) and not _covers(c, "drivers/input/other.c")
    assert _private_name(c) == "WDT87XX_I2C_PG_SIZE"
    assert _private_name(drv) == "MOXART_ETHER_PG_MASK"


def test_splice_refuses_overlapping_edits():
    with pytest.raises(SeriesError):
        splice(b"abcdef", [(0, 3, b"x"), (2, 4, b"y")])


def test_subjects_of_one_prefix_get_the_part_of_their_paths_that_differs():
    from pgrewrite.series.subjects import distinct
    cpu = "arch/x86/kernel/cpu"
    got = distinct({
        "bugs": ("x86/kernel/cpu", (f"{cpu}/bugs.c",), "X86 ARCHITECTURE"),
        "mce": ("x86/kernel/cpu", (f"{cpu}/mce/core.c",), "X86 MCE INFRASTRUCTURE"),
        "sgx": ("x86/kernel/cpu", (f"{cpu}/sgx/encl.c", f"{cpu}/sgx/sgx.h"), "INTEL SGX"),
        "hugetlb": ("mm", ("include/linux/hugetlb.h", "mm/hugetlb.c"), "HUGETLB SUBSYSTEM"),
        "cache": ("mm", ("mm/filemap.c", "mm/readahead.c"), "PAGE CACHE"),
        "core": ("mm", ("mm/gup.c", "mm/memory.c"), "MEMORY MANAGEMENT"),
        "alone": ("x86/kvm", ("arch/x86/kvm/x86.c",), "KVM"),
    })
    assert got == {"bugs": ("x86/bugs", ""), "mce": ("x86/mce", ""), "sgx": ("x86/sgx", ""),
                   "hugetlb": ("mm/hugetlb", ""), "cache": ("mm", "PAGE CACHE"),
                   "core": ("mm", "MEMORY MANAGEMENT"), "alone": ("x86/kvm", "")}


def test_subjects_that_nothing_tells_apart_are_numbered():
    from pgrewrite.series.subjects import distinct
    got = distinct({1: ("mm", ("mm/a.c", "mm/b.c"), "E"), 2: ("mm", ("mm/c.c", "mm/d.c"), "E")})
    assert got == {1: ("mm", "E 1"), 2: ("mm", "E 2")}
