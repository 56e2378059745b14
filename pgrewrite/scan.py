"""Scanning many files (`scan_paths`): the stages in order, each a step of
`_Scan`:

1. prefilter: the candidate files (files.expand) and the tree root;
2. look up: the results the cache holds for unchanged files;
3. analysis: the other files, in worker processes, without the names other
   files define; meanwhile, in this process,
4. definitions: the collision index of the tree (collisions.py), then the
   preparation stage's plan (preparation.py);
5. analysis again: the few files whose verdicts looked up a name the index
   says they see;
6. the result: paths shown as the cwd gives them, sorted.
"""
from __future__ import annotations

import dataclasses
import os
from functools import partial
from pathlib import Path

from . import cachefile
from . import collisions as coll
from .budget import went_over
from .cache import ResultCache, default_cache_dir
from .definitions import Preparation
from .edits import misfit
from .engine import Engine, analyse_data
from .files import Candidate, expand
from .model import FileResult, ScanResult
from .preparation import NewNameSearch, prepare_tree
from .rules.loader import RuleSet
from .runner import _Runner


def scan_paths(paths, ruleset: RuleSet, root: Path | None = None, jobs: int | None = None,
               unknown_as: str | None = None, cache_dir: Path | None = None, use_cache: bool = True,
               progress=None, cwd: Path | None = None, includes: coll.IncludeLines | None = None) -> ScanResult:
    """Analyse every candidate file under `paths`; results sorted by path.
    `includes`: the index's include grep, if the caller started it
    (start_include_grep); the scan ends it."""
    paths = list(paths)                  # read twice: the root's guess, the prefilter
    cache = ResultCache(cache_dir, ruleset.digest, unknown_as, check=partial(misfit, ruleset)) if use_cache else None
    scan = _Scan(ruleset, cache, unknown_as, progress, cwd or Path.cwd())
    scan.includes = includes
    scan.start_index_searches(paths, root)
    try:
        scan.prefilter(paths, root)
        scan.look_up()
        jobs = jobs or os.cpu_count() or 1
        with _Runner(ruleset, jobs if len(scan.tasks) >= 8 else 1, cache) as runner:
            fresh = runner.map(scan.tasks)       # already running in the workers
            scan.find_definitions()
            scan.collect(fresh, runner)
            scan.analyse_again(runner)
    finally:
        scan.stop_index_searches()
    return scan.result()


def start_include_grep(paths, cache_dir: Path | None = None, use_cache: bool = True,
                       cwd: Path | None = None) -> coll.IncludeLines | None:
    """The collision index's grep of the tree's include lines, started
    before the rules are even loaded (a command's first half second runs on
    one core), when the run is cold for certain: without a cache, or with a
    cache directory that keeps no index of any tree. scan_paths(includes=)
    takes it; otherwise it starts its own when it finds the index missing."""
    root = _guessed_root(paths, cwd or Path.cwd())
    if root is None or (use_cache and coll.any_index_kept(cache_dir if cache_dir is not None else default_cache_dir())):
        return None
    return coll.IncludeLines.start(root)


def _guessed_root(paths, cwd: Path) -> Path | None:
    """The tree root the prefilter will find, from the first path, before it runs."""
    paths = list(paths)
    return coll.find_tree_root(Path(os.path.abspath(cwd / paths[0]))) if paths else None


