"""The evaluation engine: embed once, one shared kNN search and k-means, then the metrics."""
from evaluation.compute import compute  # noqa: F401
from evaluation.engine import embed, evaluate_splits  # noqa: F401
