"""The mechanical series on a small git tree built here, with its own MAINTAINERS.

The engine is stood in for by `fake_scan`: every family token on a line gets the
verdict written in a trailing `/* pte:rule */`-style marker (no marker: unknown),
and `/* ident:old->new:rule */` declares an identifier rename in that file.
"""
from __future__ import annotations

import os
import re
import subprocess
from pathlib import Path

import pytest

from pgrewrite.model import Decision, Edit, FileResult, Site, Verdict
from pgrewrite.series import CollisionError, SeriesOptions, build_series
from pgrewrite.series.maintainers import Maintainers

SNAPSHOTS = Path(__file__).parent / "snapshots" / "series"
DATE = "1767225600 +0000"   # 2026-01-01
FAMILY = {"PAGE_SIZE": "SIZE", "PAGE_SHIFT": "SHIFT", "PAGE_MASK": "MASK",
          "PAGE_ALIGN": "ALIGN", "PAGE_ALIGN_DOWN": "ALIGN_DOWN", "PAGE_ALIGNED": "ALIGNED",
          "offset_in_page": None}
TOKEN = re.compile(r"\b(" + "|".join(sorted(FAMILY, key=len, reverse=True)) + r")\b")
MARK = re.compile(r"/\* (pte|pg|logic|conflict|skipped):([\w-]+) \*/")
IDENT = re.compile(r"/\* ident:(\w+)->(\w+):([\w-]+) \*/")


def replacement(token: str, meaning: str) -> str:
    if token == "offset_in_page":
        return f"offset_in_{meaning}"
    return f"{meaning.upper()}_{FAMILY[token]}"


def fake_scan(root: Path, paths: list[str], unknown_as: str | None = None) -> list[FileResult]:
    out = []
    for path in sorted(paths):
        data = (root / path).read_bytes()
        text = data.decode()
        decisions, edits = [], []
        offset = 0
        for lineno, line in enumerate(text.splitlines(keepends=True), 1):
            code = line.split("/*")[0]
            mark = MARK.search(line)
            for m in TOKEN.finditer(code):
                start = offset + m.start()
                site = Site(path, start, offset + m.end(), lineno, m.start() + 1, m.group(1))
                if mark:
                    verdict, rule = Verdict(mark.group(1)), mark.group(2)
                else:
                    verdict, rule = Verdict.UNKNOWN, None
                new = None
                if verdict in (Verdict.PTE, Verdict.PG):
                    new = replacement(m.group(1), str(verdict))
                    edits.append(Edit(site.start, site.end, m.group(1), new, rule,
                                      "family", str(verdict)))
                elif verdict == Verdict.UNKNOWN and unknown_as == "pg":
                    edits.append(Edit(site.start, site.end, m.group(1),
                                      replacement(m.group(1), "pg"), None, "family",
                                      "pg-default"))
                decisions.append(Decision(site, verdict, new, rule, f"because {rule}"))
            offset += len(line.encode())
        for m in IDENT.finditer(text):
            old, new, rule = m.groups()
            for occ in re.finditer(rf"\b{old}\b", text):
                if text.rfind("/*", 0, occ.start()) > text.rfind("*/", 0, occ.start()):
                    continue  # inside the marker comment
                edits.append(Edit(occ.start(), occ.end(), old, new, rule, "identifier", None))
        out.append(FileResult(path, tuple(decisions), tuple(sorted(edits)),
                              lexical_count=len(decisions)))
    return out


MAINTAINERS = """\
List of maintainers
===================

	M: *Mail* patches to: FullName <address@domain>

Maintainers List
----------------

MEMORY MANAGEMENT
M:	Andrew Morton <akpm@example.org>
L:	linux-mm@example.org
S:	Maintained
F:	include/asm-generic/memory_model.h
F:	include/linux/mm.h
F:	mm/

MEMORY MANAGEMENT - VMALLOC
M:	Uladzislau Rezki <urezki@example.org>
L:	linux-mm@example.org
S:	Maintained
F:	mm/vmalloc.c

X86 MM
M:	Dave Hansen <dave.hansen@example.org>
R:	Peter Zijlstra <peterz@example.org>
L:	x86@example.org
S:	Maintained
F:	arch/x86/mm/
X:	arch/x86/mm/pat/

X86 ARCHITECTURE
M:	Thomas Gleixner <tglx@example.org>
L:	x86@example.org
S:	Maintained
F:	arch/x86/

THE REST
M:	Linus Torvalds <torvalds@example.org>
L:	linux-kernel@example.org
S:	Buried alive in reporters
F:	*
F:	*/
"""

