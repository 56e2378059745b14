"""Values that flow between the stages: sites, verdicts, edits, per-file results.

Everything here is a frozen dataclass so results can be sorted, cached, compared
and sent between worker processes without surprises.
"""
from __future__ import annotations

import enum
from collections import Counter as Tally
from dataclasses import dataclass, field
from pathlib import Path

from .definitions import Definition, Preparation


class Verdict(str, enum.Enum):
    PTE = "pte"          # mechanical rename to the mapping-granularity name
    PG = "pg"            # mechanical rename to the allocation-granularity name
    LOGIC = "logic"      # a rule says a human must rewrite this code
    CONFLICT = "conflict"  # rules of equal weight disagree
    UNKNOWN = "unknown"  # no rule decided
    SKIPPED = "skipped"  # not analysable here; the reason says why

    def __str__(self) -> str:  # so f-strings print "pte", not "Verdict.PTE"
        return self.value


RENAMING = (Verdict.PTE, Verdict.PG)
VERDICT_ORDER = tuple(Verdict)


class Context(str, enum.Enum):
    """Where in the file a site was found."""

    CODE = "code"
    MACRO = "macro"            # inside a #define body (re-parsed)
    CONDITION = "condition"    # #if / #elif / #ifdef condition
    DIRECTIVE = "directive"    # other directive text (#undef, #error, #pragma ...)
    DEFINITION = "definition"  # the name of a #define / #undef of a family name
    ATTRIBUTE = "attribute"    # __aligned(PAGE_SIZE), __attribute__((...))
    ASM = "asm"                # inline-asm operand
    ASM_FILE = "asm-file"      # .S / .lds.S file, found lexically

    def __str__(self) -> str:
        return self.value


@dataclass(frozen=True, order=True)
class Site:
    """One whole-word use of a family name outside comments and strings."""

    path: str            # relative path as given / shown to the user
    start: int           # byte offset of the token in the file
    end: int
    line: int            # 1-based
    col: int             # 1-based, in bytes (what editors' quickfix expects)
    token: str
    context: Context = Context.CODE
    function: str | None = None   # enclosing function, or the macro name
    parse_error: bool = False     # inside an ERROR/MISSING region
    pasted: bool = False          # next to ## or # (token pasting / stringify)
    site_id: str = ""             # stable id: survives unrelated edits


@dataclass(frozen=True)
class RuleMatch:
    rule: str
    meaning: str         # pte | pg | logic
    priority: int
    strength: str        # strong | context | weak
    reason: str
    overrides: tuple = ()  # logic rules: strong meanings this signal turns into logic
    area: str | None = None   # area rules: the review area
    withholds: tuple = ()     # area rules: renames of these meanings the area leaves unknown
    specific: bool = False    # the rule reads the code at the site, not only where it lives
    withholds_evidence: str = "weak"   # area rules: weak (weak, context, inferred renames) | inferred


@dataclass(frozen=True)
class Decision:
    site: Site
    verdict: Verdict
    replacement: str | None
    rule: str | None            # the rule that decided (or None)
    reason: str
    matches: tuple[RuleMatch, ...] = ()
    # where the code lives, for the reviewer (hypervisor interface, sanitizer,
    # placement policy...): never a verdict of its own, see classify.with_area
    area: str | None = None
    area_reason: str = ""


@dataclass(frozen=True, order=True)
class Edit:
    """Replace bytes [start, end) with `new`. `old` is kept for self-checks."""

    start: int
    end: int
    old: str
    new: str
    rule: str | None = None
    kind: str = "family"        # family | identifier (declared scoped rename)
    verdict: str | None = None  # pte | pg for family renames


@dataclass(frozen=True)
class Mentions:
    """Family names seen in comments and strings: counted, never rewritten."""

    comments: int = 0
    strings: int = 0


@dataclass(frozen=True)
class FileResult:
    path: str
    decisions: tuple[Decision, ...] = ()
    edits: tuple[Edit, ...] = ()
    mentions: Mentions = field(default_factory=Mentions)
    lexical_count: int = 0        # independent count of family tokens
    parse_errors: bool = False
    error: str | None = None      # set when the file could not be processed
    notes: tuple[str, ...] = ()   # e.g. a declared rename that was refused
    digest: str = ""              # hash of the bytes analysed (apply re-checks it)
    # the new names classification looked up among the names visible from
    # other files: a result made without those names still holds for a file
    # whose visible names are none of these (api.scan_paths relies on it)
    consulted: frozenset = frozenset()

    @property
    def accounting_difference(self) -> int:
        return self.lexical_count - len(self.decisions)


@dataclass
class ScanResult:
    """Many files' results (api.scan_paths), with what the run found about
    the tree: the definitions of the new names and the plan of preparatory
    renames."""

    files: tuple[FileResult, ...]
    problems: tuple = ()                      # files.InputProblem: paths that could not be read
    definitions: tuple[Definition, ...] = ()
    root: Path | None = None
    stats: dict = field(default_factory=dict)
    # the preparatory renames of private definitions (preparation.py), planned
    # on the work tree when the tree has such definitions; None: none
    preparation: Preparation | None = None
    notes: tuple[str, ...] = ()

    def decisions(self):
        for f in self.files:
            yield from f.decisions

    def verdict_counts(self) -> dict[str, int]:
        t = Tally(d.verdict.value for d in self.decisions())
        return {v.value: t.get(v.value, 0) for v in Verdict}

    @property
    def accounting_difference(self) -> int:
        # a file that could not be analysed is reported as failed, not as lost sites
        return sum(f.accounting_difference for f in self.files if f.error is None)

    @property
    def failed(self) -> tuple[FileResult, ...]:
        return tuple(f for f in self.files if f.error is not None)
