"""Helpers shared by the robustness tests (trees of small C files, path normalising)."""
from __future__ import annotations

import os
import re
from pathlib import Path

PTE_LINE = b"\tunsigned long pfn = phys_addr >> PAGE_SHIFT;\n"


def c_file(i: int, sites: int = 2, nl: bytes = b"\n") -> bytes:
    """A small kernel-style C file with `sites` PTE renames (phys >> PAGE_SHIFT)."""
    body = b"".join(PTE_LINE.replace(b"pfn", b"pfn%d" % k) for k in range(sites))
    text = (b"// SPDX-License-Identifier: GPL-2.0\n#include <linux/mm.h>\n\n"
            b"static unsigned long f%d(phys_addr_t phys_addr)\n{\n" % i + body + b"\treturn 0;\n}\n")
    return text.replace(b"\n", nl)


def expected_rename(data: bytes) -> bytes:
    return data.replace(b"phys_addr >> PAGE_SHIFT", b"phys_addr >> PTE_SHIFT")


def make_tree(root: Path, n: int, sites: int = 2) -> list[Path]:
    files = []
    for i in range(n):
        p = root / "mm" / f"file{i:03d}.c"
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_bytes(c_file(i, sites))
        files.append(p)
    return files


def normalise(text: str, *roots: Path) -> str:
    for r in roots:
        text = text.replace(str(r.resolve()), "<tmp>").replace(str(r), "<tmp>")
    text = re.sub(r"\.pgrewrite-[0-9a-f]+", ".pgrewrite-<id>", text)
    return text


def leftovers(root: Path) -> list[str]:
    return sorted(str(p.relative_to(root)) for p in root.rglob("*.pgrewrite"))


def is_root() -> bool:
    return hasattr(os, "geteuid") and os.geteuid() == 0


# Root reads a mode-000 file anyway (CAP_DAC_OVERRIDE); without that
# capability and CAP_DAC_READ_SEARCH it is refused like any user.
_DROP_READ_OVERRIDE = ["setpriv", "--bounding-set=-dac_override,-dac_read_search"]


def unprivileged_prefix(probe_dir: Path) -> list[str] | None:
    """A command prefix under which a mode-000 file cannot be read (nothing
    for a normal user; setpriv dropping root's override for root), or None
    if there is none here. Checked on a real mode-000 file in `probe_dir`."""
    import shutil
    import subprocess
    prefix = _DROP_READ_OVERRIDE if is_root() else []
    if prefix and shutil.which(prefix[0]) is None:
        return None
    probe = probe_dir / "probe-unreadable"
    probe.write_bytes(b"x")
    probe.chmod(0)
    try:
        r = subprocess.run([*prefix, "cat", str(probe)], capture_output=True)
    except OSError:
        return None
    finally:
        probe.unlink()
    return prefix if r.returncode != 0 and b"Permission denied" in r.stderr else None


def run_cli(prefix: list[str], args: list[str], cwd: Path, env: dict | None = None):
    """pgrewrite ARGS in a process of its own (run under `prefix`)."""
    import subprocess
    import sys
    return subprocess.run([*prefix, sys.executable, "-m", "pgrewrite.cli", *args], cwd=cwd,
                          capture_output=True, text=True, env=env)
