"""`pgrewrite check PATCH...` and `pgrewrite scan --diff BASE` on a small
tree and patches written for these tests (tests/data/check/):

- pte-walker.patch adds a page-table walker (a PTE rename),
- sysfs-show.patch adds a sysfs show() (a PG rename),
- page-array-loop.patch adds a user-address/page-array loop (unknown, in the
  page-array-walk review area: a person decides),
- move-only.patch only moves a function (nothing new).

Also: stdin and mbox input, --fix (the corrected patches still apply, a
series included), the exit codes, the formats, and bad input (one error
line each, never a traceback, the other patches still checked).
"""
from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest
from click.testing import CliRunner

from pgrewrite.cli import cli

DATA = Path(__file__).parent / "data" / "check"
SNAPSHOTS = Path(__file__).parent / "snapshots" / "check"
FIXTURES = {"pte-walker": 6, "sysfs-show": 6, "page-array-loop": 7, "move-only": 0}


def git(cwd: Path, *args: str) -> str:
    return subprocess.run(["git", *args], cwd=cwd, check=True, capture_output=True, text=True).stdout


@pytest.fixture(autouse=True)
def isolated(monkeypatch, tmp_path):
    monkeypatch.setenv("GIT_CONFIG_GLOBAL", "/dev/null")
    monkeypatch.setenv("GIT_CONFIG_SYSTEM", "/dev/null")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))


@pytest.fixture
def tree(tmp_path) -> Path:
    """The fixtures' tree as a git repository, with the patches beside it in p/."""
    t = tmp_path / "linux"
    shutil.copytree(DATA / "tree", t)
    git(t, "init", "-q")
    git(t, "config", "user.name", "Ann Author")
    git(t, "config", "user.email", "ann@example.org")
    git(t, "add", "-A")
    git(t, "commit", "-qm", "base")
    shutil.copytree(DATA, tmp_path / "p", ignore=shutil.ignore_patterns("tree"))
    return t


def run(tree: Path, monkeypatch, *args: str, input: bytes | None = None):
    monkeypatch.chdir(tree)
    return CliRunner().invoke(cli, list(args), input=input, catch_exceptions=False)


def findings(tree, monkeypatch, *args):
    r = run(tree, monkeypatch, "check", "--format", "json", *args)
    return r.exit_code, json.loads(r.stdout)


@pytest.mark.parametrize("name", FIXTURES)
def test_each_fixture_is_reported_as_checkpatch_would(tree, monkeypatch, snapshot, name):
    r = run(tree, monkeypatch, "check", f"../p/{name}.patch")
    assert r.exit_code == FIXTURES[name], r.output
    assert r.stderr == ""
    snapshot.snapshot_dir = SNAPSHOTS
    snapshot.assert_match(r.stdout, f"{name}.txt")


def test_the_verdicts_and_lines_are_those_of_the_added_lines(tree, monkeypatch):
    expect = {"pte-walker": ("pte", "PTE_SIZE", "mm/walk.c"),
              "sysfs-show": ("pg", "PG_SIZE", "drivers/misc/foo.c"),
              "page-array-loop": ("unknown", None, "mm/util.c")}
    for name, (verdict, replacement, path) in expect.items():
        code, doc = findings(tree, monkeypatch, f"../p/{name}.patch")
        [f] = doc["findings"]
        assert (f["verdict"], f["replacement"], f["path"]) == (verdict, replacement, path)
        patch_lines = (tree.parent / "p" / f"{name}.patch").read_bytes().split(b"\n")
        line = patch_lines[f["patch_line"] - 1]
        # the line named is an added line, holding the token at the column named
        assert line.startswith(b"+")
        assert line[f["col"]:f["col"] + len(f["token"])] == f["token"].encode()
        assert f["needs_person"] == (verdict not in ("pte", "pg"))
        assert f["subject"].startswith("[PATCH")


def test_a_moved_use_is_new_once_its_line_changes(tree, monkeypatch):
    code, doc = findings(tree, monkeypatch, "../p/move-only.patch")
    assert (code, doc["findings"], doc["summary"]["moved"]) == (0, [], 1)
    p = tree.parent / "p" / "move-only.patch"
    text = p.read_text()
    assert text.count("+\tmemset(k, 0, PAGE_SIZE);") == 1
    p.write_text(text.replace("+\tmemset(k, 0, PAGE_SIZE);", "+\tmemset(k, 1, PAGE_SIZE);"))
    code, doc = findings(tree, monkeypatch, "../p/move-only.patch")
    assert code == 6
    assert [(f["verdict"], f["replacement"]) for f in doc["findings"]] == [("pg", "PG_SIZE")]
    assert doc["summary"]["moved"] == 0


