"""``--cache_resized SIZE``: decode and resize every image once, then read the small copies.

JPEG decoding of full-size photos is the usual input bottleneck of DML benchmarks (CUB and SOP
images are ~500 px, the network sees 224 px). The cache keeps the aspect ratio and scales the
shorter side down to ``SIZE`` (never up), re-encoded as JPEG (quality 95). Files are written
atomically and reused while they are newer than their source, so an interrupted build resumes.

The cache lives in ``<dataset root>/.cache_resized_SIZE``; when that folder cannot be written
(a read-only dataset), in the user cache folder instead (:func:`user_cache_dir`, one sub-folder
per dataset root), and when neither can, the run fails with one line naming both.
"""
from __future__ import annotations

import hashlib
import os
import warnings
from concurrent.futures import ThreadPoolExecutor

import numpy as np

from datasets.images import bomb_problem, decode_errors, pool_size, to_rgb

CACHE_QUALITY = 95
CACHE_ENV = "DMLBENCH_CACHE"


def user_cache_dir() -> str:
    """``$DMLBENCH_CACHE``, else ``$XDG_CACHE_HOME/dmlbench``, else ``~/.cache/dmlbench``."""
    if os.environ.get(CACHE_ENV):
        return os.environ[CACHE_ENV]
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return os.path.join(base, "dmlbench")


def cache_folder(root: str, size: int) -> str:
    return os.path.join(root, f".cache_resized_{size}")


def fallback_folder(root: str, size: int) -> str:
    key = hashlib.sha1(os.path.abspath(root).encode()).hexdigest()[:16]
    return os.path.join(user_cache_dir(), "resized", f"{os.path.basename(os.path.abspath(root))}_{key}_{size}")


def writable(folder: str) -> bool:
    """Whether files can be created in ``folder`` (made if missing); tried, not guessed from modes."""
    try:
        os.makedirs(folder, exist_ok=True)
        probe = os.path.join(folder, f".probe{os.getpid()}")
        with open(probe, "wb"):
            pass
        os.unlink(probe)
        return True
    except OSError:
        return False


def writable_cache_folder(root: str, size: int) -> str:
    """The first writable of the dataset's cache folder and the user-cache fallback; ``ValueError`` if none."""
    preferred, fallback = cache_folder(root, size), fallback_folder(root, size)
    for folder in (preferred, fallback):
        if writable(folder):
            return folder
    raise ValueError(f"--cache_resized: cannot write the cache folder {preferred} nor {fallback} "
                     f"(set {CACHE_ENV} to a writable folder)")


def cached_path(path: str, root: str, folder: str) -> str:
    rel = os.path.relpath(os.path.abspath(path), os.path.abspath(root))
    if rel.startswith(".."):                               # outside the dataset root (csv tables)
        rel = hashlib.sha1(os.path.abspath(path).encode()).hexdigest()[:20]
    return os.path.join(folder, os.path.splitext(rel)[0] + ".jpg")


def resize_one(src: str, dst: str, size: int) -> str | None:
    """Write the resized copy of ``src`` to ``dst``; the problem as text if ``src`` cannot be decoded."""
    from PIL import Image  # lazy: `import datasets` (flag building) stays light
    try:
        if os.path.exists(dst) and os.path.getmtime(dst) >= os.path.getmtime(src):
            return None
        with Image.open(src) as img:
            bomb = bomb_problem(img)
            if bomb:
                return bomb
            img = to_rgb(img)
    except FileNotFoundError:
        return "missing file"
    except decode_errors() as err:
        return str(err) or type(err).__name__
    scale = size / min(img.size)
    if scale < 1:
        img = img.resize((max(1, round(img.width * scale)), max(1, round(img.height * scale))), Image.BILINEAR)
    tmp = f"{dst}.tmp{os.getpid()}"
    try:
        os.makedirs(os.path.dirname(dst), exist_ok=True)
        img.save(tmp, "JPEG", quality=CACHE_QUALITY)
        os.replace(tmp, dst)
    except OSError as err:
        raise ValueError(f"--cache_resized: cannot write the cache file {dst}: {err}") from None
    return None


def build_cache(paths: np.ndarray, root: str, size: int,
                workers: int = 0) -> tuple[np.ndarray, list[tuple[int, str]]]:
    """Cache every path; return the cached paths and ``(row, problem)`` for undecodable sources."""
    folder = writable_cache_folder(root, size)
    print(f"--cache_resized {size}: caching {len(paths)} images in {folder}")
    targets = np.asarray([cached_path(p, root, folder) for p in paths], dtype=object)
    from PIL import Image
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", Image.DecompressionBombWarning)
        with ThreadPoolExecutor(pool_size(workers)) as pool:
            problems = list(pool.map(resize_one, paths, targets, [size] * len(paths), chunksize=16))
    return targets, [(i, p) for i, p in enumerate(problems) if p is not None]
