"""The peak-memory measurement shared by bench/losses.py and bench/miners.py."""
from __future__ import annotations

import warnings
from typing import Callable

import torch


def peak_mib(fn: Callable[[], object]) -> float:
    """The largest total size of live CPU tensors during ``fn()``, in MiB.

    From the torch profiler's memory timeline (``torch.profiler._memory_profiler``): tensors
    allocated before the call (the inputs) are included; memory outside tensors (Python objects,
    allocator caches) is not.
    """
    from torch.profiler import ProfilerActivity, profile
    from torch.profiler._memory_profiler import MemoryProfileTimeline
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with profile(activities=[ProfilerActivity.CPU], profile_memory=True, record_shapes=True,
                     with_stack=True) as prof:
            fn()
        _, sizes = MemoryProfileTimeline(prof._memory_profile())._coalesce_timeline(torch.device("cpu"))
    return max((sum(s) for s in sizes), default=0) / 2 ** 20
