"""The library entry points; the command line, the tests and editors share them.

    ruleset = load_rules()                      # semantic-rules/ shipped with pgrewrite
    result = scan_bytes("mm/x.c", data, ruleset)  # one file -> FileResult
    result = scan_paths(["mm"], ruleset)          # many files -> ScanResult
    new = rewrite(data, result.edits)             # byte-exact
"""
from __future__ import annotations

import gc
import hashlib
import os
from collections import Counter as Tally
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path

from . import cachefile
from . import collisions as coll
from .accounting import Counter
from .budget import Budget, OverBudget, tree_nodes, went_over
from .cache import ResultCache
from .classify import Classifier
from .edits import misfit
from .edits import rewrite  # noqa: F401  (part of the library API)
from .files import Candidate, InputProblem, expand  # noqa: F401
from .lex import Lexer
from .model import Decision, FileResult, Verdict
from .rules.loader import RuleSet, load_ruleset
from .sites import find_sites


def load_rules(rules_dir: Path | str | None = None, cache_dir: Path | str | None = None) -> RuleSet:
    """The rule set; with `cache_dir`, compiled once and kept there."""
    return load_ruleset(Path(rules_dir) if rules_dir is not None else None,
                        Path(cache_dir) if cache_dir is not None else None)


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
                if any(n in data for n in self._new_names_bytes) else {})
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


def digest(data: bytes) -> str:
    return hashlib.blake2b(data, digest_size=16).hexdigest()


def scan_bytes(path: str, data: bytes, ruleset: RuleSet, captured=None, unknown_as=None) -> FileResult:
    return Engine(ruleset).analyse(path, data, captured, unknown_as)


@dataclass
class ScanResult:
    files: tuple[FileResult, ...]
    problems: tuple[InputProblem, ...] = ()
    definitions: tuple[coll.Definition, ...] = ()
    root: Path | None = None
    stats: dict = field(default_factory=dict)
    # the preparatory renames of private definitions (series/definitions.py),
    # planned on the work tree when the tree has such definitions; None: none
    preparation: object | None = None
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


def apply_person_decisions(result: "ScanResult", ruleset: RuleSet, start: Path | None = None,
                           path: Path | None = None):
    """Apply the decisions file (`path`, else pgrewrite-decisions.yaml at the
    tree root, never above it) to a scan result: (new result, problems with
    the decisions). Raises report.DecisionsError if the file itself is broken."""
    import dataclasses

    from .report import DecisionsError, apply_decisions, find_decisions_file, load_decisions
    if path is not None and not path.exists():
        raise DecisionsError(f"{path}: no such decisions file")
    path = path or find_decisions_file(result.root or coll.tree_root(start or Path.cwd()))
    if not path.exists():
        return result, ()
    decisions = load_decisions(path)
    files, problems = apply_decisions(decisions, result.files, family=ruleset.family)
    if any(p.kind == "vanished" for p in problems):
        # renamed by an earlier `apply`: done, not vanished
        from .applied import mark_applied
        ids_root = result.root or coll.git_top(start or Path.cwd()) or (start or Path.cwd())
        problems = mark_applied(problems, dict(decisions.entries), Path(ids_root), ruleset.family)
    return dataclasses.replace(result, files=tuple(files)), tuple(problems)


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
    from .report import find_decisions_file, load_decisions
    with_people, problems = apply_person_decisions(result, ruleset, start=full, path=decisions_path)
    path = decisions_path or find_decisions_file(result.root or coll.tree_root(full))
    one.scanned = next((f for f in with_people.files if f.path == by_rules.path), by_rules)
    one.decisions_path, one.decision_problems = path, problems
    if path.exists():
        one.entries = dict(load_decisions(path).entries)
    return one


# ------------------------------------------------------------------ running

_WORKER: dict = {}


def _worker_init(ruleset: RuleSet | None, cache: ResultCache | None = None):
    # With fork the parent's engine is inherited; otherwise the already
    # loaded (and validated) rule set is sent along. Workers never re-read
    # the rules: a rule file edited mid-run cannot make them fail to start,
    # which would make the pool respawn them forever.
    if "engine" not in _WORKER:
        _WORKER["engine"] = Engine(ruleset)
        _WORKER["cache"] = cache
    cachefile.take_bad()      # what the parent met before forking is the parent's to report
    # Analysis allocates many short-lived objects that reference counting
    # frees; the cyclic collector ran every 700 allocations for ~2% of the
    # instructions (callgrind). It still runs, less often.
    gc.set_threshold(20_000, 50, 50)


