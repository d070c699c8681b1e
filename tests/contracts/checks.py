"""The contract of every component kind, as reusable checks (scikit-learn's ``check_estimator``).

Each ``check_<kind>`` takes a component class (or a built object where the kind needs one) and
raises ``AssertionError`` naming what broke. ``test_contracts.py`` runs them over every registry
entry; ``test_broken_components.py`` shows that a deliberately broken component fails them.
"""
from __future__ import annotations

import copy
import inspect
from typing import Any, Callable

import numpy as np
import torch

import batch_mining
import criteria
from criteria.base import LossModule
from criteria.terms import LossTerm
from utilities.tuples import tuple_kind

B, D, N_CLASSES = 12, 8, 16
#: What a :class:`~criteria.terms.LossTerm` element can be (criteria/terms.py).
TERM_KINDS = ("element", "pos_pair", "neg_pair", "triplet", "reduced")
TUPLE_KINDS = ("triplets", "pairs", "sets")


# --------------------------------------------------------------------------- batches
def batch(labels: list[int] | torch.Tensor, dtype: torch.dtype = torch.float32, seed: int = 1,
          dim: int = D) -> tuple[torch.Tensor, torch.Tensor]:
    """Leaf embeddings (requiring grad) and int64 labels."""
    labels = torch.as_tensor(labels, dtype=torch.long)
    gen = torch.Generator().manual_seed(seed)
    emb = torch.randn(labels.numel(), dim, generator=gen, dtype=torch.float64).to(dtype).requires_grad_(True)
    return emb, labels


