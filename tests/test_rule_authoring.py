"""Rule errors a rule author meets: every problem of a file at once, paths an
editor can open from the working directory, and no rule silently accepted
that can never match or sits under the wrong meaning."""
from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from pgrewrite.cli import EXIT_RULES, cli
from pgrewrite.rules.loader import DEFAULT_RULES

from .test_robustness_rules import BASE


@pytest.fixture
def rules(tmp_path):
    rules = tmp_path / "semantic-rules"
    shutil.copytree(DEFAULT_RULES, rules)
    (tmp_path / "x.c").write_text("int x = PAGE_SIZE;\n")
    return rules


def errors(rules: Path, rel: str, text: str) -> list[str]:
    path = rules / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    r = CliRunner().invoke(cli, ["scan", str(rules.parent / "x.c"), "--rules", str(rules), "--no-cache"])
    assert r.exit_code == EXIT_RULES, r.output
    return [line for line in r.stderr.splitlines() if not line.endswith("nothing was scanned")]


def test_a_where_on_a_metavariable_the_pattern_never_binds_is_an_error(rules, monkeypatch):
    monkeypatch.chdir(rules.parent)
    assert errors(rules, "pte/typo.yaml", BASE.replace("    $X:\n", "    $Y:\n")) == [
        "error: semantic-rules/pte/typo.yaml:9: match/where/$Y: $Y is not a metavariable of the "
        "pattern (it binds $X); a condition on it would never hold, so the rule would never match"]
    top = BASE.replace("  where:\n    $X:\n      call: '__pa|virt_to_phys'\n", "") + \
        "where:\n  $P:\n    call: 'kmap'\n"
    [line] = errors(rules, "pte/typo.yaml", top)
    assert line.startswith("error: semantic-rules/pte/typo.yaml:") and ": where/$P: $P is not" in line


def test_a_meaning_under_another_meanings_directory_is_an_error_in_subdirectories_too(rules, monkeypatch):
    monkeypatch.chdir(rules.parent)
    assert errors(rules, "pte/more/odd.yaml", BASE.replace("meaning: pte", "meaning: pg")) == [
        "error: semantic-rules/pte/more/odd.yaml:1: meaning: meaning 'pg' in a rule under pte/: "
        "move the file to pg/ or fix its meaning"]


def test_rule_errors_print_paths_an_editor_opens_from_the_working_directory(rules, monkeypatch, tmp_path):
    bad = BASE.replace("priority: 60", "priority: high")
    monkeypatch.chdir(rules / "pte")
    [line] = errors(rules, "pte/broken.yaml", bad)
    assert line.startswith("error: broken.yaml:2: priority:")
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    [line] = errors(rules, "pte/broken.yaml", bad)
    assert line.startswith(f"error: {rules}/pte/broken.yaml:2: priority:")


def test_every_problem_of_a_rule_file_is_reported_at_once(rules, monkeypatch):
    monkeypatch.chdir(rules.parent)
    two_regexes = BASE.replace("'__pa|virt_to_phys'", "'__pa(|virt_to_phys'\n      function: 'x['")
    lines = errors(rules, "pte/broken.yaml", two_regexes)
    assert [line.split(": ")[1:3] for line in lines] == [
        ["semantic-rules/pte/broken.yaml:9", "match/where/$X/call"],
        ["semantic-rules/pte/broken.yaml:10", "match/where/$X/function"]]
    schema_and_regex = two_regexes.replace("priority: 60", "priority: high")
    lines = errors(rules, "pte/broken.yaml", schema_and_regex)
    assert len(lines) == 3
    assert "priority: expected integer" in lines[0]
    assert "bad regular expression '__pa(|virt_to_phys'" in lines[1]
    assert "bad regular expression 'x['" in lines[2]


@pytest.mark.parametrize("condition, at", [
    ("regex: 'x['", "match/where/$X/regex"),
    ("text: 'x['", "match/where/$X/text"),
    ("type: 'x['", "match/where/$X/type"),
    ("inside-call: {name: 'x['}", "match/where/$X/inside-call/name"),
])
def test_a_bad_regex_of_any_condition_is_reported_beside_schema_errors(rules, monkeypatch, condition, at):
    """A file with schema errors is not compiled; the bad regexes are still
    found in its data, for every key whose value holds one (`regex:` too)."""
    monkeypatch.chdir(rules.parent)
    text = BASE.replace("priority: 60", "priority: high").replace("call: '__pa|virt_to_phys'", condition)
    lines = errors(rules, "pte/broken.yaml", text)
    assert len(lines) == 2 and "priority: expected integer" in lines[0]
    assert f"broken.yaml:9: {at}: bad regular expression 'x['" in lines[1]
