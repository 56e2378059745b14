"""`apply` + the series' first patch == the series applied with `git am`.

The real engine and the real commands on a small git tree built here (the
tree of test_series.py, plus drivers that define new names privately): the
preparatory renames of private definitions come from one plan
(series.definitions.prepare) that `series` turns into patches, `apply` makes
in place and `scan` reports. Also: how to apply the series (the cover letter
has no diff, so a plain `git am DIR/*.patch` stops at it).
"""
from __future__ import annotations

import os
import re
import subprocess
from pathlib import Path

import pytest
from click.testing import CliRunner

from pgrewrite.cli import cli
from pgrewrite.edits import self_check
from pgrewrite.model import Edit

from .test_series import FILES, git, make_tree

PRIVATE = {
    # a private PG_SIZE in a .c file, next to a PAGE_SIZE use a rule decides (pg)
    "drivers/input/wdt.c": (
        "// SPDX-License-Identifier: GPL-2.0\n"
        "#include <linux/mm.h>\n"
        "\n"
        "#define PG_SIZE\t\t0x1000 /* one PG_SIZE flash page */\n"
        'static const char *msg = "PG_SIZE";\n'
        "\n"
        "int wdt_len(void) { return PG_SIZE; }\n"
        "\n"
        "void wdt_clear(struct page *page)\n"
        "{\n"
        "\tmemset(page_address(page), 0, PAGE_SIZE);\n"
        "}\n"),
    # a private PG_MASK in a driver header, used by the driver's .c file
    "drivers/net/moxa/moxa.h": "#define PG_MASK\t\t0xffff\n",
    "drivers/net/moxa/moxa.c": ('#include "moxa.h"\n'
                                "int moxa_len(int x) { return x & PG_MASK; }\n"),
    # x86's own PTE_SHIFT: blocked tree-wide, not private
    "arch/x86/include/asm/pgtable.h": "#define PTE_SHIFT ilog2(PTRS_PER_PTE)\n",
    "mm/shift.c": ("#include <linux/mm.h>\n"
                   "void zero(struct page *page)\n{\n"
                   "\tmemset(page_address(page), 0, PAGE_SIZE);\n}\n"),
}
PATHS = ["mm", "arch", "include"]       # drivers/ is not scanned, as in the real run


@pytest.fixture(autouse=True)
def isolated(monkeypatch, tmp_path):
    monkeypatch.setenv("GIT_CONFIG_GLOBAL", "/dev/null")
    monkeypatch.setenv("GIT_CONFIG_SYSTEM", "/dev/null")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))


def run(cwd: Path, monkeypatch, *args: str):
    monkeypatch.chdir(cwd)
    return CliRunner().invoke(cli, list(args), catch_exceptions=False)


def clone(tree: Path, to: Path) -> Path:
    git(to.parent, "clone", "-q", str(tree), str(to))
    git(to, "config", "user.name", "Ada Lovelace")
    git(to, "config", "user.email", "ada@example.org")
    return to


def tree_files(root: Path) -> dict[str, bytes]:
    out = {}
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames[:] = [d for d in dirnames if d != ".git"]
        for name in filenames:
            p = Path(dirpath, name)
            out[p.relative_to(root).as_posix()] = p.read_bytes()
    return out


def series(tree: Path, out: Path, monkeypatch, rules: Path | None = None):
    more = ["--rules", str(rules)] if rules is not None else []
    r = run(tree, monkeypatch, "series", *PATHS, "-o", str(out), "--no-get-maintainer", "-j", "1", *more)
    assert r.exit_code == 0, r.output
    return r, sorted(out.glob("*.patch"))


def first_patch(patches: list[Path]) -> Path:
    """The patch that introduces the new names (after the preparatory ones)."""
    return next(p for p in patches
                if re.search(r"^Subject: .*introduce PTE_\* and PG_\* names", p.read_text(), re.M))


def am_and_apply(tree: Path, tmp_path: Path, monkeypatch, patches, rules):
    """The series applied with git am, and apply run on another clone: both
    trees and apply's output; the caller compares them after its own checks."""
    am = clone(tree, tmp_path / "am")
    git(am, "am", "--empty=drop", *map(str, patches))
    assert git(am, "status", "--porcelain") == ""
    ap = clone(tree, tmp_path / "ap")
    r = run(ap, monkeypatch, "apply", *PATHS, "-j", "1", "--no-cache", "--rules", str(rules))
    assert r.exit_code == 0, r.output
    return am, ap, r