def regular_labels() -> torch.Tensor:
    return torch.arange(4).repeat_interleave(B // 4)           # 4 classes x 3


#: Degenerate batches every loss and miner must survive: all one class, all distinct, two items.
DEGENERATE = {"one_class": [0] * 8, "all_distinct": list(range(8)), "two_same": [0, 0], "two_distinct": [0, 1]}


def _finite_scalar(out: Any, what: str, dtype: torch.dtype | None = None) -> None:
    assert isinstance(out, torch.Tensor), f"{what}: returned {type(out).__name__}, not a tensor"
    assert out.dim() == 0, f"{what}: returned shape {tuple(out.shape)}, not a 0-dim tensor"
    assert torch.isfinite(out), f"{what}: returned {out.item()}"
    if dtype is not None:
        assert out.dtype == dtype, f"{what}: {dtype} input gave a {out.dtype} output"


def _backward(out: torch.Tensor, leaf: torch.Tensor, what: str) -> None:
    assert out.requires_grad, f"{what}: output is not connected to the input's graph"
    leaf.grad = None
    out.backward()
    assert leaf.grad is not None, f"{what}: no gradient reached the input"
    assert torch.isfinite(leaf.grad).all(), f"{what}: non-finite gradient"


# --------------------------------------------------------------------------- losses
def build_loss(cls: type, **extra: Any) -> torch.nn.Module:
    """A loss with its defaults; losses owning parameters get ``n_classes``/``embed_dim``."""
    params = inspect.signature(cls.__init__).parameters
    kwargs = {k: v for k, v in (("n_classes", N_CLASSES), ("embed_dim", D)) if k in params}
    return cls(**kwargs, **extra)


def reference_miner(kind: str) -> torch.nn.Module:
    """One registered miner per output kind: the first by name whose ``output`` is ``kind``."""
    names = [n for n in batch_mining.names() if batch_mining.MINERS.get(n).output == kind]
    assert names, f"no registered miner yields {kind}"
    return batch_mining.MINERS.get(names[0])()


def miner_kinds_for(cls: type) -> dict[str, str]:
    """``{miner output kind: kind the loss is given}`` for every kind its check accepts."""
    takes = tuple(cls.takes)
    out = {}
    for kind in TUPLE_KINDS:
        target = batch_mining.conversion_target(kind, takes) if takes else None
        if target is not None:
            out[kind] = target
    return out


def check_loss(cls: type) -> None:
    """``loss(emb, labels, indices_tuple=None)`` is a finite 0-dim tensor with a gradient; so with
    every miner output kind it accepts, on degenerate batches, in float32 and float64; and
    ``state_dict`` restores the same loss."""
    name = cls.__name__
    assert issubclass(cls, LossModule), f"{name}: not a criteria.base.LossModule"
    assert set(cls.takes) <= set(TUPLE_KINDS), f"{name}: takes unknown tuple kinds {cls.takes}"
    if cls.default_miner is not None:
        output = batch_mining.MINERS.get(cls.default_miner).output
        assert batch_mining.conversion_target(output, tuple(cls.takes)), \
            f"{name}: its default miner {cls.default_miner} yields {output}, which it cannot take"
    torch.manual_seed(0)
    loss = build_loss(cls)
    emb, labels = batch(regular_labels())
    out = loss(emb, labels)
    _finite_scalar(out, f"{name}(emb, labels)", torch.float32)
    _backward(out, emb, f"{name}(emb, labels)")

    kinds = miner_kinds_for(cls)
    assert not cls.takes or kinds, f"{name}: takes {cls.takes} but no miner output converts to it"
    for kind, target in kinds.items():
        tuples = reference_miner(kind)(emb.detach(), labels)
        given = loss.convert(tuples, len(labels))
        assert tuple_kind(given) == target, f"{name}: convert gave {tuple_kind(given)}, not {target}"
        what = f"{name} with {kind} mined (given as {target})"
        out = loss(emb, labels, given)
        _finite_scalar(out, what, torch.float32)
        _backward(out, emb, what)

    for case, case_labels in DEGENERATE.items():
        e, l = batch(case_labels)
        out = loss(e, l)
        _finite_scalar(out, f"{name} on a '{case}' batch", torch.float32)
        _backward(out, e, f"{name} on a '{case}' batch")
        for kind, target in kinds.items():
            given = loss.convert(reference_miner(kind)(e.detach(), l), len(l))
            out = loss(e, l, given)
            _finite_scalar(out, f"{name} on a '{case}' batch with {kind} mined", torch.float32)
            _backward(out, e, f"{name} on a '{case}' batch with {kind} mined")

    loss64 = copy.deepcopy(loss).double()
    e64, l = batch(regular_labels(), torch.float64)
    _finite_scalar(loss64(e64, l), f"{name} in float64", torch.float64)

    torch.manual_seed(1)
    twin = build_loss(cls)
    twin.load_state_dict(loss.state_dict())
    e, l = batch(regular_labels(), seed=5)
    torch.manual_seed(7)                       # stochastic losses (quadruplet) draw the same
    a = loss(e, l)
    torch.manual_seed(7)
    b = twin(e, l)
    assert torch.allclose(a, b, atol=1e-6), f"{name}: state_dict round trip changed the loss ({a} vs {b})"


# --------------------------------------------------------------------------- miners
def _check_tuples(tuples: Any, labels: torch.Tensor, kind: str, what: str, consistent: bool = True) -> int:
    """Typed, in-range tuples of ``kind``, label-consistent when ``consistent``; returns the count."""
    assert isinstance(tuples, tuple), f"{what}: returned {type(tuples).__name__}, not a tuple"
    got = tuple_kind(tuples)
    assert got == kind, f"{what}: declares output '{kind}' but returned {got}"
    n = labels.numel()
    for t in tuples:
        assert isinstance(t, torch.Tensor), f"{what}: an element is {type(t).__name__}"
        assert t.grad_fn is None and not t.requires_grad, f"{what}: output carries a gradient"
    if kind == "sets":
        anchors, pos, neg = tuples
        assert anchors.dtype == torch.int64, f"{what}: anchors are {anchors.dtype}, not int64"
        assert pos.dtype == neg.dtype == torch.bool, f"{what}: masks are not bool"
        assert pos.shape == neg.shape == (anchors.numel(), n), f"{what}: masks are not (A, B)"
        assert ((anchors >= 0) & (anchors < n)).all(), f"{what}: anchor out of range"
        same = labels[anchors].view(-1, 1) == labels.view(1, -1)
        selfish = anchors.view(-1, 1) == torch.arange(n).view(1, -1)
        if not consistent:
            return anchors.numel()
        assert not (pos & ~same).any(), f"{what}: a positive with another label"
        assert not (pos & selfish).any(), f"{what}: an anchor is its own positive"
        assert not (neg & same).any(), f"{what}: a negative with the anchor's label"
        return anchors.numel()
    for t in tuples:
        assert t.dtype == torch.int64, f"{what}: index dtype {t.dtype}, not int64"
        assert t.dim() == 1, f"{what}: index tensor of shape {tuple(t.shape)}"
        assert ((t >= 0) & (t < n)).all(), f"{what}: index out of range [0, {n})"
    if kind == "triplets":
        a, p, ng = tuples
        assert a.numel() == p.numel() == ng.numel(), f"{what}: triplet tensors differ in length"
        pos_pairs, neg_pairs = (a, p), (a, ng)
    else:
        a1, p, a2, ng = tuples
        assert a1.numel() == p.numel() and a2.numel() == ng.numel(), f"{what}: pair tensors differ in length"
        pos_pairs, neg_pairs = (a1, p), (a2, ng)
    count = tuples[0].numel() + (tuples[2].numel() if kind == "pairs" else 0)
    if not consistent:
        return count
    assert (labels[pos_pairs[0]] == labels[pos_pairs[1]]).all(), f"{what}: a positive with another label"
    assert (pos_pairs[0] != pos_pairs[1]).all(), f"{what}: an anchor is its own positive"
    assert (labels[neg_pairs[0]] != labels[neg_pairs[1]]).all(), f"{what}: a negative with the anchor's label"
    return count


def check_miner(cls: type) -> None:
    """Tuples of the declared ``output`` kind, int64, in range, without gradient, and (unless the
    miner declares ``label_consistent = False``) label-consistent; degenerate batches give
    well-typed outputs, empty when a label-consistent triplet miner has no valid triplet."""
    name = cls.__name__
    kind = cls.output
    assert kind in TUPLE_KINDS, f"{name}: output '{kind}' is not one of {TUPLE_KINDS}"
    torch.manual_seed(0)
    miner = cls()
    emb, labels = batch(regular_labels())
    before = emb.detach().clone()
    consistent = getattr(cls, "label_consistent", True)
    tuples = miner(emb, labels)
    _check_tuples(tuples, labels, kind, f"{name}(emb, labels)", consistent)
    assert emb.grad is None and torch.equal(emb.detach(), before), f"{name}: touched its input"
    assert isinstance(miner.stats, dict), f"{name}: stats is not a dict"
    for case, case_labels in DEGENERATE.items():
        e, l = batch(case_labels)
        count = _check_tuples(miner(e, l), l, kind, f"{name} on a '{case}' batch", consistent)
        if kind == "triplets" and consistent:
            assert count == 0, f"{name}: {count} triplets from a '{case}' batch, which has none"


# --------------------------------------------------------------------------- distances
def check_distance(cls: type) -> None:
    """A (B, M) matrix, finite, symmetric unless ``is_symmetric`` is false, dtype kept;
    ``closest_first`` puts a near copy before an opposite point and ``gap`` is positive when
    the negative is the closer."""
    name = cls.__name__
    dist = cls()
    assert isinstance(cls.is_similarity, bool), f"{name}: is_similarity is not a bool"
    for dtype in (torch.float32, torch.float64):
        x, _ = batch(list(range(B)), dtype)
        y, _ = batch(list(range(5)), dtype, seed=2)
        m = dist(x)
        assert m.shape == (B, B), f"{name}: shape {tuple(m.shape)} for {B} rows, not ({B}, {B})"
        assert m.dtype == dtype, f"{name}: {dtype} input gave {m.dtype}"
        assert torch.isfinite(m).all(), f"{name}: non-finite values"
        assert dist(x, y).shape == (B, 5), f"{name}: (x, y) gave shape {tuple(dist(x, y).shape)}"
        if getattr(cls, "is_symmetric", True):
            assert torch.allclose(m, m.T, atol=1e-5), f"{name}: not symmetric (declare is_symmetric = False)"
    a = torch.nn.functional.normalize(batch(list(range(B)), torch.float64)[0].detach(), dim=1)
    near = a + 0.01 * batch(list(range(B)), torch.float64, seed=3)[0].detach()
    d_near, d_far = torch.diagonal(dist(a, near)), torch.diagonal(dist(a, -a))
    assert (dist.closest_first(d_near) < dist.closest_first(d_far)).all(), (
        f"{name}: closest_first does not put a near copy before the opposite point "
        f"(is_similarity={cls.is_similarity})")
    assert (dist.gap(d_far, d_near) > 0).all(), f"{name}: gap(pos=far, neg=near) is not positive"


# --------------------------------------------------------------------------- reducers, regularizers
def check_reducer(cls: type) -> None:
    """A finite 0-dim tensor of the input dtype, connected to the values, for every LossTerm kind
    (with anchors) and for an empty term."""
    name = cls.__name__
    reducer = cls()
    labels = regular_labels()
    gen = torch.Generator().manual_seed(0)
    for dtype in (torch.float32, torch.float64):
        for kind in TERM_KINDS:
            m = 1 if kind == "reduced" else 20
            values = torch.rand(m, generator=gen, dtype=torch.float64).to(dtype).requires_grad_(True)
            anchors = torch.randint(0, B, (m,), generator=gen)
            what = f"{name} on a {kind} term ({dtype})"
            out = reducer(LossTerm(values, kind, anchors), labels)
            _finite_scalar(out, what, dtype)
            _backward(out, values, what)
        values = torch.zeros(0, dtype=dtype, requires_grad=True)
        out = reducer(LossTerm(values, "triplet", torch.zeros(0, dtype=torch.long)), labels)
        _finite_scalar(out, f"{name} on an empty term", dtype)
        assert out.requires_grad, f"{name}: an empty term's zero is not connected"


def check_regularizer(cls: type, rows: int = B) -> None:
    """A finite 0-dim tensor of the input dtype with a gradient, on a (rows, D) matrix; a
    connected zero on an empty one."""
    name = cls.__name__
    reg = cls()
    for dtype in (torch.float32, torch.float64):
        x, _ = batch(list(range(rows)), dtype)
        out = reg(x)
        _finite_scalar(out, f"{name} ({dtype})", dtype)
        _backward(out, x, f"{name} ({dtype})")
        empty = torch.zeros(0, D, dtype=dtype, requires_grad=True)
        out = reg(empty)
        _finite_scalar(out, f"{name} on an empty matrix", dtype)


# --------------------------------------------------------------------------- samplers
SAMPLER_LABELS = np.repeat(np.arange(12), 6)                 # 12 classes x 6 items = 72 items
SAMPLER_CATEGORIES = SAMPLER_LABELS // 4                     # 3 super-classes of 4 classes
SAMPLER_STORAGE = np.random.default_rng(0).normal(size=(len(SAMPLER_LABELS), 4))
SAMPLER_BS, SAMPLER_K = 8, 2
#: Keyword arguments for samplers that take them (batch-match pools fit the 72 items).
SAMPLER_KWARGS = {"samples_per_class": SAMPLER_K, "categories": SAMPLER_CATEGORIES, "pool_size": 24,
                  "length_before_new_iter": 40}


def build_sampler(cls: type, seed: int = 3, rank: int = 0, world_size: int = 1) -> Any:
    params = inspect.signature(cls.__init__).parameters
    kwargs = {k: v for k, v in SAMPLER_KWARGS.items() if k in params}
    sampler = cls(labels=SAMPLER_LABELS, batch_size=SAMPLER_BS, seed=seed, rank=rank, world_size=world_size,
                  **kwargs)
    if hasattr(sampler, "set_storage"):
        sampler.set_storage(SAMPLER_STORAGE)
    return sampler


def sampler_epoch(sampler: Any, e: int = 1) -> list[list[int]]:
    sampler.set_epoch(e)
    return [list(b) for b in sampler]


def takes_k(cls: type) -> bool:
    return "samples_per_class" in inspect.signature(cls.__init__).parameters


def check_sampler(cls: type) -> None:
    """``len(sampler)`` batches of ``batch_size`` valid indices; P x K classes when it takes
    ``samples_per_class``; batches a function of (seed, epoch); two ranks split each global
    batch (by whole classes for P x K); ``state_dict`` replays the epoch."""
    name = cls.__name__
    batches = sampler_epoch(build_sampler(cls))
    assert len(batches) == len(build_sampler(cls)) > 0, f"{name}: yielded {len(batches)} batches, len() says otherwise"
    for b in batches:
        assert len(b) == SAMPLER_BS, f"{name}: a batch of {len(b)}, not {SAMPLER_BS}"
        assert all(isinstance(i, int) and 0 <= i < len(SAMPLER_LABELS) for i in b), f"{name}: bad index in {b}"
        if takes_k(cls):
            classes, counts = np.unique(SAMPLER_LABELS[b], return_counts=True)
            assert len(classes) == SAMPLER_BS // SAMPLER_K and (counts == SAMPLER_K).all(), (
                f"{name}: batch is not P x K = {SAMPLER_BS // SAMPLER_K} x {SAMPLER_K}: {SAMPLER_LABELS[b].tolist()}")
        else:
            assert len(set(b)) == len(b), f"{name}: repeats an item within a batch"
    assert sampler_epoch(build_sampler(cls), 2) == sampler_epoch(build_sampler(cls), 2), f"{name}: not deterministic"
    assert sampler_epoch(build_sampler(cls), 2) != sampler_epoch(build_sampler(cls), 3), f"{name}: epochs repeat"
    assert sampler_epoch(build_sampler(cls, seed=4), 2) != sampler_epoch(build_sampler(cls), 2), (
        f"{name}: ignores the seed")

    whole = sampler_epoch(build_sampler(cls))
    r0 = sampler_epoch(build_sampler(cls, rank=0, world_size=2))
    r1 = sampler_epoch(build_sampler(cls, rank=1, world_size=2))
    assert len(r0) == len(r1) == len(whole), f"{name}: ranks yield different batch counts"
    for b0, b1, b in zip(r0, r1, whole):
        assert len(b0) == len(b1) == SAMPLER_BS // 2 and b0 + b1 == b, f"{name}: ranks do not split the global batch"
        if takes_k(cls):
            assert not set(SAMPLER_LABELS[b0]) & set(SAMPLER_LABELS[b1]), f"{name}: a class is split across ranks"
        else:
            assert not set(b0) & set(b1), f"{name}: ranks share an item"

    sampler = build_sampler(cls)
    if hasattr(sampler, "state_dict"):
        sampler.set_epoch(5)
        state = sampler.state_dict()
        expected = [list(b) for b in sampler]
        fresh = build_sampler(cls)
        fresh.load_state_dict(state)
        assert [list(b) for b in fresh] == expected, f"{name}: state_dict does not resume the epoch"


