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
