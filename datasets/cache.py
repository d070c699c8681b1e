"""``--cache_resized SIZE``: decode and resize every image once, then read the small copies.

JPEG decoding of full-size photos is the usual input bottleneck of DML benchmarks (CUB and SOP
images are ~500 px, the network sees 224 px). The cache keeps the aspect ratio and scales the
shorter side down to ``SIZE`` (never up), re-encoded as JPEG (quality 95). Files are written
atomically (a temporary file unique to the writing thread, then a rename), so an interrupted
build resumes.

A cache file is named by the whole source path (extension included: ``x.png`` and ``x.jpg`` of
one class are two files) and the source's content identity
(:func:`datasets.file_identity.content_key`), so a source replaced by another image is cached
again whatever its modification time (``unzip``, ``cp -p`` and ``rsync -a`` keep old ones).

The cache lives in ``<dataset root>/.cache_resized_SIZE``; when that folder cannot be written
(a read-only dataset), in the user cache folder instead (:func:`user_cache_dir`, one sub-folder
per dataset root), and when neither can, the run fails with one line naming both.
"""
from __future__ import annotations

import hashlib
import os
import tempfile
import warnings
from concurrent.futures import ThreadPoolExecutor

import numpy as np

from datasets.file_identity import MISSING, content_key
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


def cached_path(path: str, root: str, folder: str, key: str) -> str:
    """``<folder>/<path relative to root>.<key[:16]>.jpg``: the whole source file name and its
    content identity ``key``, so two sources never share a cache file."""
    rel = os.path.relpath(os.path.abspath(path), os.path.abspath(root))
    if rel.startswith(".."):                               # outside the dataset root (csv tables)
        rel = hashlib.sha1(os.path.abspath(path).encode()).hexdigest()[:20]
    return os.path.join(folder, f"{rel}.{key[:16]}.jpg")


def resize_one(src: str, dst: str, size: int) -> str | None:
    """Write the resized copy of ``src`` to ``dst`` unless it exists (``dst`` names the source's
    content, see :func:`cached_path`); the problem as text if ``src`` cannot be decoded."""
    from PIL import Image  # lazy: `import datasets` (flag building) stays light
    try:
        if os.path.exists(dst):
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
    tmp = None
    try:
        os.makedirs(os.path.dirname(dst), exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=os.path.dirname(dst), prefix=".tmp_", suffix=".jpg")
        with os.fdopen(fd, "wb") as fh:                    # unique to this thread and process
            img.save(fh, "JPEG", quality=CACHE_QUALITY)
        os.replace(tmp, dst)
    except OSError as err:
        if tmp is not None and os.path.exists(tmp):
            os.unlink(tmp)
        raise ValueError(f"--cache_resized: cannot write the cache file {dst}: {err}") from None
    return None


def build_cache(paths: np.ndarray, root: str, size: int,
                workers: int = 0) -> tuple[np.ndarray, list[tuple[int, str]]]:
    """Cache every path; return the cached paths and ``(row, problem)`` for undecodable sources."""
    folder = writable_cache_folder(root, size)
    print(f"--cache_resized {size}: caching {len(paths)} images in {folder}")
    keys = [content_key(str(p)) for p in paths]
    targets = np.asarray([cached_path(p, root, folder, key) for p, key in zip(paths, keys)], dtype=object)
    missing = [i for i, key in enumerate(keys) if key == MISSING]
    from PIL import Image
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", Image.DecompressionBombWarning)
        with ThreadPoolExecutor(pool_size(workers)) as pool:
            problems = list(pool.map(resize_one, paths, targets, [size] * len(paths), chunksize=16))
    for i in missing:                                      # unreadable when keyed: never reuse a file
        problems[i] = problems[i] or "missing file"
    return targets, [(i, p) for i, p in enumerate(problems) if p is not None]
