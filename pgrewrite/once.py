"""Answers computed once, with a guard against asking a question inside
its own answer (summaries.py, filescope.py).

The guard answers such a question None, so an answer computed while an
outer question was still open may rest on that None: it is kept only
once the outer question is done with, never stored on its own. Otherwise
a fact would depend on which site of the file asked first."""
from __future__ import annotations


_open = 0      # questions being answered, in every Once of the process


def nothing_open() -> bool:
    """No Once is answering a question: an answer computed now rests on no
    guard's None, so it is the one a later question with nothing open gets
    (inference.Inference remembers source() and sinks() answers then)."""
    return _open == 0


class Once:
    def __init__(self, facts=None) -> None:
        self._kept: dict = {}
        self._open: set = set()        # questions being answered
        self._cut: set = set()         # open questions the guard answered None, below the current one
        self._facts = facts            # what the answers were computed from

    def get(self, key, compute, variant=(), facts=None):
        """compute() for `key`, kept per (key, variant); None when `key`
        is asked inside its own answer. Every kept answer is forgotten when
        `facts` is another object than the answers were computed from (the
        strong decisions of the file, once they are known: more facts)."""
        if facts is not self._facts:
            self._kept.clear()
            self._facts = facts
        kept_key = (key, variant)
        if kept_key in self._kept:
            return self._kept[kept_key]
        if key in self._open:
            self._cut.add(key)
            return None
        global _open
        outer, self._cut = self._cut, set()
        self._open.add(key)
        _open += 1
        try:
            got = compute()
        finally:
            _open -= 1
            self._open.discard(key)
            inner, self._cut = self._cut, outer
        inner.discard(key)              # cut at this very question: the answer is this question's own
        if inner:
            self._cut |= inner          # rests on a question still open above: not kept
        else:
            self._kept[kept_key] = got
        return got
