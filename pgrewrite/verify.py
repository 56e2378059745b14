"""Proof that the renames are mechanical: the generated code does not change.

For a kernel tree, `verify` makes a scratch copy, scans it and takes the
preparation plan `apply` and `series` use (series/definitions.prepare: the
private or clashes.yaml-declared definitions renamed first, the names the
first patch defines). It builds the objects of the touched files for x86_64
defconfig ("before": the tree as it is, with empty lines where the first
patch puts its definitions, so __LINE__ in the WARN/BUG tables of the
headers is the same on both sides), then makes the preparatory renames and
the renames with `apply`'s code (atomic writes and self-checks included),
adds the first patch's definitions, builds again ("after") and compares
each object. The only difference between the two builds is the series.

An object is *identical* when its bytes are; when they are not, its
disassembly with relocations and the contents of every non-debug section
are compared (`objdump -d -r`, `objdump -s`), which is what "generated code"
means; anything left over is reported as *differs* with the first lines of
the difference. The user's tree is only read (rsync to the scratch copy).
See docs/verify.md for prerequisites and timings.
"""
from __future__ import annotations

import dataclasses
import difflib
import re
import shutil
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path

from . import api
from .applying import apply_result
from .preparation import prepare_on_disk
from .series import definitions as defs

IDENTICAL, SAME_CODE, DIFFERS, NOT_BUILT = "identical", "same-code", "differs", "not-built"


class VerifyError(RuntimeError):
    """The comparison could not be made (missing tools, broken build set-up)."""


@dataclass(frozen=True)
class ObjectResult:
    path: str          # object path relative to the tree, e.g. mm/memory.o
    status: str        # identical | same-code | differs | not-built
    detail: str = ""


@dataclass
class VerifyReport:
    objects: list = field(default_factory=list)
    renamed_files: list = field(default_factory=list)   # (path, renames)
    refused: list = field(default_factory=list)         # (path, why) from apply
    prepared: dict = field(default_factory=dict)       # path -> (count, "OLD -> NEW") preparatory renames
    withheld: list = field(default_factory=list)       # (name, why): apply held back every rename to it
    blocked: tuple = ()
    headers: dict = field(default_factory=dict)         # touched header -> objects including it
    seconds: dict = field(default_factory=dict)

    def count(self, status: str) -> int:
        return sum(1 for o in self.objects if o.status == status)

    @property
    def ok(self) -> bool:
        return not self.refused and not self.withheld and self.count(DIFFERS) == 0 and self.count(IDENTICAL) + self.count(SAME_CODE) > 0

    def lines(self):
        for path, why in self.refused:
            yield f"{path}: refused: {why}"
        for name, why in self.withheld:
            yield f"withheld: every rename to {name}, because {why}"
        for path, (n, what) in sorted(self.prepared.items()):
            yield f"{path}: {n} preparatory rename(s): {what}"
        for o in sorted(self.objects, key=lambda o: o.path):
            yield f"{o.path}: {o.status}" + (f": {o.detail}" if o.detail else "")
        for h, objs in sorted(self.headers.items()):
            yield (f"{h}: header covered by {len(objs)} built object(s)" if objs
                   else f"{h}: header not included by any built object: not verified")
        if self.blocked:
            yield (f"note: names left out, as series leaves them out (defined elsewhere with another "
                   f"meaning, not resolved by clashes.yaml): {', '.join(self.blocked)}")
        t = ", ".join(f"{k} {v:.0f}s" for k, v in self.seconds.items())
        yield (f"summary: {len(self.renamed_files)} file(s) renamed "
               f"({sum(n for _, n in self.renamed_files)} renames, "
               f"{sum(n for n, _ in self.prepared.values())} of them preparatory); objects: {self.count(IDENTICAL)} identical, "
               f"{self.count(SAME_CODE)} same code, {self.count(DIFFERS)} differ, "
               f"{self.count(NOT_BUILT)} not built by defconfig; {t}")


def check_prerequisites() -> list[str]:
    missing = [t for t in ("make", "gcc", "flex", "bison", "bc", "objdump", "rsync") if shutil.which(t) is None]
    problems = [f"{t} not found" for t in missing]
    if not any(Path(p, "libelf.h").exists() for p in ("/usr/include", "/usr/local/include")):
        problems.append("libelf.h not found (Debian: libelf-dev)")
    if not Path("/usr/include/openssl/ssl.h").exists():
        problems.append("openssl headers not found (Debian: libssl-dev)")
    return problems


def _run(args, cwd=None, log=None, check=True):
    r = subprocess.run(args, cwd=cwd, capture_output=True)
    if log is not None:
        log.write(b"$ " + " ".join(map(str, args)).encode() + b"\n" + r.stdout + r.stderr)
    if check and r.returncode != 0:
        tail = (r.stderr or r.stdout).decode(errors="replace").strip().splitlines()[-15:]
        raise VerifyError(f"{' '.join(map(str, args[:4]))} ... failed:\n" + "\n".join(tail))
    return r