def _analyse_file(task) -> tuple[FileResult, bool, int, list]:
    display, path, captured, unknown_as = task
    out = analyse_cached(_WORKER["engine"], _WORKER["cache"], display, Path(path), captured, unknown_as)
    return (*out, cachefile.take_bad())       # the bad entries met, for the run's one note


def analyse_cached(engine: Engine, cache: ResultCache | None, display: str, path: Path, captured,
                   unknown_as) -> tuple[FileResult, bool, int]:
    """Read and analyse one file through the content cache: (result, whether
    it came from the cache, bytes written to the cache). The cache is tried
    where the file is read (in a worker), so that its bytes are read and
    hashed once and a result is kept under the key of the very bytes it was
    made from. Any failure becomes a FileResult with an error."""
    data = read_source(display, path)
    if isinstance(data, FileResult):
        return data, False, 0
    if cache is None:
        return analyse_data(engine, display, data, captured, unknown_as), False, 0
    key = cache.key_of(display, data, captured)
    hit = cache.get(key, display, data)
    if hit is not None:
        return hit, True, 0
    result = analyse_data(engine, display, data, captured, unknown_as)
    if went_over(result):
        return result, False, 0         # a later run, with more time or a higher limit, may do it
    return result, False, cache.put(key, result)


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


def scan_paths(paths, ruleset: RuleSet, root: Path | None = None, jobs: int | None = None,
               unknown_as: str | None = None, cache_dir: Path | None = None, use_cache: bool = True,
               progress=None, cwd: Path | None = None) -> ScanResult:
    """Analyse every candidate file under `paths`; results sorted by path."""
    cwd = cwd or Path.cwd()
    fam = ruleset.family
    cache = ResultCache(cache_dir, ruleset.digest, unknown_as, check=partial(misfit, ruleset)) if use_cache else None

    walks: dict = {}

    def build_index(at: Path):
        return collision_index(at, ruleset, cache.dir if cache is not None else None, walks)

    if progress is not None:
        progress.phase("prefilter")
    candidates, problems = expand(paths, fam.names, cwd, cache_dir=cache.dir if cache is not None else None,
                                  walks=walks)
    if root is None and candidates:
        root = coll.find_tree_root(candidates[0].path)
    if cache is not None:
        cache.open_index(root or cwd)        # unchanged files: a stat, no read
    # Every file is first analysed without the names other files define
    # (the collision index), so that the workers start at once while this
    # process builds the index. A result stands unless classification looked
    # up one of the names the index says the file sees (FileResult.consulted);
    # only such files (a few percent) are analysed again with them.
    results: list = [None] * len(candidates)
    tasks, tickets, slots = [], [], []
    # Rules match and site ids are made on the path from the tree root,
    # whatever the working directory (`cd mm && pgrewrite apply .` must decide
    # as the root does); paths are shown relative to the cwd at the end.
    names = _tree_names(candidates, root, cwd)
    for i, c in enumerate(candidates):
        name = names.get(c.display, c.display)
        hit, ticket = cache.lookup(c, {}, name) if cache is not None else (None, None)
        if hit is not None:
            results[i] = hit
        else:
            tasks.append((name, str(c.path), {}, unknown_as))
            tickets.append(ticket)
            slots.append(i)
    jobs = jobs or os.cpu_count() or 1
    # largest files first: the workers then finish together instead of one
    # of them ending the run on a big file while the other idles
    order = sorted(range(len(tasks)), key=lambda k: -_size(tasks[k][1]))
    tasks, tickets, slots = ([xs[k] for k in order] for xs in (tasks, tickets, slots))
    content_hits = 0
    with _Runner(ruleset, jobs if len(tasks) >= 8 else 1, cache) as runner:
        fresh = runner.map(tasks)            # already running in the workers
        if progress is not None and root is not None:
            progress.phase("definitions (the new names already in the tree)")
        index = build_index(root) if root is not None else None
        if progress is not None:
            progress.phase("analysis", len(tasks))
        definitions = index.definitions if index is not None else ()
        preparation, prep_notes = index.extra if index is not None and index.extra else (None, ())
        bad: list = []                       # bad cache entries the workers met
        for i, ticket, (r, hit, written, met) in zip(slots, tickets, fresh):
            bad += met
            if progress:
                progress(1)
            if cache is not None:
                cache.record(None if went_over(r) else ticket, r, written)
            content_hits += hit
            results[i] = r
        again = []                           # (slot, cache ticket, task)
        for i, c in enumerate(candidates):
            if not results[i].consulted:
                continue                     # looked up nothing: nothing to redo
            captured = _captured(c, root, index, preparation)
            if not captured or not (results[i].consulted & captured.keys()):
                continue
            hit, ticket = cache.lookup(c, captured, names.get(c.display, c.display)) if cache is not None else (None, None)
            if hit is not None:
                results[i] = hit
            else:
                again.append((i, ticket, (names.get(c.display, c.display), str(c.path), captured, unknown_as)))
        if progress is not None and again:
            progress.phase("analysis with the definitions files see", len(again))
        for (i, ticket, _), (r, _, written, met) in zip(again, runner.map([t for _, _, t in again])):
            bad += met
            if progress:
                progress(1)
            if cache is not None:
                cache.record(None if went_over(r) else ticket, r, written)
            results[i] = r
    stats = {"candidates": len(candidates), "cache_hits": len(candidates) - len(tasks) + content_hits,
             "analysed": len(tasks) - content_hits, "analysed_again": len(again)}
    if cache is not None:
        cache.save_index()
        cache.finish()
    shown = {name: display for display, name in names.items()}   # only paths that differ
    if shown:
        results = [_displayed(r, shown[r.path]) if r.path in shown else r for r in results]
    results.sort(key=lambda r: r.path)
    # every unusable cache file met (rules, prefilter, index, entries), once
    notes = tuple(prep_notes) + cachefile.take_note(bad)
    return ScanResult(tuple(results), tuple(problems), definitions, root, stats,
                      preparation, notes)


