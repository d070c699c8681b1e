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


def test_threads_writing_one_cache_file_never_share_a_temporary_file(tmp_path, monkeypatch):
    """Two threads caching the same image used to write one temporary name: one's rename could
    publish the other's half-written file. Every writer now gets its own temporary file; 16
    threads released together leave one complete JPEG and no temporary file."""
    import tempfile
    import threading

    from datasets.cache import resize_one
    src = tmp_path / "a.png"
    Image.new("RGB", (64, 48), (200, 30, 30)).save(src)
    dst = tmp_path / "cache" / "a.png.key.jpg"
    names, real = [], tempfile.mkstemp
    gate = threading.Barrier(16)

    def mkstemp(*args, **kwargs):
        fd, name = real(*args, **kwargs)
        names.append(name)
        return fd, name
    monkeypatch.setattr(tempfile, "mkstemp", mkstemp)
    monkeypatch.setattr(os.path, "exists", lambda p, _real=os.path.exists: False if str(p) == str(dst) else _real(p))

    def worker():
        gate.wait()
        assert resize_one(str(src), str(dst), 32) is None
    threads = [threading.Thread(target=worker) for _ in range(16)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(names) == 16 and len(set(names)) == 16               # one temporary file per writer
    assert sorted(os.listdir(dst.parent)) == [dst.name]             # renamed into place, none left
    with Image.open(dst) as img:
        assert img.size == (43, 32)