# --------------------------------------------------------------------------- architectures
def check_architecture(model: torch.nn.Module, embed_dim: int, normalize: bool, in_channels: int = 3,
                       size: int = 32, name: str = "") -> None:
    """A forward of a tiny (2, C, size, size) input gives finite (2, embed_dim) embeddings, of unit
    norm when ``normalize``; a uint8 pixel batch gives the embeddings of its normalisation into
    the backbone's declared ``input_space`` (the image datasets yield pixels)."""
    from architectures.input_space import InputSpace
    name = name or type(model).__name__
    model = model.eval()
    with torch.no_grad():
        out = model(torch.randn(2, in_channels, size, size, generator=torch.Generator().manual_seed(0)))
    assert isinstance(out, torch.Tensor) and out.shape == (2, embed_dim), (
        f"{name}: output shape {tuple(getattr(out, 'shape', ()))}, not (2, {embed_dim})")
    assert torch.isfinite(out).all(), f"{name}: non-finite embeddings"
    if normalize:
        assert torch.allclose(out.norm(dim=1), torch.ones(2), atol=1e-5), f"{name}: '_normalize' output not unit norm"
    backbone = getattr(model, "backbone", None)
    if backbone is None:                                       # a bare module (tests of the check)
        return
    space = getattr(backbone, "input_space", None)
    assert isinstance(space, InputSpace), f"{name}: the backbone declares no input_space (architectures.input_space)"
    pixels = torch.randint(0, 256, (2, in_channels, size, size), dtype=torch.uint8,
                           generator=torch.Generator().manual_seed(1))
    mean, std = torch.tensor(space.mean).view(1, 3, 1, 1), torch.tensor(space.std).view(1, 3, 1, 1)
    if in_channels != 3:                                       # a grey network: the channel means
        mean, std = mean.mean(1, keepdim=True), std.mean(1, keepdim=True)
    floats = (pixels / 255.0 - mean) / std
    with torch.no_grad():
        from_pixels, from_floats = model(pixels), model(floats.flip(1) if space.bgr else floats)
    assert torch.allclose(from_pixels, from_floats, atol=1e-4 * (1 + float(from_floats.abs().max()))), (
        f"{name}: uint8 pixels do not give the embeddings of their {space} normalisation")


