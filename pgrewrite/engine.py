"""The engine: everything needed to analyse one file's bytes with one rule
set (`Engine.analyse`), and the checks that come first (`analyse_data`)."""
from __future__ import annotations

import hashlib
import os
from pathlib import Path

from . import collisions as coll
from .accounting import Counter
from .budget import Budget, OverBudget, tree_nodes
from .classify import Classifier
from .lex import Lexer
from .model import Decision, FileResult, Verdict
from .rules.loader import RuleSet
from .sites import find_sites


class Engine:
    """Everything needed to analyse files with one rule set (one per process)."""

    def __init__(self, ruleset: RuleSet, budget: Budget | None = None):
        self.ruleset = ruleset
        self.budget = budget if budget is not None else Budget.from_env()
        fam = ruleset.family
        self.lexer = Lexer(fam.names)
        self.new_names_lexer = Lexer(fam.replacements)
        self.counter = Counter(fam.names)
        self.classifier = Classifier(ruleset)
        self._names_bytes = tuple(n.encode() for n in fam.names)
        self._new_names_bytes = tuple(n.encode() for n in fam.replacements)
        self._new_names_screen = _screen(self._new_names_bytes)

    def mentions_family(self, data: bytes) -> bool:
        """A whole-word family name anywhere (code, comment or string)? Generated
        register headers hold names like `..._PAGE_SIZE_MASK` by the thousand:
        the substring test alone would send megabytes of them to the lexer."""
        return any(n in data for n in self._names_bytes) and self.lexer.mentions(data)

    def analyse(self, path: str, data: bytes, captured: dict[str, str] | None = None,
                unknown_as: str | None = None, keep_parse: bool = False):
        """One file's bytes -> FileResult (and the parse, if asked for)."""
        clock = self.budget.clock()
        lexed = None
        if not keep_parse:
            # no whole-word family name anywhere: nothing to parse (the
            # substring test first; the lexer's pass is the one site
            # discovery needs anyway)
            if any(n in data for n in self._names_bytes):
                lexed = self.lexer.lex(data)
            if lexed is None or lexed.empty:
                return FileResult(path=path, digest=digest(data))
        parsed = find_sites(path, data, self.lexer, lexed, always_parse=keep_parse)
        collisions = dict(captured or {})
        # a second lexer pass only when a new name occurs at all (a substring
        # test; most files have none)
        uses = (coll.local_uses(data, self.new_names_lexer)
                if _contains_any(data, self._new_names_screen, self._new_names_bytes) else {})
        for name, line in uses.items():
            collisions.setdefault(name, f"{path}:{line}")
        # None: this file's own uses of the name are renamed first (clashes.yaml)
        collisions = _Recording((n, w) for n, w in collisions.items() if w is not None)
        try:
            self.budget.check_nodes(tree_nodes(parsed))
            decisions, edits, notes = self.classifier.classify(parsed, collisions, unknown_as, clock.check)
        except OverBudget as e:
            # every site is accounted for, none decided: the file is left as it is
            decisions = [Decision(f.site, Verdict.SKIPPED, None, None, str(e)) for f in parsed.sites]
            edits, notes = [], [f"{path}: {e}; its {len(decisions)} site(s) are skipped"]
        in_code, _ = self.counter.count(data)
        result = FileResult(path=path, decisions=tuple(decisions), edits=tuple(edits),
                            mentions=parsed.mentions, lexical_count=in_code,
                            parse_errors=parsed.parse_errors, notes=tuple(notes), digest=digest(data),
                            consulted=frozenset(collisions.looked))
        return (result, parsed) if keep_parse else result


class _Recording(dict):
    """The collision map, remembering which names were looked up (`in`):
    classification reads it only that way, and reads a value only after
    finding its name."""

    def __init__(self, items=()):
        super().__init__(items)
        self.looked: set[str] = set()

    def __contains__(self, name):
        self.looked.add(name)
        return super().__contains__(name)


def _screen(names: tuple[bytes, ...]) -> tuple[bytes, ...]:
    """Fewer strings, one of which is in any text that holds one of
    `names`: the common prefix of each group of names that share their
    first three bytes (PTE_SIZE, PTE_MASK, ... -> PTE_)."""
    groups: dict[bytes, list[bytes]] = {}
    for n in names:
        groups.setdefault(n[:3], []).append(n)
    return tuple(os.path.commonprefix(g) for g in groups.values())


def _contains_any(data: bytes, screen: tuple[bytes, ...], names: tuple[bytes, ...]) -> bool:
    """`any(n in data for n in names)`, with a scan for each of the
    `screen` strings first: 3 scans instead of 14 for the new names, where
    nearly every file has none (each scan reads the whole file)."""
    return any(s in data for s in screen) and any(n in data for n in names)


def digest(data: bytes) -> str:
    return hashlib.blake2b(data, digest_size=16).hexdigest()


def scan_bytes(path: str, data: bytes, ruleset: RuleSet, captured=None, unknown_as=None) -> FileResult:
    return Engine(ruleset).analyse(path, data, captured, unknown_as)



def read_source(display: str, path: Path) -> bytes | FileResult:
    """The file's bytes, or a FileResult saying why they cannot be read."""
    try:
        return path.read_bytes()
    except FileNotFoundError:
        return FileResult(path=display, error="file vanished while the run was going on; re-run to include it")
    except IsADirectoryError:
        return FileResult(path=display, error="is a directory, not a source file")
    except PermissionError:
        return FileResult(path=display, error="permission denied; make the file readable to include it")
    except OSError as e:
        return FileResult(path=display, error=f"cannot read: {e.strerror or e}")


def analyse_data(engine: Engine, display: str, data: bytes, captured, unknown_as) -> FileResult:
    """Analyse one file's bytes; any failure becomes a FileResult with an error."""
    problem = input_problem(data, engine.mentions_family)
    if problem is not None:
        count, _ = engine.counter.count(data)
        if count:
            problem += f"; {count} family token(s) in it were not analysed"
        return FileResult(path=display, error=problem, lexical_count=count)
    try:
        return engine.analyse(display, data, captured, unknown_as)
    except RecursionError:
        return FileResult(path=display, error="nesting too deep to analyse; the file was skipped")
    except Exception as e:  # one bad file must not end the run
        return FileResult(path=display, error=f"internal error while analysing ({type(e).__name__}: {e}); please report it")


# No 6.12 source file that mentions the family is over 1 MiB; analysis of a
# directive-dense file runs at about 10 s/MiB, so larger ones are generated
# tables that must not stall a run.
MAX_BYTES = 8 * 1024 * 1024


def input_problem(data: bytes, mentions=None) -> str | None:
    """Why a file cannot be analysed as C at all, or None.

    Size only matters for files that mention a family name (`mentions(data)`;
    None: any file): a big generated header without one is simply read."""
    nul = data.find(b"\0")
    if nul >= 0:
        line = data.count(b"\n", 0, nul) + 1
        return (f"line {line}: contains NUL bytes: looks binary, not C source; skipped "
                "(remove the NUL bytes, or the file if it is not source, to include it)")
    if len(data) > MAX_BYTES and (mentions is None or mentions(data)):
        return (f"{len(data) // (1024 * 1024)} MiB, larger than the {MAX_BYTES // (1024 * 1024)} MiB limit; "
                "skipped (a generated file? convert it by hand or split it)")
    return None

