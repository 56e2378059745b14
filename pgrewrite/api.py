"""The library entry points; the command line, the tests and editors share them.

    ruleset = load_rules()                      # semantic-rules/ shipped with pgrewrite
    result = scan_bytes("mm/x.c", data, ruleset)  # one file -> FileResult
    result = scan_paths(["mm"], ruleset)          # many files -> ScanResult
    new = rewrite(data, result.edits)             # byte-exact

A facade: the engine (engine.py: one file's bytes -> FileResult), the
runner (runner.py: many files, in worker processes, through the cache) and
the scan (scan.py: the stages of a run over a tree) do the work.
"""
from __future__ import annotations

from pathlib import Path

from .edits import rewrite
from .engine import MAX_BYTES, Engine, analyse_data, digest, input_problem, read_source, scan_bytes
from .files import Candidate, InputProblem, expand
from .model import ScanResult
from .onefile import OneFile, scan_one
from .rules.loader import RuleSet, load_ruleset
from .runner import analyse_cached
from .scan import ContentScanner, apply_person_decisions, index_and_plan, scan_paths, start_include_grep

__all__ = [
    "MAX_BYTES", "Candidate", "ContentScanner", "Engine", "InputProblem", "OneFile", "RuleSet", "ScanResult",
    "analyse_cached", "analyse_data", "apply_person_decisions", "digest", "expand",
    "index_and_plan", "input_problem", "load_rules", "read_source", "rewrite", "scan_bytes", "scan_one",
    "scan_paths", "start_include_grep",
]


def load_rules(rules_dir: Path | str | None = None, cache_dir: Path | str | None = None) -> RuleSet:
    """The rule set; with `cache_dir`, compiled once and kept there."""
    return load_ruleset(Path(rules_dir) if rules_dir is not None else None,
                        Path(cache_dir) if cache_dir is not None else None)
