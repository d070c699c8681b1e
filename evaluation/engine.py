"""Embedding a dataset with a model, and evaluating the run's splits (one embedding pass each)."""
from __future__ import annotations

from typing import Any

import numpy as np
import torch
from torch.utils.data import DataLoader, Dataset, Subset
from tqdm import tqdm

from datasets.base import SplitDataset
from metrics.evidence import MetricResults, compute
from utilities import comm

CPU_BATCH, CUDA_BATCH = 128, 256   # --eval_bs 0; docs/evaluation.md#embedding-batch-size


def embedding_batch_size(opt: Any) -> int:
    """The embedding batch size of every evaluation pass: ``--eval_bs``, or when it is 0, 128
    on the CPU and ``max(--bs, 256)`` on CUDA. ``python bench/eval_batch.py`` on the CPU: 128
    is the fastest of 32-512 (1.6-1.7x the images/s of 256 for the default glyphs network,
    1.1x for ResNet-18), with bitwise equal embeddings; GPUs fill up with larger batches."""
    if opt.eval_bs > 0:
        return opt.eval_bs
    return max(opt.bs, CUDA_BATCH) if opt.device == "cuda" else CPU_BATCH


@comm.sharded
@torch.no_grad()
def embed(model: torch.nn.Module, dataset: Dataset, batch_size: int = 256,
          device: str | torch.device = "cpu", num_workers: int = 0,
          amp: bool = False, desc: str = "embed") -> tuple[np.ndarray, np.ndarray]:
    """Float32 embeddings (N, D) and labels (N,) of ``dataset`` in order, model in eval mode
    (no_grad; CUDA autocast with ``amp``, features cast back to float32)."""
    was_training = model.training
    model.eval()
    loader = DataLoader(dataset, batch_size=batch_size, shuffle=False, num_workers=num_workers)
    chunks, labels = [], []
    device = torch.device(device)
    for images, target in tqdm(loader, desc=desc, leave=False, disable=None):
        with torch.autocast(device.type, enabled=amp and device.type == "cuda"):
            out = model(images.to(device, non_blocking=True))
        chunks.append(out.float().cpu())
        labels.append(torch.as_tensor(target))
    model.train(was_training)
    return torch.cat(chunks).numpy(), torch.cat(labels).numpy().astype(np.int64)


def protocol_columns(dataset: SplitDataset, index: np.ndarray | None = None) -> dict[str, np.ndarray | None]:
    """The dataset's ``labels``, ``is_query``, ``is_gallery`` and ``category`` (rows ``index``; a
    category is its name when the dataset names them)."""
    rows = index if index is not None else slice(None)
    category = dataset.category
    if category is not None and dataset.category_names is not None:   # named: <metric>/<name> columns
        category = np.asarray(dataset.category_names, dtype=object)[np.asarray(category)]
    columns = {"labels": dataset.labels, "is_query": dataset.is_query, "is_gallery": dataset.is_gallery,
               "category": category}
    return {name: None if value is None else np.asarray(value)[rows] for name, value in columns.items()}


def fixed_subset(n_items: int, size: int, seed: int) -> np.ndarray | None:
    """Sorted indices of a fixed random subset of ``size`` items (None: use all)."""
    if size <= 0 or size >= n_items:
        return None
    return np.sort(np.random.default_rng(seed).choice(n_items, size, replace=False))


def evaluate_splits(model: torch.nn.Module, data: dict[str, SplitDataset], splits: list[str],
                    metric_names: list[str], device: str = "cpu", batch_size: int = 256,
                    num_workers: int = 0, amp: bool = False, eval_device: str = "cpu",
                    average_mode: str = "micro", train_subset: int = 0,
                    seed: int = 0) -> dict[str, MetricResults]:
    """Embed each split once and compute every metric on it.

    The query/gallery masks and categories come from the dataset's attributes. ``train`` is
    evaluated on a fixed random subset of ``train_subset`` items when that is positive (the
    same subset at every evaluation). Data the metrics refuse (non-finite embeddings, no
    queries, a metric argument beyond the data) raise one ``ValueError`` naming the split,
    which ``main.py`` records as the run's failure.
    """
    results = {}
    for split in splits:
        dataset = data[split]
        index = fixed_subset(len(dataset), train_subset, seed) if split == "train" else None
        view = Subset(dataset, index.tolist()) if index is not None else dataset
        # one loader per split, not one over all splits: each loader draws its base seed from the
        # global torch RNG, which the miners share, so fewer loaders would change the training
        emb, labels = embed(model, view, batch_size, device, num_workers, amp, desc=f"embed {split}")
        cols = protocol_columns(dataset, index)
        try:
            results[split] = comm.on_main(  # metrics once, on rank 0, shared with every rank
                compute, emb, labels, metric_names, is_query=cols["is_query"], is_gallery=cols["is_gallery"],
                categories=cols["category"], device=eval_device, average_mode=average_mode, seed=seed)
        except ValueError as err:   # non-finite embeddings, no queries, an argument beyond the data
            raise ValueError(f"evaluation of the '{split}' split: {err}") from None
    return results


def options(opt: Any) -> dict[str, Any]:
    """The keyword arguments of :func:`evaluate_splits` from the flags (the only place that
    reads them): metrics, devices, batch size (:func:`embedding_batch_size`), averaging, train subset."""
    cuda = torch.cuda.is_available()
    eval_device = "cuda" if cuda and (opt.evaluate_on_gpu or opt.device == "cuda") else "cpu"
    return {"metric_names": list(opt.evaluation_metrics), "device": opt.device,
            "batch_size": embedding_batch_size(opt), "num_workers": opt.kernels, "amp": opt.amp,
            "eval_device": eval_device, "average_mode": opt.metric_average,
            "train_subset": opt.train_eval_subset, "seed": opt.seed}
