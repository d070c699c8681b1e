"""``omniglot``: handwritten characters of 50 alphabets (Lake et al., Science 2015), a real dataset
that trains on a CPU."""
from __future__ import annotations

import dataclasses
import hashlib
import os
import sys
from concurrent.futures import ThreadPoolExecutor
from typing import Any, ClassVar, Literal

import numpy as np
import torch

from datasets import DATASETS
from datasets.base import SplitDataset
from datasets.glyphs import FAST_CPU_PRESET
from datasets.image_source import ImageSource
from datasets.images import class_folders, load_image, pool_size, table_from_folders
from datasets.table import Table
from datasets.tensor_dataset import TensorImageDataset
from utilities.flags import POSITIVE, Domain, at_least

DOWNLOAD_URL = "https://github.com/brendenlake/omniglot/tree/master/python"
BACKGROUND, EVALUATION = "images_background", "images_evaluation"
#: Where the two folders may lie under ``--source``: torchvision's ``Omniglot`` root, a plain
#: ``omniglot`` folder, or ``--source`` itself (the two zip files unpacked there).
CONTAINERS = ("omniglot-py", "omniglot", "")

OMNIGLOT_PRESET: dict[str, Any] = {**FAST_CPU_PRESET, "bs": 128, "samples_per_class": 4, "n_epochs": 12}
"""The glyphs CPU preset: ``convnet_normalize``, 64-d, Adam 1e-3, 32 classes x 4 drawings, 12 epochs."""


def character_folders(root: str, folders: tuple[str, ...]) -> list[tuple[str, str]]:
    """``(folder/alphabet, character)`` for every character of ``folders`` under ``root``: folders in
    the given order, alphabets and characters in natural order (``character2`` < ``character10``)."""
    out = []
    for folder in folders:
        for alphabet in class_folders(os.path.join(root, folder)):
            out += [(f"{folder}/{alphabet}", c) for c in class_folders(os.path.join(root, folder, alphabet))]
    return out


def drawings_digest(folder: str) -> str:
    """One digest of a character folder's drawings, byte for byte (names and order ignored)."""
    digests = sorted(hashlib.sha1(open(os.path.join(folder, name), "rb").read()).hexdigest()
                     for name in os.listdir(folder) if os.path.isfile(os.path.join(folder, name)))
    return hashlib.sha1("".join(digests).encode()).hexdigest()


def folder_overlap(root: str) -> tuple[list[str], int]:
    """What ``images_background/`` and ``images_evaluation/`` share: the alphabet names found in both,
    and the number of evaluation characters whose drawings equal, byte for byte, those of a
    background character (an alphabet unpacked into both folders, whatever its name)."""
    alphabets = {f: set(class_folders(os.path.join(root, f))) for f in (BACKGROUND, EVALUATION)}
    shared = sorted(alphabets[BACKGROUND] & alphabets[EVALUATION])
    digests = {f: [drawings_digest(os.path.join(root, a, c)) for a, c in character_folders(root, (f,))]
               for f in (BACKGROUND, EVALUATION)}
    seen = set(digests[BACKGROUND])
    return shared, sum(d in seen for d in digests[EVALUATION])


def overlap_problem(root: str, split: str) -> str | None:
    """One line when the two folders overlap so that ``split`` is not what it promises, else None.

    ``alphabets`` promises test alphabets never seen in training: a shared alphabet name or a
    character present in both folders breaks that. ``characters`` pools both folders, so a shared
    alphabet name is harmless there, but a duplicated character becomes two classes that may land
    on both sides of the split."""
    shared, identical = folder_overlap(root)
    if split == "characters":
        shared = []
    if not shared and not identical:
        return None
    parts = []
    if shared:
        names = ", ".join(shared[:3]) + (", ..." if len(shared) > 3 else "")
        parts.append(f"{len(shared)} alphabet name{'s' * (len(shared) > 1)} ({names})")
    if identical:
        parts.append(f"{identical} character{'s' * (identical > 1)} identical byte for byte")
    promise = "test alphabets unseen in training" if split == "alphabets" else "class-disjoint splits"
    return (f"{root}: {BACKGROUND}/ and {EVALUATION}/ share {' and '.join(parts)}, so --omniglot_split "
            f"{split} does not give {promise}; remove the duplicates, or pass --omniglot_allow_overlap "
            "true to train anyway")