def test_a_series_applies_in_order_and_an_mbox_names_its_own_lines(tree, monkeypatch):
    names = ["pte-walker", "sysfs-show", "page-array-loop"]
    code, doc = findings(tree, monkeypatch, *[f"../p/{n}.patch" for n in names])
    assert code == 7
    assert [f["verdict"] for f in doc["findings"]] == ["pte", "pg", "unknown"]
    assert doc["summary"]["patches"] == 3
    mbox = tree.parent / "p" / "series.mbox"
    mbox.write_bytes(b"".join((tree.parent / "p" / f"{n}.patch").read_bytes() for n in names))
    code, mdoc = findings(tree, monkeypatch, "../p/series.mbox")
    assert code == 7 and mdoc["summary"]["patches"] == 3
    lines = mbox.read_bytes().split(b"\n")
    for f, single in zip(mdoc["findings"], doc["findings"]):
        assert f["patch"] == "../p/series.mbox"
        assert lines[f["patch_line"] - 1] == (tree.parent / "p" / f"{single['patch'][5:]}").read_bytes().split(b"\n")[single["patch_line"] - 1]
    assert mdoc["findings"][2]["patch_line"] > doc["findings"][2]["patch_line"]


def test_a_plain_diff_on_stdin(tree, monkeypatch):
    patch = (tree.parent / "p" / "pte-walker.patch").read_text()
    diff = patch[patch.index("diff --git"):patch.index("\n-- \n") + 1]
    r = run(tree, monkeypatch, "check", "-", input=diff.encode())
    assert r.exit_code == 6, r.output
    assert r.stdout.startswith("stdin:13: WARNING: PAGE_SIZE: use PTE_SIZE (page-table granularity): "
                               "[pte-walker-addr-step] ")
    # nothing was written to the tree
    assert git(tree, "status", "--porcelain") == ""


def test_nothing_found_exits_0(tree, monkeypatch):
    diff = ("--- a/mm/walk.c\n+++ b/mm/walk.c\n@@ -1,2 +1,3 @@\n // SPDX-License-Identifier: GPL-2.0\n"
            "+/* PAGE_SIZE in a comment is no use */\n /* A miniature page-table walker, written for pgrewrite's check tests. */\n")
    r = run(tree, monkeypatch, "check", "-", input=diff.encode())
    assert r.exit_code == 0, r.output
    assert r.stdout == ("total: 0 new use(s) of the PAGE_* family in 1 patch(es): 0 rename(s) suggested, "
                        "0 for a person to decide\n")


