#!/usr/bin/env python3
"""Split the sampled sites into batches for readers, with no verdict in them.

    scripts/gold/batches.py tests/data/gold/sites.jsonl --size 64 -o DIR

Writes DIR/batch-NN.jsonl, one site a line: a key (`NN-III`, or
`PREFIX-NN-III` with --prefix), path, line, col, token and the source line.
Sites of one file stay in one batch, so a reader reads each function once.
A later round of the gold set takes its own prefix (`r2`), so that its keys
never meet the first round's in the merged file.
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("sites", type=Path)
    ap.add_argument("--size", type=int, default=64)
    ap.add_argument("--prefix", default="", help="key prefix of a later round (e.g. r2)")
    ap.add_argument("-o", "--output", type=Path, required=True)
    args = ap.parse_args(argv)
    sites = [json.loads(line) for line in args.sites.read_text().splitlines()]
    batches = make_batches(sites, args.size, args.prefix)
    args.output.mkdir(parents=True, exist_ok=True)
    for n, batch in enumerate(batches, 1):
        with (args.output / f"batch-{n:02d}.jsonl").open("w") as out:
            for key, s in batch:
                rec = {"key": key, "path": s["path"], "line": s["line"],
                       "col": s["col"], "token": s["token"], "text": s["text"]}
                out.write(json.dumps(rec) + "\n")
    print(f"batches.py: {len(sites)} sites in {len(batches)} batches -> {args.output}", file=sys.stderr)
    return 0


def make_batches(sites: list[dict], size: int, prefix: str = "") -> list[list[tuple[str, dict]]]:
    """The batches, each a list of (key, site); deterministic, so merge.py
    finds the site of a reader's key again."""
    sites = sorted(sites, key=lambda s: (s["path"], s["line"], s["col"]))
    batches: list[list[dict]] = [[]]
    for i, s in enumerate(sites):
        same_file = i and sites[i - 1]["path"] == s["path"]
        if len(batches[-1]) >= size and not same_file:
            batches.append([])
        batches[-1].append(s)
    head = f"{prefix}-" if prefix else ""
    return [[(f"{head}{n:02d}-{i:03d}", s) for i, s in enumerate(b, 1)] for n, b in enumerate(batches, 1)]


if __name__ == "__main__":
    sys.exit(main())
