"""Datasets as plain tables: one row per item, with label and protocol columns.

A :class:`Table` holds the labels and the items (a tensor of images in memory, or an array of
file paths), plus the optional query/gallery masks and super-class categories. Splitting
(train/val) is done on tables, before transforms are attached.
"""
from __future__ import annotations

from dataclasses import dataclass, fields
from typing import Any

import numpy as np


@dataclass
class Table:
    """Rows of one split. ``labels`` are int64; every other column has the same length."""
    labels: np.ndarray
    items: Any                                  # torch.Tensor (N, C, H, W) or np.ndarray of paths
    is_query: np.ndarray | None = None
    is_gallery: np.ndarray | None = None
    category: np.ndarray | None = None
    #: The name of each category id (``category_names[c]``), when the data name them (Omniglot's
    #: alphabets): per-category metrics are then reported as ``<metric>/<name>``.
    category_names: tuple[str, ...] | None = None

    def __len__(self) -> int:
        return len(self.labels)

    def subset(self, index: np.ndarray, relabel: bool = True) -> "Table":
        """The rows ``index``; with ``relabel``, labels become 0..C-1 in order of first value."""
        cols = {}
        for f in fields(self):
            value = getattr(self, f.name)
            per_row = f.name != "category_names"
            cols[f.name] = None if value is None else value[index] if per_row else value
        out = Table(**cols)
        if relabel:
            out.labels = contiguous_labels(out.labels)
        return out


def protocol_problem(table: Table, split: str) -> str | None:
    """Why an evaluation split cannot be evaluated query -> gallery (no query or no gallery
    rows: every metric would be NaN), or ``None``."""
    for name in ("is_query", "is_gallery"):
        mask = getattr(table, name)
        if mask is not None and not np.any(mask):
            return f"no {name[3:]} rows in split {split}"
    return None


MIN_VAL_CLASSES = 2     # a validation split of one class ranks nothing: every score is 1.0


def contiguous_labels(labels: np.ndarray) -> np.ndarray:
    """Map arbitrary integer labels to 0..C-1, preserving their sorted order."""
    _, inverse = np.unique(np.asarray(labels), return_inverse=True)
    return inverse.astype(np.int64)


def split_train_val(table: Table, train_frac: float, by_samples: bool,
                    seed: int) -> tuple[Table, Table]:
    """Split a training table into train and validation tables.

    By classes (default): a random ``train_frac`` of the classes stay in train, the rest form a
    class-disjoint validation set, as the DML protocol asks. By samples: within each class, a
    random ``train_frac`` of its samples stay in train (at least one on each side when the class
    has two or more samples); validation then shares train's classes. Either way a validation
    split of fewer than :data:`MIN_VAL_CLASSES` classes is refused (``ValueError``): its
    retrieval scores would be 1.0 at every epoch and selection meaningless.
    """
    if not 0.0 < train_frac < 1.0:
        raise ValueError(f"--tv_split_perc must be in (0, 1), got {train_frac}")
    rng = np.random.default_rng(seed)
    labels = table.labels
    classes = np.unique(labels)
    if by_samples:
        order = rng.permutation(len(labels))
        order = order[np.argsort(labels[order], kind="stable")]     # shuffled within class
        counts = np.bincount(labels)[classes]
        starts = np.concatenate([[0], np.cumsum(counts)[:-1]])
        n_train = np.clip(np.round(counts * train_frac).astype(int), 1, np.maximum(counts - 1, 1))
        rank = np.arange(len(order)) - np.repeat(starts, counts)
        in_train = rank < np.repeat(n_train, counts)
        train_idx, val_idx = np.sort(order[in_train]), np.sort(order[~in_train])
        if len(val_idx) == 0:
            raise ValueError("--tv_split_by_samples: no class has two samples, validation is empty")
        n_val = len(np.unique(labels[val_idx]))
        if n_val < MIN_VAL_CLASSES:
            raise ValueError(f"--use_tv_split --tv_split_by_samples: only {n_val} class has two or more samples, "
                             f"so the validation split would hold {n_val} class; it needs at least "
                             f"{MIN_VAL_CLASSES} to rank anything")
        return table.subset(train_idx, relabel=False), table.subset(val_idx, relabel=False)
    n_train = int(round(len(classes) * train_frac))
    if not 0 < n_train < len(classes):
        raise ValueError(f"--tv_split_perc {train_frac} leaves an empty split of {len(classes)} classes")
    if len(classes) - n_train < MIN_VAL_CLASSES:
        most = (len(classes) - MIN_VAL_CLASSES) / len(classes)
        raise ValueError(f"--use_tv_split: --tv_split_perc {train_frac} of the {len(classes)} training classes leaves "
                         f"{len(classes) - n_train} class for validation, which needs at least {MIN_VAL_CLASSES} to "
                         f"rank anything (every query would find its class first); use --tv_split_perc "
                         f"{most:.2g} or less, or --tv_split_by_samples")
    train_classes = rng.permutation(classes)[:n_train]
    in_train = np.isin(labels, train_classes)
    return (table.subset(np.flatnonzero(in_train)), table.subset(np.flatnonzero(~in_train)))


