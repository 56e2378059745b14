"""Running the engine over many files: in this process, or in a pool of
worker processes (`_Runner`), each file read and analysed through the
content cache (`analyse_cached`)."""
from __future__ import annotations

import gc
import itertools
import multiprocessing as mp
import multiprocessing.pool
import os
from pathlib import Path

from . import cachefile
from .budget import went_over
from .cache import ResultCache
from .engine import Engine, analyse_data, read_source
from .model import FileResult
from .rules.loader import RuleSet

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
    # Analysis allocates many objects that reference counting frees: once
    # classify closes a file's inference, its analysis holds no reference
    # cycle (gc.DEBUG_SAVEALL after 300 files of fs, mm and net: none). The
    # cyclic collector's passes over the live analysis cost ~3% of a
    # worker's time even at a 20,000-allocation threshold, so it runs only
    # once every _COLLECT_EVERY files, for cycles nobody knows of yet.
    gc.disable()


_COLLECT_EVERY = 50
_analysed = itertools.count(1)


def _analyse_file(task) -> tuple[FileResult, bool, int, list]:
    display, path, captured, unknown_as = task
    if next(_analysed) % _COLLECT_EVERY == 0:
        gc.collect()
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



class _Pool(multiprocessing.pool.Pool):
    """multiprocessing's Pool, whose worker-handler thread waits for a change
    of the pool only. The stock one also waits for the result queue to be
    readable, and a result stays readable until the result-handler thread
    takes it: meanwhile the worker handler loops without sleeping (0.9 s
    of this process's CPU in a cold scan of the bench's directories, on
    2 cores beside the workers). A worker's exit wakes it through the
    worker's sentinel, a drained cache or a closed pool through the change
    notifier (what the stdlib's ThreadPool waits for)."""

    def _get_sentinels(self):
        return [self._change_notifier._reader]


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
            ctx = mp.get_context("fork") if hasattr(os, "fork") else mp.get_context()
            _WORKER["engine"] = Engine(self.ruleset)
            _WORKER["cache"] = self.cache
            initargs = (None,) if ctx.get_start_method() == "fork" else (self.ruleset, self.cache)
            # what the workers inherit (modules, rules) is never garbage:
            # frozen, the collector in a worker neither walks it nor
            # touches its pages (which fork would then copy)
            gc.freeze()
            try:
                self.pool = _Pool(self.jobs, initializer=_worker_init, initargs=initargs, context=ctx)
            finally:
                gc.unfreeze()
        return self

    def __exit__(self, *exc):
        if self.pool is not None:
            self.pool.terminate() if exc[0] is not None else self.pool.close()
            self.pool.join()
        return False

    def start(self, task):
        """With a pool: the task's analysis started in a worker (behind the
        tasks already given); its `get()` is what `map` gives for it. None
        without a pool."""
        return self.pool.apply_async(_analyse_file, (task,)) if self.pool is not None else None

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

