#!/usr/bin/env python3
"""Coverage report for a kernel tree: `scripts/coverage_report.py TREE [PATHS...]`.

The same as `pgrewrite coverage` run inside TREE on PATHS (default: the
whole tree); options after the paths are passed on (`--top 20`, `--format json`).
"""
import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from pgrewrite.cli import cli  # noqa: E402


def main(argv):
    if not argv or argv[0] in ("-h", "--help"):
        print(__doc__.strip())
        return 0 if argv else 2
    tree, rest = argv[0], argv[1:]
    k = next((i for i, a in enumerate(rest) if a.startswith("-")), len(rest))
    paths, options = rest[:k], rest[k:]      # paths first, then options
    os.chdir(tree)
    return cli.main(["coverage", *(paths or ["."]), *options], prog_name="coverage_report")


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
