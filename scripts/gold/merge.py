#!/usr/bin/env python3
"""Join two readers' labels (and third readings) into the gold set.

    scripts/gold/merge.py tests/data/gold/sites.jsonl --raw tests/data/gold/raw \\
        -o tests/data/gold/linux-6.12.117.jsonl [--pending DIR]

--raw holds what readers wrote, unchanged: reader-1/batch-NN.jsonl,
reader-2/batch-NN.jsonl (each line {"key", "label", "confidence", "why"}) and
adjudication/*.jsonl (each line {"key", "label", "why"}). Keys are those of
batches.py (same --size).

Two readers agree when their labels are equal, or are LOGIC and HW4K (both
mean "a person must rewrite this"; the final label is LOGIC then). Otherwise
the site needs a third reading: with --pending, the sites still waiting for
one are written there for the adjudicator, with both labels and whys but no
tool verdict. A site is in the gold set once it has two labels and, where
they differ, a third reading.
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from batches import make_batches  # noqa: E402

LABELS = {"PTE", "PG", "LOGIC", "HW4K", "NOT_PG", "UNSURE"}
CONFIDENCE = {"high", "medium", "low"}


def read_labels(directory: Path, need_confidence: bool = True) -> dict[str, dict]:
    out: dict[str, dict] = {}
    for f in sorted(directory.glob("*.jsonl")):
        for n, line in enumerate(f.read_text().splitlines(), 1):
            if not line.strip():
                continue
            rec = json.loads(line)
            label = str(rec.get("label", "")).upper()
            if label not in LABELS or (need_confidence and rec.get("confidence") not in CONFIDENCE):
                raise SystemExit(f"{f}:{n}: bad label record {line!r}")
            out[rec["key"]] = {"label": label, "why": rec.get("why", "").strip(),
                               **({"confidence": rec["confidence"]} if need_confidence else {})}
    return out


def agree(a: str, b: str) -> str | None:
    if a == b:
        return a
    if {a, b} == {"LOGIC", "HW4K"}:
        return "LOGIC"
    return None


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("sites", type=Path)
    ap.add_argument("--raw", type=Path, required=True)
    ap.add_argument("--size", type=int, default=64)
    ap.add_argument("--prefix", default="", help="key prefix the round's batches were written with")
    ap.add_argument("--pending", type=Path, default=None, help="write the sites awaiting a third reading here")
    ap.add_argument("-o", "--output", type=Path, required=True)
    args = ap.parse_args(argv)
    sites = [json.loads(line) for line in args.sites.read_text().splitlines()]
    r1 = read_labels(args.raw / "reader-1")
    r2 = read_labels(args.raw / "reader-2")
    adj = read_labels(args.raw / "adjudication", need_confidence=False) if (args.raw / "adjudication").is_dir() else {}
    gold, pending, unlabelled = [], [], 0
    for batch in make_batches(sites, args.size, args.prefix):
        for key, s in batch:
            a, b = r1.get(key), r2.get(key)
            if a is None or b is None:
                unlabelled += 1
                continue
            rec = {k: s[k] for k in ("path", "line", "col", "token", "site_id", "text", "sample", "stratum", "weight")}
            rec["key"] = key
            rec["readers"] = [a, b]
            both = agree(a["label"], b["label"])
            if both is not None:
                rec["adjudication"] = None
                rec["final"] = {"label": both, "agreed": True}
            elif key in adj:
                rec["adjudication"] = adj[key]
                rec["final"] = {"label": adj[key]["label"], "agreed": False}
            else:
                pending.append({"key": key, "path": s["path"], "line": s["line"], "col": s["col"],
                                "token": s["token"], "text": s["text"],
                                "reader_1": f"{a['label']} ({a['confidence']}): {a['why']}",
                                "reader_2": f"{b['label']} ({b['confidence']}): {b['why']}"})
                continue
            gold.append(rec)
    with args.output.open("w") as out:
        for rec in sorted(gold, key=lambda r: (r["path"], r["line"], r["col"])):
            out.write(json.dumps(rec, sort_keys=True) + "\n")
    if args.pending is not None:
        args.pending.mkdir(parents=True, exist_ok=True)
        with (args.pending / "pending.jsonl").open("w") as out:
            for p in pending:
                out.write(json.dumps(p) + "\n")
    agreed = sum(r["final"]["agreed"] for r in gold)
    print(f"merge.py: {len(gold)} gold sites ({agreed} agreed, {len(gold) - agreed} by a third reading); "
          f"{len(pending)} await a third reading; {unlabelled} lack a reader", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
