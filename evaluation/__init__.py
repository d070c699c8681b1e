"""The evaluation engine: embed once, one shared kNN search and k-means, then the metrics.

``python -m evaluation`` evaluates a checkpoint or a saved ``.npz`` of embeddings
(:mod:`evaluation.__main__`); :mod:`evaluation.plots` draws t-SNE, retrieval and training-curve
figures.
"""
from evaluation.artifacts import save_arrays  # noqa: F401
from metrics.evidence import MetricResults, compute  # noqa: F401
from evaluation.engine import embed, embedding_batch_size, evaluate_splits, options  # noqa: F401