def within_alphabet_split(alphabets: np.ndarray, n_train: int) -> np.ndarray:
    """A boolean train mask over characters listed alphabet by alphabet, with ``n_train`` trues:
    every alphabet gives its first characters in proportion to its size, the rest test.

    Character ``r`` (0-based) of an alphabet of ``n`` is ordered by ``(r + 0.5) / n`` (ties by
    alphabet), and the first ``n_train`` of that order train, so an alphabet of ``n`` characters
    trains about ``n * n_train / total`` of them, each alphabet is on both sides, and no character is.
    """
    _, index, counts = np.unique(alphabets, return_inverse=True, return_counts=True)
    starts = np.concatenate([[0], np.cumsum(counts)[:-1]])
    order = np.argsort(index, kind="stable")               # characters grouped by alphabet
    rank = np.empty(len(alphabets), dtype=np.int64)
    rank[order] = np.arange(len(alphabets)) - np.repeat(starts, counts)
    position = (rank + 0.5) / counts[index]
    train = np.zeros(len(alphabets), dtype=bool)
    train[np.lexsort((index, position))[:n_train]] = True
    return train


def ink_image(path: str, size: int) -> np.ndarray:
    """``path`` as a ``size`` x ``size`` float image of ink in [-1, 1]: strokes 1, paper -1
    (Omniglot draws black on white; inverted, so that zero padding and shifts add paper)."""
    from PIL import Image
    grey = load_image(path).convert("L").resize((size, size), Image.BILINEAR)   # antialiased when shrinking
    return 1.0 - np.asarray(grey, dtype=np.float32) / 127.5


class InkAffine:
    """A random affine of a ``(1, H, W)`` ink image (rotation up to 10 degrees, shift up to 0.06 of
    the side, scale 0.9-1.1, bilinear, paper filled in), drawn from torch's CPU generator.

    Applied through PIL's single-threaded float (``F``) mode: torch's ``grid_sample`` on one 32x32
    image took 0.4 ms on an idle core but 54 ms when its two intra-op threads contended with other
    processes, against 0.6 ms for PIL on the same loaded machine.
    """

    def __init__(self) -> None:
        from torchvision import transforms as T      # loaded with the data, not when flags are built
        self.affine = T.RandomAffine(10, translate=(0.06, 0.06), scale=(0.9, 1.1),
                                     interpolation=T.InterpolationMode.BILINEAR, fill=-1.0)

    def __call__(self, image: torch.Tensor) -> torch.Tensor:
        from PIL import Image
        moved = self.affine(Image.fromarray(image[0].numpy()))
        return torch.from_numpy(np.array(moved, dtype=np.float32))[None]

    def __repr__(self) -> str:
        return f"InkAffine({self.affine!r})"


