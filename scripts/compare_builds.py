#!/usr/bin/env python3
"""Compare two kernel builds object by object (docs/verify.md, "The whole series").

    scripts/compare_builds.py BEFORE AFTER [--list] [--preprocess SRC_BEFORE SRC_AFTER]
    scripts/compare_builds.py --compile BUILD SRC_BEFORE SRC_AFTER OBJ...

BEFORE and AFTER are `O=` build directories of the tree before and after a
series. Every ELF file of BEFORE (`*.o`, `*.ko`, `vmlinux`) is compared
with the same path in AFTER, as `pgrewrite verify` compares (pgrewrite/verify.py
compare()): identical bytes; else the same code (disassembly with relocations,
the relocations and contents of every section but debug info, notes and
.comment); else it differs. An object not (yet) in AFTER is `not-built-after`.

--preprocess: for each object not built after, run its compile command (from
BEFORE's .o.cmd file) with -E instead of -c on both source trees and compare
the preprocessed sources (the tree path normalised). The same compiler, flags
and preprocessed input give the same object, so `same-input` is a proof
without the compilation; `input-differs` is not a finding, only "not proven".

--compile: compile each OBJ with the command that built it in BUILD (its
.o.cmd file), once on each source tree, and compare the two objects.

Prints one line per object that is not identical, then the counts; --list
prints every object. Exit 1 if any object differs.
"""
import re
import shlex
import subprocess
import sys
import tempfile
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from pgrewrite.verify import DIFFERS, IDENTICAL, SAME_CODE, compare  # noqa: E402

NOT_BUILT_AFTER, SAME_INPUT, INPUT_DIFFERS = "not-built-after", "same-input", "input-differs"


def elf_files(build: Path) -> list[str]:
    out = []
    for p in build.rglob("*"):
        if p.is_file() and not p.is_symlink() and (p.suffix in (".o", ".ko") or p.name == "vmlinux"):
            out.append(p.relative_to(build).as_posix())
    return sorted(out)


def compile_command(build: Path, obj: str) -> str | None:
    """The command that built `obj` (Kbuild's savedcmd_ line in dir/.name.cmd)."""
    cmd = build / Path(obj).parent / f".{Path(obj).name}.cmd"
    try:
        first = cmd.read_text(errors="replace").splitlines()[0]
    except (OSError, IndexError):
        return None
    m = re.match(r"savedcmd_\S+ := (.*)$", first)
    return m.group(1) if m else None


def rerun(build: Path, command: str, src_from: str, src_to: str, out: Path, mode: str = "-E") -> bool:
    """Run a `gcc ... -c|-S -o X Y` command from BUILD on another tree, as
    `gcc ... MODE -o out Y` (MODE -E or -c); the dependency file is not written."""
    try:
        args = shlex.split(command.replace(src_from, src_to))
    except ValueError:
        return False
    if ";" in args:                      # objtool and other steps after the compiler
        args = args[:args.index(";")]
    step = next((a for a in ("-c", "-S") if a in args), None)    # an object, or asm-offsets.s
    if not args or not args[0].endswith("gcc") or step is None or "-o" not in args:
        return False
    args = [a for a in args if not a.startswith(("-Wp,-MMD", "-Wp,-MD"))]
    args[args.index("-o") + 1] = str(out)
    args[args.index(step)] = mode
    return subprocess.run(args, cwd=build, capture_output=True).returncode == 0


def preprocessed(build: Path, command: str, src_from: str, src_to: str, out: Path) -> bytes | None:
    if not rerun(build, command, src_from, src_to, out, "-E"):
        return None
    return out.read_bytes().replace(src_to.encode(), b"SRCTREE")


def compile_both(build: Path, objs, src_before: str, src_after: str) -> int:
    """--compile: compile OBJS from BUILD's commands on both trees (without
    objtool, on both sides) and compare the objects."""
    counts: Counter = Counter()
    with tempfile.TemporaryDirectory() as tmp:
        for obj in objs:
            command = compile_command(build, obj)
            a, b = Path(tmp) / "before.o", Path(tmp) / "after.o"
            if command is None or not rerun(build, command, src_before, src_before, a, "-c"):
                status, detail = "not-compiled", "no command, or it failed on the tree before"
            elif not rerun(build, command, src_before, src_after, b, "-c"):
                status, detail = DIFFERS, "does not compile after"
            else:
                status, detail = compare(a, b)
            counts[status] += 1
            print(f"{obj}: {status}" + (f": {detail}" if detail else ""), flush=True)
    print("summary: " + ", ".join(f"{n} {s}" for s, n in sorted(counts.items())))
    return 1 if counts[DIFFERS] else 0


def main(argv) -> int:
    if len(argv) < 2 or argv[0] in ("-h", "--help"):
        print(__doc__.strip())
        return 0 if argv else 2
    if argv[0] == "--compile":
        build, src_before, src_after, *objs = argv[1:]
        return compile_both(Path(build), objs, str(Path(src_before).resolve()), str(Path(src_after).resolve()))
    before, after = Path(argv[0]), Path(argv[1])
    show_all = "--list" in argv
    pre = None
    if "--preprocess" in argv:
        i = argv.index("--preprocess")
        pre = (str(Path(argv[i + 1]).resolve()), str(Path(argv[i + 2]).resolve()))
    counts: Counter = Counter()
    with tempfile.TemporaryDirectory() as tmp:
        for obj in elf_files(before):
            if (after / obj).is_file():
                status, detail = compare(before / obj, after / obj)
            elif pre is not None and (command := compile_command(before, obj)) is not None:
                a = preprocessed(before, command, pre[0], pre[0], Path(tmp) / "a.i")
                b = preprocessed(before, command, pre[0], pre[1], Path(tmp) / "b.i")
                same = a is not None and a == b
                status, detail = (SAME_INPUT, "") if same else (INPUT_DIFFERS, "" if a and b else "no -E output")
            else:
                status, detail = NOT_BUILT_AFTER, ""
            counts[status] += 1
            if show_all or status not in (IDENTICAL, SAME_INPUT, NOT_BUILT_AFTER):
                print(f"{obj}: {status}" + (f": {detail}" if detail else ""), flush=True)
    only_after = sorted(set(elf_files(after)) - set(elf_files(before)))
    for obj in only_after:
        print(f"{obj}: built after only")
    order = (IDENTICAL, SAME_CODE, DIFFERS, SAME_INPUT, INPUT_DIFFERS, NOT_BUILT_AFTER)
    print("summary: " + ", ".join(f"{counts[s]} {s}" for s in order)
          + f", {len(only_after)} built after only")
    return 1 if counts[DIFFERS] else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
