"""Broken rule files: exit code 3 and one `file:line: message` per problem."""
from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from pgrewrite.cli import EXIT_RULES, cli
from pgrewrite.rules.loader import DEFAULT_RULES

BASE = """\
meaning: pte
priority: 60
reason: a physical address shifted by PAGE_SHIFT is a PFN
tokens: [PAGE_SHIFT]
match:
  pattern: $X >> PAGE_SHIFT
  where:
    $X:
      call: '__pa|virt_to_phys'
examples:
  match:
    - |
      pfn = __pa(v) >> PAGE_SHIFT;
  no-match:
    - |
      index = pos >> PAGE_SHIFT;
"""

CASES = {
    "yaml-syntax": ("pte/broken.yaml", BASE.replace("tokens: [PAGE_SHIFT]", "tokens: [PAGE_SHIFT")),
    "unknown-key": ("pte/broken.yaml", BASE.replace("priority: 60\n", "priority: 60\nconfidence: high\n")),
    "wrong-type": ("pte/broken.yaml", BASE.replace("priority: 60", "priority: high")),
    "bad-regex": ("pte/broken.yaml", BASE.replace("'__pa|virt_to_phys'", "'__pa(|virt_to_phys'")),
    "pattern-not-c": ("pte/broken.yaml", BASE.replace("pattern: $X >> PAGE_SHIFT", "pattern: '$X >> PAGE_SHIFT ) {'")),
    "duplicate-id": ("pg/pte-copy.yaml", BASE.replace("meaning: pte", "meaning: pg")),
    "meaning-folder": ("pg/pte-here.yaml", BASE),
    "logic-path-list": ("logic/by-path.yaml", BASE.replace("meaning: pte", "meaning: logic")
                        .replace("tokens:", "files: ['drivers/xen/**']\ntokens:")),
    "area-without-name": ("area/no-name.yaml", BASE.replace("meaning: pte", "meaning: area")),
}


@pytest.fixture
def snap(snapshot):
    snapshot.snapshot_dir = Path(__file__).parent / "snapshots" / "robustness"
    return snapshot


@pytest.mark.parametrize("case", sorted(CASES))
def test_broken_rule_file(case, tmp_path, snap, monkeypatch):
    monkeypatch.chdir(tmp_path)      # problems print paths relative to the cwd
    rules = tmp_path / "semantic-rules"
    shutil.copytree(DEFAULT_RULES, rules)
    rel, text = CASES[case]
    if case == "duplicate-id":
        (rules / "pte" / "pte-copy.yaml").write_text(BASE)
    (rules / rel).write_text(text)
    (tmp_path / "x.c").write_text("int x = PAGE_SIZE;\n")
    r = CliRunner().invoke(cli, ["scan", str(tmp_path / "x.c"), "--rules", str(rules), "--no-cache"])
    assert r.exit_code == EXIT_RULES, r.output
    out = r.output.replace(str(tmp_path), "<tmp>")
    lines = [line for line in out.splitlines() if line.startswith("error: semantic-rules/")]
    assert len(lines) == 1, out
    assert lines[0].split(":")[2].isdigit()       # error: file:LINE: message
    snap.assert_match(out, f"rules_{case}.txt")


def test_the_rule_documents_are_cached_and_follow_every_edit(tmp_path, monkeypatch):
    from pgrewrite import api
    from pgrewrite.rules import loader
    rules = tmp_path / "rules"
    shutil.copytree(DEFAULT_RULES, rules)
    cache = tmp_path / "cache"
    first = api.load_rules(rules, cache)
    assert len(list((cache / "rules").glob("*.rules"))) == 1
    # the second load compiles the kept documents: no YAML is read
    from pgrewrite.rules import documents
    monkeypatch.setattr(documents, "load_with_lines", lambda text: pytest.fail("YAML read on a cached load"))
    second = api.load_rules(rules, cache)
    assert second.digest == first.digest and [r.id for r in second.rules] == [r.id for r in first.rules]
    monkeypatch.undo()
    # an edited rule is compiled again; a broken one fails every time
    rule = rules / "pg" / "pg-kmap-memset.yaml"
    rule.write_text(rule.read_text().replace("priority: 60", "priority: 61"))
    edited = api.load_rules(rules, cache)
    assert edited.digest != first.digest
    assert edited.by_id("pg-kmap-memset").priority != first.by_id("pg-kmap-memset").priority
    rule.write_text("meaning: [")
    for _ in range(2):
        with pytest.raises(loader.RuleError):
            api.load_rules(rules, cache)
    # one set per rules directory is kept
    api.load_rules(None, cache)
    assert len(list((cache / "rules").glob("*.rules"))) == 2


LAUGHS = "".join(f"{chr(98 + i)}: &{chr(98 + i)} [" + ", ".join([f"*{chr(97 + i)}"] * 9) + "]\n"
                 for i in range(9))          # 9 ** 9 copies of `a` in about 500 bytes


@pytest.mark.parametrize("rel, text", [
    ("pte/laughs.yaml", "a: &a [lol]\n" + LAUGHS + BASE),
    ("clashes.yaml", "- &a {name: lol}\n" + "".join(
        f"- &{chr(98 + i)} [" + ", ".join([f"*{chr(97 + i)}"] * 9) + "]\n" for i in range(9))),
    ("family.yaml", None),
    ("pte/cycle.yaml", "loop: &a [*a]\n" + BASE),
])
def test_yaml_aliases_in_rules_cannot_multiply_the_document(rel, text, tmp_path):
    """A "billion laughs" (548 bytes) used 3 GB; aliases may share a value
    (the shipped rules do) but not expand it beyond yamlcap.MAX_NODES, nor
    refer to a value that contains them: one error naming file and line."""
    rules = tmp_path / "semantic-rules"
    shutil.copytree(DEFAULT_RULES, rules)
    if text is None:
        text = "a: &a [lol]\n" + LAUGHS + (DEFAULT_RULES / "family.yaml").read_text()
    (rules / rel).write_text(text)
    (tmp_path / "x.c").write_text("int x = PAGE_SIZE;\n")
    r = CliRunner().invoke(cli, ["scan", str(tmp_path / "x.c"), "--rules", str(rules), "--no-cache"])
    assert r.exit_code == EXIT_RULES, r.output
    assert r.exception is None or isinstance(r.exception, SystemExit), r.exception
    errors = [line for line in r.output.splitlines() if line.startswith("error:") and rel in line]
    assert len(errors) == 1, r.output
    assert ("contains it" if "cycle" in rel else "expand to more than 100,000") in r.output


def test_yaml_expansion_is_measured_without_expanding():
    import yaml

    from pgrewrite import yamlcap
    node = yaml.compose("a: &a [lol]\n" + LAUGHS, Loader=yaml.SafeLoader)
    with pytest.raises(yamlcap.ExpansionError):
        yamlcap.check_expansion(node)
    assert yamlcap.check_expansion(node, limit=10 ** 10) > 9 ** 9
