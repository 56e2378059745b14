"""The decisions file: what a person decided for sites the rules could not.

`pgrewrite-decisions.yaml` lives at the tree root. Each key is a stable site id
(as every report shows it); the value is either a bare verdict or a mapping:

    # reviewed with the mm maintainers, 2026-03
    mm/memory.c:zap_pte_range:PAGE_SIZE:3f9a1c2e: pte
    mm/gup.c:follow_page_mask:PAGE_SHIFT:77ab01cd:
      verdict: logic
      comment: index mixes vm_pgoff and folio->index
      context: e1:5be0c7a2

`verdict` is pte, pg or logic; `comment` goes into the reason ("decided by a person:
<comment>") and so into the patch's commit message; `context` is optional.

Context fingerprint (`context_fingerprint`). The site id already holds a hash of the
site's own normalised statement, so editing that statement makes the id vanish. What
the id does not see is the code *around* the statement that made the person decide:
the loop it sits in, the pte_t pointer stepped beside it, the allocation whose size it
is. pgrewrite's rules are what look at that surrounding code, so the fingerprint is a
hash of the engine's evidence for the site: its context kind (code, macro, condition,
...), the enclosing function and the sorted set of `rule=meaning` pairs that matched.
`e1:` plus the first 8 hex digits of its SHA-256. It changes when the surrounding code
changes in a way a rule notices (a `pte++` appears in the loop, an `alloc_pages` goes
away) and also when the rules that match change, both of which are worth a second
look; it does not change when unrelated lines are inserted, removed or reformatted. A
decision whose stored fingerprint differs is still applied, and reported as
`context-changed` so the person can look again and re-run `pgrewrite decide`.
"""
from __future__ import annotations

import contextlib
import fcntl
import hashlib
import io
import os
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import yaml as pyyaml

from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap
from ruamel.yaml.error import CommentMark, YAMLError
from ruamel.yaml.tokens import CommentToken

from pgrewrite.model import Decision, Edit, FileResult, Verdict

DEFAULT_NAME = "pgrewrite-decisions.yaml"
DECIDABLE = ("pte", "pg", "logic")
PERSON_RULE = "person"

# family name -> (mapping-granularity name, allocation-granularity name)
FAMILY = {
    "PAGE_SIZE": ("PTE_SIZE", "PG_SIZE"),
    "PAGE_SHIFT": ("PTE_SHIFT", "PG_SHIFT"),
    "PAGE_MASK": ("PTE_MASK", "PG_MASK"),
    "PAGE_ALIGN": ("PTE_ALIGN", "PG_ALIGN"),
    "PAGE_ALIGN_DOWN": ("PTE_ALIGN_DOWN", "PG_ALIGN_DOWN"),
    "PAGE_ALIGNED": ("PTE_ALIGNED", "PG_ALIGNED"),
    "offset_in_page": ("offset_in_pte", "offset_in_pg"),
}

_HEADER = """\
# pgrewrite-decisions.yaml: what a person decided for sites pgrewrite flagged.
# Key: the stable site id that reports show. Value: pte | pg | logic, or a mapping
# with verdict, comment (goes into the commit message) and context (fingerprint of
# the evidence when decided). Edit by hand or with `pgrewrite decide`.
"""


class DecisionsError(Exception):
    """The decisions file cannot be read at all (bad YAML, not a mapping)."""


@dataclass(frozen=True)
class PersonDecision:
    site_id: str
    verdict: Verdict                 # PTE, PG or LOGIC
    comment: str | None = None
    context: str | None = None       # fingerprint stored when decided
    line: int | None = None          # 1-based line in the decisions file