def _size(path: str) -> int:
    try:
        return os.stat(path).st_size
    except OSError:
        return 0


def plan_preparation(root: Path | None, definitions, clashes=(), lines=None) -> tuple[object | None, tuple[str, ...]]:
    """The preparatory renames `series` makes first and `apply` makes too: the
    same plan (series.definitions.prepare), here on the files on disk. Only
    looked for when a definition outside include/ and arch/*/include/ clashes
    with a new name that no shared header blocks anyway, or clashes.yaml
    declares a resolution for a defined name. It costs a fixed-string `git
    grep` of the whole tree (2-8 s for 6.12), so it is made with the
    collision index and cached with it (rebuilt when a .c, .h or .S file
    changes, or clashes.yaml). A clashes.yaml that does not fit the tree is
    an error (rules.loader.RuleError), as an invalid rule is. `lines`:
    series.definitions.new_name_lines(root, clashes), if already searched."""
    shared = {d.name for d in definitions if d.shared}
    declared = {c.name for c in clashes}
    if root is None or not any((not d.shared and d.name not in shared) or d.name in declared
                               for d in definitions):
        return None, ()
    from .rules.loader import RuleError
    from .series import definitions as defs_mod
    from .series.git import Git
    try:
        prep = defs_mod.prepare(Git(root), None, clashes=clashes, lines=lines)
    except defs_mod.ClashError as e:
        raise RuleError(e.problems) from None
    except (defs_mod.DefinitionsError, OSError) as e:
        return None, (f"private definitions of new names could not be planned for "
                      f"renaming ({e}); apply will not rename them",)
    return prep, tuple(prep.notes())


