"""The content identity of an image file: what makes two files "the same data".

Sizes and modification times are not enough: ``cp -p``, ``rsync -a`` and ``unzip`` keep old
modification times, so two equal-size images swapped that way keep both stamps. A full hash
reads the whole dataset (SOP: ~3 GB) at every start. The identity is therefore a SHA-256 of the
file's size, its first :data:`EDGE_BYTES` and its last :data:`EDGE_BYTES` (the whole file when it
is smaller than twice that): any two different images differ there unless they were edited in
the middle only and kept their size. Reading 8 KiB of each of SOP's 120k files is measured in
``docs/data.md``.
"""
from __future__ import annotations

import hashlib
import os
from typing import Iterable

EDGE_BYTES = 4096
MISSING = "missing"


def content_key(path: str) -> str:
    """Hex SHA-256 of ``path``'s size, first and last :data:`EDGE_BYTES`; ``"missing"`` when
    it cannot be read."""
    try:
        with open(path, "rb") as fh:
            size = os.fstat(fh.fileno()).st_size
            head = fh.read(EDGE_BYTES)
            if size > 2 * EDGE_BYTES:
                fh.seek(size - EDGE_BYTES)
            tail = fh.read(EDGE_BYTES) if size > EDGE_BYTES else b""
    except OSError:
        return MISSING
    return hashlib.sha256(str(size).encode() + b"\0" + head + b"\0" + tail).hexdigest()


def content_keys(paths: Iterable[str]) -> list[str]:
    """:func:`content_key` of every path, in order. Sequential: on 120k small files a thread
    pool was twice slower (the per-file work is too short to gain from threads)."""
    return [content_key(str(p)) for p in paths]
