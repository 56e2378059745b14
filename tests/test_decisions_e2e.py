"""A person's decision, end to end: recorded with `pgrewrite decide`, it
survives edits above the site, turns the site into a rename in `apply` and
`series` (marked as decided by a person), and a vanished site is reported."""
from __future__ import annotations

import json
import subprocess
from pathlib import Path

from click.testing import CliRunner

from pgrewrite.cli import cli

SRC = """\
#include <linux/mm.h>

static unsigned long round_len(unsigned long len)
{
\treturn (len + PAGE_SIZE - 1) & PAGE_MASK;
}
"""


def git(cwd, *args):
    return subprocess.run(["git", "-C", str(cwd), "-c", "user.name=Test Person", "-c", "user.email=t@example.org", *args],
                          check=True, capture_output=True, text=True).stdout


def make_tree(tmp_path: Path) -> Path:
    root = tmp_path / "linux"
    for d in ("arch/x86/include/asm", "include/linux", "mm"):
        (root / d).mkdir(parents=True)
    (root / "include/linux/mm.h").write_text(
        "#ifndef _LINUX_MM_H\n#define _LINUX_MM_H\n"
        "#define PAGE_ALIGNED(addr)\tIS_ALIGNED((unsigned long)(addr), PAGE_SIZE)\n"
        "#define offset_in_page(p)\t((unsigned long)(p) & ~PAGE_MASK)\n#endif\n")
    (root / "include/asm-generic").mkdir(parents=True)
    (root / "include/asm-generic/memory_model.h").write_text(
        "#ifndef __ASM_MEMORY_MODEL_H\n#define __ASM_MEMORY_MODEL_H\n#endif\n")
    (root / "MAINTAINERS").write_text("MEMORY MANAGEMENT\nM:\tA Person <a@example.org>\nS:\tMaintained\nF:\tmm/\n")
    (root / "mm/len.c").write_text(SRC)
    git(root, "init", "-q")
    git(root, "add", "-A")
    git(root, "commit", "-qm", "base")
    return root


def scan(root: Path) -> dict:
    r = CliRunner().invoke(cli, ["scan", "mm", "--format", "json", "--no-cache"], catch_exceptions=False)
    assert r.exit_code == 0, r.output
    return json.loads(r.stdout)


def test_decision_survives_edits_and_becomes_a_rename(tmp_path, monkeypatch):
    root = make_tree(tmp_path)
    monkeypatch.chdir(root)
    [site] = [s for s in scan(root)["sites"] if s["token"] == "PAGE_MASK"]
    assert site["verdict"] == "unknown"
    r = CliRunner().invoke(cli, ["decide", site["site_id"], "pte", "-m", "user length, checked by mmap"])
    assert r.exit_code == 0, r.output

    # ten lines above the site: same id, the decision still applies
    (root / "mm/len.c").write_text("/* a comment */\n" * 10 + SRC)
    git(root, "commit", "-qam", "ten lines above")
    [after] = [s for s in scan(root)["sites"] if s["token"] == "PAGE_MASK"]
    assert after["site_id"] == site["site_id"] and after["line"] == site["line"] + 10
    assert (after["verdict"], after["replacement"], after["rule"]) == ("pte", "PTE_MASK", "person")
    assert after["reason"] == "decided by a person: user length, checked by mmap"

    out = tmp_path / "series"
    r = CliRunner().invoke(cli, ["series", "mm", "-o", str(out)], catch_exceptions=False)
    assert r.exit_code == 0, r.output
    patches = sorted(out.glob("*.patch"))
    rename = patches[-1].read_text()
    assert "-\treturn (len + PAGE_SIZE - 1) & PAGE_MASK;" in rename
    assert "+\treturn (len + PAGE_SIZE - 1) & PTE_MASK;" in rename
    assert "decided by a person, not by a rule" in rename
    assert "user length, checked by mmap" in rename

    r = CliRunner().invoke(cli, ["apply", "mm", "--no-cache"], catch_exceptions=False)
    assert r.exit_code == 0, r.output
    assert "& PTE_MASK;" in (root / "mm/len.c").read_text()


def test_a_decision_for_a_vanished_site_is_reported(tmp_path, monkeypatch):
    root = make_tree(tmp_path)
    monkeypatch.chdir(root)
    [site] = [s for s in scan(root)["sites"] if s["token"] == "PAGE_MASK"]
    CliRunner().invoke(cli, ["decide", site["site_id"], "pg"])
    (root / "mm/len.c").write_text(SRC.replace("& PAGE_MASK", "& ~(PAGE_SIZE - 1)"))
    r = CliRunner().invoke(cli, ["scan", "mm", "--no-cache"])
    assert "vanished" in r.stderr and site["site_id"] in r.stderr