FILES = {
    "MAINTAINERS": MAINTAINERS,
    "include/asm-generic/memory_model.h": """\
/* SPDX-License-Identifier: GPL-2.0 */
#ifndef __ASM_MEMORY_MODEL_H
#define __ASM_MEMORY_MODEL_H

#include <linux/pfn.h>

#ifndef __ASSEMBLY__
#define __pfn_to_page(pfn)	(mem_map + (pfn))
#endif /* __ASSEMBLY__ */
#endif
""",
    "include/linux/mm.h": """\
/* SPDX-License-Identifier: GPL-2.0 */
#ifndef _LINUX_MM_H
#define _LINUX_MM_H

/* to align the pointer to the (next) page boundary */
#define PAGE_ALIGN(addr) ALIGN(addr, PAGE_SIZE)

/* to align the pointer to the (prev) page boundary */
#define PAGE_ALIGN_DOWN(addr) ALIGN_DOWN(addr, PAGE_SIZE)

/* test whether an address (unsigned long or pointer) is aligned to PAGE_SIZE */
#define PAGE_ALIGNED(addr)	IS_ALIGNED((unsigned long)(addr), PAGE_SIZE)

#define offset_in_page(p)	((unsigned long)(p) & ~PAGE_MASK)

#endif
""",
    "mm/vmalloc.c": """\
// SPDX-License-Identifier: GPL-2.0-only
#include <linux/mm.h>

static int vmap_pte_range(pte_t *pte, unsigned long addr, unsigned long end)
{
	do {
		set_pte_at(&init_mm, addr, pte, pfn_pte(0, PAGE_KERNEL));
	} while (pte++, addr += PAGE_SIZE, addr != end); /* pte:pte-walk-stride */
	return 0;
}

static void *vmap_pages(struct page **pages, unsigned int count)
{
	unsigned long size = count << PAGE_SHIFT; /* logic:pages-array-vs-pte */

	return alloc_area(PAGE_ALIGN(size)); /* pte:vmalloc-area */
}
""",
    "mm/page_alloc.c": """\
// SPDX-License-Identifier: GPL-2.0-only
#include <linux/mm.h>

void clear_one(struct page *page)
{
	memset(page_address(page), 0, PAGE_SIZE); /* pg:whole-page-content */
	if (offset_in_page(page_address(page))) /* pg:whole-page-content */
		BUG();
}

unsigned long guess(unsigned long x)
{
	return x & PAGE_MASK;
}
""",
    "arch/x86/mm/init.c": """\
// SPDX-License-Identifier: GPL-2.0
#include <linux/mm.h>

void flush_range(unsigned long start, unsigned long end)
{
	for (; start < end; start += PAGE_SIZE) /* pte:tlb-flush-stride */
		invlpg(start);
}
""",
    "arch/x86/mm/pat/set_memory.c": """\
// SPDX-License-Identifier: GPL-2.0-only
#include <linux/mm.h>

/* ident:nr->numpages:cpa-numpages */
int set_memory_x(unsigned long addr, int nr)
{
	return change_page_attr(addr, nr * PAGE_SIZE); /* pte:cpa-numpages */
}
""",
    "drivers/misc/pgdemo.c": """\
// SPDX-License-Identifier: GPL-2.0
#include <linux/mm.h>

static char buf[PAGE_SIZE]; /* pg:one-page-buffer */
""",
}

