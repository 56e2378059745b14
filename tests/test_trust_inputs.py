"""Issue 15, findings 9 and 10: inputs that used to end in a traceback, or
to be taken silently, each give one clear line and a documented exit code
(0 ok, 1 refused/failed, 2 usage, 4 some inputs not read); the run goes on
for the other files where that makes sense.
"""
from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from click.testing import CliRunner

from pgrewrite.cli import cli
from pgrewrite.series import build as build_mod

from .test_robustness_support import c_file, expected_rename, run_cli, unprivileged_prefix
from .test_series import FILES, git, make_tree

GOOD = "mm/good.c"


@pytest.fixture(autouse=True)
def isolated(monkeypatch, tmp_path):
    monkeypatch.setenv("GIT_CONFIG_GLOBAL", "/dev/null")
    monkeypatch.setenv("GIT_CONFIG_SYSTEM", "/dev/null")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    monkeypatch.delenv("PGREWRITE_CACHE_MAX_MB", raising=False)


def run(cwd: Path, monkeypatch, *args: str):
    monkeypatch.chdir(cwd)
    return CliRunner().invoke(cli, list(args), catch_exceptions=False)


def git_tree(root: Path, extra: dict[str, bytes] = {}) -> Path:
    """The series tests' small kernel-like git tree plus mm/good.c and `extra`
    (path -> bytes; paths may be bytes too, for names that are not UTF-8)."""
    make_tree(root, {**FILES, GOOD: c_file(0).decode()}, history=())
    if not extra:
        return root
    for path, data in extra.items():
        full = os.path.join(os.fsencode(root), os.fsencode(path))
        os.makedirs(os.path.dirname(full), exist_ok=True)
        with open(full, "wb") as fh:
            fh.write(data)
    git(root, "add", "-A")
    git(root, "commit", "-q", "-m", "more")
    return root


def error_lines(text: str) -> list[str]:
    return [line for line in text.splitlines() if ": error: " in line or line.startswith(("error:", "Error:"))]


# ----------------------------------------------------------------- finding 9

def test_symlink_loop_is_one_line(tmp_path, monkeypatch):
    (tmp_path / "mm").mkdir()
    (tmp_path / GOOD).write_bytes(c_file(0))
    (tmp_path / "mm/a.c").symlink_to("b.c")
    (tmp_path / "mm/b.c").symlink_to("a.c")
    r = run(tmp_path, monkeypatch, "scan", "mm/a.c", GOOD, "--no-cache", "-j1")
    assert r.exit_code == 4
    assert error_lines(r.output) == ["mm/a.c: error: symbolic link that cannot be resolved (a loop of symbolic "
                                     "links); skipped"]
    assert "mm/good.c:7:" in r.output


def test_git_missing_from_path(tmp_path, monkeypatch):
    tree = git_tree(tmp_path / "tree")
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))
    r = run(tree, monkeypatch, "apply", "mm", "--no-cache", "-j1")
    assert r.exit_code == 2
    assert error_lines(r.output) == ["error: git is not on PATH; install git or add it to PATH; apply checks with "
                                     "git that no file has uncommitted changes; pass --no-git to rewrite anyway"]
    assert (tree / GOOD).read_bytes() == c_file(0)
    r = run(tree, monkeypatch, "series", "mm", "-o", str(tmp_path / "out"), "-j1")
    assert r.exit_code == 1
    assert error_lines(r.output) == ["Error: git is not on PATH; install git or add it to PATH"]
    r = run(tree, monkeypatch, "scan", "mm", "--no-cache", "-j1")      # scan reads every file instead
    assert r.exit_code == 0 and "mm/good.c:7:" in r.output
    r = run(tree, monkeypatch, "apply", "mm", "--no-cache", "-j1", "--no-git")
    assert r.exit_code == 0, r.output
    assert (tree / GOOD).read_bytes() == expected_rename(c_file(0))


BAD_NAMES = {b"mm/caf\xe9/x.c": ("mm/caf\\xe9/x.c", "the file name is not UTF-8"),
             b"mm/new\nline.c": ("mm/new\\nline.c", "the file name contains a control character (a newline, "
                                                    "a tab, ...)")}


