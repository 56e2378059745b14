"""The mechanical patch series: scan results -> `git format-patch` files.

    from pgrewrite.series import SeriesOptions, build_series
    from pgrewrite.series.check import check_series

    report = build_series(tree_root, scan_result.files, out_dir, SeriesOptions(...))
    checked = check_series(tree_root, report.base_commit,
                           [p.path for p in report.patches[1:]],
                           sorted({f for p in report.patches for f in p.files}))

Modules: select (which edits), definitions (the first patch, existing
definitions, private renames), maintainers (MAINTAINERS, get_maintainer.pl),
prefix (subject prefixes), plan (grouping), messages (commit messages, cover),
git (scratch object store), build (the whole run), check (git am + checkpatch).
"""
from .build import (CollisionError, PatchFile, SeriesError, SeriesOptions, SeriesReport,
                    build_series)

__all__ = ["build_series", "SeriesOptions", "SeriesReport", "PatchFile", "SeriesError",
           "CollisionError"]