def collision_index(root: Path, ruleset: RuleSet, cache_dir: Path | None = None, walks=None):
    """The names other files define that the files under `root` see, with
    the preparatory-rename plan as its `extra` (collisions.CollisionIndex)."""
    fam = ruleset.family
    clashes = getattr(ruleset, "clashes", ())
    # one `git grep` of the new names finds both the definitions and the
    # lines the preparatory-rename plan reads (when it looks for the same names)
    lines: dict = {}

    def search(root, names):
        from .series.definitions import NEW_NAMES, DefinitionsError, new_name_lines
        from .series.git import Git
        if set(names) == set(NEW_NAMES):
            try:
                lines["found"] = new_name_lines(Git(root), clashes)
            except (DefinitionsError, OSError):
                pass
            else:
                return coll.definitions_in(lines["found"], names)
        return coll.tree_definitions(root, names)

    def plan(root, definitions):
        return plan_preparation(root, definitions, clashes, lines.get("found"))

    return coll.CollisionIndex.build(root, fam.replacements, aliases=fam.aliases(), cache_dir=cache_dir,
                                     walks=walks, extra=plan, extra_key=repr(clashes), search=search)


class ContentScanner:
    """Analyses file contents held in memory (a patch applied in memory, a
    diff's files) as `scan_paths` analyses the files at those paths in the
    tree at `root`: the same engine, rules, result cache and collision
    index of the tree. Paths are relative to `root`. `scan` returns a
    ScanResult, so the people's decisions apply to it as to a scan."""

    def __init__(self, ruleset: RuleSet, root: Path, cache_dir: Path | None = None, use_cache: bool = True,
                 unknown_as: str | None = None):
        self.ruleset, self.root, self.unknown_as = ruleset, Path(root), unknown_as
        self.cache = ResultCache(cache_dir, ruleset.digest, unknown_as, check=partial(misfit, ruleset)) if use_cache else None
        self.engine = Engine(ruleset)
        self._index = None

    def _collisions(self):
        if self._index is None:
            index = collision_index(self.root, self.ruleset, self.cache.dir if self.cache is not None else None)
            prep, notes = index.extra if index.extra else (None, ())
            self._index = (index, prep, notes)
        return self._index

    def scan(self, contents: dict[str, bytes]) -> ScanResult:
        index, preparation, notes = self._collisions()
        results = []
        for path in sorted(contents):
            data = contents[path]
            captured = _captured(Candidate(path, self.root / path), self.root, index, preparation)
            key = self.cache.key_of(path, data, captured) if self.cache is not None else None
            r = self.cache.get(key, path, data) if self.cache is not None else None
            if r is None:
                r = analyse_data(self.engine, path, data, captured, self.unknown_as)
                if self.cache is not None:
                    self.cache.written += self.cache.put(key, r)
            results.append(r)
        return ScanResult(tuple(results), (), index.definitions, self.root, {}, preparation, notes)

    def close(self) -> None:
        if self.cache is not None:
            self.cache.finish()


class _RootRelative:
    """`(cwd / path).resolve().relative_to(root.resolve()).as_posix()`, with
    the root and each directory resolved once (realpath of dir/name is
    realpath of realpath(dir)/name)."""

    def __init__(self, root: Path, cwd: Path):
        self.root = root.resolve()
        self.prefix = os.path.join(str(self.root), "")
        self.cwd = str(cwd)
        self.dirs: dict[str, str] = {}

    def __call__(self, path: str) -> str:
        d, name = os.path.split(os.path.join(self.cwd, path))
        rd = self.dirs.get(d)
        if rd is None:
            rd = self.dirs[d] = os.path.realpath(d)
        full = os.path.join(rd, name)
        if name in ("", ".", "..") or os.path.islink(full):
            full = os.path.realpath(full)
        if os.sep == "/" and full.startswith(self.prefix):
            return full[len(self.prefix):]       # what relative_to says, without pathlib's cost
        return Path(full).relative_to(self.root).as_posix()


def _tree_names(candidates, root: Path | None, cwd: Path) -> dict[str, str]:
    """display path -> path from the tree root (the kernel root, else the git
    top level); empty outside any tree, where the cwd is the only root."""
    top = root if root is not None else (coll.git_top(cwd) if candidates else None)
    if top is None:
        return {}
    rel = _RootRelative(top, cwd)
    names = {}
    for c in candidates:
        try:
            name = rel(c.display)
        except (ValueError, OSError):
            continue
        if name != c.display and not name.startswith("../"):
            names[c.display] = name
    return names


def _displayed(result: FileResult, display: str) -> FileResult:
    """A result analysed under its tree path, shown under the cwd's path;
    site ids keep the tree path, so a decisions file matches from anywhere."""
    import dataclasses
    decisions = tuple(dataclasses.replace(d, site=dataclasses.replace(d.site, path=display))
                      for d in result.decisions)
    return dataclasses.replace(result, path=display, decisions=decisions)