class _Scan:
    """One run of scan_paths: what each step found, for the next."""

    def __init__(self, ruleset: RuleSet, cache: ResultCache | None, unknown_as: str | None, progress,
                 cwd: Path):
        self.ruleset, self.cache, self.unknown_as, self.progress, self.cwd = ruleset, cache, unknown_as, progress, cwd
        self.walks: dict = {}                # the tree snapshots of this run, for the index
        self.candidates: list = []
        self.problems: tuple = ()
        self.root: Path | None = None
        self.names: dict[str, str] = {}      # display path -> path from the tree root, where they differ
        self.results: list = []
        self.tasks: list = []                # (name, path, captured, unknown_as) to analyse
        self.tickets: list = []              # the cache's ticket of each task
        self.slots: list = []                # the candidate of each task
        self.index = None
        self.preparation: Preparation | None = None
        self.notes: tuple[str, ...] = ()
        self.content_hits = 0
        self.again: list = []                # (slot, cache ticket, task, its analysis if started)
        self.checked: set = set()            # slots already looked at for analyse_again
        self.bad: list = []                  # bad cache entries the workers met
        self.includes: coll.IncludeLines | None = None   # the index's greps, started ahead
        self.search: NewNameSearch | None = None

    def _phase(self, *what) -> None:
        if self.progress is not None:
            self.progress.phase(*what)

    def _cache_dir(self) -> Path | None:
        return self.cache.dir if self.cache is not None else None

    def start_index_searches(self, paths, root: Path | None) -> None:
        """Start the collision index's two greps of the whole tree (its
        include lines, the new names' lines) now, when the index will need
        them (no index kept in the cache directory): the prefilter leaves
        the other core mostly idle, the analysis does not. The root is the
        one the prefilter will find, guessed from the first path; the greps
        of a wrong guess are not used."""
        root = root or _guessed_root(paths, self.cwd)
        if root is None or coll.index_is_kept(self._cache_dir(), root, self.ruleset.family):
            return
        if self.includes is None:
            self.includes = coll.IncludeLines.start(root)
        self.search = NewNameSearch(self.ruleset)
        self.search.start(root)

    def stop_index_searches(self) -> None:
        if self.includes is not None:
            self.includes.close()
        if self.search is not None:
            self.search.close()

    def prefilter(self, paths, root: Path | None) -> None:
        self._phase("prefilter")
        self.candidates, self.problems = expand(paths, self.ruleset.family.names, self.cwd,
                                                cache_dir=self._cache_dir(), walks=self.walks)
        if root is None and self.candidates:
            root = coll.find_tree_root(self.candidates[0].path)
        self.root = root
        if self.cache is not None:
            self.cache.open_index(root or self.cwd)        # unchanged files: a stat, no read

    def look_up(self) -> None:
        """The cached results; the other files become tasks, largest first."""
        # Every file is first analysed without the names other files define
        # (the collision index), so that the workers start at once while this
        # process builds the index. A result stands unless classification looked
        # up one of the names the index says the file sees (FileResult.consulted);
        # only such files (a few percent) are analysed again with them.
        cache = self.cache
        self.results = [None] * len(self.candidates)
        tasks, tickets, slots = [], [], []
        # Rules match and site ids are made on the path from the tree root,
        # whatever the working directory (`cd mm && pgrewrite apply .` must decide
        # as the root does); paths are shown relative to the cwd at the end.
        self.names = _tree_names(self.candidates, self.root, self.cwd)
        for i, c in enumerate(self.candidates):
            name = self.names.get(c.display, c.display)
            hit, ticket = cache.lookup(c, {}, name) if cache is not None else (None, None)
            if hit is not None:
                self.results[i] = hit
            else:
                tasks.append((name, str(c.path), {}, self.unknown_as))
                tickets.append(ticket)
                slots.append(i)
        # largest files first: the workers then finish together instead of one
        # of them ending the run on a big file while the other idles
        order = sorted(range(len(tasks)), key=lambda k: -_size(tasks[k][1]))
        self.tasks, self.tickets, self.slots = ([xs[k] for k in order] for xs in (tasks, tickets, slots))

    def find_definitions(self) -> None:
        """The collision index of the tree, then the preparation stage."""
        if self.root is None:
            return
        self._phase("definitions (the new names already in the tree)")
        self.index, self.preparation, self.notes = index_and_plan(
            self.root, self.ruleset, self._cache_dir(), self.walks, self.includes, self.search)

    def collect(self, fresh, runner: _Runner | None = None) -> None:
        """The first analysis' results, as the workers finish them. A file
        to analyse again (analyse_again) goes to the workers at once, behind
        the first analysis' files, instead of after all of them."""
        self._phase("analysis", len(self.tasks))
        for i, ticket, (r, hit, written, met) in zip(self.slots, self.tickets, fresh):
            self._record(i, ticket, r, written, met)
            self.content_hits += hit
            if runner is not None and runner.pool is not None:
                self._again(i, runner)

    def _again(self, i: int, runner: _Runner | None = None) -> None:
        """Whether file `i` is analysed again with the names the index says
        it sees (self.again), and its cached result with them if there is one;
        `runner`: with a pool, its analysis starts now."""
        self.checked.add(i)
        if not self.results[i].consulted:
            return                           # looked up nothing: nothing to redo
        c = self.candidates[i]
        captured = _captured(c, self.root, self.index, self.preparation)
        if not captured or not (self.results[i].consulted & captured.keys()):
            return
        name = self.names.get(c.display, c.display)
        hit, ticket = self.cache.lookup(c, captured, name) if self.cache is not None else (None, None)
        if hit is not None:
            self.results[i] = hit
            return
        task = (name, str(c.path), captured, self.unknown_as)
        self.again.append((i, ticket, task, runner.start(task) if runner is not None else None))

    def analyse_again(self, runner: _Runner) -> None:
        """Files that looked up a name the index says they see, with it."""
        for i in range(len(self.candidates)):
            if i not in self.checked:
                self._again(i)
        if self.again:
            self._phase("analysis with the definitions files see", len(self.again))
        late = iter(runner.map([task for _, _, task, started in self.again if started is None]))
        for i, ticket, _, started in self.again:
            r, _, written, met = next(late) if started is None else started.get()
            self._record(i, ticket, r, written, met)

    def _record(self, i: int, ticket, r: FileResult, written: int, met: list) -> None:
        self.bad += met
        if self.progress:
            self.progress(1)
        if self.cache is not None:
            self.cache.record(None if went_over(r) else ticket, r, written)
        self.results[i] = r

    def result(self) -> ScanResult:
        n, tasks = len(self.candidates), len(self.tasks)
        stats = {"candidates": n, "cache_hits": n - tasks + self.content_hits,
                 "analysed": tasks - self.content_hits, "analysed_again": len(self.again)}
        if self.cache is not None:
            self.cache.save_index()
            self.cache.finish()
        results = self.results
        shown = {name: display for display, name in self.names.items()}   # only paths that differ
        if shown:
            results = [_displayed(r, shown[r.path]) if r.path in shown else r for r in results]
        results.sort(key=lambda r: r.path)
        # every unusable cache file met (rules, prefilter, index, entries), once
        notes = tuple(self.notes) + cachefile.take_note(self.bad)
        definitions = self.index.definitions if self.index is not None else ()
        return ScanResult(tuple(results), tuple(self.problems), definitions, self.root, stats,
                          self.preparation, notes)


