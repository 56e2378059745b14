#!/usr/bin/env python3
"""How long `pgrewrite check` takes on a typical patch (issue 20: a 10-file
patch against a warm cache in under 2 s).

On the pinned 6.12 tree (read, never written: check applies patches in
memory), with a cache directory of its own:

1. warm-up: `pgrewrite scan mm --cache-dir C` (the result cache and the
   tree's collision index, as a developer who has scanned before has them);
2. N times, a new 10-file patch (each adds, in 10 files of mm/, one line
   with PAGE_SIZE beside an existing use; a different line each round, so
   no resulting file is in the cache): `pgrewrite check P --cache-dir C`,
   the wall time of the child process;
3. the same patch once more (everything cached).

    .venv/bin/python benchmarks/check_bench.py [--tree PATH] [--rounds 5] [--files 10]

Prints one line per run and the median; exits 0 whatever it measured.
"""
from __future__ import annotations

import argparse
import difflib
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "scripts"))
from kernel_tree import find_kernel  # noqa: E402

PGREWRITE = shutil.which("pgrewrite", path=str(REPO / ".venv" / "bin")) or "pgrewrite"


def make_patch(tree: Path, files: list[str], round_no: int) -> bytes:
    """A patch adding, after the first line of each file that uses PAGE_SIZE
    as a statement, a line with a use of its own."""
    out = []
    for rel in files:
        old = (tree / rel).read_bytes().split(b"\n")
        at = next(i for i, ln in enumerate(old) if b"PAGE_SIZE" in ln and ln.rstrip().endswith(b";")
                  and ln.startswith(b"\t"))
        indent = old[at][:len(old[at]) - len(old[at].lstrip())]
        new = old[:at + 1] + [indent + b"bench_%d = PAGE_SIZE;" % round_no] + old[at + 1:]
        out.extend(difflib.diff_bytes(difflib.unified_diff, [ln + b"\n" for ln in old],
                                      [ln + b"\n" for ln in new], b"a/" + rel.encode(), b"b/" + rel.encode()))
    return b"".join(out)


def timed(args, cwd) -> tuple[float, float, int]:
    """(wall s, CPU s of the child: user + system, exit code). On a shared
    machine the CPU time is the steadier figure: wall time there is mostly
    waiting for a core."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t = time.perf_counter()
    r = subprocess.run(args, cwd=cwd, capture_output=True)
    wall = time.perf_counter() - t
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall, cpu, r.returncode


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--tree", type=Path, default=find_kernel(REPO))
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--files", type=int, default=10)
    a = ap.parse_args()
    if a.tree is None:
        print("no kernel tree: run scripts/get-kernel or give --tree")
        return 0
    tree = a.tree.resolve()
    mm = sorted(p for p in (tree / "mm").glob("*.c"))
    files = []
    for p in mm:
        lines = p.read_bytes().split(b"\n")
        if any(b"PAGE_SIZE" in ln and ln.rstrip().endswith(b";") and ln.startswith(b"\t") for ln in lines):
            files.append(p.relative_to(tree).as_posix())
        if len(files) == a.files:
            break
    with tempfile.TemporaryDirectory() as tmp:
        cache = Path(tmp) / "cache"
        wall, cpu, rc = timed([PGREWRITE, "scan", "mm", "--format", "json", "--cache-dir", str(cache)], tree)
        print(f"warm-up: scan mm: {wall:.1f} s wall, {cpu:.1f} s CPU (exit {rc})")
        walls, cpus = [], []
        for n in range(a.rounds):
            patch = Path(tmp) / f"round{n}.patch"
            patch.write_bytes(make_patch(tree, files, n))
            wall, cpu, rc = timed([PGREWRITE, "check", str(patch), "--cache-dir", str(cache)], tree)
            walls.append(wall)
            cpus.append(cpu)
            print(f"check, {len(files)} files, new contents: {wall:.2f} s wall, {cpu:.2f} s CPU (exit {rc})")
        wall, cpu, rc = timed([PGREWRITE, "check", str(patch), "--cache-dir", str(cache)], tree)
        print(f"check, the last patch again (all cached): {wall:.2f} s wall, {cpu:.2f} s CPU (exit {rc})")
        wall, cpu, _ = timed([PGREWRITE, "--version"], tree)
        print(f"pgrewrite --version (start-up alone): {wall:.2f} s wall, {cpu:.2f} s CPU")
        print(f"load average: {' '.join(f'{x:.1f}' for x in os.getloadavg())}")
        w, c = statistics.median(walls), statistics.median(cpus)
        print(f"median over {len(walls)} new {len(files)}-file patches: {w:.2f} s wall, {c:.2f} s CPU "
              f"(target < 2 s: wall {'PASS' if w < 2 else 'FAIL'}, CPU {'PASS' if c < 2 else 'FAIL'})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