def _captured(c: Candidate, root: Path | None, index, preparation=None) -> dict[str, str]:
    out = _captured_by_definitions(c, root, index, preparation)
    if root is not None and index is not None:
        # the series' own names (a converted tree): a file's own uses of
        # them capture nothing (None: Engine.analyse leaves them out)
        for name in getattr(index, "own_names", frozenset()):
            out.setdefault(name, None)
    return out


def _captured_by_definitions(c: Candidate, root: Path | None, index, preparation=None) -> dict[str, str]:
    if root is None or index is None or not index.definitions:
        return {}
    try:
        rel = c.path.relative_to(root).as_posix()
    except ValueError:
        return {}
    out = index.unavailable(rel)
    if preparation is None:
        return out
    resolved = getattr(preparation, "resolved", frozenset())
    if resolved:
        # a definition clashes.yaml renames away blocks nothing: the site gets
        # its rule verdict, unless another definition of the name is visible
        for name in [n for n, w in out.items() if w.split(" ", 1)[0] in resolved]:
            others = [d for d in index.visible(rel) if d.name == name and str(d) not in resolved]
            if others:
                out[name] = str(others[0])
            else:
                del out[name]
        for c in preparation.clash_renames:
            if rel in c.files:
                out.setdefault(c.name, None)    # its own uses are renamed too: no capture
    # say what apply and series do about a private definition: rename it first
    # (the site is converted by a run after that), or leave its name out tree-wide
    renamed = {f"{r.definition.path}:{r.definition.line}": r for r in preparation.renames}
    for name, where in out.items():
        r = renamed.get(where)
        if r is not None:
            out[name] = (f"{where} (a private definition: apply and series first rename it to "
                         f"{r.new_name}; run again after that to convert this site)")
    for name, defs in preparation.blocked.items():
        if name not in out and all(d.scope == "local" for d in defs):
            d = defs[0]
            out[name] = (f"{d.path}:{d.line} (a private definition that cannot be renamed first, "
                         f"so no generic {name} is added; see the notes)")
    return out


class _Runner:
    """Analyses tasks in this process (jobs 1) or in a pool of worker
    processes that starts with the runner and lives until it is closed.
    `map(tasks)` returns an iterator of results in task order; with a pool
    the workers begin at once, whatever the caller does meanwhile."""

    def __init__(self, ruleset: RuleSet, jobs: int, cache: ResultCache | None = None):
        self.ruleset, self.jobs, self.pool, self.engine = ruleset, jobs, None, None
        # workers read and write content entries; the stat index stays here
        self.cache = cache.detached() if cache is not None else None

    def __enter__(self):
        if self.jobs > 1:
            import multiprocessing as mp
            ctx = mp.get_context("fork") if hasattr(os, "fork") else mp.get_context()
            _WORKER["engine"] = Engine(self.ruleset)
            _WORKER["cache"] = self.cache
            initargs = (None,) if ctx.get_start_method() == "fork" else (self.ruleset, self.cache)
            # what the workers inherit (modules, rules) is never garbage:
            # frozen, the collector in a worker neither walks it nor
            # touches its pages (which fork would then copy)
            gc.freeze()
            try:
                self.pool = ctx.Pool(self.jobs, initializer=_worker_init, initargs=initargs)
            finally:
                gc.unfreeze()
        return self

    def __exit__(self, *exc):
        if self.pool is not None:
            self.pool.terminate() if exc[0] is not None else self.pool.close()
            self.pool.join()
        return False

    def map(self, tasks):
        """(result, from the cache, bytes written to it, bad cache entries met
        in a worker process) per task, in order."""
        if not tasks:
            return iter(())
        if self.pool is None:
            if self.engine is None:
                self.engine = Engine(self.ruleset)
            # bad cache entries met here are already in this process's list
            return ((*analyse_cached(self.engine, self.cache, t[0], Path(t[1]), t[2], t[3]), ())
                    for t in tasks)
        chunk = max(1, min(8, len(tasks) // (self.jobs * 8)))
        return self.pool.imap(_analyse_file, tasks, chunksize=chunk)
