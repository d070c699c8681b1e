"""Embedding a dataset with a model, and evaluating the run's splits."""
from __future__ import annotations

from typing import Any

import numpy as np
import torch
from torch.utils.data import DataLoader, Dataset
from tqdm import tqdm

from evaluation.compute import compute
from utilities import distributed


@distributed.sharded
@torch.no_grad()
def embed(model: torch.nn.Module, dataset: Dataset, batch_size: int = 256,
          device: str | torch.device = "cpu", num_workers: int = 0,
          amp: bool = False, desc: str = "embed") -> tuple[np.ndarray, np.ndarray]:
    """Float32 embeddings (N, D) and labels (N,) of ``dataset`` in order, model in eval mode."""
    was_training = model.training
    model.eval()
    loader = DataLoader(dataset, batch_size=batch_size, shuffle=False, num_workers=num_workers)
    chunks, labels = [], []
    device = torch.device(device)
    for images, target in tqdm(loader, desc=desc, leave=False, disable=None):
        with torch.autocast(device.type, enabled=amp and device.type == "cuda"):
            out = model(images.to(device, non_blocking=True))
        chunks.append(out.float().cpu())
        labels.append(target)
    model.train(was_training)
    return torch.cat(chunks).numpy(), torch.cat(labels).numpy().astype(np.int64)


def evaluate_splits(model: torch.nn.Module, data: dict[str, Dataset], splits: list[str],
                    metric_names: list[str], device: str = "cpu", batch_size: int = 256,
                    num_workers: int = 0, amp: bool = False,
                    eval_device: str = "cpu") -> dict[str, dict[str, float]]:
    """Embed each split once and compute every metric on it."""
    results = {}
    for split in splits:
        emb, labels = embed(model, data[split], batch_size, device, num_workers, amp, desc=f"embed {split}")
        ds: Any = data[split]
        results[split] = distributed.on_main(compute, emb, labels, metric_names, is_query=getattr(ds, "is_query", None),
                                             is_gallery=getattr(ds, "is_gallery", None), device=eval_device)
    return results
