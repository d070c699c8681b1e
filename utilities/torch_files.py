"""Reading ``.pt`` files that users hand us (checkpoints) without running any code they hold.

A torch file is a pickle: loaded without torch's weights-only unpickler it can call any function
(``os.system`` in an object's ``__reduce__``). Every checkpoint is therefore read with
``torch.load(weights_only=True)``, which rebuilds only tensors and plain values (dicts, lists,
tuples, str, numbers, None). The one other type a checkpoint of the earlier format holds, numpy's
MT19937 key array (``uint32``) of the RNG state, is allowed while the file is read; checkpoints
written now hold that state as a list of ints.
"""
from __future__ import annotations

import pickle
import re
from typing import Any

import numpy as np

#: The globals a checkpoint of the earlier format needs beyond torch's own: a numpy ``uint32`` array.
EARLIER_FORMAT_GLOBALS = [np._core.multiarray._reconstruct, np.ndarray, np.dtype, np.dtypes.UInt32DType]


class UnsafeFileError(ValueError):
    """A torch file that holds something other than tensors and plain values; nothing of it ran."""


def load_plain(path: str) -> Any:
    """``torch.load`` of ``path`` on the CPU, rebuilding only tensors, plain values and the
    :data:`EARLIER_FORMAT_GLOBALS`. :class:`UnsafeFileError` (naming the refused Python global) for a
    file that holds any other object; other unreadable files raise what ``torch.load`` raises."""
    import torch
    try:
        with torch.serialization.safe_globals(EARLIER_FORMAT_GLOBALS):
            return torch.load(path, map_location="cpu", weights_only=True)
    except pickle.UnpicklingError as err:
        if "Weights only load failed" not in str(err) or "GLOBAL" not in str(err):
            raise          # not a pickle of objects at all (a text file: "Unsupported operand"): unreadable
        found = re.search(r"GLOBAL ([\w.]+)", str(err))
        what = f" ({found.group(1)})" if found else ""
        raise UnsafeFileError(f"{path}: refused: it holds a Python object{what} other than tensors and plain "
                              "values, and loading it could run code") from None