@pytest.mark.parametrize("name", BAD_NAMES, ids=["non-utf8-dir", "newline"])
@pytest.mark.parametrize("command", ["scan", "apply", "series"])
def test_file_names_a_report_or_patch_cannot_hold(tmp_path, monkeypatch, name, command):
    tree = git_tree(tmp_path / "tree", {name: c_file(1)})
    shown, why = BAD_NAMES[name]
    args = {"scan": ["--no-cache"], "apply": ["--no-cache"], "series": ["-o", str(tmp_path / "out")]}[command]
    r = run(tree, monkeypatch, command, "mm", "-j1", *args)
    assert r.exit_code == 4, r.output
    assert error_lines(r.output) == [f"{shown}: error: {why}: it cannot be shown in reports or written into "
                                     "patches; skipped (rename it to include it)"]
    if command == "apply":
        assert (tree / GOOD).read_bytes() == expected_rename(c_file(0))
    if command == "series":
        assert "mm/good.c" in "".join(p.read_text() for p in (tmp_path / "out").glob("*.patch"))


LATIN1 = b"/* J\xf6rg */\n" + c_file(2)


def test_series_keeps_the_bytes_of_a_file_that_is_not_utf8(tmp_path, monkeypatch):
    tree = git_tree(tmp_path / "tree", {"mm/latin1.c": LATIN1})
    out = tmp_path / "out"
    r = run(tree, monkeypatch, "series", "mm", "-o", str(out), "-j1")
    assert r.exit_code == 0, r.output
    clone = tmp_path / "clone"
    git(tmp_path, "clone", "-q", str(tree), str(clone))
    git(clone, "-c", "user.name=T", "-c", "user.email=t@example.org", "am", "--empty=drop", *sorted(str(p) for p in out.glob("*.patch")))
    assert (clone / "mm/latin1.c").read_bytes() == expected_rename(LATIN1)
    assert "*** SUBJECT HERE ***" not in (out / "0000-cover-letter.patch").read_text(errors="replace")