def plan_preparation(result, src: Path, ruleset):
    """The preparation plan `series` and `apply` use (preparation.prepare_on_disk):
    the scan's, or made here when the scan needed none (then it only says
    which names shared definitions block)."""
    if result.preparation is not None:
        return result.preparation
    try:
        return prepare_on_disk(src, ruleset)
    except (defs.DefinitionsError, OSError) as e:
        raise VerifyError(f"the new names' definitions could not be planned: {e}") from None


def definitions_plan(src: Path, names) -> list:
    """Where the first patch puts the definitions of `names` in the tree on disk."""
    def read(p):
        f = src / p
        return f.read_bytes() if f.is_file() else None
    try:
        return list(defs.plan_definitions(read, set(names)))
    except defs.DefinitionsError as e:
        raise VerifyError(str(e)) from None


def blank(insertion):
    """The insertion as as many empty lines: the "before" tree has the first
    patch's line numbers (__LINE__ in WARN/BUG tables) without its definitions."""
    return dataclasses.replace(insertion, text=b"\n" * insertion.text.count(b"\n"))


def insert(src: Path, insertions) -> list[str]:
    """Write the insertions into the files (offsets of the current bytes)."""
    by_path: dict[str, list] = {}
    for ins in insertions:
        by_path.setdefault(ins.path, []).append(ins)
    for path, inss in by_path.items():
        data = (src / path).read_bytes()
        for ins in sorted(inss, key=lambda i: i.offset, reverse=True):
            data = data[:ins.offset] + ins.text + data[ins.offset:]
        (src / path).write_bytes(data)
    return sorted(by_path)


def other_arch(path: str) -> bool:
    return path.startswith("arch/") and not path.startswith("arch/x86/")


def object_targets(paths, touched_c) -> list[str]:
    """make targets: `dir/` for directories given, `x.o` for touched .c files elsewhere."""
    dirs = [p.rstrip("/") + "/" for p in paths if not p.endswith((".c", ".h", ".S"))]
    files = [c[:-2] + ".o" for c in touched_c if not any(c.startswith(d) for d in dirs)]
    return dirs + sorted(files)


def _objects(build: Path, targets) -> list[str]:
    out = []
    for t in targets:
        if t.endswith("/"):
            top = build / t
            if top.is_dir():
                out += [str(p.relative_to(build)) for p in top.rglob("*.o")
                        if p.is_file() and not p.name.endswith((".mod.o",))]
        elif (build / t).is_file():
            out.append(t)
    return sorted(set(out))


def _clean(build: Path, targets) -> None:
    for t in targets:
        if t.endswith("/"):
            for p in (build / t).rglob("*.o") if (build / t).is_dir() else ():
                p.unlink()
        else:
            (build / t).unlink(missing_ok=True)


def _make(src: Path, build: Path, targets, jobs: int, log) -> str:
    """Build the targets; the first compiler error, if any ("" if none)."""
    # -k: an object that does not build with defconfig must not stop the others
    r = _run(["make", "-C", str(src), f"O={build}", f"-j{jobs}", "-k", *targets], log=log, check=False)
    out = (r.stdout + r.stderr).decode(errors="replace")
    return next((line.strip() for line in out.splitlines() if ": error:" in line), "")


# blocks of objdump output left out: debug info, notes (a build id hashes the
# rest) and .comment (the compiler version) are no generated code
_NOT_CODE = (".debug", ".note", ".comment", ".rela.debug", ".rela.note")


def _normalised(obj: Path) -> str:
    """The generated code of an object as text: the disassembly with the
    relocations of the code, the relocations of every other section (a
    pointer in data is a relocation: `objdump -s` shows its bytes as zeros),
    and the contents of every section but debug info, notes and .comment."""
    def objdump(*args):
        return subprocess.run(["objdump", *args, str(obj)], capture_output=True).stdout.decode(errors="replace")
    out, skip = [], False
    for line in (objdump("-d", "-r", "-w") + objdump("-r", "-w") + objdump("-s")).splitlines():
        if "file format" in line:
            continue            # names the file
        m = re.match(r"(?:Contents of section |RELOCATION RECORDS FOR \[)([^\]:]+)", line)
        if m:
            skip = m.group(1).startswith(_NOT_CODE)
        if not skip:
            out.append(line)
    return "\n".join(out)


def compare(before: Path, after: Path) -> tuple[str, str]:
    if not after.is_file():
        return DIFFERS, "built before the renames, not after"
    if before.read_bytes() == after.read_bytes():
        return IDENTICAL, ""
    a, b = _normalised(before), _normalised(after)
    if a == b:
        return SAME_CODE, "bytes differ outside code and data (debug or notes)"
    diff = [line for line in difflib.unified_diff(a.splitlines(), b.splitlines(), lineterm="", n=0)
            if line.startswith(("+", "-")) and not line.startswith(("+++", "---"))]
    return DIFFERS, "; ".join(diff[:4])


