"""Subjects stay within the kernel's limit for a summary (75 characters,
Documentation/process/submitting-patches.rst) and unique, also when a
`--split-by rule` patch is named by several rules (`a+b+c`: weak signals
that agreed)."""
from __future__ import annotations

import collections
import email
import email.header
import re
import shutil
import subprocess
from pathlib import Path

from click.testing import CliRunner

from pgrewrite.cli import cli
from pgrewrite.series.subjects import LIMIT, fit, label_forms

SAMPLE = Path(__file__).parent.parent / "sample-tree"


def test_a_combined_rule_label_is_shortened_to_its_first_rules_and_a_count():
    assert label_forms("pte-a+pte-b+pte-c") == ["pte-a+pte-b+pte-c", "pte-a+pte-b+1 more", "pte-a+2 more"]
    assert label_forms("pte-walker-addr-step") == ["pte-walker-addr-step"]
    assert label_forms("MEMORY MANAGEMENT+X") == ["MEMORY MANAGEMENT+X"]    # not rule ids
    # a MAINTAINERS entry: its own short name, else its last part
    assert label_forms("CONTROL GROUP - MEMORY RESOURCE CONTROLLER (MEMCG)") == [
        "CONTROL GROUP - MEMORY RESOURCE CONTROLLER (MEMCG)", "MEMCG", "MEMORY RESOURCE CONTROLLER (MEMCG)"]
    assert label_forms("MEMORY MANAGEMENT - PAGE ALLOCATOR") == ["MEMORY MANAGEMENT - PAGE ALLOCATOR", "PAGE ALLOCATOR"]
    assert label_forms("PAGE CACHE") == ["PAGE CACHE"]


def test_fit_keeps_what_fits_and_shortens_the_rest_without_two_alike():
    head = "mm: rename PAGE_* uses to PTE_* "
    a = [head + f"({w})" for w in label_forms("pte-address-arith+pte-pte-accessor-function")]
    b = [head + f"({w})" for w in label_forms("pte-address-arith+pte-walk-callback-function")]
    short = [head + "(pte-address-arith+1 more)"]          # another patch took this one already
    got = fit([a, b, short], limit=70)
    assert got[2] == short[0]
    assert all(len(s) <= 70 for s in got) and len(set(got)) == 3
    # nothing fits: cut, the closing parenthesis kept, numbered when alike
    long = ["x" * 40 + " (" + "y" * 50 + ")"]
    got = fit([long, long, long], limit=LIMIT)
    assert [len(s) <= LIMIT for s in got] == [True] * 3 and len(set(got)) == 3
    assert got[0].endswith("...)") and got[1].endswith(" 2") and got[2].endswith(" 3")


def _subjects(out: Path) -> list[str]:
    subjects = []
    for f in sorted(out.glob("*.patch")):
        msg = email.message_from_bytes(f.read_bytes())
        s = re.sub(r"\s+", " ", str(email.header.make_header(email.header.decode_header(msg["Subject"]))))
        subjects.append(re.sub(r"^\[[^]]*\] ", "", s))
    return subjects


def test_split_by_rule_on_the_sample_tree(tmp_path, monkeypatch):
    tree = tmp_path / "linux"
    shutil.copytree(SAMPLE, tree)
    for cmd in (["init", "-q"], ["add", "-A"], ["-c", "user.name=t", "-c", "user.email=t@example.org",
                                                 "commit", "-qm", "sample tree"]):
        subprocess.run(["git", *cmd], cwd=tree, check=True)
    monkeypatch.chdir(tree)
    r = CliRunner().invoke(cli, ["series", ".", "-o", str(tmp_path / "out"), "--split-by", "rule"])
    assert r.exit_code == 0, r.output
    subjects = _subjects(tmp_path / "out")
    assert len(subjects) > 20
    assert [s for s in subjects if len(s) > LIMIT] == []
    assert [s for s, n in collections.Counter(subjects).items() if n > 1] == []
    # the two weak rules that agreed in mm/memory.c: the first named, the other counted
    assert "mm/memory: rename PAGE_* uses to PTE_* (pte-pte-accessor-function+1 more)" in subjects
    # a rule's patch renames one way, and says so; inference (`units`) goes both ways here
    assert "x86: rename PAGE_* uses to PTE_* (pte-tlb-stride)" in subjects
    assert "mm: rename PAGE_* uses to PTE_*/PG_* (units)" in subjects