# (subject, {path: text appended}) committed after the import, oldest first
HISTORY = [
    ("mm/vmalloc: fix a comment", {"mm/vmalloc.c": "/* one */\n"}),
    ("mm/vmalloc: tidy up", {"mm/vmalloc.c": "/* two */\n"}),
    ("mm: page_alloc: unrelated", {"mm/page_alloc.c": "/* three */\n"}),
    ("mm: something else", {"mm/page_alloc.c": "/* four */\n", "mm/vmalloc.c": "/* five */\n"}),
    ("x86/mm: flush less", {"arch/x86/mm/init.c": "/* six */\n"}),
    ("x86/mm/pat: speed up", {"arch/x86/mm/pat/set_memory.c": "/* seven */\n"}),
    ("mm: memory model comment", {"include/asm-generic/memory_model.h": "/* eight */\n"}),
]

SCANNED = sorted(p for p in FILES if p.endswith(".c") or p.endswith(".h"))


def git(cwd: Path, *args: str, input: bytes | None = None) -> str:
    env = {**os.environ, "GIT_AUTHOR_DATE": DATE, "GIT_COMMITTER_DATE": DATE,
           "GIT_CONFIG_GLOBAL": "/dev/null", "GIT_CONFIG_SYSTEM": "/dev/null"}
    proc = subprocess.run(["git", *args], cwd=cwd, env=env, input=input,
                          capture_output=True, check=False)
    assert proc.returncode == 0, proc.stderr.decode()
    return proc.stdout.decode()


def make_tree(root: Path, files: dict[str, str] = FILES, history=HISTORY) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    git(root, "init", "-q", "-b", "master")
    git(root, "config", "user.name", "Ada Lovelace")
    git(root, "config", "user.email", "ada@example.org")
    for path, text in files.items():
        (root / path).parent.mkdir(parents=True, exist_ok=True)
        (root / path).write_text(text)
    git(root, "add", "-A")
    git(root, "commit", "-q", "-m", "Linux 6.12")
    for subject, changes in history:
        for path, extra in changes.items():
            with open(root / path, "a") as f:
                f.write(extra)
        git(root, "commit", "-q", "-am", subject)
    return root


@pytest.fixture(autouse=True)
def isolated_git(monkeypatch):
    monkeypatch.setenv("GIT_CONFIG_GLOBAL", "/dev/null")
    monkeypatch.setenv("GIT_CONFIG_SYSTEM", "/dev/null")


def normalise(text: str) -> str:
    text = re.sub(r"\b[0-9a-f]{40}\b", "<sha>", text)
    text = re.sub(r"^Date: .*$", "Date: <date>", text, flags=re.M)
    text = re.sub(r"^(index )[0-9a-f]+\.\.[0-9a-f]+", r"\1<blob>..<blob>", text, flags=re.M)
    return text


def series_text(report) -> str:
    parts = []
    for p in report.patches:
        parts.append(f"===== {p.path.name}\n{normalise(p.path.read_text())}")
    return "\n".join(parts)


def run_series(tree: Path, out: Path, unknown_as=None, **opts):
    results = fake_scan(tree, SCANNED, unknown_as=unknown_as)
    options = SeriesOptions(date=DATE, paths=("arch", "drivers", "include", "mm"),
                            command="pgrewrite series arch drivers include mm", **opts)
    return build_series(tree, results, out, options), results


def apply_edits(data: bytes, edits) -> bytes:
    """Independent of the series code: replace from the end backwards."""
    for e in sorted(edits, key=lambda e: e.start, reverse=True):
        assert data[e.start:e.end] == e.old.encode()
        data = data[:e.start] + e.new.encode() + data[e.end:]
    return data


@pytest.fixture
def tree(tmp_path):
    return make_tree(tmp_path / "linux")


def test_whole_series_snapshot(tree, tmp_path, snapshot):
    report, _ = run_series(tree, tmp_path / "out")
    snapshot.snapshot_dir = SNAPSHOTS
    snapshot.assert_match(series_text(report), "default.txt")


