"""The mechanical patch series: scan results -> `git format-patch` files.

    from pgrewrite.series import build_series, SeriesOptions
    report = build_series(tree_root, scan_result.files, out_dir, SeriesOptions(...))
    check = check_series(tree_root, report)      # git am + checkpatch.pl
"""
from .build import (CollisionError, PatchFile, SeriesError, SeriesOptions, SeriesReport,
                    build_series)

__all__ = ["build_series", "SeriesOptions", "SeriesReport", "PatchFile", "SeriesError",
           "CollisionError"]