@dataclass(frozen=True)
class DecisionProblem:
    """Something a person should look at in the decisions file."""

    site_id: str
    kind: str        # invalid | vanished | context-changed | not-renameable | applied | renamed-otherwise (applied.py)
    message: str
    line: int | None = None
    path: str | None = None   # the decisions file
    site_at: tuple[str, int] | None = None   # the site (path as scanned, line): `{at}` in message

    def __str__(self) -> str:
        return self.shown()

    def shown(self, view=None) -> str:
        """`file:line: kind: site-id: message`, as editors read it; `view`
        prints the site's path (shownpaths.PathView: from the tree root when
        the working directory is outside it)."""
        where = f"{self.path or DEFAULT_NAME}:{self.line}: " if self.line else ""
        message = self.message
        if self.site_at is not None:
            path, line = self.site_at
            message = message.replace("{at}", f"{view(path) if view is not None else path}:{line}")
        return f"{where}{self.kind}: {self.site_id}: {message}"


@dataclass(frozen=True)
class DecisionsFile:
    path: str | None
    entries: Mapping[str, PersonDecision]
    problems: tuple[DecisionProblem, ...] = ()


# --- fingerprints ---------------------------------------------------------------------

def _field(obj: Any, name: str) -> Any:
    return obj.get(name) if isinstance(obj, Mapping) else getattr(obj, name, None)


def context_fingerprint(site_or_decision: Any) -> str:
    """`e1:xxxxxxxx` from a model Decision or a site dict of the scan document."""
    if isinstance(site_or_decision, Decision):
        site = site_or_decision.site
        context, function = str(site.context), site.function
        matches = site_or_decision.matches
    else:
        context = str(_field(site_or_decision, "context") or "code")
        function = _field(site_or_decision, "function")
        matches = _field(site_or_decision, "matches") or ()
    pairs = sorted({f"{_field(m, 'rule')}={_field(m, 'meaning')}" for m in matches})
    text = "\n".join([context, function or "", *pairs])
    return "e1:" + hashlib.sha256(text.encode()).hexdigest()[:8]


# --- reading ----------------------------------------------------------------------------

def _yaml() -> YAML:
    yaml = YAML()  # round-trip: keeps comments and order
    yaml.preserve_quotes = True
    yaml.indent(mapping=2, sequence=4, offset=2)
    yaml.width = 4096
    return yaml


def _refuse_aliases(text: str) -> None:
    """A decisions file is data from others: no anchors or aliases, so a
    548-byte "billion laughs" cannot expand to gigabytes."""
    try:
        for event in pyyaml.parse(text, Loader=getattr(pyyaml, "CSafeLoader", pyyaml.SafeLoader)):
            if isinstance(event, pyyaml.AliasEvent) or getattr(event, "anchor", None):
                line = event.start_mark.line + 1
                raise DecisionsError(f"line {line}: YAML anchors and aliases (&name, *name) are not "
                                     "allowed in a decisions file; write each entry out")
    except pyyaml.YAMLError as exc:
        raise DecisionsError(f"not valid YAML: {exc}") from exc


def _load_raw(text: str) -> CommentedMap:
    _refuse_aliases(text)
    try:
        data = _yaml().load(text)
    except YAMLError as exc:
        raise DecisionsError(f"not valid YAML: {exc}") from exc
    if data is None:
        return CommentedMap()
    if not isinstance(data, Mapping):
        raise DecisionsError("the top level must be a mapping of site id to verdict")
    return data


def _key_line(data: Any, key: str) -> int | None:
    try:
        return data.lc.key(key)[0] + 1
    except Exception:  # plain dicts carry no line information
        return None