def test_json_and_sarif(tree, monkeypatch):
    code, doc = findings(tree, monkeypatch, "../p/sysfs-show.patch", "../p/page-array-loop.patch")
    assert doc["summary"] | {} == {"checked": "2 patch(es)", "patches": 2, "findings": 2, "renames": 1,
                                  "for_person": 1, "moved": 0, "errors": 0, "files_failed": 0,
                                  "accounting_difference": 0}
    r = run(tree, monkeypatch, "check", "--format", "sarif", "../p/sysfs-show.patch", "../p/page-array-loop.patch")
    assert r.exit_code == 7
    log = json.loads(r.stdout)
    results = log["runs"][0]["results"]
    assert [(x["ruleId"], x["level"], x["properties"]["patch"]) for x in results] == [
        ("pg-sysfs-show-buf", "note", "../p/sysfs-show.patch"),
        ("pgrewrite/unknown", "warning", "../p/page-array-loop.patch")]
    assert results[0]["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] == "drivers/misc/foo.c"
    assert results[0]["properties"]["patchLine"] == doc["findings"][0]["patch_line"]
    assert results[0]["fixes"][0]["artifactChanges"][0]["replacements"][0]["insertedContent"]["text"] == "PG_SIZE"


# ------------------------------------------------------------------ --fix

def test_fix_writes_patches_that_still_apply(tree, monkeypatch):
    # move-only and page-array-loop both end mm/util.c: they do not apply together
    names = ["move-only", "pte-walker", "sysfs-show"]
    args = [f"../p/{n}.patch" for n in names]
    r = run(tree, monkeypatch, "check", "--fix", *args)
    assert r.exit_code == 6, r.output
    fixed = [tree.parent / "p" / f"{n}.patch.fixed" for n in names]
    assert all(f.exists() for f in fixed)
    # the renames were made in the added lines, and nothing else changed
    old = (tree.parent / "p" / "pte-walker.patch").read_bytes()
    new = fixed[1].read_bytes()
    assert new == old.replace(b"+\tfor (; addr != end; pte++, addr += PAGE_SIZE)",
                              b"+\tfor (; addr != end; pte++, addr += PTE_SIZE)")
    assert new != old
    assert fixed[0].read_bytes() == (tree.parent / "p" / "move-only.patch").read_bytes()
    git(tree, "am", *map(str, fixed))
    assert "addr += PTE_SIZE)\n\t\tset_pte_at" in (tree / "mm" / "walk.c").read_text()
    assert "scnprintf(buf, PG_SIZE, " in (tree / "drivers" / "misc" / "foo.c").read_text()


def test_fix_keeps_a_series_applicable_when_a_later_patch_shows_a_fixed_line(tree, monkeypatch):
    git(tree, "am", str(tree.parent / "p" / "pte-walker.patch"))
    walk = tree / "mm" / "walk.c"
    walk.write_text(walk.read_text().replace("set_pte_at(mm, addr, pte, entry);",
                                             "set_pte_at(mm, addr, pte, pte_mkold(entry));"))
    git(tree, "commit", "-qam", "mm/walk: set old entries")
    out = tree.parent / "series"
    git(tree, "format-patch", "-q", "-2", "-o", str(out))
    patches = sorted(out.glob("*.patch"))
    assert b" \tfor (; addr != end; pte++, addr += PAGE_SIZE)" in patches[1].read_bytes()   # context
    git(tree, "reset", "-q", "--hard", "HEAD~2")
    r = run(tree, monkeypatch, "check", "--fix", *map(str, patches))
    assert r.exit_code == 6, r.output
    second = Path(f"{patches[1]}.fixed").read_bytes()
    assert b" \tfor (; addr != end; pte++, addr += PTE_SIZE)" in second
    git(tree, "am", *[f"{p}.fixed" for p in patches])
    assert "addr += PTE_SIZE)\n\t\tset_pte_at(mm, addr, pte, pte_mkold(entry));" in walk.read_text()


def test_fix_refuses_stdin(tree, monkeypatch):
    r = run(tree, monkeypatch, "check", "--fix", "-", input=b"")
    assert r.exit_code == 2
    assert "save the diff on standard input to a file" in r.output


# ------------------------------------------------------------------ scan --diff

def test_scan_diff_reports_committed_and_uncommitted_changes(tree, monkeypatch):
    git(tree, "am", str(tree.parent / "p" / "sysfs-show.patch"))
    git(tree, "apply", str(tree.parent / "p" / "pte-walker.patch"))        # not committed
    r = run(tree, monkeypatch, "scan", "--diff", "HEAD~1")
    assert r.exit_code == 6, r.output
    assert r.stdout.splitlines() == [
        "drivers/misc/foo.c:15:24: WARNING: PAGE_SIZE: use PG_SIZE (allocation granularity): [pg-sysfs-show-buf] "
        "the buffer of a sysfs show() (and of similar one-page text callbacks) is one allocated page",
        "mm/walk.c:24:37: WARNING: PAGE_SIZE: use PTE_SIZE (page-table granularity): [pte-walker-addr-step] "
        "the address advances by one PTE per step of a page-table walk",
        "total: 2 new use(s) of the PAGE_* family in the changes since HEAD~1: 2 rename(s) suggested, "
        "0 for a person to decide"]
    # PATHS limit the diff
    r = run(tree, monkeypatch, "scan", "--diff", "HEAD~1", "--format", "json", "mm")
    assert [f["path"] for f in json.loads(r.stdout)["findings"]] == ["mm/walk.c"]
    # a moved use is not new there either
    git(tree, "checkout", "-q", ".")
    git(tree, "apply", str(tree.parent / "p" / "move-only.patch"))
    r = run(tree, monkeypatch, "scan", "--diff", "HEAD", "--format", "json")
    assert (r.exit_code, json.loads(r.stdout)["summary"]["moved"]) == (0, 1)


def test_scan_diff_errors(tree, monkeypatch):
    r = run(tree, monkeypatch, "scan", "--diff", "no-such-rev")
    assert r.exit_code == 4
    assert r.stderr.startswith("error: git diff no-such-rev: ")
    assert len(r.stderr.splitlines()) == 1
    r = run(tree, monkeypatch, "scan", "--diff", "HEAD", "--format", "html")
    assert r.exit_code == 2
    r = run(tree, monkeypatch, "scan")
    assert r.exit_code == 2 and "give the PATHS to scan" in r.output


# ------------------------------------------------------------------ bad input

BINARY_C = b"""diff --git a/mm/walk.c b/mm/walk.c
index 1111111..2222222 100644
GIT binary patch
literal 2
JcmZQz1ONa700IC2

literal 0
HcmV?d00001

"""


def bad_inputs(tree: Path) -> dict[str, tuple[bytes, str]]:
    good = (tree.parent / "p" / "pte-walker.patch").read_bytes()
    return {
        "does-not-apply": (good.replace(b" \treturn n;", b" \treturn n + 1;"),
                           "does-not-apply.patch:"),
        "empty": (b"", "does-not-apply.patch:"),
        "not-a-patch": (b"Hello,\nplease find my changes attached.\n", ""),
        "binary": (BINARY_C, ""),
        "dotdot": (good.replace(b"a/mm/walk.c", b"a/../walk.c"), ""),
        "absolute": (b"--- /etc/walk.c\n+++ /etc/walk.c\n" + good[good.index(b"@@ -17"):], ""),
        "truncated": (good[:good.index(b"+\t\tset_pte_at")], ""),
        "missing-file": (good.replace(b"mm/walk.c", b"mm/nowhere.c"), ""),
    }


EXPECTED_ERRORS = {
    "does-not-apply": "error: ../p/does-not-apply.patch:14: does not apply: mm/walk.c: hunk at old line 17 does not "
                      "match the file there or near it (is the tree at the commit the patch is based on?)",
    "empty": "error: ../p/empty.patch: empty: no patch in it",
    "not-a-patch": "error: ../p/not-a-patch.patch: no unified diff in it (not a patch, or only a cover letter)",
    "binary": "error: ../p/binary.patch:1: binary patch for mm/walk.c: a source file changed as binary "
              "data cannot be checked",
    "dotdot": "error: ../p/dotdot.patch:10: path a/../walk.c leaves the tree or names no file; refused",
    "absolute": "error: ../p/absolute.patch:1: absolute path /etc/walk.c: a patch names files inside the tree; refused",
    "truncated": "error: ../p/truncated.patch:22: malformed diff: Hunk is shorter than expected",
    "missing-file": "error: ../p/missing-file.patch:10: does not apply: mm/nowhere.c: no such file in the tree",
}


@pytest.mark.parametrize("case", EXPECTED_ERRORS)
def test_bad_input_gets_one_error_line_and_the_rest_is_checked(tree, monkeypatch, case):
    data, _ = bad_inputs(tree)[case]
    (tree.parent / "p" / f"{case}.patch").write_bytes(data)
    r = run(tree, monkeypatch, "check", f"../p/{case}.patch", "../p/sysfs-show.patch")
    assert r.exit_code == 4, r.output
    assert r.stderr.splitlines() == [EXPECTED_ERRORS[case]]
    assert "Traceback" not in r.output
    assert "../p/sysfs-show.patch:21: WARNING: PAGE_SIZE: use PG_SIZE" in r.stdout
    assert git(tree, "status", "--porcelain") == ""


def test_a_patch_that_fails_is_not_half_applied(tree, monkeypatch):
    # two files: the second hunk fails, so the first file's change must not
    # be seen by the next patch either
    both = (tree.parent / "p" / "sysfs-show.patch").read_bytes() + (
        tree.parent / "p" / "pte-walker.patch").read_bytes().replace(b" \treturn n;", b" \treturn n + 1;")
    (tree.parent / "p" / "both.mbox").write_bytes(both)
    code, doc = findings(tree, monkeypatch, "../p/both.mbox", "../p/pte-walker.patch")
    assert code == 4
    assert [f["path"] for f in doc["findings"]] == ["drivers/misc/foo.c", "mm/walk.c"]


def test_a_symbolic_link_out_of_the_tree_is_refused(tree, monkeypatch, tmp_path):
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "walk.c").write_text((tree / "mm" / "walk.c").read_text())
    (tree / "ext").symlink_to(outside)
    patch = (tree.parent / "p" / "pte-walker.patch").read_bytes().replace(b"mm/walk.c", b"ext/walk.c")
    (tree.parent / "p" / "link.patch").write_bytes(patch)
    r = run(tree, monkeypatch, "check", "../p/link.patch")
    assert r.exit_code == 4
    assert r.stderr == "error: ../p/link.patch:10: ext/walk.c leads outside the tree (a symbolic link); refused\n"