# --------------------------------------------------------------------------- datasets
def check_reader(cls: type) -> None:
    """``datasets.select`` can build the reader: every required argument is a wired value it
    supplies, its wired names are ones it knows, and the rest become flags."""
    import datasets
    from utilities.flags import signature_flags
    name = cls.__name__
    unknown = [w for w in cls.wired_params if w not in datasets.WIRED_NAMES]
    assert not unknown, f"{name}: wired_params names '{unknown[0]}', which select never supplies"
    missing = datasets.unfilled_arguments(cls)
    assert not missing, f"{name}: __init__ requires '{missing[0]}', which select cannot supply"
    try:
        signature_flags(cls, "x_{param}")
    except TypeError as err:
        raise AssertionError(f"{name}: {err}") from None


def check_dataset_splits(data: dict[str, Any], name: str = "") -> None:
    """``select``'s output: train and test (and val), items ``(FloatTensor[C, H, W], int)``,
    ``labels`` a numpy int array, ``is_query``/``is_gallery`` bool arrays when present."""
    assert isinstance(data, dict), f"{name}: select returned {type(data).__name__}"
    assert {"train", "test"} <= set(data) <= {"train", "val", "test"}, f"{name}: splits {sorted(data)}"
    for split, ds in data.items():
        what = f"{name}[{split}]"
        assert len(ds) > 0, f"{what}: empty"
        labels = getattr(ds, "labels", None)
        assert isinstance(labels, np.ndarray) and np.issubdtype(labels.dtype, np.integer), (
            f"{what}: labels is {type(labels).__name__} {getattr(labels, 'dtype', '')}, not a numpy int array")
        assert len(labels) == len(ds), f"{what}: {len(labels)} labels for {len(ds)} items"
        for i in (0, len(ds) - 1):
            item = ds[i]
            assert isinstance(item, tuple) and len(item) == 2, f"{what}[{i}]: not an (image, label) pair"
            image, label = item
            assert isinstance(image, torch.Tensor) and image.dim() == 3 and (
                image.dtype == torch.float32 or (image.dtype == torch.uint8 and image.shape[0] == 3)), (
                f"{what}[{i}]: image is {type(image).__name__} {getattr(image, 'dtype', '')} "
                f"{tuple(getattr(image, 'shape', ()))}, not FloatTensor[C, H, W] nor uint8 RGB pixels [3, H, W]")
            assert isinstance(label, int) and not isinstance(label, bool), f"{what}[{i}]: label is {type(label).__name__}"
            assert label == int(labels[i]), f"{what}[{i}]: label {label} but labels[{i}] = {labels[i]}"
        for mask in ("is_query", "is_gallery"):
            value = getattr(ds, mask, None)
            if value is not None:
                assert isinstance(value, np.ndarray) and value.dtype == bool and len(value) == len(ds), (
                    f"{what}: {mask} is not a bool array of length {len(ds)}")
        if getattr(ds, "is_query", None) is not None or getattr(ds, "is_gallery", None) is not None:
            assert getattr(ds, "is_query", None) is not None and getattr(ds, "is_gallery", None) is not None, (
                f"{what}: has only one of is_query/is_gallery")


