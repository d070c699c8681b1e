"""``--cache_resized``: one cache file per source file and content."""
from __future__ import annotations

import os

import numpy as np
from PIL import Image

from datasets.cache import build_cache


def solid(path, colour, fmt):
    Image.new("RGB", (20, 16), colour).save(path, fmt)
    return str(path)


def mean_colour(path):
    with Image.open(path) as img:
        return np.asarray(img.convert("RGB")).reshape(-1, 3).mean(0)


def test_same_stem_different_extensions_get_two_cache_files(tmp_path):
    """``x.png`` and ``x.jpg`` of one class used to share ``x.jpg`` in the cache: one image
    replaced the other (test R@1 0.27 -> 0.66)."""
    (tmp_path / "c").mkdir()
    paths = np.array([solid(tmp_path / "c" / "x.png", (255, 0, 0), "PNG"),
                      solid(tmp_path / "c" / "x.jpg", (0, 0, 255), "JPEG")], dtype=object)
    targets, problems = build_cache(paths, str(tmp_path), 8)
    assert not problems and targets[0] != targets[1]
    assert mean_colour(targets[0])[0] > 200 and mean_colour(targets[1])[2] > 200


def test_a_replaced_source_with_an_older_mtime_is_cached_again(tmp_path):
    """``unzip``, ``cp -p`` and ``rsync -a`` leave old modification times: the stale copy was
    kept because it was newer than its new source."""
    (tmp_path / "c").mkdir()
    path = solid(tmp_path / "c" / "x.png", (255, 0, 0), "PNG")
    first, _ = build_cache(np.array([path], dtype=object), str(tmp_path), 8)
    solid(path, (0, 0, 255), "PNG")
    os.utime(path, (1_000_000_000, 1_000_000_000))            # 2001: older than the cache file
    second, problems = build_cache(np.array([path], dtype=object), str(tmp_path), 8)
    assert not problems and mean_colour(second[0])[2] > 200
    assert not [f for f in os.listdir(os.path.dirname(second[0])) if f.startswith(".tmp")]
