"""The strings a regular expression's every match contains.

`has` tries its condition on every descendant of a node (for most rules,
a whole function). A descendant's text is part of the node's text, so if a
condition can only hold where some string appears (`call: 'vmap|vm_map_ram'`
only at a call whose callee contains "vmap" or "vm_map_ram") and none of
those strings is in the node's text, no descendant can satisfy it and the
walk is skipped. `required` finds such strings for a regex, the way grep
tools pick the literals to search for before running the regex.

A requirement is a tuple of clauses, each a set of strings one of which
must appear; every clause must hold. A clause of a regex that ignores case
holds its strings in lower case and is marked so. The analysis is
conservative: a part of the regex it does not understand requires nothing.
"""
from __future__ import annotations

import re

try:                            # the parser behind `re` (CPython 3.11+)
    from re import _constants as _c
    from re import _parser as _sre
except ImportError:             # pragma: no cover - another Python: no pruning
    _sre = None

_MAX_SET = 64                   # strings in one clause, at most
MAX_CLAUSES = 3                 # the most selective clauses are kept
# Words in nearly every function: a clause of only these (or of single
# characters) prunes nothing, so it ranks after any other.
COMMON = frozenset({"struct", "unsigned", "long", "int", "char", "const", "static", "void",
                    "return", "if", "for", "while", "else", "sizeof"})


class Clause(frozenset):
    """Strings one of which must appear (in lower case, if `ignore_case`:
    then they are to be looked for in the lower-cased text)."""

    ignore_case: bool = False

    @classmethod
    def of(cls, strings, ignore_case: bool = False) -> "Clause":
        c = cls(s.lower() for s in strings) if ignore_case else cls(strings)
        c.ignore_case = ignore_case
        return c


Requirement = tuple  # of Clause


def required(regex: re.Pattern) -> Requirement:
    """Clauses every match of `regex` satisfies; () if none is known."""
    if _sre is None or not isinstance(regex.pattern, str):
        return ()
    try:
        parsed = _sre.parse(regex.pattern, regex.flags)
    except Exception:           # noqa: BLE001 - then nothing is known
        return ()
    exact, needs = _sequence(list(parsed))
    ignore_case = bool(regex.flags & re.IGNORECASE)
    return clauses([Clause.of(c, ignore_case) for c in (exact, *needs) if c])


def clauses(candidates) -> Requirement:
    """The useful ones among clauses that each must hold, most selective
    first (not only common words, then the one whose shortest string is
    longest, then the smallest), each without the strings that contain
    another of its strings. A clause with the empty string requires nothing."""
    useful = {_minimal(c) for c in candidates if c and "" not in c}
    ranked = sorted(useful, key=lambda c: (c <= COMMON or min(map(len, c)) < 2, -min(map(len, c)), len(c), c.ignore_case, sorted(c)))
    return tuple(ranked[:MAX_CLAUSES])


def as_bytes(req: Requirement) -> tuple:
    """`req` as (ignore_case, byte strings) clauses, to be looked for in
    the bytes of a node's text. A string with U+FFFD could stand for bytes
    that do not decode, and case folding beyond ASCII can match other
    letters (K and the Kelvin sign): a clause with either requires nothing."""
    return tuple((c.ignore_case, tuple(sorted(s.encode() for s in c))) for c in req
                 if not any("\ufffd" in s or (c.ignore_case and not s.isascii()) for s in c))


SCREEN_MIN = 4                  # the shortest screen (see screened)


def screened(need: tuple) -> tuple:
    """`need` (as_bytes clauses) with each clause's strings in groups
    behind a shorter string they all contain: (ignore_case, ((screen,
    members), ...)), where a group of one string is (string, ()). A text
    lacking a group's screen lacks all its members, so a clause of 18
    strings that share "tlb" (pte-tlb-stride) costs one scan of a text
    that holds none of them, not 18 (see conditions._may_contain). A
    screen is a substring of at least SCREEN_MIN bytes shared by two
    strings or more, the one shared by the most first (then the longest)."""
    return tuple((ignore_case, _groups(strings)) for ignore_case, strings in need)


def _groups(strings) -> tuple:
    left = sorted(set(strings))
    groups = []
    while left:
        counts: dict = {}
        for s in left:
            subs = {s[i:j] for i in range(len(s)) for j in range(i + SCREEN_MIN, len(s) + 1)}
            for sub in subs:
                counts[sub] = counts.get(sub, 0) + 1
        best = max(counts.items(), key=lambda kv: (kv[1], len(kv[0]), kv[0]), default=(None, 0))
        if best[1] < 2:
            groups.extend((s, ()) for s in left)
            break
        screen = best[0]
        members = tuple(s for s in left if screen in s)
        groups.append((screen, members))
        left = [s for s in left if screen not in s]
    return tuple(groups)


def strongest(req: Requirement) -> Clause | None:
    return req[0] if req else None


def union(parts) -> Clause:
    """One clause implied by each of `parts`: their strings together (in
    lower case if any part ignores case)."""
    ignore_case = any(p.ignore_case for p in parts)
    return Clause.of(frozenset().union(*parts), ignore_case)


def _minimal(c) -> Clause:
    if not isinstance(c, Clause):
        c = Clause.of(c)
    return Clause.of(frozenset(s for s in c if not any(t != s and t in s for t in c)), c.ignore_case)


def _sequence(items) -> tuple[set | None, list]:
    """(every string the sequence can match, if finitely few; the sets
    found in it that must each hold)."""
    run: set = {""}              # the exact strings of the current run of exact items
    whole_exact = True
    needs = []
    for op, av in items:
        exact, inner = _item(op, av)
        if exact is not None:
            if len(run) * len(exact) <= _MAX_SET:
                run = {a + b for a in run for b in exact}
                continue
            needs.append(frozenset(run))
            whole_exact = False
            run = set(exact)
            continue
        whole_exact = False
        needs.append(frozenset(run))
        needs.extend(inner)
        run = {""}
    needs.append(frozenset(run))
    return (run if whole_exact else None), needs


def _item(op, av) -> tuple[set | None, list]:
    """(exact strings, sets that must each hold) of one parsed regex item."""
    if op is _c.LITERAL:
        return {chr(av)}, []
    if op in (_c.AT, _c.ASSERT, _c.ASSERT_NOT):      # zero width
        return {""}, []
    if op is _c.IN and av and all(o is _c.LITERAL for o, _ in av):
        return {chr(v) for _, v in av}, []
    if op is _c.SUBPATTERN:
        _group, add_flags, _del_flags, sub = av
        if add_flags & re.IGNORECASE:
            return None, []
        return _sequence(list(sub))
    if op is _c.ATOMIC_GROUP:
        return _sequence(list(av))
    if op is _c.BRANCH:
        parts = [_sequence(list(b)) for b in av[1]]
        exact = None
        if all(e is not None for e, _ in parts):
            union = set().union(*(e for e, _ in parts))
            exact = union if len(union) <= _MAX_SET else None
        best = [strongest(clauses([e, *n])) for e, n in parts]
        need = [frozenset().union(*best)] if all(b is not None for b in best) else []
        return exact, need
    if op in (_c.MAX_REPEAT, _c.MIN_REPEAT, _c.POSSESSIVE_REPEAT):
        lo, hi, sub = av
        exact, needs = _sequence(list(sub))
        if lo == 0:
            return ({""} | exact if hi == 1 and exact is not None else None), []
        return (exact if lo == hi == 1 else None), [exact, *needs] if exact is not None else needs
    return None, []
