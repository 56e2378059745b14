"""Self-checks after rewriting: each forced failure aborts that file with a report."""
from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from pgrewrite import api
from pgrewrite.applying import apply_result
from pgrewrite.edits import rewrite, self_check
from pgrewrite.model import Edit

from .test_robustness_support import c_file, expected_rename, make_tree


@pytest.fixture
def snap(snapshot):
    snapshot.snapshot_dir = Path(__file__).parent / "snapshots" / "robustness"
    return snapshot


def first_edit(result, path):
    f = next(f for f in result.files if f.path == path)
    return f, f.edits[0]


def corrupt(result, path, **change):
    """The scan result with the first edit of `path` replaced."""
    f, e = first_edit(result, path)
    bad = dataclasses.replace(e, **change)
    files = tuple(dataclasses.replace(x, edits=(bad,) + x.edits[1:]) if x.path == path else x for x in result.files)
    return dataclasses.replace(result, files=files)


def test_clean_rewrite_passes_every_check(engine):
    old = c_file(0)
    r = engine.analyse("mm/x.c", old)
    new = rewrite(old, r.edits)
    assert new == expected_rename(old)
    assert self_check(old, new, r.edits, engine, "mm/x.c", len(r.decisions)) == []


FAILURES = {
    # a "rename" to another family name: the family count and the idempotence check catch it
    "not-a-family-rename": dict(new="PAGE_MASK"),
    # a replacement that breaks the parse
    "new-parse-error": dict(new="PTE_SHIFT) {"),
    # a replacement that is still a family token once re-analysed (idempotence)
    "not-idempotent": dict(new="PAGE_SHIFT"),
}


@pytest.mark.parametrize("case", sorted(FAILURES))
def test_a_failing_self_check_aborts_that_file_only(case, tmp_path, ruleset, snap):
    files = make_tree(tmp_path, 3)
    originals = {p: p.read_bytes() for p in files}
    result = api.scan_paths(["mm"], ruleset, jobs=1, use_cache=False, cwd=tmp_path)
    bad = corrupt(result, "mm/file001.c", **FAILURES[case])
    report = apply_result(bad, ruleset, allow_dirty=True, cwd=tmp_path)
    snap.assert_match("\n".join(report.lines()) + "\n", f"selfcheck_{case}.txt")
    assert [p for p, _ in report.refused] == ["mm/file001.c"]
    assert files[1].read_bytes() == originals[files[1]]
    assert files[0].read_bytes() == expected_rename(originals[files[0]])
    assert files[2].read_bytes() == expected_rename(originals[files[2]])


def test_idempotence_failure_is_reported_on_its_own(engine, monkeypatch):
    """Force only the second analysis to disagree: a renamed token still a site."""
    old = c_file(0)
    r = engine.analyse("mm/x.c", old)
    new = rewrite(old, r.edits)
    real = engine.analyse

    def second_sees_a_site(path, data, *a, **k):
        res = real(path, data, *a, **k)
        if data == new:
            pos = new.index(b"PTE_SHIFT")
            d = dataclasses.replace(r.decisions[0], site=dataclasses.replace(r.decisions[0].site, start=pos))
            res = dataclasses.replace(res, decisions=res.decisions + (d,))
        return res

    monkeypatch.setattr(engine, "analyse", second_sees_a_site)
    problems = self_check(old, new, r.edits, engine, "mm/x.c", len(r.decisions))
    assert problems and problems[0].startswith("not idempotent: 1 renamed token(s) are still family sites")


def test_edits_that_do_not_fit_the_file_are_refused(tmp_path, ruleset):
    make_tree(tmp_path, 1)
    result = api.scan_paths(["mm"], ruleset, jobs=1, use_cache=False, cwd=tmp_path)
    f, e = first_edit(result, "mm/file000.c")
    bad = corrupt(result, "mm/file000.c", start=e.start + 1, end=e.end + 1)
    report = apply_result(bad, ruleset, allow_dirty=True, cwd=tmp_path)
    assert report.refused and "edits do not fit the file" in report.refused[0][1]
    assert isinstance(e, Edit)
