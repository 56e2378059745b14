"""Every patch of the whole-tree series has a subject of its own, within
75 characters (submitting-patches.rst), on the
real 6.12 tree: the subjects are computed as `series` computes them, from
the same plan, without writing the series (the tree is read-only).

Computed without the two things `series` does at a base commit (leaving
out renames to names the tree already defines, and a file's renames of its
own PAGE_SIZE definition): both drop a few edits only."""
from __future__ import annotations

import collections

import pytest

from pgrewrite import api
from pgrewrite.series.build import rename_subjects
from pgrewrite.series.git import Git
from pgrewrite.series.maintainers import Maintainers
from pgrewrite.series.plan import NO_ENTRY, plan
from pgrewrite.series.select import select
from pgrewrite.series.subjects import LIMIT

pytestmark = [pytest.mark.kernel, pytest.mark.slow]


@pytest.fixture(scope="module")
def whole_tree(kernel, ruleset):
    result = api.scan_paths(["."], ruleset, use_cache=False, cwd=kernel)
    assert result.failed == ()
    return kernel, list(result.files)


@pytest.mark.parametrize("split_by,only", [("subsystem", None), ("rule", None), ("rule", "pte")])
def test_the_whole_tree_series_has_no_two_subjects_alike(whole_tree, split_by, only):
    kernel, files = whole_tree
    sel = select(files, only=only, blocked=set())
    maint = Maintainers.from_tree(kernel)

    def subsystem(path):
        entry = maint.best(path)
        return entry.name if entry else NO_ENTRY

    plans = plan(sel.edits, split_by=split_by, subsystem=subsystem, line_of=lambda p, o: 1)
    subjects = [s for s, _ in rename_subjects(Git(kernel), "HEAD", plans, maint, split_by, only)]
    assert len(subjects) > (100 if split_by == "subsystem" else 20)
    alike = {s: n for s, n in collections.Counter(subjects).items() if n > 1}
    assert alike == {}
    assert [s for s in subjects if len(s) > LIMIT] == []
