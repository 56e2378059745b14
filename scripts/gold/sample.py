#!/usr/bin/env python3
"""Draw the gold set's sites from a whole-tree scan, seeded and stratified.

    pgrewrite scan . --format json -o scan.json      # in the pinned tree
    scripts/gold/sample.py scan.json --tree TREE -o sites.jsonl

Two samples, both from the x86-relevant part (all but arch/<not x86>,
tools/, samples/, Documentation/, scripts/), both stratified by top-level
directory (arch/x86 counts as one):
  (a) `coverage`: uniformly from all sites;
  (b) `precision`: uniformly from the sites the scan decided pte/pg/logic,
      excluding those already in (a).
Each stratum gets its proportional share, but at least --floor sites for the
directories the issue names (mm arch/x86 fs drivers net kernel include
block), so that every one of them can be scored. The sampling weight of
each site (stratum size / sites drawn) is recorded, so a rate over a sample
can be re-weighted to the whole part.

With --since OLD_SCAN, sample (b) is drawn only from the sites SCAN decides
and OLD_SCAN did not (or decided the other way): the decisions a change
added, which is what a new inference step or rule must be judged on.

The output has no verdict: it is what readers label (via batches.py).
"""
from __future__ import annotations

import argparse
import json
import random
import sys
from collections import defaultdict
from pathlib import Path

NAMED = ("mm", "arch/x86", "fs", "drivers", "net", "kernel", "include", "block")
NOT_X86 = ("tools", "samples", "Documentation", "scripts")


def stratum(path: str) -> str:
    parts = path.split("/")
    return "/".join(parts[:2]) if parts[0] == "arch" else parts[0]


def x86_relevant(path: str) -> bool:
    parts = path.split("/")
    if parts[0] in NOT_X86:
        return False
    return not (parts[0] == "arch" and (len(parts) < 2 or parts[1] != "x86"))


def allocate(sizes: dict[str, int], total: int, floor: int) -> dict[str, int]:
    """Proportional allocation with a floor for the named strata (largest remainder)."""
    fixed = {s: min(floor, n) for s, n in sizes.items() if s in NAMED}
    rest = total - sum(fixed.values())
    pool = sum(sizes.values())
    shares = {s: rest * n / pool for s, n in sizes.items()}
    alloc = {s: max(int(shares[s]), 0) for s in sizes}
    left = rest - sum(alloc.values())
    for s in sorted(sizes, key=lambda s: shares[s] - int(shares[s]), reverse=True)[:left]:
        alloc[s] += 1
    return {s: min(sizes[s], alloc[s] + fixed.get(s, 0)) for s in sizes}


def draw(sites: list[dict], total: int, floor: int, rng: random.Random, name: str) -> list[dict]:
    by = defaultdict(list)
    for s in sites:
        by[stratum(s["path"])].append(s)
    counts = allocate({k: len(v) for k, v in by.items()}, total, floor)
    out = []
    for key in sorted(by):
        pool = sorted(by[key], key=lambda s: (s["path"], s["line"], s["col"]))
        picked = rng.sample(pool, counts[key]) if counts[key] else []
        for s in picked:
            out.append({**s, "sample": name, "stratum": key,
                        "weight": round(len(pool) / counts[key], 4)})
    return out


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("scan", type=Path, help="pgrewrite scan --format json of the whole tree")
    ap.add_argument("--tree", type=Path, required=True, help="the tree the scan was run in")
    ap.add_argument("--seed", type=int, default=20261203)
    ap.add_argument("--coverage", type=int, default=610, help="size of sample (a)")
    ap.add_argument("--precision", type=int, default=410, help="size of sample (b)")
    ap.add_argument("--floor", type=int, default=16, help="least sites per named directory")
    ap.add_argument("--exclude", type=Path, action="append", default=[],
                    help="a gold file whose sites are not drawn again (to extend the set)")
    ap.add_argument("--since", type=Path, default=None,
                    help="an older scan: draw (b) only from the decisions it did not have")
    ap.add_argument("-o", "--output", type=Path, required=True)
    args = ap.parse_args(argv)

    doc = json.loads(args.scan.read_text())
    taken = set()
    for f in args.exclude:
        for line in f.read_text().splitlines():
            g = json.loads(line)
            taken.add((g["path"], g["line"], g["col"]))
    sites = [s for s in doc["sites"] if x86_relevant(s["path"])
             and (s["path"], s["line"], s["col"]) not in taken]
    rng = random.Random(args.seed)
    a = draw(sites, args.coverage, args.floor, rng, "coverage")
    seen = {(s["path"], s["line"], s["col"]) for s in a}
    decided = [s for s in sites if s["verdict"] in ("pte", "pg", "logic")
               and (s["path"], s["line"], s["col"]) not in seen]
    if args.since is not None:
        before = {s["site_id"]: s["verdict"] for s in json.loads(args.since.read_text())["sites"]}
        decided = [s for s in decided if before.get(s["site_id"]) != s["verdict"]]
    b = draw(decided, args.precision, args.floor, rng, "precision")
    lines_cache: dict[str, list[bytes]] = {}
    with args.output.open("w") as out:
        for s in sorted(a + b, key=lambda s: (s["path"], s["line"], s["col"])):
            if s["path"] not in lines_cache:
                lines_cache[s["path"]] = (args.tree / s["path"]).read_bytes().split(b"\n")
            text = lines_cache[s["path"]][s["line"] - 1].decode("utf-8", "replace")
            rec = {"path": s["path"], "line": s["line"], "col": s["col"], "token": s["token"],
                   "site_id": s["site_id"], "text": text.strip(), "sample": s["sample"],
                   "stratum": s["stratum"], "weight": s["weight"]}
            out.write(json.dumps(rec, sort_keys=True) + "\n")
    print(f"sample.py: {len(a)} coverage + {len(b)} precision sites -> {args.output}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