@pytest.mark.parametrize("extra", [{}, {"fs/other.c": "int o = PG_SIZE;\n"}],
                         ids=["private-renamed", "private-stays-blocked"])
def test_apply_plus_first_patch_equals_the_series(tmp_path, monkeypatch, extra, rules_without_clashes):
    # without clashes.yaml: x86's PTE_SHIFT blocks its name (see test_declared_clash_*)
    rules = rules_without_clashes
    tree = make_tree(tmp_path / "linux", {**FILES, **PRIVATE, **extra}, history=[])
    made, patches = series(tree, tmp_path / "out", monkeypatch, rules)

    am, ap, r = am_and_apply(tree, tmp_path, monkeypatch, patches, rules)
    # both count the renames, and the preparatory ones, the same way
    counted = re.search(r"cover letter on \w+: (.*)$", made.stderr, re.M).group(1)
    assert re.search(r"^summary: rewrote \d+ file\(s\) \((.*)\), refused 0$", r.output,
                     re.M).group(1) == counted
    assert "preparatory renames of existing definitions" in counted
    # and apply says the tree needs the names the series' first patch adds
    assert re.search(r"^note: the tree does not define .* yet, so it does not build until \w+ \w+ "
                     r"added: apply the patch `pgrewrite series` puts first", r.output, re.M)
    git(ap, "apply", str(first_patch(patches)))
    assert tree_files(ap) == tree_files(am)

    wdt = (am / "drivers/input/wdt.c").read_text()
    moxa_h = (am / "drivers/net/moxa/moxa.h").read_text()
    model = (am / "include/asm-generic/memory_model.h").read_text()
    if not extra:
        # renamed with every use (comments too, strings not); then PG_* defined
        assert "#define WDT_PG_SIZE\t\t0x1000 /* one WDT_PG_SIZE flash page */" in wdt
        assert 'msg = "PG_SIZE";' in wdt and "return WDT_PG_SIZE;" in wdt
        assert moxa_h == "#define MOXA_PG_MASK\t\t0xffff\n"
        assert "x & MOXA_PG_MASK;" in (am / "drivers/net/moxa/moxa.c").read_text()
        assert "#define PG_SIZE\tPAGE_SIZE" in model and "#define PG_MASK\tPAGE_MASK" in model
        assert "PG_SIZE);" in (am / "mm/shift.c").read_text()
        assert "rewrote ../../ap/drivers/input/wdt.c" not in r.output
        assert re.search(r"^rewrote drivers/input/wdt\.c: 3 rename\(s\) \(3 preparatory: "
                         r"PG_SIZE -> WDT_PG_SIZE\)$", r.output, re.M)
    else:
        # fs/other.c uses PG_SIZE outside the driver: wdt keeps its PG_SIZE,
        # no generic PG_SIZE, and nothing is renamed to PG_SIZE anywhere
        assert "#define PG_SIZE\t\t0x1000" in wdt and "PG_SIZE\t" not in model
        assert "PAGE_SIZE);" in (am / "mm/shift.c").read_text()
        assert moxa_h == "#define MOXA_PG_MASK\t\t0xffff\n"     # PG_MASK still freed
    # the private driver sites stay PAGE_SIZE: the scan skipped them (collision)
    assert "memset(page_address(page), 0, PAGE_SIZE);" in wdt
    assert "PTE_SHIFT\t" not in model                            # x86 owns it


def test_scan_reports_what_apply_and_series_do(tmp_path, monkeypatch, rules_without_clashes):
    rules = str(rules_without_clashes)
    files = {**FILES, **PRIVATE, "fs/other.c": "int o = PG_MASK;\n"}
    tree = make_tree(tmp_path / "linux", files, history=[])
    r = run(tree, monkeypatch, "scan", "drivers/input", "mm/shift.c", "--no-cache", "-j", "1", "--rules", rules)
    out = r.output
    # the renamed private definition is a note; the site it captures says why it waits
    assert ("note: drivers/input/wdt.c:4: PG_SIZE is defined privately with another meaning; "
            "apply and series first rename it to WDT_PG_SIZE in drivers/input/wdt.c, "
            "then define the generic PG_SIZE") in out
    assert re.search(r"^drivers/input/wdt\.c:11:\d+: skipped: PAGE_SIZE -> - \[[\w-]+\] name collision: "
                     r"PG_SIZE is already defined at drivers/input/wdt\.c:4 \(a private definition: "
                     r"apply and series first rename it to WDT_PG_SIZE; run again after that",
                     out, re.M), out
    assert re.search(r"^mm/shift\.c:4:\d+: pg: PAGE_SIZE -> PG_SIZE", out, re.M), out
    # PG_MASK cannot be renamed (fs/other.c): left out everywhere, as the series does
    assert "PG_MASK: private definition not renamed: PG_MASK is used in fs/other.c" in out

    # after apply, the site is free: a second run converts it (and series would)
    ap = clone(tree, tmp_path / "ap")
    r = run(ap, monkeypatch, "apply", "drivers/input", "--no-cache", "-j", "1", "--rules", rules)
    assert r.exit_code == 0, r.output
    r = run(ap, monkeypatch, "scan", "drivers/input", "--no-cache", "-j", "1", "--rules", rules)
    assert re.search(r"^drivers/input/wdt\.c:11:\d+: pg: PAGE_SIZE -> PG_SIZE", r.output, re.M), r.output
    assert "PG_SIZE is defined privately" not in r.output