def verify(tree: Path, paths, ruleset, work: Path, jobs: int = 2, log_path: Path | None = None,
           progress=None) -> VerifyReport:
    """Build the objects of the files the renames under `paths` touch, before
    and after, and compare them. `tree` is only read."""
    problems = check_prerequisites()
    if problems:
        raise VerifyError("missing build prerequisites: " + "; ".join(problems) + " (see docs/verify.md)")
    tree, work = Path(tree).resolve(), Path(work).resolve()
    if not (tree / "arch" / "x86").is_dir() or not (tree / "Makefile").is_file():
        raise VerifyError(f"{tree}: not a kernel tree (no Makefile or arch/x86)")
    src, build, saved = work / "src", work / "build", work / "before"
    work.mkdir(parents=True, exist_ok=True)
    report = VerifyReport()
    say = progress or (lambda msg: None)
    with open(log_path or work / "verify.log", "wb") as log:
        t = time.monotonic()
        say("copying the tree")
        _run(["rsync", "-a", "--delete", "--exclude", ".git", f"{tree}/", f"{src}/"], log=log)
        report.seconds["copy"] = time.monotonic() - t

        t = time.monotonic()
        say("scanning")
        result = api.scan_paths(list(paths), ruleset, root=src, jobs=jobs, use_cache=False, cwd=src)
        prep = plan_preparation(result, src, ruleset)
        report.blocked = tuple(sorted(prep.blocked))
        names = prep.names
        # as series (series/select.py): no rename to a name the first patch does not define
        files = []
        for f in result.files:
            edits = tuple(e for e in f.edits if not (e.kind == "family" and e.new not in names))
            if edits and f.error is None:
                files.append(dataclasses.replace(f, edits=edits))
        prepared = sorted(prep.pairs())
        if not files and not prepared:
            raise VerifyError("no renames in the given paths: nothing to verify")
        insertions = definitions_plan(src, names)
        originals = {i.path: (src / i.path).read_bytes() for i in insertions}
        insert(src, [blank(i) for i in insertions])
        report.seconds["scan"] = time.monotonic() - t

        touched = sorted({f.path for f in files} | set(prepared) | set(originals))
        touched_c = [p for p in touched if p.endswith(".c")]
        # a preparatory rename in another architecture's file: make cannot build it for x86_64
        targets = object_targets(list(paths), [c for c in touched_c if not other_arch(c)])
        t = time.monotonic()
        build.mkdir(exist_ok=True)
        if not (build / ".config").is_file():
            say("make defconfig")
            _run(["make", "-C", str(src), f"O={build}", "defconfig"], log=log)
        say("make prepare")
        _run(["make", "-C", str(src), f"O={build}", f"-j{jobs}", "prepare"], log=log)
        report.seconds["prepare"] = time.monotonic() - t

        t = time.monotonic()
        say(f"building before: {' '.join(targets)}")
        _clean(build, targets)
        _make(src, build, targets, jobs, log)
        built = _objects(build, targets)
        shutil.rmtree(saved, ignore_errors=True)
        for o in built:
            (saved / o).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(build / o, saved / o)
        report.seconds["build-before"] = time.monotonic() - t

        say("applying the renames")
        for path, data in originals.items():        # the bytes the scan analysed
            (src / path).write_bytes(data)
        # apply's code and plan: the preparatory renames first, then the renames
        scan = dataclasses.replace(result, files=tuple(files), preparation=prep)
        applied = apply_result(scan, ruleset, allow_dirty=True, cwd=src)
        report.renamed_files = list(applied.rewritten)
        report.refused = list(applied.refused)
        report.prepared = dict(applied.prepared)
        report.withheld = list(applied.withheld)
        insert(src, definitions_plan(src, names - {n for n, _ in applied.withheld}))

        t = time.monotonic()
        say("building after")
        _clean(build, targets)
        error = _make(src, build, targets, jobs, log)
        report.seconds["build-after"] = time.monotonic() - t

        for c in touched_c:
            o = c[:-2] + ".o"
            if o not in built:
                why = "another architecture" if other_arch(c) else "not built with x86_64 defconfig"
                report.objects.append(ObjectResult(o, NOT_BUILT, why))
        for o in built:
            status, detail = compare(saved / o, build / o)
            if not (build / o).is_file() and error:
                detail += f" (first error of the build after: {error})"
            report.objects.append(ObjectResult(o, status, detail))
        for h in (p for p in touched if p.endswith(".h")):
            report.headers[h] = [o for o in built if _includes(build, o, h)]
    return report


def _includes(build: Path, obj: str, header: str) -> bool:
    cmd = build / Path(obj).parent / f".{Path(obj).name}.cmd"
    try:
        return header in cmd.read_text(errors="replace")
    except OSError:
        return False
