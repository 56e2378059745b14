#!/usr/bin/env python3
"""Compare two kernel builds object by object (docs/verify.md, "The whole series").

    scripts/compare_builds.py BEFORE AFTER [--list] [--paths PREFIX_BEFORE PREFIX_AFTER]
                              [--preprocess SRC_BEFORE SRC_AFTER]
    scripts/compare_builds.py --compile BUILD SRC_BEFORE SRC_AFTER OBJ...

BEFORE and AFTER are `O=` build directories of the tree before and after a
series. Every ELF file of BEFORE and AFTER (`*.o`, `*.ko`, `vmlinux`) is
compared with the same path on the other side:

- `identical`: the bytes are equal;
- `same-code`: the bytes differ only in debug info (`.debug*`), notes
  (`.note*`: a build id hashes the rest), `.comment` (and their relocations)
  or in the source path: every other section (code, data, symbol and string
  tables, relocations), header and contents, is byte-equal once PREFIX_AFTER
  is read as PREFIX_BEFORE (`--paths`, two strings of the same length, so
  that no offset moves: give the two trees' directories the same length);
  else, for objects under 32 MiB, the same code as `pgrewrite verify`
  compares it (pgrewrite/verify.py compare(): disassembly with relocations,
  the relocations and contents of every section but debug info, notes and
  .comment);
- `differs`: anything else, with the sections that differ;
- `before-only` / `after-only`: built on one side only (an object that does
  not build, or a build that has not reached it yet).

--preprocess: for each object built before only, run its compile command (from
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
import struct
import subprocess
import sys
import tempfile
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from pgrewrite.verify import _NOT_CODE, DIFFERS, IDENTICAL, SAME_CODE, compare  # noqa: E402

BEFORE_ONLY, AFTER_ONLY = "before-only", "after-only"
SAME_INPUT, INPUT_DIFFERS = "same-input", "input-differs"
# bigger objects (vmlinux, vmlinux.o) are compared by sections only: the
# text of objdump -d -r -s of vmlinux is several hundred MB
OBJDUMP_MAX = 32 * 1024 * 1024
_SHT_NOBITS = 8


def elf_files(build: Path) -> list[str]:
    out = []
    for p in build.rglob("*"):
        if p.is_file() and not p.is_symlink() and (p.suffix in (".o", ".ko") or p.name == "vmlinux"):
            out.append(p.relative_to(build).as_posix())
    return sorted(out)


def elf_sections(blob: bytes) -> list[tuple] | None:
    """(name, header fields but the file offset, contents) of every section
    of an ELF file (32 or 64-bit, little-endian); None if it is not one."""
    if blob[:4] != b"\x7fELF" or len(blob) < 64 or blob[5] != 1:
        return None
    try:
        if blob[4] == 2:
            shoff, = struct.unpack_from("<Q", blob, 0x28)
            entsize, count, names_at = struct.unpack_from("<HHH", blob, 0x3A)
            fmt = "<IIQQQQIIQQ"
        elif blob[4] == 1:
            shoff, = struct.unpack_from("<I", blob, 0x20)
            entsize, count, names_at = struct.unpack_from("<HHH", blob, 0x2E)
            fmt = "<IIIIIIIIII"
        else:
            return None
        headers = [struct.unpack_from(fmt, blob, shoff + i * entsize) for i in range(count)]
        strtab = headers[names_at]
        names = blob[strtab[4]:strtab[4] + strtab[5]]
        out = []
        for name_at, kind, flags, addr, offset, size, link, info, align, ent in headers:
            name = names[name_at:names.index(b"\0", name_at)].decode(errors="replace")
            data = b"" if kind == _SHT_NOBITS else blob[offset:offset + size]
            out.append((name, kind, flags, addr, size, link, info, align, ent, data))
        return out
    except (struct.error, IndexError, ValueError):
        return None


def _code_sections(sections: list[tuple]) -> list[tuple]:
    return [s for s in sections if not s[0].startswith(_NOT_CODE)]


def compare_objects(before: Path, after: Path, paths: tuple[bytes, bytes] | None = None) -> tuple[str, str]:
    """(status, detail) of two builds of one object (see the module's doc)."""
    a, b = before.read_bytes(), after.read_bytes()
    if a == b:
        return IDENTICAL, ""
    if paths is not None and len(paths[0]) == len(paths[1]):
        b_read = b.replace(paths[1], paths[0])
    else:
        b_read = b
    sa, sb = elf_sections(a), elf_sections(b_read)
    if sa is not None and sb is not None:
        if _code_sections(sa) == _code_sections(sb):
            raw = elf_sections(b)
            other = [x[0] for x, y in zip(sa, raw) if x != y and x[0].startswith(_NOT_CODE)]
            if _code_sections(sa) != _code_sections(raw):
                other.append("the source path in " + ", ".join(
                    x[0] for x, y in zip(_code_sections(sa), _code_sections(raw)) if x != y))
            return SAME_CODE, "differ only in " + ", ".join(other) if other else "file layout only"
        differ = [x[0] for x, y in zip(_code_sections(sa), _code_sections(sb)) if x != y]
        if len(sa) != len(sb):
            differ.append(f"{len(sa)} sections before, {len(sb)} after")
        if max(len(a), len(b)) > OBJDUMP_MAX:
            return DIFFERS, "sections differ: " + ", ".join(differ[:8])
    elif max(len(a), len(b)) > OBJDUMP_MAX:
        return DIFFERS, "not ELF, and too big to disassemble"
    status, detail = compare(before, after)
    return status, detail


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
    pre = paths = None
    if "--preprocess" in argv:
        i = argv.index("--preprocess")
        pre = (str(Path(argv[i + 1]).resolve()), str(Path(argv[i + 2]).resolve()))
    if "--paths" in argv:
        i = argv.index("--paths")
        paths = (argv[i + 1].encode(), argv[i + 2].encode())
        if len(paths[0]) != len(paths[1]):
            print("--paths: the two prefixes must have the same length", file=sys.stderr)
            return 2
    counts: Counter = Counter()
    objs_before, objs_after = elf_files(before), set(elf_files(after))
    with tempfile.TemporaryDirectory() as tmp:
        for obj in objs_before:
            if obj in objs_after:
                status, detail = compare_objects(before / obj, after / obj, paths)
            elif pre is not None and (command := compile_command(before, obj)) is not None:
                a = preprocessed(before, command, pre[0], pre[0], Path(tmp) / "a.i")
                b = preprocessed(before, command, pre[0], pre[1], Path(tmp) / "b.i")
                same = a is not None and a == b
                status, detail = (SAME_INPUT, "") if same else (INPUT_DIFFERS, "" if a and b else "no -E output")
            else:
                status, detail = BEFORE_ONLY, ""
            counts[status] += 1
            if show_all or status != IDENTICAL:
                print(f"{obj}: {status}" + (f": {detail}" if detail else ""), flush=True)
    for obj in sorted(objs_after - set(objs_before)):
        counts[AFTER_ONLY] += 1
        print(f"{obj}: {AFTER_ONLY}")
    order = (IDENTICAL, SAME_CODE, DIFFERS, SAME_INPUT, INPUT_DIFFERS, BEFORE_ONLY, AFTER_ONLY)
    print("summary: " + ", ".join(f"{counts[s]} {s}" for s in order if s in counts or s not in
                                  (SAME_INPUT, INPUT_DIFFERS)))
    return 1 if counts[DIFFERS] else 0

if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
