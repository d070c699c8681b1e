"""Squared Euclidean distance, as a name of its own."""
from __future__ import annotations

from distances import DISTANCES
from distances.euclidean import EuclideanDistance


@DISTANCES.register("squared_euclidean")
class SquaredEuclideanDistance(EuclideanDistance):
    """Squared Euclidean distance ``||x - y||_2^2``: ``euclidean`` with ``squared`` fixed.

    A separate name so that a loss can default to it (the triplet loss of FaceNet and of the
    Revisiting-DML tool) without the global ``--distance_squared`` flag changing other losses.

    Parameters
    ----------
    normalize_embeddings : bool
        L2-normalise the embeddings before measuring (default false).
    """

    def __init__(self, normalize_embeddings: bool | None = None):
        super().__init__(normalize_embeddings, squared=True)