def _size(path: str) -> int:
    try:
        return os.stat(path).st_size
    except OSError:
        return 0


def index_and_plan(root: Path, ruleset: RuleSet, cache_dir: Path | None = None, walks=None,
                   includes: coll.IncludeLines | None = None, search: NewNameSearch | None = None):
    """(the collision index of the tree at `root`: the names other files
    define that its files see, then the preparation stage's plan and its
    notes). One `git grep` of the new names serves both. `includes`,
    `search`: the index's greps, if the caller started them."""
    fam = ruleset.family
    search = search or NewNameSearch(ruleset)
    index = coll.CollisionIndex.build(root, fam.replacements, aliases=fam.aliases(), cache_dir=cache_dir,
                                      walks=walks, search=search, ahead=includes)
    preparation, notes = prepare_tree(index, ruleset, search, cache_dir)
    return index, preparation, notes


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
            self._index = index_and_plan(self.root, self.ruleset, self.cache.dir if self.cache is not None else None)
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
    decisions = tuple(dataclasses.replace(d, site=dataclasses.replace(d.site, path=display))
                      for d in result.decisions)
    return dataclasses.replace(result, path=display, decisions=decisions)


def _captured(c: Candidate, root: Path | None, index: coll.CollisionIndex | None,
              preparation: Preparation | None = None) -> dict[str, str]:
    out = _captured_by_definitions(c, root, index, preparation)
    if root is not None and index is not None:
        # the series' own names (a converted tree): a file's own uses of
        # them capture nothing (None: Engine.analyse leaves them out)
        for name in index.own_names:
            out.setdefault(name, None)
    return out