def test_series_applies_with_git_am_and_equals_rewrite(tree, tmp_path):
    status_before = git(tree, "status", "--porcelain")
    index_before = (tree / ".git" / "index").read_bytes()
    objects_before = git(tree, "count-objects", "-v")
    report, results = run_series(tree, tmp_path / "out")

    # the user's tree, index and object store are untouched
    assert git(tree, "status", "--porcelain") == status_before
    assert (tree / ".git" / "index").read_bytes() == index_before
    assert git(tree, "count-objects", "-v") == objects_before

    names = [p.path.name for p in report.patches]
    assert names[0] == "0000-cover-letter.patch"
    assert len(names) == 1 + 1 + 5   # cover, definitions, 5 subsystems

    clone = tmp_path / "clone"
    git(tmp_path, "clone", "-q", str(tree), str(clone))
    git(clone, "config", "user.name", "Ada Lovelace")
    git(clone, "config", "user.email", "ada@example.org")
    git(clone, "am", "-q", *[str(p.path) for p in report.patches[1:]])
    assert git(clone, "log", "--format=%s", f"{report.base_commit}..HEAD").count("\n") == 6
    assert git(clone, "status", "--porcelain") == ""

    # every renamed file equals the byte-exact rewrite of its scan result
    by_path = {r.path: r for r in results}
    for path in SCANNED:
        if path.startswith("include/"):
            continue
        expected = apply_edits((tree / path).read_bytes(), by_path[path].edits)
        assert (clone / path).read_bytes() == expected, path

    # the headers equal the first patch's version: aliases inserted, nothing renamed
    mm_h = (clone / "include/linux/mm.h").read_text()
    assert "#define PTE_ALIGN(addr)\tALIGN(addr, PTE_SIZE)" in mm_h
    assert "#define offset_in_pg(p)\t((unsigned long)(p) & ~PG_MASK)" in mm_h
    assert "#define PAGE_ALIGN(addr) ALIGN(addr, PAGE_SIZE)" in mm_h
    model = (clone / "include/asm-generic/memory_model.h").read_text()
    assert model.index("#define PTE_SHIFT\tPAGE_SHIFT") < model.index("#ifndef __ASSEMBLY__")
    diff_first = git(clone, "diff", "--stat", "--format=", f"{report.base_commit}", "HEAD~5")
    assert "include/linux/mm.h" in diff_first and "mm/vmalloc.c" not in diff_first


def test_each_patch_is_one_subsystem_and_renames_only(tree, tmp_path):
    report, _ = run_series(tree, tmp_path / "out")
    maint = Maintainers.from_tree(tree)
    for p in report.patches[2:]:
        assert len({maint.best(f).name for f in p.files}) == 1, p.files
        text = p.path.read_text()
        text = text[text.index("\ndiff --git"):text.rindex("\n-- \n")]
        minus = [l[1:] for l in text.splitlines() if l.startswith("-") and not l.startswith("---")]
        plus = [l[1:] for l in text.splitlines() if l.startswith("+") and not l.startswith("+++")]
        assert len(minus) == len(plus)
        for old, new in zip(minus, plus):
            # undoing the renames gives back the old line
            undone = re.sub(r"\b(PTE|PG)_(SIZE|SHIFT|MASK|ALIGN_DOWN|ALIGNED|ALIGN)\b",
                            r"PAGE_\2", new)
            undone = re.sub(r"\boffset_in_(pte|pg)\b", "offset_in_page", undone)
            undone = re.sub(r"(?<![-\w])numpages\b", "nr", undone)
            assert undone == old
    vmalloc = next(p for p in report.patches if p.files == ("mm/vmalloc.c",))
    assert vmalloc.subject == "mm/vmalloc: rename PAGE_* uses to PTE_*/PG_*"
    assert vmalloc.prefix_source == "history"
    # every matching entry's maintainers, deepest entry first; lists and THE REST in Cc
    assert vmalloc.to == ("Uladzislau Rezki <urezki@example.org>",
                          "Andrew Morton <akpm@example.org>")
    assert vmalloc.cc == ("linux-mm@example.org", "Linus Torvalds <torvalds@example.org>",
                          "linux-kernel@example.org")
    # the logic site is context at most, never a changed line
    assert " \tunsigned long size = count << PAGE_SHIFT;" in vmalloc.path.read_text()
    assert not re.search(r"^[-+].*count <<", vmalloc.path.read_text(), re.M)
    pat = next(p for p in report.patches if p.files == ("arch/x86/mm/pat/set_memory.c",))
    assert pat.subject.startswith("x86/mm/pat: ")
    assert pat.to == ("Thomas Gleixner <tglx@example.org>",)     # X: excludes X86 MM
    demo = next(p for p in report.patches if p.files == ("drivers/misc/pgdemo.c",))
    assert demo.to == ("Linus Torvalds <torvalds@example.org>",)  # nobody else: promoted
    demo = next(p for p in report.patches if p.files == ("drivers/misc/pgdemo.c",))
    assert demo.prefix_source == "path" and demo.subject.startswith("misc/pgdemo: ")


