"""scripts/gold: a later round of the gold set gets keys of its own, so that
its labels are joined to its own sites and never to the first round's."""
from __future__ import annotations

import json
import subprocess
import sys

from .conftest import REPO

SCRIPTS = REPO / "scripts" / "gold"


def _site(path, line):
    return {"path": path, "line": line, "col": 5, "token": "PAGE_SIZE", "site_id": f"{path}:f:PAGE_SIZE:{line}",
            "text": "x = PAGE_SIZE;", "sample": "coverage", "stratum": "mm", "weight": 1.0}


def _run(script, *args):
    return subprocess.run([sys.executable, str(SCRIPTS / script), *map(str, args)],
                          capture_output=True, text=True, check=True)


def test_a_prefixed_round_writes_and_merges_its_own_keys(tmp_path):
    sites = tmp_path / "sites.jsonl"
    sites.write_text("".join(json.dumps(_site("mm/a.c", n)) + "\n" for n in (3, 9)))
    _run("batches.py", sites, "--prefix", "r2", "-o", tmp_path / "batches")
    keys = [json.loads(line)["key"] for line in (tmp_path / "batches" / "batch-01.jsonl").read_text().splitlines()]
    assert keys == ["r2-01-001", "r2-01-002"]

    raw = tmp_path / "raw"
    for reader, labels in (("reader-1", ["PG", "PTE"]), ("reader-2", ["PG", "PG"])):
        (raw / reader).mkdir(parents=True)
        (raw / reader / "batch-01.jsonl").write_text("".join(
            json.dumps({"key": k, "label": lab, "confidence": "high", "why": "w"}) + "\n"
            for k, lab in zip(keys, labels)))
    out = tmp_path / "gold.jsonl"
    done = _run("merge.py", sites, "--raw", raw, "--prefix", "r2", "--pending", tmp_path / "pending", "-o", out)
    gold = [json.loads(line) for line in out.read_text().splitlines()]
    assert [(g["key"], g["line"], g["final"]["label"]) for g in gold] == [("r2-01-001", 3, "PG")]
    pending = [json.loads(line) for line in (tmp_path / "pending" / "pending.jsonl").read_text().splitlines()]
    assert [p["key"] for p in pending] == ["r2-01-002"]
    assert "1 await a third reading" in done.stderr

    # without the prefix the keys are the first round's: none of these labels joins
    _run("merge.py", sites, "--raw", raw, "-o", out)
    assert out.read_text() == ""


def test_the_committed_gold_set_is_exactly_its_rounds_merged_from_the_raw_labels(tmp_path):
    """Nobody edits a final label by hand: each round merged again from what
    its readers wrote gives the committed records, and nothing else is there."""
    gold = REPO / "tests" / "data" / "gold"
    # every round directory there is, in order; rounds 11 on were batched 48 sites at a
    # time, unless the round's batch-size file says otherwise (a trial's renames split
    # into batches of even size)
    numbers = sorted(int(d.name.removeprefix("round-")) for d in gold.glob("round-*"))

    def size(n: int) -> tuple:
        recorded = gold / f"round-{n}" / "batch-size"
        if recorded.exists():
            return (recorded.read_text().strip(),)
        return ("48",) if n >= 11 else ()

    rounds = [("", gold / "sites.jsonl", gold / "raw")] + [
        (f"r{n}", gold / f"round-{n}" / "sites.jsonl", gold / f"round-{n}" / "raw", *size(n))
        for n in numbers]
    assert numbers == list(range(2, len(numbers) + 2))      # none left out, none twice
    merged = []
    for prefix, sites, raw, *size in rounds:      # the batch size, where not merge.py's default
        out = tmp_path / f"round{prefix}.jsonl"
        done = _run("merge.py", sites, "--raw", raw, "--prefix", prefix, *(("--size", *size) if size else ()),
                    "-o", out)
        assert "0 await a third reading; 0 lack a reader" in done.stderr
        merged += out.read_text().splitlines()
    committed = (gold / "linux-6.12.117.jsonl").read_text().splitlines()
    assert sorted(merged) == sorted(committed)
    keys = [json.loads(line)["key"] for line in committed]
    assert len(set(keys)) == len(keys)


def test_since_draws_only_the_decisions_a_change_added(tmp_path):
    tree = tmp_path / "linux"
    (tree / "mm").mkdir(parents=True)
    (tree / "mm" / "a.c").write_text("".join(f"x{n} = PAGE_SIZE;\n" for n in range(1, 7)))

    def scan(verdicts):
        return {"sites": [{"path": "mm/a.c", "line": n, "col": 6, "token": "PAGE_SIZE", "site_id": f"s{n}",
                           "verdict": v} for n, v in enumerate(verdicts, 1)]}
    old, new = tmp_path / "old.json", tmp_path / "new.json"
    old.write_text(json.dumps(scan(["pg", "unknown", "unknown", "pte", "unknown", "unknown"])))
    new.write_text(json.dumps(scan(["pg", "pg", "pte", "pg", "unknown", "unknown"])))
    out = tmp_path / "sites.jsonl"
    _run("sample.py", new, "--tree", tree, "--coverage", "0", "--floor", "0", "--precision", "10", "--since", old, "-o", out)
    drawn = sorted(json.loads(line)["site_id"] for line in out.read_text().splitlines())
    assert drawn == ["s2", "s3", "s4"]      # s1 was decided the same before; s5, s6 are undecided
