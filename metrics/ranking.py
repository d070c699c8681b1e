"""The evidence that ranking metrics read: who is relevant among each query's neighbours."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Iterator

import numpy as np

ROW_CHUNK = 8192          # rows per block when a metric expands hits into counts


@dataclass
class Ranking:
    """Neighbour relevance of the non-lone queries.

    Attributes
    ----------
    hits : np.ndarray
        (Q, K) bool; ``hits[q, i]`` is True when the (i+1)-th nearest gallery item of query q
        (self excluded, ties broken by gallery index) has q's label. Columns beyond the gallery
        size are False.
    relevant : np.ndarray
        (Q,) int64 R_q: the gallery items with q's label, q itself excluded (always >= 1 here).
    first_hit : np.ndarray | None
        (Q,) int64 exact 1-based rank of the first relevant item over the whole gallery, when
        the engine was asked for it (``mrr``).
    """
    hits: np.ndarray
    relevant: np.ndarray
    first_hit: np.ndarray | None = None

    def __len__(self) -> int:
        return len(self.relevant)

    def blocks(self, depth: int) -> Iterator[tuple[slice, np.ndarray]]:
        """Row blocks ``(rows, hits[rows, :depth])``, bounding the memory of derived arrays."""
        for start in range(0, len(self), ROW_CHUNK):
            rows = slice(start, start + ROW_CHUNK)
            yield rows, self.hits[rows, :depth]


def precision_at_ranks(hits: np.ndarray) -> np.ndarray:
    """(Q, K) float64 P@i = (hits among the first i) / i, for i = 1..K."""
    counts = np.cumsum(hits, axis=1, dtype=np.int64)
    return counts / np.arange(1, hits.shape[1] + 1)
