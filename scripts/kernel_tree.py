"""Where the pinned kernel tree is, for tests and benchmarks: what
`scripts/get-kernel --no-fetch` prints, or None. One helper, so no test or
benchmark hard-codes a machine path."""
from __future__ import annotations

import functools
import subprocess
from pathlib import Path


@functools.lru_cache(maxsize=None)
def find_kernel(repo: Path) -> Path | None:
    try:
        out = subprocess.run([str(repo / "scripts" / "get-kernel"), "--no-fetch"],
                             capture_output=True, text=True, check=False)
    except OSError:
        return None
    path = out.stdout.strip()
    if out.returncode != 0 or not path:
        return None
    tree = Path(path)
    return tree if (tree / "include" / "linux").is_dir() else None
