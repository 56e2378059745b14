"""The preparation stage: the preparatory renames `series` makes first and
`apply` makes too (series.definitions.prepare), planned on the files on disk.

It runs after the collision index, from the index's definitions: a plan is
only looked for when a definition outside include/ and arch/*/include/
clashes with a new name that no shared header blocks anyway, or clashes.yaml
declares a resolution for a defined name. A plan costs a `git grep` of the
whole tree (2-8 s for 6.12), so the scan's one `git grep` of the new names
(`NewNameSearch`, also the index's definition search) is shared with it, and
with a cache directory the plan is kept there under its own key (the tree
root, the new names, clashes.yaml) beside the index, valid while the index's
fingerprint of the tree's .h, .c and .S files is the same.
"""
from __future__ import annotations

from pathlib import Path

from . import cachefile, git, store
from .codec import preparation_data, preparation_from, strs
from .collisions import GRAPH_SUFFIXES, tree_definitions
from .definitions import Preparation, find_definitions, new_names
from .rules.loader import RuleError, RuleSet
from .series import definitions as defs_mod
from .series.git import Git

CACHE_VERSION = b"pgrewrite-plan-2"


class NewNameSearch:
    """The collision index's search for definitions (`search(root, names)`):
    one `git grep` of the family's new names and clashes.yaml's rename-to
    names over every text file, whose lines the plan reads too (`lines`).
    `start(root)` runs that grep ahead, while the caller works on (a cold
    scan's prefilter leaves a core idle); a search of the same root then
    takes its output. It is spooled to a file, not a pipe: worker processes
    forked meanwhile would hold a pipe open past git's end."""

    def __init__(self, ruleset: RuleSet):
        self.names = new_names(ruleset.family)
        self.clashes = ruleset.clashes
        self.lines: list | None = None
        self._ahead: git.Ahead | None = None

    def start(self, root: Path) -> None:
        self._ahead = git.Ahead(root, *defs_mod.new_name_grep(self.clashes, self.names))

    def close(self) -> None:
        """End a grep started ahead that nobody took."""
        if self._ahead is not None:
            self._ahead.close()

    def _lines(self, root: Path) -> list:
        got = self._ahead.take(root) if self._ahead is not None else None
        if got is not None and not got[1]:
            return defs_mod.new_name_lines_of(got[0])
        return defs_mod.new_name_lines(Git(root), self.clashes, self.names)

    def __call__(self, root: Path, names):
        if set(names) == set(self.names):
            try:
                self.lines = self._lines(root)
            except (defs_mod.DefinitionsError, OSError):
                pass
            else:
                return find_definitions(self.lines, names, GRAPH_SUFFIXES)
        return tree_definitions(root, names)


def needed(root: Path | None, definitions, clashes) -> bool:
    """Is there a plan to make: a private definition of a name no shared
    header blocks anyway, or a defined name clashes.yaml resolves?"""
    shared = {d.name for d in definitions if d.shared}
    declared = {c.name for c in clashes}
    return root is not None and any((not d.shared and d.name not in shared) or d.name in declared
                                    for d in definitions)


def prepare_on_disk(root: Path, ruleset: RuleSet, lines=None) -> Preparation:
    """series.definitions.prepare of the files on disk at `root`, with the
    rules' new names (family.yaml) and clashes.yaml: the plan of `scan`,
    `apply` and `verify` (`series` makes it at its base commit, from the
    same two in SeriesOptions). Raises what prepare raises. `lines`: the
    NewNameSearch's, if it ran."""
    return defs_mod.prepare(Git(root), None, clashes=ruleset.clashes, lines=lines,
                            names=new_names(ruleset.family))


def plan(root: Path | None, definitions, ruleset: RuleSet, lines=None) -> tuple[Preparation | None, tuple[str, ...]]:
    """(the plan, its notes) for the tree on disk; (None, ()) when none is
    needed. A clashes.yaml that does not fit the tree is an error
    (rules.loader.RuleError), as an invalid rule is. `lines`: the
    NewNameSearch's, if it ran."""
    clashes = ruleset.clashes
    if not needed(root, definitions, clashes):
        return None, ()
    try:
        prep = prepare_on_disk(root, ruleset, lines)
    except defs_mod.ClashError as e:
        raise RuleError(e.problems) from None
    except (defs_mod.DefinitionsError, OSError) as e:
        return None, (f"private definitions of new names could not be planned for "
                      f"renaming ({e}); apply will not rename them",)
    return prep, tuple(prep.notes())


def prepare_tree(index, ruleset: RuleSet, search: NewNameSearch | None = None,
                 cache_dir: Path | None = None) -> tuple[Preparation | None, tuple[str, ...]]:
    """`plan` for the tree of the collision index `index`, through the cache
    directory when the index knows its tree's fingerprint."""
    root, definitions = index.root, index.definitions
    if not needed(root, definitions, ruleset.clashes):
        return None, ()
    lines = search.lines if search is not None else None
    # the plan's renames are written by apply, and it is trusted on the tree's
    # stat fingerprint, which anyone who can stat the tree can compute: it is
    # MACed with the user's key (docs/threat-model.md), and not kept without one
    path, secret = (store.keyed_path_for(cache_dir, "includes", CACHE_VERSION, root, new_names(ruleset.family),
                                         repr(ruleset.clashes), suffix=".plan")
                    if cache_dir is not None and index.fingerprint else (None, None))
    if path is not None:
        hit = cachefile.read(path, _plan_from, key=secret)
        if hit is not None and hit[0] == index.fingerprint:
            cachefile.touch(path)      # recently used (cache.prune deletes the oldest)
            return hit[1]
    prep, notes = plan(root, definitions, ruleset, lines)
    if path is not None:
        try:
            cachefile.write(path, {"fingerprint": index.fingerprint.hex(),
                                   "preparation": None if prep is None else preparation_data(prep),
                                   "notes": list(notes)}, key=secret)
        except OSError:
            pass             # a cache that cannot be written is only slower
    return prep, notes


def _plan_from(data):
    """(fingerprint, (plan, notes)) of a saved `.plan` file; raises one of
    cachefile.SHAPE_ERRORS for data of another shape."""
    prep = data["preparation"]
    return (bytes.fromhex(data["fingerprint"]),
            (None if prep is None else preparation_from(prep), strs(data["notes"])))
