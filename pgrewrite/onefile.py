"""One file as `scan` sees it, for the commands that look at one site
(`explain`, `decide`)."""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from . import collisions as coll
from .files import Candidate
from .model import FileResult
from .report import find_decisions_file, load_decisions
from .rules.loader import RuleSet
from .scan import _tree_names, apply_person_decisions, scan_paths


@dataclass
class OneFile:
    """One file as `scan` sees it, for the commands that look at one site
    (`explain`, `decide`): its path from the tree root (what rules and site
    ids use), its bytes, its result by the rules and with the decisions file."""

    display: str
    tree_path: str
    data: bytes
    by_rules: FileResult | None          # None: no family name in the file
    scanned: FileResult | None           # by_rules with the decisions applied
    decisions_path: Path | None = None
    decision_problems: tuple = ()
    entries: dict = field(default_factory=dict)   # site id -> PersonDecision
    root: Path | None = None                       # the tree root, as scan_paths found it


def scan_one(display: str, ruleset: RuleSet, *, cwd: Path | None = None, decisions: bool = True,
             decisions_path: Path | None = None, use_cache: bool = True,
             cache_dir: Path | None = None) -> OneFile:
    """Scan one file as `scan FILE` does (collisions and the decisions file
    included), so every command shows the same verdict for a site. Raises
    OSError when the file cannot be read, report.DecisionsError when the
    decisions file is broken."""
    cwd = cwd or Path.cwd()
    full = Path(display) if Path(display).is_absolute() else cwd / display
    data = full.read_bytes()
    names = _tree_names([Candidate(display, full)], coll.find_tree_root(full), cwd)
    tree_path = names.get(display, display)
    result = scan_paths([display], ruleset, jobs=1, use_cache=use_cache, cache_dir=cache_dir, cwd=cwd)
    by_rules = next((f for f in result.files if f.error is None), None)
    one = OneFile(display, tree_path, data, by_rules, by_rules, root=result.root)
    if not decisions or by_rules is None:
        return one
    with_people, problems = apply_person_decisions(result, ruleset, start=full, path=decisions_path)
    path = decisions_path or find_decisions_file(result.root or coll.tree_root(full))
    one.scanned = next((f for f in with_people.files if f.path == by_rules.path), by_rules)
    one.decisions_path, one.decision_problems = path, problems
    if path.exists():
        one.entries = dict(load_decisions(path).entries)
    return one
