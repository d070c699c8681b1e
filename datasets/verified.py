"""A record of the images that decoded fully, so that a second run does not decode them again.

The pre-check (:func:`datasets.images.check_images`) decodes every pixel, which for a large
dataset takes minutes. Files that passed are recorded in one small JSON file per dataset root,
in the user cache folder (:func:`datasets.cache.user_cache_dir`, so read-only datasets work),
keyed by absolute path with the file's size and modification time: a file that changes is
decoded again. Bad files are not recorded (they are few, and re-checking them keeps the
report current). The record is an optimisation only: an unreadable or unwritable record is
ignored.
"""
from __future__ import annotations

import hashlib
import json
import os

import numpy as np

from datasets.cache import user_cache_dir
from datasets.images import check_images
from utilities.atomic import atomic_write


def record_path(root: str) -> str:
    key = hashlib.sha1(os.path.abspath(root).encode()).hexdigest()[:16]
    return os.path.join(user_cache_dir(), "verified", f"{key}.json")


def stamp(path: str) -> list[int] | None:
    """``[size, mtime_ns]`` of ``path``, or ``None`` when it cannot be read."""
    try:
        st = os.stat(path)
    except OSError:
        return None
    return [st.st_size, st.st_mtime_ns]


class VerifiedImages:
    """The decoded-fine record of the dataset under ``root`` (see the module docstring)."""

    def __init__(self, root: str):
        self.path = record_path(root)
        try:
            with open(self.path) as fh:
                self.entries: dict[str, list[int]] = dict(json.load(fh))
        except (OSError, ValueError, TypeError):
            self.entries = {}
        self.changed = False

    def check(self, paths: np.ndarray, workers: int = 0) -> list[tuple[int, str]]:
        """``(row, problem)`` for the paths that do not decode; recorded good files are not decoded."""
        stamps = [stamp(str(p)) for p in paths]
        todo = [i for i, (p, s) in enumerate(zip(paths, stamps))
                if s is None or self.entries.get(os.path.abspath(str(p))) != s]
        problems = [(todo[j], why) for j, why in check_images(np.asarray([paths[i] for i in todo], dtype=object),
                                                              workers)]
        bad = {i for i, _ in problems}
        for i in todo:
            if i not in bad and stamps[i] is not None:
                self.entries[os.path.abspath(str(paths[i]))] = stamps[i]
                self.changed = True
        return problems

    def save(self) -> None:
        """Write the record if it changed; a folder that cannot be written is ignored."""
        if not self.changed:
            return
        try:
            os.makedirs(os.path.dirname(self.path), exist_ok=True)
            atomic_write(self.path, lambda fh: json.dump(self.entries, fh))
        except OSError:
            pass
        self.changed = False