# --------------------------------------------------------------------------- metrics
def example_names(entry: Any) -> list[str]:
    """Metric names that exercise a registered family: each choice, or a small argument."""
    arg = entry.meta.get("arg")
    if arg == "k":
        return [f"{entry.name}@2"]
    if arg == "int":
        return [f"{entry.name}@1", f"{entry.name}@-1"]
    if isinstance(arg, tuple):
        return [f"{entry.name}@{c}" for c in arg]
    return [entry.name]


def metric_fixture() -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(0)
    labels = np.repeat(np.arange(4), 5)
    centres = rng.normal(size=(4, D)) * 3
    return (centres[labels] + rng.normal(size=(len(labels), D))).astype(np.float32), labels


def check_metric(entry: Any, compute: Callable[..., dict[str, float]] | None = None) -> None:
    """Every example name of a registered family parses and computes a finite float within its
    range (``MetricName.range``) on a tiny fixture."""
    import metrics
    compute = compute or metrics.compute
    emb, labels = metric_fixture()
    for metric in example_names(entry):
        parsed = metrics.parse(metric)
        out = compute(emb, labels, [metric])
        assert metric in out, f"{metric}: missing from the results ({sorted(out)})"
        value = out[metric]
        assert isinstance(value, float), f"{metric}: {type(value).__name__}, not a float"
        assert np.isfinite(value), f"{metric}: {value}"
        low, high = parsed.range
        assert low - 1e-9 <= value <= high + 1e-9, f"{metric}: {value} outside its range [{low}, {high}]"
