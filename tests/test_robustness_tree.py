"""The whole 6.12 tree, with random files corrupted in a scratch copy.

Opt-in (it copies 1.7 GB and scans every file): PGREWRITE_TREE_RUN=1 and a
kernel from scripts/get-kernel (or PGREWRITE_KERNEL). The run must finish,
report exactly the corrupted files that cannot be read (NUL bytes, chmod 000,
deleted during the run), and write nothing but the renames; truncated files
are still C and are analysed as they now are.
"""
from __future__ import annotations

import json
import os
import random
import subprocess
import time
from pathlib import Path

import pytest

from pgrewrite import api
from pgrewrite import scan as scan_module
from pgrewrite.applying import apply_result
from pgrewrite.edits import rewrite

REPO = Path(__file__).resolve().parent.parent
PER_KIND = 8

pytestmark = [pytest.mark.kernel, pytest.mark.slow,
              pytest.mark.skipif(os.environ.get("PGREWRITE_TREE_RUN") != "1",
                                 reason="set PGREWRITE_TREE_RUN=1 to run over the whole kernel tree")]


def kernel_tree() -> Path:
    r = subprocess.run([str(REPO / "scripts" / "get-kernel")], capture_output=True, text=True)
    if r.returncode != 0:
        pytest.skip(f"no kernel tree: {r.stderr.strip()}")
    return Path(r.stdout.strip().splitlines()[-1])


def test_whole_tree_with_corrupted_files(tmp_path, ruleset, monkeypatch):
    original = kernel_tree()
    scratch = Path(os.environ.get("PGREWRITE_SCRATCH", tmp_path)) / "linux"
    subprocess.run(["rsync", "-a", "--delete", "--exclude", ".git", f"{original}/", f"{scratch}/"], check=True)
    engine = api.Engine(ruleset)
    files = sorted(p for p in scratch.rglob("*") if p.suffix in (".c", ".h") and p.is_file() and not p.is_symlink())
    rng = random.Random(612)
    # files with a whole-word family name: the others are never candidates (nothing to lose in them)
    with_family = [p for p in rng.sample(files, 3000) if engine.mentions_family(p.read_bytes())]
    chosen = rng.sample(with_family, 4 * PER_KIND)
    nul, trunc, chmod, deleted = (chosen[i * PER_KIND:(i + 1) * PER_KIND] for i in range(4))
    for p in nul:
        data = p.read_bytes()
        at = rng.randrange(len(data))
        p.write_bytes(data[:at] + b"\0" * rng.randint(1, 16) + data[at:])
    for p in trunc:
        data = p.read_bytes()
        p.write_bytes(data[:rng.randrange(len(data))])
    for p in chmod:
        p.chmod(0)
    corrupted_bytes = {p: p.read_bytes() for p in nul + trunc}

    # root reads chmod 000 files anyway: behave as an ordinary user would see them
    real_read = Path.read_bytes

    def read_bytes(self):
        if os.geteuid() == 0 and self.suffix in (".c", ".h") and self.stat().st_mode & 0o444 == 0:
            raise PermissionError(13, "Permission denied", str(self))
        return real_read(self)
    monkeypatch.setattr(Path, "read_bytes", read_bytes)

    # delete files after the candidates were listed: "deleted during the run"
    real_expand = api.expand

    def expand_then_delete(*a, **k):
        out = real_expand(*a, **k)
        for p in deleted:
            p.unlink()
        return out
    monkeypatch.setattr(scan_module, "expand", expand_then_delete)   # what scan_paths calls

    t0 = time.monotonic()
    result = api.scan_paths(["."], ruleset, jobs=os.cpu_count(), use_cache=False, cwd=scratch)
    t_scan = time.monotonic() - t0
    report = apply_result(result, ruleset, allow_dirty=True, cwd=scratch)
    t_apply = time.monotonic() - t0 - t_scan

    rel = lambda ps: sorted(str(p.relative_to(scratch)) for p in ps)  # noqa: E731
    failed = sorted(f.path for f in result.failed)
    problems = sorted(p.display for p in result.problems)
    numbers = {
        "files_read": len(result.files), "sites": sum(len(f.decisions) for f in result.files),
        "failed": len(failed), "problems": len(problems), "accounting_difference": result.accounting_difference,
        "truncated_with_parse_errors": sum(1 for f in result.files if f.path in rel(trunc) and f.parse_errors),
        "rewritten": len(report.rewritten), "renames": sum(n for _, n in report.rewritten),
        "refused": len(report.refused), "scan_s": round(t_scan), "apply_s": round(t_apply),
    }
    print(json.dumps(numbers))
    (tmp_path / "numbers.json").write_text(json.dumps(numbers))
    assert failed == rel(nul + chmod + deleted), (set(failed) ^ set(rel(nul + chmod + deleted)))
    assert problems == []
    assert result.accounting_difference == 0
    assert report.refused == []

    # nothing written outside the renames: compare every file with the original
    monkeypatch.setattr(Path, "read_bytes", real_read)
    edits = {f.path: f.edits for f in result.files}
    rewritten = {p for p, _ in report.rewritten}
    seen = set()
    for dirpath, _, names_ in os.walk(scratch):
        for n in names_:
            p = Path(dirpath) / n
            r = str(p.relative_to(scratch))
            seen.add(r)
            if p.is_symlink() or p in chmod:
                continue
            orig = corrupted_bytes[p] if p in corrupted_bytes else (original / r).read_bytes()
            data = p.read_bytes()
            if r in rewritten:
                assert data == rewrite(orig, edits[r]), r
            else:
                assert data == orig, r
    expected = {os.path.relpath(os.path.join(d, n), original) for d, _, ns in os.walk(original) for n in ns}
    expected = {r for r in expected if not r.startswith(".git/")} - set(rel(deleted))
    assert seen == expected            # no temporary file left, nothing added or lost
