"""Patches as data: reading them (read.py), applying them in memory
(apply.py) and writing corrected copies (fix.py). Patches come from others:
every problem with one is a PatchError naming the patch file and line,
never an exception that escapes."""
from .read import FileDiff, Hunk, HunkLine, Patch, PatchError, read_patches  # noqa: F401
