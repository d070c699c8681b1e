"""``--cache_resized SIZE``: decode and resize every image once, then read the small copies.

JPEG decoding of full-size photos is the usual input bottleneck of DML benchmarks (CUB and SOP
images are ~500 px, the network sees 224 px). The cache keeps the aspect ratio and scales the
shorter side down to ``SIZE`` (never up), re-encoded as JPEG (quality 95). Files are written
atomically and reused while they are newer than their source, so an interrupted build resumes.
"""
from __future__ import annotations

import hashlib
import os
from concurrent.futures import ThreadPoolExecutor

import numpy as np
from PIL import Image

CACHE_QUALITY = 95


def cache_folder(root: str, size: int) -> str:
    return os.path.join(root, f".cache_resized_{size}")


def cached_path(path: str, root: str, folder: str) -> str:
    rel = os.path.relpath(os.path.abspath(path), os.path.abspath(root))
    if rel.startswith(".."):                               # outside the dataset root (csv tables)
        rel = hashlib.sha1(os.path.abspath(path).encode()).hexdigest()[:20]
    return os.path.join(folder, os.path.splitext(rel)[0] + ".jpg")


def resize_one(src: str, dst: str, size: int) -> str | None:
    """Write the resized copy of ``src`` to ``dst``; the problem as text if ``src`` cannot be decoded."""
    if os.path.exists(dst) and os.path.getmtime(dst) >= os.path.getmtime(src):
        return None
    try:
        with Image.open(src) as img:
            img = img.convert("RGB")
            scale = size / min(img.size)
            if scale < 1:
                img = img.resize((max(1, round(img.width * scale)), max(1, round(img.height * scale))),
                                 Image.BILINEAR)
            os.makedirs(os.path.dirname(dst), exist_ok=True)
            tmp = f"{dst}.tmp{os.getpid()}"
            img.save(tmp, "JPEG", quality=CACHE_QUALITY)
            os.replace(tmp, dst)
    except (OSError, ValueError, SyntaxError) as err:
        if isinstance(err, PermissionError):
            raise ValueError(f"--cache_resized: cannot write the cache file {dst}: {err}") from None
        return str(err) or type(err).__name__
    return None


def build_cache(paths: np.ndarray, root: str, size: int,
                workers: int = 8) -> tuple[np.ndarray, list[tuple[int, str]]]:
    """Cache every path; return the cached paths and ``(row, problem)`` for undecodable sources."""
    folder = cache_folder(root, size)
    targets = np.asarray([cached_path(p, root, folder) for p in paths], dtype=object)
    with ThreadPoolExecutor(max(workers, 1)) as pool:
        problems = list(pool.map(resize_one, paths, targets, [size] * len(paths), chunksize=32))
    return targets, [(i, p) for i, p in enumerate(problems) if p is not None]