def test_binary_change_to_a_file_that_is_not_source_is_a_note(tree, monkeypatch):
    data = BINARY_C.replace(b"mm/walk.c", b"firmware/blob.bin")
    r = run(tree, monkeypatch, "check", "-", input=data)
    assert r.exit_code == 0, r.output
    assert r.stderr == "note: stdin:1: firmware/blob.bin: a binary file, not source; not checked\n"


def test_unreadable_patch_file(tree, monkeypatch):
    r = run(tree, monkeypatch, "check", "../p/none.patch", "../p/sysfs-show.patch")
    assert r.exit_code == 4
    assert r.stderr == "error: ../p/none.patch: cannot read: No such file or directory\n"


# ------------------------------------------------------------------ decisions, converted trees

def test_a_persons_decision_applies_as_in_scan(tree, monkeypatch):
    code, doc = findings(tree, monkeypatch, "../p/page-array-loop.patch")
    [f] = doc["findings"]
    assert (code, f["verdict"]) == (7, "unknown")
    # decide checks the id against the file on disk: the author decides with
    # the patch applied in their tree, then sends (checks) the patch
    r = run(tree, monkeypatch, "decide", f["site_id"], "pg", "-m", "one page per element here")
    assert r.exit_code != 0 and "no site with id" in r.output
    git(tree, "apply", "../p/page-array-loop.patch")
    r = run(tree, monkeypatch, "decide", f["site_id"], "pg", "-m", "one page per element here")
    assert r.exit_code == 0, r.output
    git(tree, "checkout", "--", "mm/util.c")
    code, doc = findings(tree, monkeypatch, "../p/page-array-loop.patch")
    [f] = doc["findings"]
    assert (code, f["verdict"], f["replacement"], f["rule"]) == (6, "pg", "PG_SIZE", "person")
    code, doc = findings(tree, monkeypatch, "--no-decisions", "../p/page-array-loop.patch")
    assert code == 7