def parse_decisions(data: Mapping[str, Any], path: str | None = None) -> DecisionsFile:
    """Validate already-loaded data; invalid entries become problems, not entries."""
    entries: dict[str, PersonDecision] = {}
    problems: list[DecisionProblem] = []
    for key, value in data.items():
        line = _key_line(data, key)
        site_id = str(key).strip() if key is not None else ""
        if not site_id or "\n" in site_id:
            problems.append(DecisionProblem(str(key), "invalid", "empty or multi-line site id", line))
            continue
        comment = context = None
        if isinstance(value, Mapping):
            unknown = sorted(set(map(str, value)) - {"verdict", "comment", "context"})
            if unknown:
                problems.append(DecisionProblem(site_id, "invalid",
                                                f"unknown key(s) {', '.join(unknown)}; "
                                                "allowed: verdict, comment, context", line))
                continue
            verdict, comment, context = value.get("verdict"), value.get("comment"), value.get("context")
        else:
            verdict = value
        if not isinstance(verdict, str) or verdict.strip().lower() not in DECIDABLE:
            problems.append(DecisionProblem(site_id, "invalid",
                                            f"verdict must be one of {', '.join(DECIDABLE)}, "
                                            f"not {verdict!r}", line))
            continue
        entries[site_id] = PersonDecision(
            site_id, Verdict(verdict.strip().lower()),
            str(comment).strip() if comment not in (None, "") else None,
            str(context).strip() if context not in (None, "") else None, line)
    return DecisionsFile(path, entries, tuple(replace(p, path=path) for p in problems))


def load_decisions(path: str | Path) -> DecisionsFile:
    """Read and validate a decisions file; a missing file means no decisions.

    Raises DecisionsError when the file is not YAML or not a mapping (including a
    site id given twice); entries that are wrong one by one are `problems`.
    """
    p = Path(path)
    if not p.exists() and not p.is_symlink():
        return DecisionsFile(str(p), {}, ())
    try:
        raw = _load_raw(_read_text(p))
    except DecisionsError as exc:
        msg = str(exc)
        raise DecisionsError(msg if msg.startswith(f"{p}:") else f"{p}: {msg}") from None
    return parse_decisions(raw, str(p))


def _read_text(p: Path) -> str:
    """The file's text, or a DecisionsError that says what to do."""
    if p.is_dir():
        raise DecisionsError(f"{p}: is a directory, not a decisions file; remove or rename it")
    try:
        return p.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise DecisionsError(f"{p}: not UTF-8 (byte {exc.start}); a decisions file is UTF-8 YAML") from None
    except OSError as exc:
        raise DecisionsError(f"{p}: cannot read: {exc.strerror or exc}") from None


def find_decisions_file(root: str | Path = ".") -> Path:
    """The decisions file of a tree: pgrewrite-decisions.yaml at its root.
    Never one above the root (a stray /tmp/pgrewrite-decisions.yaml must not
    change the verdicts of a tree under /tmp): a file elsewhere is used only
    when named with --decisions / --file."""
    return Path(root).resolve() / DEFAULT_NAME


# --- applying ---------------------------------------------------------------------------

def replacement_for(token: str, verdict: Verdict, family: Any = None) -> str | None:
    """PTE_*/PG_* name for `token`; `family` is a pgrewrite.family.Family (optional,
    the table in the domain brief otherwise)."""
    if verdict not in (Verdict.PTE, Verdict.PG):
        return None
    if family is not None:
        try:
            return family.replacement(token, str(verdict))
        except KeyError:
            return None
    names = FAMILY.get(token)
    if names is None:
        return None
    return names[0] if verdict is Verdict.PTE else names[1]


def site_path(site_id: str) -> str:
    """The file a site id belongs to: ids start with `<path>:`."""
    return site_id.split(":", 1)[0]


def _as_entries(data: Any) -> tuple[Mapping[str, PersonDecision], tuple[DecisionProblem, ...]]:
    if isinstance(data, DecisionsFile):
        return data.entries, data.problems
    if isinstance(data, Mapping) and all(isinstance(v, PersonDecision) for v in data.values()):
        return data, ()
    parsed = parse_decisions(data or {})
    return parsed.entries, parsed.problems