def _captured_by_definitions(c: Candidate, root: Path | None, index: coll.CollisionIndex | None,
                             preparation: Preparation | None = None) -> dict[str, str]:
    """The new names whose definition a file's renames would capture (name
    -> the definition, as its reason says it; None: not captured), with
    what the preparation stage's plan changes about each."""
    rel = _tree_path(c, root, index)
    if rel is None:
        return {}
    out = index.unavailable(rel)
    if preparation is not None:
        _free_what_clashes_yaml_renames(out, rel, index, preparation)
        _say_private_definitions_are_renamed_first(out, preparation)
        _say_names_left_out(out, preparation)
    return out


def _tree_path(c: Candidate, root: Path | None, index: coll.CollisionIndex | None) -> str | None:
    """The file's path from the tree root, when there are definitions to capture it."""
    if root is None or index is None or not index.definitions:
        return None
    try:
        return c.path.relative_to(root).as_posix()
    except ValueError:
        return None


def _free_what_clashes_yaml_renames(out: dict, rel: str, index: coll.CollisionIndex,
                                    preparation: Preparation) -> None:
    """A definition clashes.yaml renames away blocks nothing: the site gets
    its rule verdict, unless another definition of the name is visible; in
    the files the entry renames, the name's own uses are renamed too."""
    resolved = preparation.resolved
    if not resolved:
        return
    for name in [n for n, w in out.items() if w.split(" ", 1)[0] in resolved]:
        others = [d for d in index.visible(rel) if d.name == name and str(d) not in resolved]
        if others:
            out[name] = str(others[0])
        else:
            del out[name]
    for c in preparation.clash_renames:
        if rel in c.files:
            out.setdefault(c.name, None)    # its own uses are renamed too: no capture


def _say_private_definitions_are_renamed_first(out: dict, preparation: Preparation) -> None:
    """What apply and series do about a private definition: rename it first
    (the site is converted by a run after that)."""
    renamed = {f"{r.definition.path}:{r.definition.line}": r for r in preparation.renames}
    for name, where in out.items():
        r = renamed.get(where)
        if r is not None:
            out[name] = (f"{where} (a private definition: apply and series first rename it to "
                         f"{r.new_name}; run again after that to convert this site)")


def _say_names_left_out(out: dict, preparation: Preparation) -> None:
    """A name only private definitions block, none of which can be renamed
    first, is left out tree-wide."""
    for name, defs in preparation.blocked.items():
        if name not in out and all(d.scope == "local" for d in defs):
            d = defs[0]
            out[name] = (f"{d.path}:{d.line} (a private definition that cannot be renamed first, "
                         f"so no generic {name} is added; see the notes)")


def apply_person_decisions(result: ScanResult, ruleset: RuleSet, start: Path | None = None,
                           path: Path | None = None):
    """Apply the decisions file (`path`, else pgrewrite-decisions.yaml at the
    tree root, never above it) to a scan result: (new result, problems with
    the decisions). Raises report.DecisionsError if the file itself is broken."""
    # here: report loads ruamel.yaml (~40 ms), which scan_paths never needs
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
        from .applied import mark_applied    # here: it loads report (ruamel.yaml), as above
        ids_root = result.root or coll.git_top(start or Path.cwd()) or (start or Path.cwd())
        problems = mark_applied(problems, dict(decisions.entries), Path(ids_root), ruleset.family)
    return dataclasses.replace(result, files=tuple(files)), tuple(problems)