def test_in_a_converted_tree_the_new_names_are_no_clash(tree, monkeypatch):
    """After the series: the names it introduced, and the file's own renamed
    uses of them, do not block the rename of a new use."""
    (tree / "include" / "asm-generic").mkdir(parents=True)
    (tree / "include" / "asm-generic" / "memory_model.h").write_text(
        "#define PTE_SIZE\tPAGE_SIZE\n#define PG_SIZE\tPAGE_SIZE\n")
    (tree / "include" / "linux").mkdir(parents=True)
    (tree / "include" / "linux" / "mm.h").write_text(
        "#include <asm-generic/memory_model.h>\n"
        "#define PG_ALIGN(addr)\tALIGN(addr, PG_SIZE)\n#define PTE_ALIGN(addr)\tALIGN(addr, PTE_SIZE)\n")
    foo = tree / "drivers" / "misc" / "foo.c"
    foo.write_text(foo.read_text().replace("scnprintf(buf, 64,", "scnprintf(buf, PG_SIZE,"))
    git(tree, "add", "-A")
    git(tree, "commit", "-qm", "converted")
    patch = (tree.parent / "p" / "sysfs-show.patch").read_bytes().replace(
        b" \treturn scnprintf(buf, 64,", b" \treturn scnprintf(buf, PG_SIZE,")
    (tree.parent / "p" / "after.patch").write_bytes(patch)
    code, doc = findings(tree, monkeypatch, "../p/after.patch")
    assert [(f["verdict"], f["replacement"]) for f in doc["findings"]] == [("pg", "PG_SIZE")], doc
    # a definition of its own, not the series', still blocks the name
    (tree / "include" / "linux" / "mm.h").write_text("#define PG_SIZE\t0x1000\n")
    code, doc = findings(tree, monkeypatch, "../p/after.patch")
    assert [f["verdict"] for f in doc["findings"]] == ["skipped"], doc


