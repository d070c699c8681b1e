"""Super-class-aware P x K batches for datasets with a class hierarchy (SOP, In-Shop)."""
from __future__ import annotations

from typing import Iterator

import numpy as np

from datasampler import SAMPLERS
from datasampler.class_random import ClassRandomSampler, draw_k, group_by_class


@SAMPLERS.register("hierarchical")
class HierarchicalSampler(ClassRandomSampler):
    """Each batch draws S distinct super-classes, then P/S distinct classes inside each, then K
    samples per class, so that many negatives share a super-class (hard negatives).

    After the hierarchical sampling of Cakir et al. (CVPR 2019, FastAP) and PyTorch Metric
    Learning's ``HierarchicalSampler``. Super-classes that hold fewer than P/S classes are not
    drawn. An epoch is ``len(dataset) // batch_size`` batches. Needs super-class labels
    (``category``): ``online_products``, ``in_shop``, or ``csv`` with a category column.

    Parameters
    ----------
    super_classes_per_batch : int
        S, the super-classes in each batch; P = batch_size / samples_per_class must be divisible by it.
    """

    wired_params = ClassRandomSampler.wired_params + ("categories",)
    needs_categories = True

    def __init__(self, labels: np.ndarray, batch_size: int, samples_per_class: int = 2,
                 super_classes_per_batch: int = 2, categories: np.ndarray | None = None,
                 seed: int = 0, rank: int = 0, world_size: int = 1):
        super().__init__(labels, batch_size, samples_per_class, seed, rank, world_size)
        if categories is None:
            raise ValueError("--data_sampler hierarchical needs super-class labels: use online_products, "
                             "in_shop, or a csv dataset with a 'category' column")
        if self.p % super_classes_per_batch:
            raise ValueError(f"--data_hierarchical_super_classes_per_batch {super_classes_per_batch} does not "
                             f"divide the {self.p} classes per batch")
        self.s, self.per_super = super_classes_per_batch, self.p // super_classes_per_batch
        first = np.array([members[0] for members in self.by_class])
        class_category = np.asarray(categories)[first]          # a class's super-class, from its first item
        supers, self.classes_of = group_by_class(class_category)
        usable = [i for i, members in enumerate(self.classes_of) if len(members) >= self.per_super]
        if len(usable) < self.s:
            raise ValueError(f"--data_sampler hierarchical: only {len(usable)} super-class(es) hold "
                             f"{self.per_super} classes, {self.s} are needed per batch")
        self.usable = np.asarray(usable)

    def global_batches(self) -> Iterator[np.ndarray]:
        rng = self.rng()
        for _ in range(len(self)):
            parts = []
            for sup in rng.choice(self.usable, self.s, replace=False):
                for c in rng.choice(self.classes_of[sup], self.per_super, replace=False):
                    parts.append(draw_k(self.by_class[c], self.k, rng))
            yield np.concatenate(parts)
