"""YAML whose aliases cannot multiply it: rule files may share a value with
an anchor and aliases (`&offset` ... `*offset`), but a 548-byte "billion
laughs" (aliases of aliases of aliases) must not expand to gigabytes, nor an
alias that contains itself loop for ever.

Decisions files, data from others, refuse aliases altogether
(report/decisions.py)."""
from __future__ import annotations

import yaml

# The shipped rules expand to a few hundred nodes per file; a hand-written
# rule file stays far below this.
MAX_NODES = 100_000


class ExpansionError(yaml.MarkedYAMLError):
    """Aliases expand the document beyond MAX_NODES, or an alias contains
    itself. A YAMLError, so that every caller reports it with the file and
    line, as it reports a syntax error."""


def compose(text: str, loader, limit: int = MAX_NODES):
    """yaml.compose(text), refused (ExpansionError) when its aliases make it
    expand to more than `limit` nodes or into a cycle."""
    node = yaml.compose(text, Loader=loader)
    if node is not None:
        check_expansion(node, limit)
    return node


def check_expansion(root, limit: int = MAX_NODES) -> int:
    """The number of nodes `root` expands to, counting each alias as a copy
    of what it refers to. Each distinct node is sized once (a DAG walk,
    linear in the composed graph, never in the expansion)."""
    size: dict[int, int] = {}
    open_: set[int] = set()          # nodes whose children are being sized
    stack = [(root, False)]
    while stack:
        node, children_done = stack.pop()
        key = id(node)
        if children_done:
            open_.discard(key)
            total = 1 + sum(size[id(c)] for c in _children(node))
            if total > limit:
                raise ExpansionError(
                    problem=f"aliases (*name) make this document expand to more than {limit:,} "
                            "values; write it out with fewer aliases",
                    problem_mark=node.start_mark)
            size[key] = total
            continue
        if key in size:
            continue
        if key in open_:
            raise ExpansionError(problem="an alias (*name) refers to a value that contains it",
                                 problem_mark=node.start_mark)
        open_.add(key)
        stack.append((node, True))
        for c in _children(node):
            if id(c) in open_:
                raise ExpansionError(problem="an alias (*name) refers to a value that contains it",
                                     problem_mark=c.start_mark)
            if id(c) not in size:
                stack.append((c, False))
    return size[id(root)]


def _children(node):
    if isinstance(node, yaml.MappingNode):
        return [x for pair in node.value for x in pair]
    if isinstance(node, yaml.SequenceNode):
        return node.value
    return ()


def load(text: str, loader, limit: int = MAX_NODES):
    """yaml.load(text) after the expansion check."""
    compose(text, loader, limit)
    return yaml.load(text, Loader=loader)