def test_explain_and_coverage_show_the_verdict_a_person_decided(tmp_path, monkeypatch):
    """Every command shows the same verdict for a site, and `explain` says who
    decided it: the person, with the line of the decisions file."""
    root = make_tree(tmp_path)
    monkeypatch.chdir(root)
    [site] = [s for s in scan(root)["sites"] if s["token"] == "PAGE_MASK"]
    where = f"mm/len.c:{site['line']}:{site['col']}"
    before = CliRunner().invoke(cli, ["explain", where])
    assert "verdict: unknown" in before.stdout and "decided by: no rule" in before.stdout
    CliRunner().invoke(cli, ["decide", site["site_id"], "pte", "-m", "user length"])

    r = CliRunner().invoke(cli, ["explain", where])
    assert r.exit_code == 0, r.output
    assert "verdict: pte -> PTE_MASK [person] decided by a person: user length" in r.stdout
    assert "decided by: a person (pgrewrite-decisions.yaml:5)" in r.stdout
    assert "the rules alone say: unknown" in r.stdout
    r = CliRunner().invoke(cli, ["explain", where, "--no-decisions"])
    assert "verdict: unknown" in r.stdout

    cov = json.loads(CliRunner().invoke(cli, ["coverage", "mm", "--format", "json", "--no-cache"]).stdout)
    assert (cov["total"]["pte"], cov["total"]["unknown"]) == (1, 1)
    assert {"what": "person (pte)", "count": 1} in cov["decided_by"]
    cov = json.loads(CliRunner().invoke(cli, ["coverage", "mm", "--format", "json", "--no-cache",
                                              "--no-decisions"]).stdout)
    assert (cov["total"]["pte"], cov["total"]["unknown"]) == (0, 2)


def test_explain_past_the_end_of_the_file_is_an_error(tmp_path, monkeypatch):
    root = make_tree(tmp_path)
    monkeypatch.chdir(root)
    r = CliRunner().invoke(cli, ["explain", "mm/len.c:9999"])
    assert r.exit_code == 2
    assert r.stderr == "error: mm/len.c:9999: the file has 6 line(s); give a line between 1 and 6\n"
    r = CliRunner().invoke(cli, ["explain", "mm/len.c:5:99"])
    assert r.exit_code == 2 and "line 5 has" in r.stderr
    r = CliRunner().invoke(cli, ["explain", "mm/len.c:1"])
    assert r.exit_code == 0 and "no family token here" in r.stdout


def test_decide_checks_the_id_against_a_scan_of_its_file(tmp_path, monkeypatch):
    """An id no site carries is refused (it would only come back as
    "vanished"); nothing is written."""
    root = make_tree(tmp_path)
    monkeypatch.chdir(root)
    r = CliRunner().invoke(cli, ["decide", "mm/len.c:round_len:PAGE_MASK:00000000", "pg"])
    assert r.exit_code == 1
    assert "mm/len.c: no site with id 'mm/len.c:round_len:PAGE_MASK:00000000'" in r.stderr
    r = CliRunner().invoke(cli, ["decide", "mm/gone.c:f:PAGE_SIZE:00000000", "pg"])
    assert r.exit_code == 1 and "mm/gone.c does not exist" in r.stderr
    assert not (root / "pgrewrite-decisions.yaml").exists()


def test_decide_accepts_a_location_and_records_the_id(tmp_path, monkeypatch):
    root = make_tree(tmp_path)
    monkeypatch.chdir(root)
    sites = {s["token"]: s for s in scan(root)["sites"]}
    mask, size = sites["PAGE_MASK"], sites["PAGE_SIZE"]
    assert mask["line"] == size["line"] == 5
    r = CliRunner().invoke(cli, ["decide", "mm/len.c:5", "pg"])
    assert r.exit_code == 1
    assert "2 sites on this line (mm/len.c:5:16 PAGE_SIZE; mm/len.c:5:33 PAGE_MASK)" in r.stderr
    r = CliRunner().invoke(cli, ["decide", f"mm/len.c:5:{mask['col'] + 2}", "pte"])
    assert r.exit_code == 0, r.output
    # from a subdirectory too: the id is made from the path from the tree root
    monkeypatch.chdir(root / "mm")
    r = CliRunner().invoke(cli, ["decide", f"len.c:5:{size['col']}", "pg"])
    assert r.exit_code == 0, r.output
    assert (root / "pgrewrite-decisions.yaml").read_text().endswith(
        f"{mask['site_id']}: pte\n{size['site_id']}: pg\n")


def test_decisions_apply_carried_out_are_applied_not_vanished(tmp_path, monkeypatch):
    root = make_tree(tmp_path)
    monkeypatch.chdir(root)
    [site] = [s for s in scan(root)["sites"] if s["token"] == "PAGE_MASK"]
    assert CliRunner().invoke(cli, ["decide", site["site_id"], "pte"]).exit_code == 0
    git(root, "add", "-A")
    git(root, "commit", "-qm", "decided")
    r = CliRunner().invoke(cli, ["apply", "mm", "--no-cache"], catch_exceptions=False)
    assert r.exit_code == 0, r.output
    assert "& PTE_MASK;" in (root / "mm/len.c").read_text()

    r = CliRunner().invoke(cli, ["scan", "mm", "--no-cache"])
    assert "vanished" not in r.stderr
    assert f"note: {root / 'pgrewrite-decisions.yaml'}: 1 decision(s) already carried out" in r.stderr

    # the site renamed the other way than decided: said, as a warning
    from pgrewrite.report import decide
    decide(site["site_id"], "pg", path=root / "pgrewrite-decisions.yaml")
    r = CliRunner().invoke(cli, ["scan", "mm", "--no-cache"])
    assert f"renamed-otherwise: {site['site_id']}: the site was renamed to PTE_MASK, but the " \
           "decision says pg (PG_MASK)" in r.stderr