def test_the_series_own_definitions_are_recognised():
    from pgrewrite.definitions import is_own_definition
    assert is_own_definition("PTE_ALIGN", "(addr)\tALIGN(addr, PTE_SIZE)")
    assert is_own_definition("PTE_ALIGN", "(addr) ALIGN(addr, PAGE_SIZE)")
    assert is_own_definition("offset_in_pg", "(p)\t((unsigned long)(p) & ~PG_MASK)")
    assert is_own_definition("PG_SIZE", "PAGE_SIZE")
    assert not is_own_definition("PTE_ALIGN", "(addr) ALIGN(addr, 4096)")
    assert not is_own_definition("PG_SIZE", "0x1000")
    # where the series puts them, and nowhere else (sh's PTE_MASK alias is sh's)
    assert is_own_definition("PTE_MASK", "PAGE_MASK", "include/asm-generic/memory_model.h")
    assert not is_own_definition("PTE_MASK", "PAGE_MASK", "arch/sh/include/asm/page.h")
    assert is_own_definition("PG_ALIGN", "(addr) ALIGN(addr, PG_SIZE)", "include/linux/mm.h")
    assert not is_own_definition("PG_ALIGN", "(addr) ALIGN(addr, PG_SIZE)", "include/asm-generic/memory_model.h")


def test_fix_of_a_new_file_without_a_final_newline(tree, monkeypatch):
    bar = tree / "drivers" / "misc" / "bar.c"
    text = ("#include <linux/device.h>\n\n"
            "static ssize_t size_show(struct device *dev, struct device_attribute *attr, char *buf)\n"
            "{\n\treturn scnprintf(buf, PAGE_SIZE, \"%d\\n\", 1);\n}")
    bar.write_text(text)
    git(tree, "add", "-A")
    git(tree, "commit", "-qm", "misc/bar: add size")
    [patch] = git(tree, "format-patch", "-1", "-o", str(tree.parent / "p")).split()
    assert "\\ No newline at end of file" in Path(patch).read_text()
    git(tree, "reset", "-q", "--hard", "HEAD~1")
    r = run(tree, monkeypatch, "check", "--fix", patch)
    assert r.exit_code == 6, r.output
    assert "WARNING: PAGE_SIZE: use PG_SIZE (allocation granularity)" in r.stdout
    git(tree, "am", f"{patch}.fixed")
    assert bar.read_bytes() == text.replace("PAGE_SIZE", "PG_SIZE").encode()


def test_the_benchmark_makes_patches_that_check_reads(tree, monkeypatch):
    import importlib.util
    spec = importlib.util.spec_from_file_location(
        "pgrewrite_check_bench", Path(__file__).resolve().parent.parent / "benchmarks" / "check_bench.py")
    bench = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bench)
    (tree.parent / "p" / "bench.patch").write_bytes(bench.make_patch(tree, ["mm/util.c"], 3))
    code, doc = findings(tree, monkeypatch, "../p/bench.patch")
    assert code in (6, 7) and doc["errors"] == []
    assert [f["token"] for f in doc["findings"]] == ["PAGE_SIZE"]


def test_fix_keeps_bytes_that_are_not_utf8(tree, monkeypatch):
    p = tree.parent / "p" / "latin1.patch"
    old = (tree.parent / "p" / "sysfs-show.patch").read_bytes().replace(
        b"+static DEVICE_ATTR_RO(name);", b"+static DEVICE_ATTR_RO(name); /* caf\xe9 */")
    p.write_bytes(old)
    r = run(tree, monkeypatch, "check", "--fix", "../p/latin1.patch")
    assert r.exit_code == 6, r.output
    assert (tree.parent / "p" / "latin1.patch.fixed").read_bytes() == old.replace(
        b"+\treturn scnprintf(buf, PAGE_SIZE,", b"+\treturn scnprintf(buf, PG_SIZE,")