def apply_decisions(decisions_file_data: Any, file_results: Iterable[FileResult],
                    *, with_edits: bool = True, family: Any = None) -> tuple[tuple[FileResult, ...], tuple[DecisionProblem, ...]]:
    """Turn the decided sites of `file_results` into the person's verdict.

    `decisions_file_data` is a DecisionsFile, a mapping of site id to PersonDecision,
    or the raw mapping read from YAML. A decided site gets verdict PTE/PG (with the
    family replacement) or LOGIC, `rule="person"` and the reason "decided by a person:
    <comment>"; the rules' matches are kept as evidence. With `with_edits`, any edit
    the engine made at the site's bytes is dropped and, for PTE/PG, the person's
    rename edit added (kind "family", rule "person"), so edits and verdicts agree.

    Problems: entries that did not validate, `vanished` for ids whose file was among
    `file_results` but which no site there carries (decisions for files outside this
    run are left alone), `context-changed` when a stored fingerprint differs (the
    decision is still applied), `not-renameable` when PTE/PG was decided for a site
    that is a #define/#undef of the family name or a name with no PTE/PG spelling
    (the site is left as the engine classified it).
    """
    entries, problems_in = _as_entries(decisions_file_data)
    file_path = getattr(decisions_file_data, "path", None)
    problems = list(problems_in)
    results = tuple(file_results)
    seen: set[str] = set()
    # ids carry the path from the tree root; a result's path is the one shown
    # (from the working directory): a run from mm/ or from outside the tree
    # must still see that a decided site of a scanned file vanished
    scanned_paths = {r.path for r in results} | {site_path(r.decisions[0].site.site_id)
                                                 for r in results if r.decisions and r.decisions[0].site.site_id}
    out: list[FileResult] = []
    for result in results:
        new_decisions = []
        drop: set[tuple[int, int]] = set()
        add: list[Edit] = []
        for decision in result.decisions:
            person = entries.get(decision.site.site_id) if decision.site.site_id else None
            if person is None:
                new_decisions.append(decision)
                continue
            seen.add(person.site_id)
            site = decision.site
            if person.context and person.context != context_fingerprint(decision):
                problems.append(DecisionProblem(
                    person.site_id, "context-changed",
                    f"evidence fingerprint was {person.context}, is now "
                    f"{context_fingerprint(decision)}; look at the site again "
                    "({at})", person.line, site_at=(site.path, site.line)))
            new_name = replacement_for(site.token, person.verdict, family)
            if person.verdict in (Verdict.PTE, Verdict.PG) and (
                    new_name is None or str(site.context) == "definition"):
                problems.append(DecisionProblem(
                    person.site_id, "not-renameable",
                    f"{site.token} in {site.context} context at {{at}} "
                    f"cannot be renamed to a {person.verdict} name", person.line, site_at=(site.path, site.line)))
                new_decisions.append(decision)
                continue
            reason = "decided by a person" + (f": {person.comment}" if person.comment else "")
            new_decisions.append(replace(decision, verdict=person.verdict, replacement=new_name,
                                         rule=PERSON_RULE, reason=reason))
            drop.add((site.start, site.end))
            if new_name is not None:
                add.append(Edit(site.start, site.end, site.token, new_name, rule=PERSON_RULE,
                                kind="family", verdict=str(person.verdict)))
        edits = result.edits
        if with_edits and (drop or add):
            kept = [e for e in edits if not (e.kind == "family" and (e.start, e.end) in drop)]
            edits = tuple(sorted(kept + add))
        out.append(replace(result, decisions=tuple(new_decisions), edits=edits))
    for site_id, person in entries.items():
        if site_id not in seen and site_path(site_id) in scanned_paths:
            problems.append(DecisionProblem(
                site_id, "vanished", "no site with this id exists any more; the statement "
                "or its function changed, or the site was removed", person.line))
    problems = [replace(p, path=p.path or file_path) for p in problems]
    problems.sort(key=lambda p: (p.line or 0, p.site_id, p.kind))
    return tuple(out), tuple(problems)


# --- editing ----------------------------------------------------------------------------

def _set_keeping_comments(entry: CommentedMap, key: str, value: str) -> None:
    """Set entry[key]; a new key takes over the comment lines that followed the
    previous last key, so they stay below the entry instead of inside it."""
    last = next(reversed(entry), None) if key not in entry else None
    entry[key] = value
    slots = entry.ca.items.get(last) if last is not None else None
    if not slots or len(slots) < 3 or slots[2] is None:
        return
    eol, _, rest = slots[2].value.partition("\n")
    if not rest:
        return
    slots[2].value = eol + "\n"
    entry.ca.items[key] = [None, None, CommentToken("\n" + rest, CommentMark(0), None), None]