def test_series_that_fails_leaves_nothing_and_a_rerun_works(tmp_path, monkeypatch):
    """The series is built beside -o and moved there only once complete."""
    tree = git_tree(tmp_path / "tree")
    out = tmp_path / "out"

    def broken(*a, **k):
        raise OSError(28, "No space left on device")
    with monkeypatch.context() as m:
        m.setattr(build_mod.messages, "cover_letter", broken)      # after every patch is written
        with pytest.raises(OSError):
            run(tree, monkeypatch, "series", "mm", "-o", str(out), "-j1")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["tree", "xdg"]     # no out/, no debris
    r = run(tree, monkeypatch, "series", "mm", "-o", str(out), "-j1")
    assert r.exit_code == 0, r.output
    assert (out / "0000-cover-letter.patch").exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out", "tree", "xdg"]
    # into an existing directory that holds other files (no .patch files)
    (tmp_path / "out2").mkdir()
    (tmp_path / "out2/notes.txt").write_text("mine\n")
    r = run(tree, monkeypatch, "series", "mm", "-o", str(tmp_path / "out2"), "-j1")
    assert r.exit_code == 0, r.output
    assert sorted(p.name for p in (tmp_path / "out2").iterdir()) == sorted(p.name for p in out.iterdir()) + ["notes.txt"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out", "out2", "tree", "xdg"]


@pytest.mark.parametrize("value", ["inf", "nan", "-1", "0", "lots", "1e400"])
def test_cache_limit_that_is_not_a_size(tmp_path, monkeypatch, value):
    (tmp_path / "mm").mkdir()
    (tmp_path / GOOD).write_bytes(c_file(0))
    monkeypatch.setenv("PGREWRITE_CACHE_MAX_MB", value)
    r = run(tmp_path, monkeypatch, "scan", "mm", "-j1")
    assert r.exit_code == 2
    assert r.output.splitlines() == [f"error: PGREWRITE_CACHE_MAX_MB={value!r}: expected a size in MiB, a number "
                                     "greater than 0 (unset: 512)"]


def test_cache_limit_that_is_a_size(tmp_path, monkeypatch):
    (tmp_path / "mm").mkdir()
    (tmp_path / GOOD).write_bytes(c_file(0))
    monkeypatch.setenv("PGREWRITE_CACHE_MAX_MB", "0.5")
    assert run(tmp_path, monkeypatch, "scan", "mm", "-j1").exit_code == 0


@pytest.mark.parametrize("kind", ["directory", "not-utf8", "unreadable"])
def test_decisions_file_that_cannot_be_read(tmp_path, monkeypatch, kind):
    tree = git_tree(tmp_path / "tree")
    p = tree / "pgrewrite-decisions.yaml"
    prefix: list[str] = []
    if kind == "directory":
        p.mkdir()
        why = "is a directory, not a decisions file; remove or rename it"
    elif kind == "not-utf8":
        p.write_bytes(b"a: \xff\n")
        why = "not UTF-8 (byte 3); a decisions file is UTF-8 YAML"
    else:
        p.write_text("a: pg\n")
        p.chmod(0)
        prefix = unprivileged_prefix(tmp_path)
        if prefix is None:
            pytest.skip("cannot run a process that is refused a mode-000 file here")
        why = "cannot read: Permission denied"
    env = {**os.environ}
    r = run_cli(prefix, ["scan", "mm", "--no-cache", "-j1"], tree, env)
    assert r.returncode == 4
    assert r.stderr.splitlines() == [f"error: {p}: {why}"]
    # a real site (decide checks the site first), then the file is refused
    r = run_cli(prefix, ["decide", "mm/good.c:6", "pte"], tree, env)
    assert r.returncode == 1
    assert r.stderr.splitlines() == [f"Error: {p}: {why}"]


def scan_doc(tree: Path, monkeypatch) -> Path:
    r = run(tree, monkeypatch, "scan", "mm", "--format", "json", "--no-cache", "-j1", "-o", "scan.json")
    assert r.exit_code == 0
    return tree / "scan.json"


NOT_SCANS = {
    "sarif": ('{"$schema": "https://json.schemastore.org/sarif-2.1.0.json", "version": "2.1.0", "runs": []}',
              "a SARIF log, not a pgrewrite scan document"),
    "empty-object": ("{}", 'not a pgrewrite scan document (it has no "summary" with "verdicts" and a list '
                           'of "sites")'),
    "not-json": ('{"sites": [', "1:12: not JSON (Expecting value)"),
    "list": ("[]", "the top level is a JSON list, not a pgrewrite scan document"),
    "site-without-id": ('{"summary": {"verdicts": {}}, "sites": [{"path": "a.c", "line": 1, "col": 1, '
                        '"token": "PAGE_SIZE", "verdict": "pg"}]}', "sites[0] has no str 'site_id'"),
}


@pytest.mark.parametrize("kind", NOT_SCANS)
def test_compare_and_decide_refuse_what_is_not_a_scan_document(tmp_path, monkeypatch, kind):
    tree = git_tree(tmp_path / "tree")
    text, why = NOT_SCANS[kind]
    (tree / "other.json").write_text(text)
    sep = "" if why[0].isdigit() else " "
    r = run(tree, monkeypatch, "scan", "mm", "--compare", "other.json", "--no-cache", "-j1")
    assert r.exit_code == 2
    assert r.output.splitlines() == [f"error: --compare other.json:{sep}{why}; give a document written by "
                                     "`pgrewrite scan --format json`"]
    r = run(tree, monkeypatch, "decide", "mm/good.c:f0:PAGE_SHIFT:1", "pte", "--scan", "other.json")
    assert r.exit_code == 2
    assert r.output.splitlines() == [f"Error: --scan other.json:{sep}{why}; give a document written by "
                                     "`pgrewrite scan --format json`"]
    assert not (tree / "pgrewrite-decisions.yaml").exists()


def test_compare_and_decide_take_a_scan_document(tmp_path, monkeypatch):
    tree = git_tree(tmp_path / "tree")
    doc = scan_doc(tree, monkeypatch)
    r = run(tree, monkeypatch, "scan", "mm", "--compare", str(doc), "--no-cache", "-j1")
    assert r.exit_code == 0, r.output
    site = json.loads(doc.read_text())["sites"][0]["site_id"]
    r = run(tree, monkeypatch, "decide", site, "pg", "--scan", str(doc))
    assert r.exit_code == 0, r.output


# ---------------------------------------------------------------- finding 10

def test_the_same_file_named_twice_is_counted_once(tmp_path, monkeypatch):
    (tmp_path / "mm").mkdir()
    (tmp_path / GOOD).write_bytes(c_file(0))
    (tmp_path / "mm/link.c").symlink_to("good.c")
    r = run(tmp_path, monkeypatch, "scan", GOOD, "mm/../mm/good.c", "./mm/good.c", "mm", "mm/link.c",
            "--format", "json", "--no-cache", "-j1")
    doc = json.loads(r.output)
    assert doc["summary"]["files_read"] == 1 and doc["summary"]["sites"] == 2
    assert {s["path"] for s in doc["sites"]} == {GOOD}


def test_apply_outside_git_needs_no_git(tmp_path, monkeypatch):
    (tmp_path / "mm").mkdir()
    (tmp_path / GOOD).write_bytes(c_file(0))
    r = run(tmp_path, monkeypatch, "apply", "mm", "--no-cache", "-j1", "--allow-dirty")
    assert r.exit_code == 2
    assert error_lines(r.output) == ["error: mm: not in a git work tree; apply rewrites files in place, and git is "
                                     "how the change is reviewed and undone; pass --no-git to rewrite anyway"]
    assert (tmp_path / GOOD).read_bytes() == c_file(0)
    r = run(tmp_path, monkeypatch, "apply", "mm", "--no-cache", "-j1", "--no-git")
    assert r.exit_code == 0, r.output
    assert (tmp_path / GOOD).read_bytes() == expected_rename(c_file(0))


@pytest.mark.parametrize("named", ["mm", "mm/evil.c"])
@pytest.mark.parametrize("in_git", [True, False], ids=["git", "no-git"])
def test_a_directory_link_named_like_a_source_file_is_never_entered(tmp_path, monkeypatch, named, in_git):
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (elsewhere / "inner.c").write_bytes(c_file(3))
    if in_git:
        tree = git_tree(tmp_path / "tree")
    else:
        tree = tmp_path / "tree"
        (tree / "mm").mkdir(parents=True)
        (tree / GOOD).write_bytes(c_file(0))
    (tree / "mm/evil.c").symlink_to(os.path.relpath(elsewhere, tree / "mm"))
    if in_git:
        git(tree, "add", "mm/evil.c")
        git(tree, "commit", "-q", "-m", "link")
    r = run(tree, monkeypatch, "apply", named, "--no-cache", "-j1", "--no-git")
    assert (elsewhere / "inner.c").read_bytes() == c_file(3)       # never written through
    assert "inner.c" not in r.output
    if named == "mm/evil.c":
        assert r.exit_code == 4
        assert error_lines(r.output) == ["mm/evil.c: error: symbolic link to the directory '../../elsewhere', named "
                                         "like a source file; not entered (name the directory itself)"]
    else:
        assert r.exit_code == 0, r.output
        assert (tree / GOOD).read_bytes() == expected_rename(c_file(0))


def test_a_directory_link_named_like_a_directory_is_the_directory(tmp_path, monkeypatch):
    """`pgrewrite scan ~/linux`, where ~/linux links to the tree: what was asked."""
    (tmp_path / "real/mm").mkdir(parents=True)
    (tmp_path / "real" / GOOD).write_bytes(c_file(0))
    (tmp_path / "linux").symlink_to("real")
    r = run(tmp_path, monkeypatch, "scan", "linux", "--no-cache", "-j1")
    assert r.exit_code == 0, r.output
    assert "linux/mm/good.c:7:" in r.output


def test_a_tree_under_a_directory_whose_name_is_not_utf8(tmp_path, monkeypatch):
    parent = Path(os.fsdecode(os.path.join(os.fsencode(tmp_path), b"r\xe9p")))
    tree = git_tree(parent / "tree")
    r = run(tree, monkeypatch, "scan", "mm", "-j1")            # with the cache
    assert r.exit_code == 0, r.output
    r = run(tree, monkeypatch, "series", "mm", "-o", str(parent / "out"), "-j1")
    assert r.exit_code == 0, r.output
    assert (parent / "out/0000-cover-letter.patch").exists()
    r = run(tree, monkeypatch, "apply", "mm", "-j1")
    assert r.exit_code == 0, r.output
    assert (tree / GOOD).read_bytes() == expected_rename(c_file(0))