def test_commit_messages_wrap_at_75_and_are_signed(tree, tmp_path):
    report, _ = run_series(tree, tmp_path / "out")
    for p in report.patches[1:]:
        text = p.path.read_text()
        body = text.split("\n\n", 1)[1].split("\n---\n", 1)[0]
        assert all(len(l) <= 75 for l in body.splitlines()), p.path.name
        assert "Signed-off-by: Ada Lovelace <ada@example.org>" in body
        assert re.search(r"^Subject: \[PATCH \d/6\]", text, re.M)
    cover = report.patches[0].path.read_text()
    assert "*** " not in cover
    assert f"base-commit: {report.base_commit}" in cover
    assert "mm/vmalloc.c:14:" in cover and "pgrewrite scan --only logic" in cover
    assert re.search(r"^  logic\s+1$", cover, re.M)


def test_unknown_as_pg_goes_into_separate_unverified_patches(tree, tmp_path):
    report, results = run_series(tree, tmp_path / "out", unknown_as="pg")
    defaults = [p for p in report.patches if p.kind == "defaults"]
    rules = [p for p in report.patches if p.kind == "rules"]
    assert defaults and all("UNVERIFIED" in p.subject for p in defaults)
    assert report.patches[-len(defaults):] == tuple(defaults)   # after every rule patch
    for p in defaults:
        text = p.path.read_text()
        assert "UNVERIFIED DEFAULTS" in text
        assert not re.search(r"^\+.*PTE_", text, re.M)
    for p in rules:
        assert "UNVERIFIED" not in p.path.read_text()
    guess = next(p for p in defaults if "mm/page_alloc.c" in p.files)
    assert "+	return x & PG_MASK;" in guess.path.read_text()
    # the logic site is never renamed, whatever the option
    assert all("count << PG_SHIFT" not in p.path.read_text() for p in report.patches)


def test_only_pte_and_split_by_rule(tree, tmp_path):
    report, _ = run_series(tree, tmp_path / "out", only="pte", split_by="rule")
    subjects = [p.subject for p in report.patches[2:]]
    assert all("PTE_*" in s and "PG_*" not in s for s in subjects)
    assert not any(re.search(r"^\+.*\bPG_", p.path.read_text(), re.M)
                   for p in report.patches[2:])
    assert [p.files for p in report.patches[2:]] == [
        ("arch/x86/mm/pat/set_memory.c",),   # cpa-numpages
        ("mm/vmalloc.c",),                   # pte-walk-stride
        ("arch/x86/mm/init.c",),             # tlb-flush-stride
        ("mm/vmalloc.c",)]                   # vmalloc-area


def test_max_files_splits_into_numbered_parts(tmp_path):
    files = dict(FILES)
    for i in range(3):
        files[f"mm/extra{i}.c"] = f"int x{i} = PAGE_SIZE; /* pg:one-page-buffer */\n"
    tree = make_tree(tmp_path / "linux", files)
    results = fake_scan(tree, sorted(p for p in files if p.endswith((".c", ".h"))))
    report = build_series(tree, results, tmp_path / "out",
                          SeriesOptions(date=DATE, max_files=2, reroll_count=2))
    mm = [p for p in report.patches if "part" in p.subject]
    assert [p.subject.rsplit(" ", 1)[1] for p in mm] == ["1/2)", "2/2)"]
    assert all(len(p.files) <= 2 for p in mm)
    assert all(p.path.name.startswith("v2-") for p in report.patches)
    assert "[PATCH v2 0/" in report.patches[0].path.read_text()


