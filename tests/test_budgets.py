"""Bounded work per file (issue 15, finding 8); no timing assertions.

- the matching work of one expression grows linearly with its family
  names (counted), in an initializer, a macro body and a call's arguments;
- sharing that work among sites changes no verdict;
- 50,000 nested parentheses and a 2,000-name expression are analysed,
  and deep nesting never ends in RecursionError;
- a file over the per-file budget (nodes, seconds) has every site skipped
  with the reason, the accounting balanced, and is not cached.
"""
from __future__ import annotations

import dataclasses
import json
import os
from collections import Counter as Tally
from pathlib import Path

import pytest
from click.testing import CliRunner

from pgrewrite import budget as budget_mod
from pgrewrite.api import Engine, analyse_data, load_rules, scan_paths
from pgrewrite.budget import Budget
from pgrewrite.cli import cli
from pgrewrite.rules import conditions as C
from pgrewrite.rules.pattern import Matcher

SAMPLE = Path(__file__).resolve().parent.parent / "sample-tree"


@pytest.fixture(scope="module")
def engine():
    return Engine(load_rules(), Budget())


SHAPES = {
    "initializer": lambda n: "int x = " + " + ".join(["PAGE_SIZE"] * n) + ";\n",
    "macro": lambda n: "#define TOTAL(a) (a + " + " + ".join(["PAGE_SIZE"] * n) + ")\n",
    "call": lambda n: "void f(void)\n{\n\tg(" + ", ".join(["PAGE_SIZE"] * n) + ");\n}\n",
    "mixed": lambda n: "void f(unsigned long addr)\n{\n\tx = " + " | ".join(
        ["(addr >> PAGE_SHIFT)", "memset(p, 0, PAGE_SIZE)", "(off & ~PAGE_MASK)", "PAGE_ALIGN(len)"] * (n // 4))
        + ";\n}\n",
}


def _matches(engine, monkeypatch, text: str) -> tuple[int, object]:
    """(pattern matching steps, result) for one file: every node compared
    with a pattern node is one step (Matcher._m)."""
    calls = [0]
    real = Matcher._m

    def counted(self, *a, **k):
        calls[0] += 1
        return real(self, *a, **k)

    monkeypatch.setattr(Matcher, "_m", counted)
    r = analyse_data(engine, "mm/x.c", text.encode(), None, None)
    monkeypatch.setattr(Matcher, "_m", real)
    assert r.error is None and r.accounting_difference == 0
    return calls[0], r


@pytest.mark.parametrize("shape", sorted(SHAPES))
def test_matching_work_grows_linearly_with_the_names_in_one_expression(shape, engine, monkeypatch):
    """Each of N sites matched every pattern at each of its N ancestors,
    and each argument list item by item: ~N² steps counted here (N³ with
    the text read), minutes for 800 names. Doubling N now at most doubles
    the steps (a quadratic count would quadruple them)."""
    small, r1 = _matches(engine, monkeypatch, SHAPES[shape](100))
    big, r2 = _matches(engine, monkeypatch, SHAPES[shape](200))
    assert len(r2.decisions) == 2 * len(r1.decisions) > 0
    assert big <= 2.4 * small, (small, big)


def _verdicts(result) -> list:
    return [(d.site.start, d.verdict.value, d.rule, d.reason, d.replacement) for d in result.decisions]


def test_shared_matching_decides_as_matching_each_site_alone(engine, monkeypatch):
    """Without the per-file memo every site is matched on its own, as
    `explain` does: the verdicts must be the same, on the sample tree and
    on long expressions made of the rules' own examples."""
    texts = {str(p): p.read_bytes() for p in sorted(SAMPLE.rglob("*")) if p.suffix in (".c", ".h")}
    for rule in engine.ruleset.rules:
        for i, example in enumerate(rule.examples_match + rule.examples_no_match):
            texts[f"mm/{rule.id}-{i}.c"] = example.encode()
    texts.update({f"mm/{k}.c": v(24).encode() for k, v in SHAPES.items()})
    assert len(texts) > 20
    shared = {p: _verdicts(analyse_data(engine, p, t, None, None)) for p, t in texts.items()}
    real_env = C.Env
    monkeypatch.setattr(C, "Env", lambda *a, **k: real_env(*a, **{**k, "memo": None}))
    alone = {p: _verdicts(analyse_data(engine, p, t, None, None)) for p, t in texts.items()}
    assert shared == alone
    assert sum(len(v) for v in shared.values()) > 100


@pytest.mark.slow
@pytest.mark.parametrize("text", [
    "int x = " + "(" * 50_000 + "PAGE_SIZE" + ")" * 50_000 + ";\n",
    "int x = " + "(" * 50_000 + "PAGE_SIZE" + ")" * 49_999 + ";\n",          # unbalanced: parse errors
    "#define M(a) " + "(" * 50_000 + "PAGE_SIZE" + ")" * 50_000 + "\n",
], ids=["balanced", "unbalanced", "macro"])
def test_50000_nested_parentheses_are_analysed(text, engine):
    """tree-sitter's parent walks down from the root (d² for a walk up d
    levels), and recursion over the tree ended in RecursionError."""
    r = analyse_data(engine, "mm/x.c", text.encode(), None, None)
    assert r.error is None, r.error
    assert len(r.decisions) == 1 and r.accounting_difference == 0


@pytest.mark.slow
def test_an_expression_of_2000_names_is_analysed(engine):
    r = analyse_data(engine, "mm/x.c", SHAPES["initializer"](2000).encode(), None, None)
    assert r.error is None and len(r.decisions) == 2000 and r.accounting_difference == 0
    assert not any("budget" in d.reason for d in r.decisions)


def _skipped_for_budget(result, limit_name: str):
    assert result.error is None
    assert result.decisions and all(d.verdict.value == "skipped" for d in result.decisions)
    assert all(limit_name in d.reason and "over the analysis budget" in d.reason for d in result.decisions)
    assert result.accounting_difference == 0 and not result.edits
    assert any(limit_name in n for n in result.notes)


FILEMAP = SAMPLE / "mm" / "filemap.c"       # 15 sites, 13 renamed


def test_a_file_over_the_node_budget_has_its_sites_skipped(engine):
    text = FILEMAP.read_bytes()
    fine = analyse_data(engine, "mm/filemap.c", text, None, None)
    assert len(fine.edits) > 5
    tight = Engine(engine.ruleset, dataclasses.replace(engine.budget, nodes=500))
    r = analyse_data(tight, "mm/filemap.c", text, None, None)
    _skipped_for_budget(r, "PGREWRITE_MAX_FILE_NODES")
    assert len(r.decisions) == len(fine.decisions)


def test_a_file_over_the_time_budget_has_its_sites_skipped(engine, monkeypatch):
    """Clocks that advance one second per look: a 3-second budget runs
    out after the first sites, whatever the machine's speed."""
    ticks = iter(range(10**6))
    monkeypatch.setattr(budget_mod.time, "process_time", lambda: float(next(ticks)))
    monkeypatch.setattr(budget_mod.time, "monotonic", lambda: float(next(ticks)))
    tight = Engine(engine.ruleset, Budget(seconds=3))
    r = analyse_data(tight, "mm/filemap.c", FILEMAP.read_bytes(), None, None)
    _skipped_for_budget(r, "PGREWRITE_MAX_FILE_SECONDS")


def test_the_budget_comes_from_the_environment_and_is_not_cached(tmp_path, monkeypatch):
    """PGREWRITE_MAX_FILE_NODES: the scan shows the sites skipped with the
    reason and exits as for any skipped site; a run with the default
    limit then analyses the file instead of reusing the skipped result."""
    src = tmp_path / "mm" / "filemap.c"
    src.parent.mkdir()
    src.write_bytes(FILEMAP.read_bytes())
    old = os.getcwd()
    os.chdir(tmp_path)
    try:
        def scan(env):
            r = CliRunner().invoke(cli, ["scan", "mm", "--format", "json", "--cache-dir", str(tmp_path / "cache")],
                                   env=env, catch_exceptions=False)
            return json.loads(r.output)
        over = scan({"PGREWRITE_MAX_FILE_NODES": "40"})
        again = scan({"PGREWRITE_MAX_FILE_NODES": "40"})
        normal = scan({"PGREWRITE_MAX_FILE_NODES": None})
    finally:
        os.chdir(old)
    for doc in (over, again):
        assert {s["verdict"] for s in doc["sites"]} == {"skipped"}
        assert all("PGREWRITE_MAX_FILE_NODES" in s["reason"] for s in doc["sites"])
        assert doc["summary"]["accounting_difference"] == 0
        assert any("PGREWRITE_MAX_FILE_NODES" in n for n in doc["notes"])
    assert not any("budget" in s["reason"] for s in normal["sites"])
    assert {"pg", "pte"} & {s["verdict"] for s in normal["sites"]}
    assert len(normal["sites"]) == len(over["sites"])


@pytest.mark.parametrize("raw, expected", [
    (None, Budget()), ("", Budget()), ("abc", Budget()), ("-5", Budget()), ("inf", Budget()), ("0", Budget()),
    ("1000", Budget(nodes=1000)),
])
def test_budget_values_from_the_environment(raw, expected, monkeypatch):
    if raw is None:
        monkeypatch.delenv(budget_mod.NODES_VAR, raising=False)
    else:
        monkeypatch.setenv(budget_mod.NODES_VAR, raw)
    monkeypatch.delenv(budget_mod.SECONDS_VAR, raising=False)
    assert Budget.from_env() == expected


def test_scan_paths_uses_the_budget(tmp_path, monkeypatch):
    (tmp_path / "x.c").write_text(SHAPES["initializer"](10))
    monkeypatch.setenv(budget_mod.NODES_VAR, "5")
    result = scan_paths([str(tmp_path / "x.c")], load_rules(), jobs=1, use_cache=False, cwd=tmp_path)
    assert Tally(d.verdict.value for d in result.decisions()) == {"skipped": 10}
