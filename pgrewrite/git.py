"""Every git call pgrewrite makes goes through here. Kernel people have git; so do we.

git runs with LC_ALL=C, so its messages are the English ones the callers
read (files.Unreadable matches them). `Git` is a repository to run commands
in (series, check, verify); `call`, `start`/`finish` and `found` are for
one-off commands (the prefilter's `git grep`, `apply`'s status checks).
"""
from __future__ import annotations

import functools
import os
import re
import subprocess
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

CompletedProcess = subprocess.CompletedProcess
TimeoutExpired = subprocess.TimeoutExpired


class GitError(RuntimeError):
    pass


def _env() -> dict[str, str]:
    return {**os.environ, "LC_ALL": "C", "LANGUAGE": ""}


@dataclass
class Git:
    """A repository (or any directory) to run git commands in."""

    cwd: Path
    env: dict[str, str] = field(default_factory=dict)

    def run(self, *args: str, input: bytes | None = None, check: bool = True,
            env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
        full_env = {**os.environ, **self.env, **(env or {})}
        full_env.setdefault("LC_ALL", "C")
        proc = subprocess.run(["git", *args], cwd=self.cwd, input=input,
                              capture_output=True, env=full_env)
        if check and proc.returncode != 0:
            raise GitError(f"git {' '.join(args[:3])}... failed: "
                           f"{proc.stderr.decode(errors='replace').strip()}")
        return proc

    def out(self, *args: str, **kw) -> str:
        return self.run(*args, **kw).stdout.decode(errors="replace")

    def pipe(self, *args: str) -> subprocess.Popen:
        """`git ARGS` kept running, its stdin and stdout pipes to talk to
        (`cat-file --batch`); the caller closes stdin and waits."""
        full_env = {**os.environ, **self.env}
        full_env.setdefault("LC_ALL", "C")
        return subprocess.Popen(["git", *args], cwd=self.cwd, env=full_env,
                                stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)

    def config(self, key: str) -> str | None:
        proc = self.run("config", "--get", key, check=False)
        value = proc.stdout.decode().strip()
        return value or None


def cannot_run(e: OSError) -> str:
    if isinstance(e, FileNotFoundError) and e.filename in ("git", None):
        return "git is not on PATH; install git or add it to PATH"
    return f"git cannot be run: {e.strerror or e}"


def toplevel(path: Path) -> Path:
    """The top of the git work tree holding `path`, as git says; GitError if none."""
    try:
        proc = subprocess.run(["git", "rev-parse", "--show-toplevel"], cwd=path,
                              capture_output=True)
    except OSError as e:
        raise GitError(cannot_run(e)) from None
    if proc.returncode != 0:
        raise GitError(f"{path} is not inside a git work tree: "
                       f"{proc.stderr.decode('utf-8', 'replace').strip()}")
    return Path(os.fsdecode(proc.stdout.rstrip(b"\n")))


def top(start: Path) -> Path | None:
    """The git work tree above `start` (a directory holding .git), if any;
    the file system alone answers, without running git."""
    p = Path(os.path.abspath(start))
    p = p if p.is_dir() else p.parent
    for d in (p, *p.parents):
        if (d / ".git").exists():
            return d
    return None


# ------------------------------------------------------------ one-off commands

def call(where, *args: str, timeout: float = 600, input: bytes | None = None) -> subprocess.CompletedProcess:
    """`git ARGS` run in the directory `where`, its output captured. Raises
    OSError when git cannot be started and TimeoutExpired after `timeout`
    seconds, as subprocess.run does."""
    return subprocess.run(["git", "-C", str(where), *args], input=input, capture_output=True, timeout=timeout,
                          env=_env())


def found(where, *args: str, timeout: float = 600) -> subprocess.CompletedProcess | None:
    """`call`, or None when git cannot be started or does not finish in time."""
    try:
        return call(where, *args, timeout=timeout)
    except (OSError, subprocess.TimeoutExpired):
        return None


def start(where, *args: str, spool: bool = False) -> subprocess.Popen | None:
    """`git ARGS` running in `where` while the caller works on; `finish`
    collects its output. None if it cannot start. `spool`: its output goes
    to temporary files instead of pipes, so that it runs to its end even
    while nobody reads it (a pipe holds 64 KiB)."""
    try:
        if not spool:
            return subprocess.Popen(["git", "-C", str(where), *args], stdout=subprocess.PIPE,
                                    stderr=subprocess.PIPE, env=_env())
        out, err = tempfile.TemporaryFile(), tempfile.TemporaryFile()
        try:
            proc = subprocess.Popen(["git", "-C", str(where), *args], stdout=out, stderr=err, env=_env())
        except BaseException:
            out.close()
            err.close()
            raise
        proc.spooled = (out, err)
        return proc
    except OSError:
        return None


def finish(proc, ok=(0,)) -> tuple[bytes, bytes] | None:
    """stdout and stderr of a `start`ed process, or None if it did not start,
    ran over 10 minutes (it is killed) or exited with a code not in `ok`."""
    if proc is None:
        return None
    spooled = getattr(proc, "spooled", None)
    try:
        if spooled is None:
            out, err = proc.communicate(timeout=600)
        else:
            proc.wait(timeout=600)
            out, err = (_read_spool(f) for f in spooled)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.communicate() if spooled is None else proc.wait()
        return None
    finally:
        for f in spooled or ():
            f.close()
    return (out, err) if proc.returncode in ok else None


def stop(proc) -> None:
    """End a `start`ed process whose output is not wanted."""
    if proc is not None and proc.poll() is None:
        proc.kill()
    finish(proc, ok=())


def _read_spool(f) -> bytes:
    f.seek(0)
    return f.read()


class Ahead:
    """`git ARGS` started in directory `root` before its output is needed
    (`start` with spool: worker processes forked meanwhile would hold a pipe
    open past git's end). `take(root)` gives (stdout, stderr) once, for the
    same root only (exit 0 or 1, as grep's "nothing found"); a run for
    another root, or one nobody takes (`close`), is ended."""

    def __init__(self, root, *args: str):
        self.root, self._proc = Path(root), start(root, *args, spool=True)

    def take(self, root) -> tuple[bytes, bytes] | None:
        proc, self._proc = self._proc, None
        if proc is None or Path(root) != self.root:
            stop(proc)
            return None
        return finish(proc, ok=(0, 1))

    def close(self) -> None:
        proc, self._proc = self._proc, None
        stop(proc)


# ------------------------------------------------------------ git grep

def grep_words(names) -> list[str]:
    """`git grep` options matching any of `names` as a whole word, where a
    word is what `git grep -w` means by one (ASCII letters, digits, `_`).

    With PCRE in git (`-P`): one pattern per first letter, each an
    alternation between ASCII-class lookarounds. Same lines as `-E -w` on
    the 6.12 tree for a fraction of the CPU (prefilter 2.6-3.3 s -> 0.4 s):
    PCRE's JIT skips ahead with SIMD to a pair of letters when the
    alternatives share few of them, and splitting by first letter keeps
    that true ("PTE_", "PG_" and "offset_in_p" in one pattern: 2.2 s, in
    two: 0.4 s). Without PCRE: `-E -w` with one alternation, a quarter less
    CPU than `-F -w -e N...` (git's -w re-checks every fixed-string hit,
    and "PAGE_" hits are everywhere)."""
    if not has_pcre():
        return ["-E", "-w", "-e", "|".join(_ere_escape(n) for n in names)]
    groups: dict[str, list[str]] = {}
    for n in names:
        groups.setdefault(n[:1], []).append(n)
    out = ["-P"]
    for group in groups.values():
        out += ["-e", f"(?<!{_WORD})(?:{'|'.join(re.escape(n) for n in group)})(?!{_WORD})"]
    return out


_WORD = "[A-Za-z0-9_]"


def _ere_escape(name: str) -> str:
    return re.sub(r"([.\[\]()*+?{}|^$\\])", r"\\\1", name)


@functools.cache
def has_pcre() -> bool:
    """Whether this git was built with PCRE (`git grep -P`); a few ms, once."""
    with tempfile.TemporaryDirectory() as d:
        Path(d, "x").write_bytes(b"a b\n")
        r = found(d, "grep", "--no-index", "-q", "-P", "-e", r"(?<![a-z])b(?![a-z])", timeout=30)
    return r is not None and r.returncode == 0