def check_folds(n_classes: int, folds: int) -> None:
    """Refuse ``--cv_folds`` that would leave a fold validating on fewer than
    :data:`MIN_VAL_CLASSES` classes (the smallest of K contiguous partitions has
    ``n_classes // K`` classes); ``ValueError`` in one line."""
    if folds < 2 or n_classes // folds < MIN_VAL_CLASSES:
        raise ValueError(f"--cv_folds {folds}: the dataset has only {n_classes} training classes; each fold must "
                         f"validate on at least {MIN_VAL_CLASSES} classes, so 2 to "
                         f"{max(n_classes // MIN_VAL_CLASSES, 2)} folds")


def cv_fold_split(table: Table, folds: int, fold: int) -> tuple[Table, Table]:
    """Class-disjoint cross-validation fold ``fold`` of ``folds`` (Musgrave et al., "A Metric
    Learning Reality Check", ECCV 2020, Sec. 4.2): the training classes, in their natural sorted
    order, are cut into ``folds`` contiguous partitions of sizes differing by at most one; the
    fold validates on partition ``fold`` and trains on the others. No randomness: the same table
    and ``folds`` give the same partitions whatever the seed. ``folds`` that would leave any
    partition with fewer than :data:`MIN_VAL_CLASSES` classes are refused (:func:`check_folds`)."""
    classes = np.unique(table.labels)
    check_folds(len(classes), folds)
    if not 0 <= fold < folds:
        raise ValueError(f"--cv_fold {fold}: expected 0 to {folds - 1} for --cv_folds {folds}")
    in_val = np.isin(table.labels, np.array_split(classes, folds)[fold])
    return table.subset(np.flatnonzero(~in_val)), table.subset(np.flatnonzero(in_val))


def fingerprint(tables: dict[str, Table]) -> str:
    """A SHA-256 of the split tables: per split, the labels, the query/gallery masks and the items
    (image bytes for tensor tables; file paths relative to their common folder for file tables,
    so a dataset moved elsewhere keeps its fingerprint). Cheap: image files are not read."""
    import hashlib
    import os
    digest = hashlib.sha256()
    for split in sorted(tables):
        table = tables[split]
        digest.update(split.encode())
        for column in (table.labels, table.is_query, table.is_gallery):
            if column is not None:
                digest.update(np.ascontiguousarray(column).tobytes())
        items = table.items
        if isinstance(items, np.ndarray) and items.dtype.kind in "USO":
            paths = [str(p) for p in items]
            root = os.path.commonpath(paths) if len(paths) > 1 else os.path.dirname(paths[0]) if paths else ""
            digest.update("\n".join(os.path.relpath(p, root) for p in paths).encode())
        else:
            digest.update(np.ascontiguousarray(np.asarray(items)).tobytes())
    return digest.hexdigest()


def content_fingerprint(tables: dict[str, Table]) -> str:
    """A SHA-256 of the content identity of every file of the file tables, in split and row
    order (:func:`datasets.file_identity.content_key`: size, first and last 4 KiB), so that
    other data under the same file names (two classes' images swapped, even with ``cp -p``)
    differ. Empty for in-memory tables, whose pixels :func:`fingerprint` already hashes."""
    import hashlib
    from datasets.file_identity import content_keys
    paths = [str(p) for split in sorted(tables) for p in file_items(tables[split])]
    if not paths:
        return ""
    return hashlib.sha256("\n".join(content_keys(paths)).encode()).hexdigest()


def file_items(table: Table) -> list[Any]:
    """The file paths of a file table (none for an in-memory one)."""
    items = table.items
    return list(items) if isinstance(items, np.ndarray) and items.dtype.kind in "USO" else []
