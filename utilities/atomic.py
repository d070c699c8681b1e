"""Atomic file writes: write a temporary file in the same folder, fsync, then rename.

A reader (or a run killed mid-write) therefore sees either the old file or the new one, never
a half-written file. These functions always write; which process writes is the caller's
decision (under torchrun the run folder, checkpoints and figures are written by rank 0 only).
"""
from __future__ import annotations

import csv
import io
import json
import os
import tempfile
from typing import Any, Callable, Iterable


def atomic_write(path: str, write: Callable[[Any], None], binary: bool = False) -> None:
    """Call ``write(fh)`` on a temporary file next to ``path``, then rename it over ``path``."""
    folder = os.path.dirname(os.path.abspath(path))
    fd, tmp = tempfile.mkstemp(prefix=".tmp_", suffix=os.path.basename(path), dir=folder)
    try:
        os.fchmod(fd, 0o666 & ~current_umask())   # mkstemp makes 0600; files get the umask's mode
        with os.fdopen(fd, "wb" if binary else "w", **({} if binary else {"newline": ""})) as fh:
            write(fh)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def current_umask() -> int:
    """The process's umask (read by setting it and setting it back)."""
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def write_json(path: str, obj: Any) -> None:
    atomic_write(path, lambda fh: json.dump(obj, fh, indent=2, sort_keys=False, default=str))


def write_csv(path: str, rows: Iterable[dict[str, Any]], columns: list[str]) -> None:
    """Write ``rows`` under the header ``columns`` (missing cells are empty)."""
    def write(fh: Any) -> None:
        writer = csv.DictWriter(fh, fieldnames=columns, extrasaction="ignore")
        writer.writeheader()
        for row in rows:
            writer.writerow(row)
    atomic_write(path, write)


def save_torch(path: str, obj: Any) -> None:
    import torch
    buffer = io.BytesIO()
    torch.save(obj, buffer)
    atomic_write(path, lambda fh: fh.write(buffer.getvalue()), binary=True)


def can_write_in(folder: str) -> bool:
    """Whether files can be made in ``folder``, or, when it does not exist yet, in the nearest
    existing folder above it (where it would be made). False on a read-only file system."""
    folder = os.path.abspath(folder)
    while not os.path.isdir(folder) and os.path.dirname(folder) != folder:
        folder = os.path.dirname(folder)
    return os.access(folder, os.W_OK)
