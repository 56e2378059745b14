"""`pgrewrite explain`: the deciding rule first with its trace, the rules that
did not match folded to their names (`--all` unfolds them, `--rule ID` shows
one), and the trace legend."""
from __future__ import annotations

import shutil

from click.testing import CliRunner

from pgrewrite.cli import cli

from .conftest import REPO

SITE = "arch/x86/include/asm/fixslot.h:6:49"


def explain(tmp_path, monkeypatch, *args):
    shutil.copytree(REPO / "fixtures" / "pte-fixmap" / "arch", tmp_path / "arch", dirs_exist_ok=True)
    monkeypatch.chdir(tmp_path)
    r = CliRunner().invoke(cli, ["explain", SITE, *args])
    assert r.exit_code == 0, r.output
    return r.stdout.splitlines()


def test_the_deciding_rule_comes_first_and_the_rest_is_folded(tmp_path, monkeypatch):
    lines = explain(tmp_path, monkeypatch)
    assert lines[2].startswith("  verdict: pte -> PTE_SHIFT [pte-fixmap]")
    assert lines[3:6] == ["  decided by: rule pte-fixmap", "  rules that matched: 1",
                          lines[5]]
    assert lines[5].startswith("  MATCH: pte-fixmap (pte, priority 60, strong)")
    assert lines[6].startswith("      + function /")
    folded = next(x for x in lines if x.startswith("  rules tried that did not match ("))
    assert "--all for their traces, --rule ID for one): area-ambiguous-counter, " in folded
    assert not any(x.startswith("  no match:") for x in lines)
    assert lines[-1] == ("  (trace: + a condition that held, - one that failed; "
                         "nested lines are the parts of the one above)")
    assert len(lines) < 15


def test_all_unfolds_the_traces_and_rule_shows_one(tmp_path, monkeypatch):
    lines = explain(tmp_path, monkeypatch, "--all")
    assert sum(x.startswith("  no match: ") for x in lines) > 20
    lines = explain(tmp_path, monkeypatch, "--rule", "pte-pfn-shift")
    assert [x for x in lines if x.startswith(("  MATCH: ", "  no match: "))] == [
        next(x for x in lines if x.startswith("  no match: pte-pfn-shift "))]
    assert "  rules that matched: 0 (none)" in lines
    lines = explain(tmp_path, monkeypatch, "--rule", "no-such-rule")
    assert lines[-1] == "  rule no-such-rule: no such rule"
