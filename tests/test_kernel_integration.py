"""The engine on the real 6.12 tree: every token accounted for, and `apply`
on a copy of mm/ and arch/x86/ changes only family names, is idempotent and
adds no parse errors."""
from __future__ import annotations

import re
import subprocess

import pytest

from pgrewrite import api, parsing

pytestmark = [pytest.mark.kernel, pytest.mark.slow]


def _scan(paths, ruleset, cwd):
    return api.scan_paths(paths, ruleset, use_cache=False, cwd=cwd)


def test_scan_accounts_for_every_token(kernel, ruleset):
    result = _scan(["mm", "arch/x86", "include/linux", "include/asm-generic"], ruleset, kernel)
    assert result.failed == ()
    assert result.problems == ()
    assert result.accounting_difference == 0
    counts = result.verdict_counts()
    # grep -ow finds 2,663 + 383 uses in these directories, comments included
    assert sum(counts.values()) > 2500
    assert counts["pte"] > 0 and counts["pg"] > 0 and counts["logic"] > 0


@pytest.fixture(scope="module")
def applied(kernel, ruleset, tmp_path_factory):
    """A copy of the tree with `apply` run on mm/ and arch/x86/ (not hard
    links: making a link changes the pinned tree's ctimes, and every later
    warm run there would take its files as changed)."""
    copy = tmp_path_factory.mktemp("kernel") / "linux"
    copy.mkdir()
    for part in ("mm", "arch", "include"):
        subprocess.run(["cp", "-a", str(kernel / part), str(copy / part)], check=True)
    from pgrewrite.applying import apply_result
    result = _scan(["mm", "arch/x86"], ruleset, copy)
    report = apply_result(result, ruleset, allow_dirty=True, cwd=copy)
    return kernel, copy, result, report


def test_apply_changes_only_family_names(applied, ruleset):
    kernel, copy, result, report = applied
    assert report.refused == []
    assert len(report.rewritten) > 50
    new_names = {n: m.name for m in ruleset.family.members for n in (m.pte, m.pg)}
    word = re.compile(rb"\b(" + b"|".join(n.encode() for n in new_names) + rb")\b")
    # the preparatory renames (clashes.yaml, private definitions) come first
    prep = result.preparation.pairs() if result.preparation is not None else {}
    for path, _ in report.rewritten:
        old = (kernel / path).read_bytes()
        new = (copy / path).read_bytes()
        assert old != new
        # map each new name back, except names the original already had
        # (and still has after its preparatory renames)
        pairs = prep.get(path, {})
        present = {m.group().decode() for m in word.finditer(old)} - set(pairs)
        back = word.sub(lambda m: new_names[m.group().decode()].encode()
                        if m.group().decode() not in present else m.group(), new)
        for old_name, new_name in pairs.items():
            back = re.sub(rb"\b" + new_name.encode() + rb"\b", old_name.encode(), back)
        assert back == old, f"{path}: changed more than family names and planned preparatory renames"


def test_apply_adds_no_parse_errors(applied):
    kernel, copy, _, report = applied
    for path, _ in report.rewritten:
        before = parsing.count_errors(parsing.parse((kernel / path).read_bytes()))
        after = parsing.count_errors(parsing.parse((copy / path).read_bytes()))
        assert after <= before, path


def test_second_apply_changes_nothing(applied, ruleset):
    _, copy, _, _ = applied
    from pgrewrite.applying import apply_result
    again = apply_result(_scan(["mm", "arch/x86"], ruleset, copy), ruleset, allow_dirty=True, cwd=copy)
    assert again.rewritten == [] and again.refused == []