def test_self_check_allows_only_the_planned_preparatory_renames(engine):
    old = b"#define PG_SIZE 4\nint a = PG_SIZE; /* PG_SIZE */\n"
    spans = [m.span() for m in re.finditer(rb"PG_SIZE", old)]
    edits = [Edit(s, e, "PG_SIZE", "WDT_PG_SIZE", None, "private") for s, e in spans]
    new = old.replace(b"PG_SIZE", b"WDT_PG_SIZE")
    assert self_check(old, new, edits, engine, "drivers/x.c", private={"PG_SIZE": "WDT_PG_SIZE"}) == []
    # not planned: refused, whatever the bytes
    problems = self_check(old, new, edits, engine, "drivers/x.c")
    assert any("not a planned preparatory rename" in p for p in problems)
    problems = self_check(old, new, edits, engine, "drivers/x.c", private={"PG_SIZE": "OTHER"})
    assert any("not a planned preparatory rename" in p for p in problems)
    # incomplete: a use left behind would be captured by the generic PG_SIZE
    partial = edits[:2]
    new_partial = old[:spans[2][0]].replace(b"PG_SIZE", b"WDT_PG_SIZE") + old[spans[2][0]:]
    problems = self_check(old, new_partial, partial, engine, "drivers/x.c",
                          private={"PG_SIZE": "WDT_PG_SIZE"})
    assert any("PG_SIZE is still used after its preparatory rename" in p for p in problems)
    # an edit of an unknown kind is never allowed
    odd = [Edit(spans[0][0], spans[0][1], "PG_SIZE", "WDT_PG_SIZE", None, "other")]
    problems = self_check(old, old.replace(b"PG_SIZE", b"WDT_PG_SIZE", 1), odd, engine, "drivers/x.c")
    assert any("unknown kind" in p for p in problems)


def test_series_says_how_to_git_am_it(tmp_path, monkeypatch):
    tree = make_tree(tmp_path / "linux", {**FILES, **PRIVATE}, history=[])
    out = tmp_path / "out"
    r, patches = series(tree, out, monkeypatch)
    lines = r.stderr.splitlines()
    assert f"apply with: git am --empty=drop {out}/*.patch" in lines
    assert any("stops at 0000-cover-letter.patch" in l and "Patch is empty" in l for l in lines)
    without = next(l for l in lines if "without the cover letter" in l).split(": ", 1)[1]

    # a plain `git am DIR/*.patch` does stop at the cover letter
    plain = clone(tree, tmp_path / "plain")
    proc = subprocess.run(f"git am {out}/*.patch", shell=True, cwd=plain,
                          capture_output=True, text=True)
    assert proc.returncode != 0 and "Patch is empty" in proc.stdout + proc.stderr

    # both printed commands apply the whole series, run as printed
    expected = None
    for name, command in (("drop", lines[lines.index(
            f"apply with: git am --empty=drop {out}/*.patch")].split(": ", 1)[1]),
                          ("skip", without)):
        c = clone(tree, tmp_path / name)
        proc = subprocess.run(command, shell=True, cwd=c, capture_output=True, text=True)
        assert proc.returncode == 0, proc.stdout + proc.stderr
        n = git(c, "rev-list", "--count", "origin/HEAD..HEAD").strip()
        assert int(n) == len(patches) - 1
        expected = expected or tree_files(c)
        assert tree_files(c) == expected


def test_readme_gives_the_git_am_command():
    readme = (Path(__file__).resolve().parent.parent / "README.md").read_text()
    assert "git am --empty=drop ../out/*.patch" in readme
    assert not re.search(r"git am (?!--empty=drop)\S*out/\*\.patch", readme.replace(
        "a plain `git am ../out/*.patch`", ""))