def decide(site_id: str, verdict: str, comment: str | None = None, *,
           path: str | Path = DEFAULT_NAME, context: str | None = None) -> str:
    """Record `site_id: verdict` in the decisions file, keeping its comments.

    A new entry is appended at the end (so no comment block moves to another
    entry); an existing one is updated in place. A bare verdict is written when
    there is no comment and no context, a mapping otherwise; an existing comment or
    context is kept unless a new one is given. Returns the file's new text.
    """
    site_id = site_id.strip()
    verdict = verdict.strip().lower()
    if verdict not in DECIDABLE:
        raise ValueError(f"verdict must be one of {', '.join(DECIDABLE)}, not {verdict!r}")
    if not site_id or "\n" in site_id:
        raise ValueError("site id must be a non-empty single line")
    p = Path(path)
    with _locked(p):
        return _decide_locked(p, site_id, verdict, comment, context)


@contextlib.contextmanager
def _locked(p: Path):
    """Serialise read-modify-write of one decisions file between processes
    (eight concurrent `decide` runs must keep all eight entries), leaving no
    lock file behind in the tree (`git status` stays clean).

    The lock is flock on `.NAME.lock`, which its holder unlinks before it
    lets go. A process that was waiting on the same file then holds a lock
    on a file no longer at that path, which excludes nobody: so after
    flock, the lock counts only if the path still names the locked file;
    else it tries again with a new one. The path names one file at a time
    and only the holder of its lock removes it, so two processes never both
    hold a valid lock."""
    lock = p.with_name(f".{p.name}.lock")
    while True:
        fd = os.open(lock, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            held = os.fstat(fd)
            try:
                now = os.stat(lock)
            except FileNotFoundError:
                now = None
            if now is not None and (now.st_dev, now.st_ino) == (held.st_dev, held.st_ino):
                break
        except BaseException:
            os.close(fd)
            raise
        os.close(fd)                    # removed (or replaced) while we waited
    try:
        yield
    finally:
        try:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(lock)         # still holding it: nobody else can be using it
        finally:
            os.close(fd)


def _decide_locked(p: Path, site_id: str, verdict: str, comment, context) -> str:
    text = _read_text(p) if p.exists() else ""
    before = p.read_bytes() if p.exists() else None    # what write_atomically checks
    if not text.strip():
        text = _HEADER
    data = _load_raw(text)
    was_empty = not data
    yaml = _yaml()
    old = data.get(site_id)
    if isinstance(old, Mapping):
        _set_keeping_comments(old, "verdict", verdict)
        if comment is not None:
            _set_keeping_comments(old, "comment", comment)
        if context is not None:
            _set_keeping_comments(old, "context", context)
    elif comment is None and context is None:
        data[site_id] = verdict
    else:
        entry = CommentedMap()
        entry["verdict"] = verdict
        if comment is not None:
            entry["comment"] = comment
        if context is not None:
            entry["context"] = context
        data[site_id] = entry
    buf = io.StringIO()
    yaml.dump(data, buf)
    new_text = buf.getvalue()
    if was_empty:
        # a file without entries loads as None and ruamel forgets its comments:
        # keep them by hand as the header
        header = "".join(line + "\n" for line in text.splitlines()
                         if line.lstrip().startswith("#") or not line.strip())
        new_text = header + new_text
    parse_decisions(_load_raw(new_text))  # never write a file we cannot read back
    from ..edits import EditError, write_atomically   # here: edits loads tree-sitter, decide needs none
    try:
        # under the lock: nobody else changed it since it was read
        write_atomically(p, new_text.encode("utf-8"), before)
    except EditError as exc:
        raise DecisionsError(str(exc)) from None
    return new_text
