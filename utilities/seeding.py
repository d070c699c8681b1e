"""Seeding and RNG state capture, so that a resumed run continues bit-identically on the CPU."""
from __future__ import annotations

import random
from contextlib import contextmanager
from typing import Any, Iterator

import numpy as np
import torch


def seed_everything(seed: int) -> None:
    """Seed Python, numpy and torch (all devices)."""
    random.seed(seed)
    np.random.seed(seed % 2**32)
    torch.manual_seed(seed)


def worker_init_fn(worker_id: int) -> None:
    """Seed each DataLoader worker from torch's per-worker seed.

    Training augmentation does not depend on this seed: it is drawn under :func:`item_rng`.
    """
    seed = torch.initial_seed() % 2**32
    random.seed(seed)
    np.random.seed(seed)


def item_seed(seed: int, epoch: int, index: int) -> int:
    """A 63-bit seed that is a pure function of ``(seed, epoch, index)`` (numpy's ``SeedSequence``
    hashing, so neighbouring keys give unrelated streams)."""
    words = [int(seed) % 2**64, int(epoch) % 2**64, int(index) % 2**64]
    return int(np.random.SeedSequence(words).generate_state(1, np.uint64)[0] >> np.uint64(1))


@contextmanager
def item_rng(seed: int, epoch: int, index: int) -> Iterator[None]:
    """Run the body with torch's CPU generator, Python's ``random`` and numpy's global generator
    seeded by :func:`item_seed`, then restore all three: the draws inside depend only on the key
    (not on the process, worker or order), and nothing outside is disturbed.

    Only the CPU generator is touched (``torch.default_generator``, not ``torch.manual_seed``,
    which would also reseed CUDA): data transforms run on the CPU.
    """
    value = item_seed(seed, epoch, index)
    py_state, np_state = random.getstate(), np.random.get_state()
    with torch.random.fork_rng(devices=[]):
        torch.default_generator.manual_seed(value)
        random.seed(value)
        np.random.seed(value % 2**32)
        try:
            yield
        finally:
            random.setstate(py_state)
            np.random.set_state(np_state)


def rng_state() -> dict[str, Any]:
    """Python's, numpy's and torch's generator states, as tensors and plain values only (numpy's
    key array as a list of ints), so that a checkpoint is read with ``weights_only=True``."""
    kind, keys, pos, has_gauss, cached = np.random.get_state()
    state = {"python": random.getstate(), "numpy": (kind, keys.tolist(), pos, has_gauss, cached),
             "torch": torch.get_rng_state()}
    if torch.cuda.is_available():
        state["cuda"] = torch.cuda.get_rng_state_all()
    return state


def set_rng_state(state: dict[str, Any]) -> None:
    random.setstate(state["python"])
    kind, keys, *rest = state["numpy"]     # keys: a list (this format) or a uint32 array (earlier)
    np.random.set_state((kind, np.asarray(keys, dtype=np.uint32), *rest))
    torch.set_rng_state(state["torch"])
    if "cuda" in state and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(state["cuda"])


def set_deterministic(enabled: bool) -> None:
    """``--deterministic``: torch's deterministic algorithms (CUDA needs a cuBLAS workspace
    setting, set here before the first cuBLAS call) and no cuDNN autotuning.

    On the CPU, runs with the same seed and flags are bit-identical without this flag.
    """
    import os
    if enabled:
        os.environ.setdefault("CUBLAS_WORKSPACE_CONFIG", ":4096:8")
    torch.use_deterministic_algorithms(enabled, warn_only=False)
    torch.backends.cudnn.deterministic = enabled
    torch.backends.cudnn.benchmark = False