@DATASETS.register("omniglot")
class OmniglotSource(ImageSource):
    """Omniglot: 1,623 handwritten characters of 50 alphabets, 20 drawings each (105x105 binary PNGs).

    Lake, Salakhutdinov & Tenenbaum, "Human-level concept learning through probabilistic program
    induction", Science 2015; https://github.com/brendenlake/omniglot. Layout
    ``<source>/images_background/<alphabet>/<character>/*.png`` and ``.../images_evaluation/...``
    (the two zip files of the repository's ``python/`` folder, unpacked), also under
    ``<source>/omniglot-py/`` (torchvision's ``Omniglot`` root) or ``<source>/omniglot/``.

    A class is one character (``alphabet/character``), in natural order; its alphabet is the
    super-class (``category``, for ``--data_sampler hierarchical``). Images are decoded once, held
    in memory at ``image_size`` px, 1 channel (ink 1, paper -1); ``--augmentation`` and
    ``--cache_resized`` do not apply.

    References: Vinyals et al., "Matching Networks for One Shot Learning", NeurIPS 2016 (1,200
    training characters; their exact character list is not reproduced by ``characters``).

    Parameters
    ----------
    split : str
        'alphabets' (the official split: 964 characters of the 30 background alphabets train, 659 of the 20 evaluation alphabets test) or 'characters' (both folders pooled, the characters split within every alphabet: class-disjoint, alphabets shared).
    train_characters : int
        Training characters of --omniglot_split characters (1,200 as in Vinyals et al., NeurIPS 2016); each alphabet trains its first characters in proportion to its size.
    image_size : int
        Side in pixels the 105x105 drawings are resized to.
    augment : bool
        Random affine on training images (rotation up to 10 degrees, shift up to 0.06 of the side, scale 0.9-1.1); never flips, since characters are not mirror-symmetric.
    allow_overlap : bool
        Train even when images_background/ and images_evaluation/ share an alphabet name or a character byte for byte (refused by default, with the overlap counted: the split would not be what --omniglot_split promises).
    """

    preset: ClassVar[dict[str, Any]] = OMNIGLOT_PRESET
    has_categories: ClassVar[bool] = True
    layout: ClassVar[str] = (f"<source>/{BACKGROUND}/<alphabet>/<character>/*.png and <source>/{EVALUATION}/... "
                             "(or under <source>/omniglot-py/)")
    wired_params: ClassVar[tuple[str, ...]] = ("root", "seed", "skip_bad_images", "workers")
    param_domains: ClassVar[dict[str, Domain]] = {"train_characters": POSITIVE, "image_size": at_least(8)}

    def __init__(self, split: Literal["alphabets", "characters"] = "alphabets", train_characters: int = 1200,
                 image_size: int = 32, augment: bool = True, allow_overlap: bool = False, root: str = "",
                 seed: int = 0, skip_bad_images: bool = False, workers: int = 8):
        if split not in ("alphabets", "characters"):
            raise ValueError(f"--omniglot_split {split!r}: expected 'alphabets' or 'characters'")
        super().__init__(root, seed, "base", "", image_size, skip_bad_images, 0, workers)
        self.split, self.train_characters, self.augment = split, train_characters, augment
        self.allow_overlap = allow_overlap

    @classmethod
    def dataset_root(cls, source: str) -> str:
        """The first of ``<source>/omniglot-py``, ``<source>/omniglot``, ``<source>`` holding either folder."""
        for container in CONTAINERS:
            folder = os.path.join(source, container) if container else source
            if any(os.path.isdir(os.path.join(folder, f)) for f in (BACKGROUND, EVALUATION)):
                return folder
        return source

    @classmethod
    def check_source(cls, root: str) -> str | None:
        folder = cls.dataset_root(root)
        missing = [f for f in (BACKGROUND, EVALUATION) if not os.path.isdir(os.path.join(folder, f))]
        if not missing:
            return None
        if len(missing) == 1:
            return (f"{folder}: no Omniglot {missing[0]}/ folder; download {missing[0]}.zip from {DOWNLOAD_URL} "
                    f"and unzip it into {folder}")
        zips = [f"{f}.zip" for f in (BACKGROUND, EVALUATION) if os.path.isfile(os.path.join(root, f"{f}.zip"))]
        found = f" (found {' and '.join(zips)}: unzip them there)" if zips else ""
        return (f"{root}: no Omniglot {BACKGROUND}/ and {EVALUATION}/ folders{found}; download {BACKGROUND}.zip "
                f"and {EVALUATION}.zip from {DOWNLOAD_URL} and unzip them into {root}")

    def read_tables(self) -> dict[str, Table]:
        problem = overlap_problem(self.root, self.split)
        if problem and not self.allow_overlap:
            raise ValueError(problem)
        if problem:
            print(f"main.py: warning: {problem.split('; remove')[0]} (--omniglot_allow_overlap)", file=sys.stderr)
        if self.split == "alphabets":
            return {"train": self.table(character_folders(self.root, (BACKGROUND,))),
                    "test": self.table(character_folders(self.root, (EVALUATION,)))}
        characters = character_folders(self.root, (BACKGROUND, EVALUATION))
        if not 0 < self.train_characters < len(characters):
            raise ValueError(f"--omniglot_train_characters {self.train_characters}: {self.root} holds "
                             f"{len(characters)} characters; expected 1 to {len(characters) - 1}")
        train = within_alphabet_split(np.asarray([a for a, _ in characters]), self.train_characters)
        return {"train": self.table([c for c, t in zip(characters, train) if t]),
                "test": self.table([c for c, t in zip(characters, train) if not t])}

    def table(self, characters: list[tuple[str, str]]) -> Table:
        """One row per drawing; label = character (in the given order), category = its alphabet,
        numbered in order of first appearance (the natural order of the split's alphabets) and named
        (``category_names``: per-alphabet metrics are reported as ``<metric>/<alphabet>``)."""
        number = {a: k for k, a in enumerate(dict.fromkeys(a for a, _ in characters))}
        table = table_from_folders(self.root, [f"{a}/{c}" for a, c in characters],
                                   np.asarray([number[a] for a, _ in characters], dtype=np.int64))
        return dataclasses.replace(table, category_names=tuple(os.path.basename(a) for a in number))

    def to_dataset(self, table: Table, train: bool) -> SplitDataset:
        with ThreadPoolExecutor(pool_size(self.workers)) as pool:
            images = list(pool.map(lambda p: ink_image(str(p), self.image_size), table.items, chunksize=64))
        tensors = dataclasses.replace(table, items=torch.from_numpy(np.stack(images)[:, None]))
        return TensorImageDataset(tensors, InkAffine() if train and self.augment else None, seed=self.seed)
