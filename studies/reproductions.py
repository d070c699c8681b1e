"""Retrain the best configuration and test it: the only place a study touches the test classes.

Reproduction ``r`` retrains the K fold models of the best configuration, fold ``i`` with its own
seed (:func:`fold_seeds`: ``seed + 1000 r + i``), and evaluates them on the test classes twice
(Musgrave et al., ECCV 2020, Sec. 4.2): *separated*, the mean over the K models of each model's
test metrics (its ``summary.json``, at the epoch ``--selection val`` picked), and *concatenated*,
the metrics of the K models' L2-normalised test embeddings concatenated into one ``K·D``
embedding (a fold ensemble). Two baselines are evaluated the same way, as the paper did:

* ``backbone``: the backbone's own pooled features, without the embedding head (a pretrained
  backbone's pretrained features; a randomly initialised one's random features);
* ``untrained``: the backbone with a freshly initialised head, one per fold (each fold's seed, so
  the concatenated ensemble joins K different random heads, not K copies of one).
"""
from __future__ import annotations

import argparse
import os
from typing import Any

import numpy as np
import torch

from architectures.embedding_net import EmbeddingNet
from studies.folds import ensure_run
from studies.objective import fold_folders
from studies.settings import KINDS, TABLE_METRICS, Settings
from studies.spaces import Space
from training.run_record import RunRecord


def reproduction_seed(settings: Settings, r: int) -> int:
    return settings.seed + 1000 * r


def fold_seeds(settings: Settings, r: int) -> list[int]:
    """Reproduction ``r``'s seed for each fold: no two (reproduction, fold) pairs share one, and every
    method's reproduction ``r`` uses the same seeds (so methods compare pairwise)."""
    return [reproduction_seed(settings, r) + fold for fold in range(settings.folds)]


class BackboneFeatures(torch.nn.Module):
    """An :class:`~architectures.embedding_net.EmbeddingNet` seen without its head: its
    ``features``."""

    def __init__(self, net: EmbeddingNet) -> None:
        super().__init__()
        self.net = net

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net.features(x)


def l2_normalise(embeddings: np.ndarray) -> np.ndarray:
    norms = np.linalg.norm(embeddings, axis=1, keepdims=True)
    return embeddings / np.maximum(norms, 1e-12)


def concatenated_metrics(embeddings: list[np.ndarray], labels: np.ndarray, names: list[str],
                         is_query: Any = None, is_gallery: Any = None) -> dict[str, float]:
    """Metrics of ``[x_1 / |x_1|, ..., x_K / |x_K|]`` (one row per item, K·D columns)."""
    import metrics
    joined = np.concatenate([l2_normalise(np.asarray(e, dtype=np.float32)) for e in embeddings], axis=1)
    out = metrics.compute(joined, labels, list(names), is_query=is_query, is_gallery=is_gallery)
    return {name: float(out[name]) for name in names}


def test_embeddings(folder: str, kind: str, device: str = "cpu") -> tuple[np.ndarray, Any]:
    """Test embeddings of a fold run's ``checkpoint_best.pt`` (``trained``), of the same network
    untrained (built with the run's seed; pretrained backbone if the run had one: ``untrained``),
    or of that untrained network's backbone without the head (``backbone``)."""
    import architectures
    import datasets
    from evaluation import embed, embedding_batch_size
    from utilities.seeding import seed_everything
    record = RunRecord(folder)
    model, dataset, opt = record.restore_model("checkpoint_best.pt", split="test", device=device)
    if kind != "trained":
        seed_everything(opt.seed)
        pretrained_as_run = {"not_pretrained": record.flags.get("not_pretrained", False)}
        model = architectures.select(argparse.Namespace(**{**vars(opt), **pretrained_as_run}),
                                     in_channels=datasets.channels(dataset)).to(device)
        if kind == "backbone":
            if not isinstance(model, EmbeddingNet):
                raise TypeError(f"{folder}: a {type(model).__name__} has no backbone features to evaluate")
            model = BackboneFeatures(model)
    embeddings, _ = embed(model, dataset, embedding_batch_size(opt), device, 0, desc="test")
    return embeddings, dataset


def evaluate_folds(folders: list[str], kind: str, device: str = "cpu") -> dict[str, dict[str, float]]:
    """``{"separated": ..., "concatenated": ...}`` test metrics of the K fold models of ``kind``
    (:data:`KINDS`)."""
    from evaluation.engine import protocol_columns
    per_model, embeddings, columns = [], [], None
    for folder in folders:
        emb, dataset = test_embeddings(folder, kind, device)
        columns = protocol_columns(dataset)
        embeddings.append(emb)
        if kind == "trained":
            metrics_ = RunRecord(folder).summary.get("metrics", {})
            per_model.append({m: float(metrics_.get(m, np.nan)) for m in TABLE_METRICS})
        else:
            per_model.append(concatenated_metrics([emb], columns["labels"], list(TABLE_METRICS),
                                                  columns["is_query"], columns["is_gallery"]))
    separated = {m: float(np.mean([p[m] for p in per_model])) for m in TABLE_METRICS}
    concatenated = concatenated_metrics(embeddings, columns["labels"], list(TABLE_METRICS),
                                        columns["is_query"], columns["is_gallery"])
    return {"separated": separated, "concatenated": concatenated, "per_model": per_model}


def reproduce(settings: Settings, space: Space, params: dict[str, Any], r: int) -> dict[str, Any]:
    """Train (or reuse) reproduction ``r``'s K fold runs and evaluate them; writes and returns
    ``<method>/reproductions/r<r>.json``."""
    from utilities.atomic import write_json
    seeds = fold_seeds(settings, r)
    runs = fold_folders(settings, space, params, seeds, f"r{r}", True)
    for argv, folder in runs:
        ensure_run(argv, folder)
    folders = [folder for _, folder in runs]
    result = {"reproduction": r, "seeds": seeds, "params": params, "fold_runs": folders,
              **{kind: evaluate_folds(folders, kind) for kind in KINDS}}
    path = os.path.join(settings.method_dir(space.method), "reproductions", f"r{r}.json")
    os.makedirs(os.path.dirname(path), exist_ok=True)
    write_json(path, result)
    return result
