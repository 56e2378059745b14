"""scripts/compare_builds.py, the object-by-object comparison of two kernel
builds (docs/verify.md, "The whole series"), on tiny objects: each status,
the source path read as the same, objects built on one side only, and the
ELF section reader it relies on (32 and 64-bit)."""
from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
SCRIPT = REPO / "scripts" / "compare_builds.py"
pytestmark = pytest.mark.skipif(shutil.which("gcc") is None or shutil.which("objdump") is None,
                                reason="needs gcc and objdump")

sys.path.insert(0, str(SCRIPT.parent))
import compare_builds as CB  # noqa: E402


def build(side: Path, sources: dict[str, tuple[str, list[str]]]) -> None:
    """Compile each `name: (C source, gcc flags)` as side/src/name.c -> side/build/name.o,
    naming the source by its absolute path (as Kbuild does)."""
    for name, (text, flags) in sources.items():
        src = side / "src" / f"{name}.c"
        src.parent.mkdir(parents=True, exist_ok=True)
        src.write_text(text)
        out = side / "build" / f"{name}.o"
        out.parent.mkdir(parents=True, exist_ok=True)
        subprocess.run(["gcc", "-O2", *flags, "-c", str(src), "-o", str(out)], check=True)


def run(*args) -> tuple[int, dict[str, str]]:
    r = subprocess.run([sys.executable, str(SCRIPT), *map(str, args)], capture_output=True, text=True)
    assert "Traceback" not in r.stderr, r.stderr
    lines = dict(line.split(": ", 1) for line in r.stdout.splitlines())
    return r.returncode, lines


@pytest.fixture
def builds(tmp_path):
    # a/ and b/: two trees whose paths have the same length, as in a real run
    a, b = tmp_path / "a", tmp_path / "b"
    common = {
        "same": ("int f(int x) { return x * 4096; }\n", []),
        "debug": ("int g(int x) { return x + 1; }\n", ["-g"]),          # the path in the debug info
        "path": ("const char *where(void) { return __FILE__; }\n", []),  # the path in .rodata
    }
    build(a, {**common, "code": ("int h(void) { return 1; }\n", []), "gone": ("int k;\n", [])})
    build(b, {**common, "code": ("int h(void) { return 2; }\n", []), "new": ("int m;\n", [])})
    return a, b


def test_every_object_is_identical_same_code_differs_or_on_one_side(builds):
    a, b = builds
    code, lines = run(a / "build", b / "build", "--paths", f"{a}/", f"{b}/", "--list")
    assert code == 1                                         # an object differs
    assert lines["same.o"] == "identical"
    prefix = "same-code: differ only in "
    assert lines["debug.o"].startswith(prefix)
    # the debug sections and their relocations, in the file's section order
    sections = lines["debug.o"][len(prefix):].split(", ")
    assert sections and all(x.startswith((".debug", ".rela.debug")) for x in sections), sections
    assert lines["path.o"].startswith("same-code: differ only in the source path in .rodata")
    assert lines["code.o"].startswith("differs")
    assert lines["gone.o"] == "before-only" and lines["new.o"] == "after-only"
    assert lines["summary"] == "1 identical, 2 same-code, 1 differs, 1 before-only, 1 after-only"


def test_a_path_in_code_or_data_differs_unless_the_prefixes_are_given(builds):
    a, b = builds
    _, lines = run(a / "build", b / "build")
    assert lines["path.o"].startswith("differs")
    assert lines["debug.o"].startswith("same-code")             # debug info is never compared
    code, _ = run(a / "build", b / "build", "--paths", "short/", f"{b}/")
    assert code == 2


def test_without_differences_the_exit_code_is_0(tmp_path):
    for side in "ab":
        build(tmp_path / side, {"x": ("int f(void) { return 3; }\n", [])})
    code, lines = run(tmp_path / "a" / "build", tmp_path / "b" / "build")
    assert code == 0 and lines["summary"] == "1 identical, 0 same-code, 0 differs, 0 before-only, 0 after-only"


@pytest.mark.parametrize("bits", ["-m64", "-m32"])
def test_elf_sections_reads_what_readelf_lists(tmp_path, bits):
    src = tmp_path / "x.c"
    src.write_text("int v = 7; int z; int f(void) { return v; }\n")
    obj = tmp_path / "x.o"
    if subprocess.run(["gcc", bits, "-c", str(src), "-o", str(obj)], capture_output=True).returncode:
        pytest.skip(f"gcc {bits} cannot build here")
    sections = CB.elf_sections(obj.read_bytes())
    listed = subprocess.run(["readelf", "-S", "-W", str(obj)], capture_output=True, text=True).stdout
    names = [s[0] for s in sections if s[0]]
    assert names and all(f" {n} " in listed for n in names)
    data = {s[0]: s[-1] for s in sections}
    assert data[".data"] == (7).to_bytes(4, "little") and data[".bss"] == b""
    assert CB.elf_sections(b"not an object") is None
    assert CB.elf_sections(obj.read_bytes()[:80]) is None       # cut short