def test_max_lines_counts_changed_lines_and_keeps_files_whole(tmp_path):
    files = dict(FILES)
    files["mm/big.c"] = "".join(f"int b{i} = PAGE_SIZE; /* pg:one-page-buffer */\n"
                                for i in range(5))
    files["mm/small.c"] = "int s = PAGE_SIZE; /* pg:one-page-buffer */\n"
    tree = make_tree(tmp_path / "linux", files)
    results = fake_scan(tree, sorted(p for p in files if p.endswith((".c", ".h"))))
    report = build_series(tree, results, tmp_path / "out",
                          SeriesOptions(date=DATE, max_lines=3))
    mm = [p for p in report.patches if p.subject.startswith("mm: rename")]
    # page_alloc.c (2 lines) | big.c (5 lines, alone although over 3) | small.c (1 line)
    # big.c (5 changed lines) is a part of its own although over 3; page_alloc.c (2)
    # and small.c (1) fill the next; the parts share the group's prefix
    assert [p.files for p in mm] == [("mm/big.c",), ("mm/page_alloc.c", "mm/small.c")]
    assert [p.subject for p in mm] == ["mm: rename PAGE_* uses to PTE_*/PG_* (part 1/2)",
                                       "mm: rename PAGE_* uses to PTE_*/PG_* (part 2/2)"]


COLLIDING = {
    # x86's PTE_SHIFT: index bits of a page table, seen by all code built for x86
    "arch/x86/include/asm/pgtable.h": "#define PTE_SHIFT ilog2(PTRS_PER_PTE)\n",
    # a driver's private PG_SIZE, and a compatible (identical) PTE_MASK
    "drivers/input/wdt.c": ('#define PG_SIZE\t\t0x1000 /* one PG_SIZE chunk */\n'
                            'static const char *msg = "PG_SIZE";\n'
                            'int wdt_len(void) { return PG_SIZE; }\n'),
    "arch/sh/include/asm/page.h": "#define PTE_MASK\tPAGE_MASK\n",
    "mm/shift.c": "int s = PAGE_SHIFT; /* pte:pfn-shift */\nint z = PAGE_SIZE; /* pg:one-page-buffer */\n",
}


def test_colliding_names_are_left_out_and_reported(tmp_path):
    tree = make_tree(tmp_path / "linux", {**FILES, **COLLIDING})
    results = fake_scan(tree, SCANNED + ["mm/shift.c"])
    report = build_series(tree, results, tmp_path / "out",
                          SeriesOptions(date=DATE, collisions="leave-out"))
    assert sorted(report.blocked) == ["PG_SIZE", "PTE_SHIFT"]
    assert [d.scope for d in report.blocked["PTE_SHIFT"]] == ["arch:x86"]
    all_text = "".join(p.path.read_text() for p in report.patches[1:])
    assert not re.search(r"^\+.*\b(PTE_SHIFT|PG_SIZE)\b", all_text, re.M)
    assert re.search(r"^\+.*\bPTE_MASK\b", all_text, re.M)        # compatible: still defined
    left = {(lo.path, lo.new) for lo in report.left_out}
    assert ("mm/shift.c", "PTE_SHIFT") in left and ("drivers/misc/pgdemo.c", "PG_SIZE") in left
    cover = report.patches[0].path.read_text()
    assert "arch/x86/include/asm/pgtable.h:1" in cover
    assert "PTE_SHIFT (1 renames left out)" in cover
    assert any("PTE_SHIFT" in n for n in report.notes)
    # both of mm/shift.c's renames produce a blocked name: the file is not in the series
    assert all("mm/shift.c" not in p.files for p in report.patches)


