"""semantic-rules/clashes.yaml: declared clash resolutions, loaded and
validated with the rules (errors are `file:line: key: message`)."""
from __future__ import annotations

import pytest

from pgrewrite import api
from pgrewrite.rules.loader import RuleError

from .conftest import copy_rules

X86_ENTRY = """\
- name: PTE_SHIFT
  defined-in: [arch/x86/include/asm/pgtable.h]
  rename-to: PTE_INDEX_BITS
  scope: ['arch/x86/**']
  why: >-
    x86's PTE_SHIFT is ilog2(PTRS_PER_PTE), the number of index bits one
    page-table level resolves (9), not the shift of the page a PTE maps.
"""

# ------------------------------------------------------------------ validation

def entry(**changes) -> str:
    keys = {"name": "PTE_SHIFT", "defined-in": "[arch/x86/include/asm/pgtable.h]",
            "rename-to": "PTE_INDEX_BITS", "scope": "['arch/x86/**']",
            "why": "x86's PTE_SHIFT is the number of index bits of a page table."}
    keys.update(changes)
    lines = [f"{k}: {v}" for k, v in keys.items() if v is not None]
    return "- " + "\n  ".join(lines) + "\n"


@pytest.mark.parametrize("text, expected", [
    ("name: PTE_SHIFT\n", "semantic-rules/clashes.yaml:1: (top level): expected a list of entries"),
    (entry(**{"scope": None}), "semantic-rules/clashes.yaml:1: 0: 'scope' is a required property"),
    (entry(colour="red"), "semantic-rules/clashes.yaml:6: 0: unknown key ('colour' was unexpected)"),
    (entry(**{"rename-to": "'PTE INDEX'"}), "semantic-rules/clashes.yaml:3: 0/rename-to: 'PTE INDEX' does not match"),
    (entry(name="PTE_WIDTH"), "semantic-rules/clashes.yaml:1: 0/name: 'PTE_WIDTH' is not one of the new names"),
    (entry(**{"rename-to": "PG_SHIFT"}), "semantic-rules/clashes.yaml:3: 0/rename-to: 'PG_SHIFT' is itself a family"),
    (entry(scope="['arch/x86/mm/**']"), "semantic-rules/clashes.yaml:2: 0/defined-in: "
                                        "arch/x86/include/asm/pgtable.h is not matched by scope"),
    (entry() + entry(**{"rename-to": "X86_PTE_BITS", "scope": "['arch/**']"}),
     "semantic-rules/clashes.yaml:9: 1/scope: overlaps entry 0 (line 1) for PTE_SHIFT"),
    ("- name: [\n", "semantic-rules/clashes.yaml:2: YAML syntax error"),
], ids=["not-a-list", "missing-key", "unknown-key", "bad-identifier", "not-a-new-name", "rename-to-family-name",
        "definition-outside-scope", "overlapping-scopes", "yaml-syntax"])
def test_clashes_yaml_errors_are_rule_errors(tmp_path, text, expected):
    rules = copy_rules(tmp_path / "semantic-rules", text)
    with pytest.raises(RuleError) as e:
        api.load_rules(rules)
    assert any(p.startswith(expected) for p in e.value.problems), e.value.problems


def test_clashes_yaml_is_part_of_the_rules_hash(tmp_path):
    a = api.load_rules(copy_rules(tmp_path / "a" / "semantic-rules", X86_ENTRY))
    b = api.load_rules(copy_rules(tmp_path / "b" / "semantic-rules", X86_ENTRY.replace("PTE_INDEX_BITS", "X86_PT_BITS")))
    c = api.load_rules(copy_rules(tmp_path / "c" / "semantic-rules"))
    assert len({a.digest, b.digest, c.digest}) == 3
    assert [x.rename_to for x in a.clashes] == ["PTE_INDEX_BITS"] and c.clashes == ()

