"""Which files to read: expand the user's paths, keep C and assembly sources.

Inside a git work tree `git grep -l` finds the candidate files (it is much
faster than reading every file in Python); elsewhere every source file is
read and a cheap substring test drops files without a family name. Either
way the accounting stays exact, because a file dropped here cannot contain
a whole-word family name.
"""
from __future__ import annotations

import os
import subprocess
from dataclasses import dataclass
from pathlib import Path

SOURCE_SUFFIXES = (".c", ".h", ".S", ".s", ".lds")


@dataclass(frozen=True)
class Candidate:
    display: str       # path shown to the user (relative to the cwd)
    path: Path         # absolute path


@dataclass(frozen=True)
class InputProblem:
    display: str
    message: str


def is_source(name: str) -> bool:
    return name.endswith(SOURCE_SUFFIXES)


def display_path(p: Path, cwd: Path) -> str:
    try:
        return os.path.relpath(p, cwd)
    except ValueError:
        return str(p)


def expand(paths, names, cwd: Path | None = None, use_git: bool = True):
    """Candidate files under `paths` and problems with the paths themselves."""
    cwd = cwd or Path.cwd()
    out: dict[Path, Candidate] = {}
    problems: list[InputProblem] = []
    for raw in paths:
        p = Path(raw)
        if not p.is_absolute():
            p = cwd / p
        if not os.path.lexists(p):
            problems.append(InputProblem(str(raw), "no such file or directory; check the path"))
            continue
        if p.is_dir():
            found = _git_candidates(p, names) if use_git else None
            if found is None:
                found = _walk_prefiltered(p, names) if use_git else _walk(p)
            for f in found:
                if os.path.islink(f):
                    f = _follow(f, p, cwd, problems)
                    if f is None:
                        continue
                out.setdefault(f, Candidate(display_path(f, cwd), f))
        elif p.is_file() or p.is_symlink():
            # a file named explicitly is read whatever its suffix
            if os.path.islink(p):
                p = _follow(p, cwd, cwd, problems)
                if p is None:
                    continue
            out.setdefault(p, Candidate(display_path(p, cwd), p))
        else:
            problems.append(InputProblem(str(raw), "not a regular file or directory; skipped"))
    return sorted(out.values(), key=lambda c: c.display), problems


def _follow(link: Path, top: Path, cwd: Path, problems: list) -> Path | None:
    """A symbolic link is analysed (and written) as its target, once, when
    the target is a file inside `top`; any other link is reported, never
    followed for writing."""
    target = link.resolve()
    real_top = top.resolve()
    shown = display_path(link, cwd)
    if not target.is_file():
        problems.append(InputProblem(shown, f"symbolic link to {os.readlink(link)!r}, which is not a file; skipped"))
        return None
    try:
        rel = target.relative_to(real_top)
    except ValueError:
        problems.append(InputProblem(shown, f"symbolic link to {os.readlink(link)!r}, outside the tree; neither analysed nor "
                                            "written (name the target itself to convert it)"))
        return None
    return top / rel


def _walk(top: Path):
    for dirpath, dirnames, filenames in os.walk(top):
        dirnames[:] = sorted(d for d in dirnames if not d.startswith("."))
        for name in sorted(filenames):
            if is_source(name):
                yield Path(dirpath) / name


def _walk_prefiltered(top: Path, names):
    """The walk's files, minus regular files `git grep --no-index -w` finds no
    family name in (outside a git tree it is still ~5x faster than reading
    every file in Python). Symbolic links stay, for the caller to judge. If
    git is missing or reports any error, nothing is dropped."""
    args = ["git", "-C", str(top), "grep", "--no-index", "-l", "-z", "-F", "-w"]
    for n in names:
        args += ["-e", n]
    args += ["--", *(f"*{s}" for s in SOURCE_SUFFIXES)]
    try:      # git grep runs on the other core while this process walks the tree
        proc = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    except OSError:
        proc = None
    walked = list(_scan(str(top)))
    try:
        out, err = proc.communicate(timeout=600) if proc is not None else (None, None)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.communicate()
        out = None
    if out is None or proc.returncode not in (0, 1) or err.strip():
        return [Path(f) for f, _ in walked]
    listed = {os.path.normpath(os.path.join(top, f.decode("utf-8", "surrogateescape")))
              for f in out.split(b"\0") if f}
    return [Path(f) for f, link in walked if link or f in listed]


def _scan(top: str):
    """What _walk yields, in the same order, as (path string, is a symlink)."""
    try:
        entries = list(os.scandir(top))
    except OSError:
        return
    dirs, files = [], []
    for e in entries:
        try:
            is_dir = e.is_dir()
        except OSError:
            is_dir = False
        if is_dir:
            if not e.name.startswith("."):
                dirs.append(e)
        elif is_source(e.name):
            files.append(e)
    for e in sorted(files, key=lambda e: e.name):
        yield e.path, e.is_symlink()
    for d in sorted(dirs, key=lambda e: e.name):
        if not d.is_symlink():
            yield from _scan(d.path)


def _git_candidates(top: Path, names):
    """Files under `top` that git grep says contain a family name, or None
    when `top` is not inside a git work tree (or git is missing)."""
    try:
        inside = subprocess.run(["git", "-C", str(top), "rev-parse", "--is-inside-work-tree"],
                                capture_output=True, text=True, timeout=30)
    except (OSError, subprocess.TimeoutExpired):
        return None
    if inside.returncode != 0 or inside.stdout.strip() != "true":
        return None
    # Tracked files, then untracked ones that are not ignored: `--untracked`
    # alone also drops tracked files that match an ignore pattern (Debian's
    # kernel source ships a top-level .gitignore with "/*").
    found: set[Path] = set()
    for extra in ([], ["--untracked"]):
        args = ["git", "-C", str(top), "grep", "-l", "-z", *extra, "-F", "-w"]
        for n in names:
            args += ["-e", n]
        args += ["--", "."]
        try:
            r = subprocess.run(args, capture_output=True, timeout=600)
        except (OSError, subprocess.TimeoutExpired):
            return None
        if r.returncode not in (0, 1):
            return None
        found.update(top / f.decode("utf-8", "surrogateescape") for f in r.stdout.split(b"\0") if f)
    return sorted(f for f in found if is_source(f.name))