def test_private_definitions_are_renamed_first(tmp_path, snapshot):
    tree = make_tree(tmp_path / "linux", {**FILES, **COLLIDING})
    results = fake_scan(tree, SCANNED + ["mm/shift.c"])
    report = build_series(tree, results, tmp_path / "out", SeriesOptions(date=DATE))
    snapshot.snapshot_dir = SNAPSHOTS
    snapshot.assert_match(series_text(report), "collisions.txt")
    assert sorted(report.blocked) == ["PTE_SHIFT"]          # arch-wide: still left out
    assert [(r.definition.path, r.new_name, r.files) for r in report.local_renames] == [
        ("drivers/input/wdt.c", "WDT_PG_SIZE", ("drivers/input/wdt.c",))]
    kinds = [p.kind for p in report.patches]
    assert kinds[:3] == ["cover", "prep", "definitions"]
    assert report.patches[1].subject == "input/wdt: rename PG_SIZE to WDT_PG_SIZE"
    defs = report.patches[2].path.read_text()
    assert "+#define PG_SIZE\tPAGE_SIZE" in defs and "PTE_SHIFT\t" not in defs
    pgdemo = next(p for p in report.patches if "drivers/misc/pgdemo.c" in p.files)
    assert "+static char buf[PG_SIZE];" in pgdemo.path.read_text()
    cover = report.patches[0].path.read_text()
    assert "Patch 1 renames private macros" in cover and "Patch 2 introduces" in cover

    clone = tmp_path / "clone"
    git(tmp_path, "clone", "-q", str(tree), str(clone))
    git(clone, "-c", "user.name=A", "-c", "user.email=a@example.org", "am", "-q",
        *[str(p.path) for p in report.patches[1:]])
    assert (clone / "drivers/input/wdt.c").read_text() == (
        '#define WDT_PG_SIZE\t\t0x1000 /* one WDT_PG_SIZE chunk */\n'
        'static const char *msg = "PG_SIZE";\n'          # strings are text, not the macro
        'int wdt_len(void) { return WDT_PG_SIZE; }\n')
    assert (clone / "mm/shift.c").read_text().startswith("int s = PAGE_SHIFT;")
    assert "int z = PG_SIZE;" in (clone / "mm/shift.c").read_text()


def test_private_definition_used_elsewhere_stays_blocked(tmp_path):
    files = {**FILES, **COLLIDING, "fs/other.c": "int o = PG_SIZE;\n"}
    tree = make_tree(tmp_path / "linux", files)
    report = build_series(tree, fake_scan(tree, SCANNED), tmp_path / "out",
                          SeriesOptions(date=DATE))
    assert sorted(report.blocked) == ["PG_SIZE", "PTE_SHIFT"]
    assert report.local_renames == ()
    assert "fs/other.c, which no definition covers" in " ".join(
        n.strip() for n in report.notes)


def test_colliding_names_refused_on_request(tmp_path):
    tree = make_tree(tmp_path / "linux", {**FILES, **COLLIDING})
    results = fake_scan(tree, SCANNED)
    with pytest.raises(CollisionError) as exc:
        build_series(tree, results, tmp_path / "out",
                     SeriesOptions(date=DATE, collisions="refuse"))
    msg = str(exc.value)
    assert "arch/x86/include/asm/pgtable.h:1: #define PTE_SHIFT ilog2(PTRS_PER_PTE)" in msg
    assert "generic code" in msg and "rename that definition first" in msg
    assert "PTE_MASK" not in msg
    assert not (tmp_path / "out").exists()


def test_files_with_their_own_page_size_are_left_out(tmp_path):
    files = {**FILES, "include/linux/raid/pq.h": (
        "#ifndef __KERNEL__\n# define PAGE_SIZE 4096\n#endif\n"
        "# define free_pages(x, y) munmap((void *)(x), PAGE_SIZE << (y)) /* pg:pg-order */\n")}
    tree = make_tree(tmp_path / "linux", files)
    results = fake_scan(tree, SCANNED + ["include/linux/raid/pq.h"])
    report = build_series(tree, results, tmp_path / "out", SeriesOptions(date=DATE))
    assert all("include/linux/raid/pq.h" not in p.files for p in report.patches)
    assert [(lo.path, lo.new) for lo in report.left_out] == [("include/linux/raid/pq.h", "PG_SIZE")]
    assert any("defines PAGE_* itself" in n for n in report.notes)


def test_dirty_work_tree_is_refused(tree, tmp_path):
    with open(tree / "mm/vmalloc.c", "a") as f:
        f.write("/* local change */\n")
    results = fake_scan(tree, SCANNED)
    with pytest.raises(Exception, match="work tree differs"):
        build_series(tree, results, tmp_path / "out", SeriesOptions(date=DATE))
