"""A deliberately broken component of each kind fails its contract (the checks can catch)."""
from __future__ import annotations

import numpy as np
import pytest
import torch
from torch import nn

import architectures
import datasets
import metrics
from batch_mining.all_triplets import AllTripletsMiner
from criteria.reducers.basic import MeanReducer
from criteria.regularizers.lp import LpRegularizer
from criteria.terms import LossTerm
from criteria.triplet import TripletLoss
from datasampler.class_random import ClassRandomSampler
from datasampler.full_random import FullRandomSampler
from datasets.digits import DigitsSource
from distances.cosine import CosineSimilarity
from distances.euclidean import EuclideanDistance
from distances.snr import SNRDistance
from tests.contracts import checks
from utilities.tuples import Triplets


def fails(check, *args, match: str = "") -> None:
    with pytest.raises(AssertionError, match=match):
        check(*args)


# --------------------------------------------------------------------------- losses
class VectorLoss(TripletLoss):
    """Returns per-element values: a 1-dim tensor."""
    def forward(self, embeddings, labels, indices_tuple=None):
        return super().forward(embeddings, labels, indices_tuple).reshape(1)


class Float32Loss(TripletLoss):
    """Drops float64 to float32."""
    def forward(self, embeddings, labels, indices_tuple=None):
        return super().forward(embeddings.float(), labels, indices_tuple)


class DetachedOnDegenerateLoss(TripletLoss):
    """A bare (unconnected) zero when the batch has a single class."""
    def forward(self, embeddings, labels, indices_tuple=None):
        if labels.unique().numel() == 1:
            return torch.zeros((), dtype=embeddings.dtype)
        return super().forward(embeddings, labels, indices_tuple)


class NaNOnPairsLoss(TripletLoss):
    """Non-finite when given pairs (it claims to take them)."""
    takes = ("triplets", "pairs")
    def forward(self, embeddings, labels, indices_tuple=None):
        out = super().forward(embeddings, labels, None if indices_tuple is None or len(indices_tuple) == 4 else indices_tuple)
        return out * float("nan") if indices_tuple is not None and len(indices_tuple) == 4 else out


class UnsavedStateLoss(TripletLoss):
    """A random scale that is not part of the state dict."""
    def __init__(self, **kw):
        super().__init__(**kw)
        self.scale = float(torch.rand(()))
    def forward(self, embeddings, labels, indices_tuple=None):
        return super().forward(embeddings, labels, indices_tuple) * self.scale + self.scale


class SetMinerTripletLoss(TripletLoss):
    """Defaults to a miner whose sets it cannot take."""
    default_miner = "npair"


class UnknownKindLoss(TripletLoss):
    """Claims a tuple kind that does not exist."""
    takes = ("triplets", "quadruples")


@pytest.mark.parametrize("broken, match", [(VectorLoss, "0-dim"), (Float32Loss, "float64"),
                                           (DetachedOnDegenerateLoss, "one_class"), (NaNOnPairsLoss, "pairs"),
                                           (UnsavedStateLoss, "state_dict"), (SetMinerTripletLoss, "default miner"),
                                           (UnknownKindLoss, "unknown tuple kinds")])
def test_broken_loss_fails(broken, match):
    fails(checks.check_loss, broken, match=match)


# --------------------------------------------------------------------------- miners
class WrongLabelPositiveMiner(AllTripletsMiner):
    """Swaps positives and negatives."""
    def mine(self, embeddings, labels):
        a, p, n = super().mine(embeddings, labels)
        return Triplets(a, n, p)


class Int32Miner(AllTripletsMiner):
    def mine(self, embeddings, labels):
        return Triplets(*(t.int() for t in super().mine(embeddings, labels)))


class PairsDeclaredTripletsMiner(AllTripletsMiner):
    output = "pairs"


class OutOfRangeMiner(AllTripletsMiner):
    def forward(self, embeddings, labels):
        a, p, n = super().forward(embeddings, labels)
        return Triplets(a, p, n + labels.numel())


class GradientMiner(AllTripletsMiner):
    """Returns float 'indices' that carry a gradient."""
    def forward(self, embeddings, labels):
        a, p, n = super().forward(embeddings, labels)
        w = embeddings.sum() * 0
        return Triplets(a + w, p + w, n + w)


class SelfPairsOnDegenerateMiner(AllTripletsMiner):
    """An anchor as its own positive when the batch has one class."""
    def mine(self, embeddings, labels):
        if labels.unique().numel() == 1:
            i = torch.arange(labels.numel())
            return Triplets(i, i, i)
        return super().mine(embeddings, labels)


@pytest.mark.parametrize("broken, match", [(WrongLabelPositiveMiner, "positive with another label"),
                                           (Int32Miner, "int64"), (PairsDeclaredTripletsMiner, "declares"),
                                           (OutOfRangeMiner, "out of range"), (GradientMiner, "gradient"),
                                           (SelfPairsOnDegenerateMiner, "own positive")])
def test_broken_miner_fails(broken, match):
    fails(checks.check_miner, broken, match=match)


def test_label_consistency_exemption_is_explicit():
    class Declared(WrongLabelPositiveMiner):
        label_consistent = False
    checks.check_miner(Declared)          # declared on purpose (like rho_distance's flips): allowed


# --------------------------------------------------------------------------- distances
class AsymmetricEuclidean(EuclideanDistance):
    def _pairwise(self, x, y):
        return super()._pairwise(x, y) + torch.arange(y.shape[0], dtype=x.dtype)


class SimilarityNotDeclared(CosineSimilarity):
    is_similarity = False


class Float32Distance(EuclideanDistance):
    def _pairwise(self, x, y):
        return super()._pairwise(x.float(), y.float())


class SymmetricSNR(SNRDistance):
    is_symmetric = True


@pytest.mark.parametrize("broken, match", [(AsymmetricEuclidean, "symmetric"), (SimilarityNotDeclared, "closest_first"),
                                           (Float32Distance, "float64"), (SymmetricSNR, "symmetric")])
def test_broken_distance_fails(broken, match):
    fails(checks.check_distance, broken, match=match)


# --------------------------------------------------------------------------- reducers, regularizers
class Float32Reducer(MeanReducer):
    """Drops float64 to float32."""
    def reduce(self, term, labels):
        return term.values.mean().float()


class VectorReducer(MeanReducer):
    def reduce(self, term: LossTerm, labels):
        return term.values


class NaNOnEmptyRegularizer(LpRegularizer):
    def __call__(self, tensor):
        return tensor.mean()


class DetachedRegularizer(LpRegularizer):
    def compute(self, tensor):
        return super().compute(tensor).detach()


@pytest.mark.parametrize("broken, match", [(Float32Reducer, "float64"), (VectorReducer, "0-dim")])
def test_broken_reducer_fails(broken, match):
    fails(checks.check_reducer, broken, match=match)


@pytest.mark.parametrize("broken, match", [(NaNOnEmptyRegularizer, "empty"), (DetachedRegularizer, "connected")])
def test_broken_regularizer_fails(broken, match):
    fails(checks.check_regularizer, broken, match=match)


# --------------------------------------------------------------------------- samplers
class WrongSizeSampler(FullRandomSampler):
    def global_batches(self):
        for b in super().global_batches():
            yield b[:-1]


class UnseededSampler(FullRandomSampler):
    def rng(self):
        return np.random.default_rng()


class OneClassTooManySampler(ClassRandomSampler):
    """Breaks P x K: the last item is replaced by one of the first class."""
    def global_batches(self):
        for b in super().global_batches():
            b = np.array(b)
            b[-1] = b[0]
            yield b


class ForgetfulSampler(FullRandomSampler):
    def load_state_dict(self, state):
        pass


@pytest.mark.parametrize("broken, match", [(WrongSizeSampler, "a batch of 7"), (UnseededSampler, "deterministic"),
                                           (OneClassTooManySampler, "P x K"), (ForgetfulSampler, "state_dict")])
def test_broken_sampler_fails(broken, match):
    fails(checks.check_sampler, broken, match=match)


# --------------------------------------------------------------------------- architectures
def test_broken_architecture_fails():
    model = architectures.build("convnet", embed_dim=8, pretrained=False)
    fails(checks.check_architecture, model, 8, True, match="unit norm")            # not '_normalize'
    fails(checks.check_architecture, model, 9, False, match=r"not \(2, 9\)")
    flat = nn.Sequential(nn.Flatten(), nn.LazyLinear(8))
    checks.check_architecture(flat, 8, False)
    fails(checks.check_architecture, nn.Sequential(nn.Flatten(), nn.Linear(3 * 32 * 32, 8), nn.Unflatten(1, (8, 1))),
          8, False, match="output shape")


# --------------------------------------------------------------------------- datasets
class ReaderWithUnfilledArgument(DigitsSource):
    """Requires an argument nobody supplies: select would die with a TypeError in a user's run."""
    def __init__(self, image_dir, seed: int = 0):
        super().__init__(seed=seed)


class ReaderWithUnknownWiredName(DigitsSource):
    wired_params = DigitsSource.wired_params + ("gpu",)


def test_broken_reader_fails():
    fails(checks.check_reader, ReaderWithUnfilledArgument, match="requires 'image_dir'")
    fails(checks.check_reader, ReaderWithUnknownWiredName, match="'gpu'")


def test_select_passes_a_reader_only_the_arguments_it_takes(tmp_path):
    """A reader may declare only what it needs: here neither root, augmentation nor arch."""
    class MinimalDigits(DigitsSource):
        def __init__(self, seed: int = 0):
            super().__init__(seed=seed)
    assert datasets.accepted(MinimalDigits, {"root": "x", "seed": 3, "arch": "a", "workers": 4}) == {"seed": 3}
    checks.check_reader(MinimalDigits)
    datasets.DATASETS._entries["minimal_digits_test"] = datasets.DATASETS._entries["digits"].__class__(
        "minimal_digits_test", MinimalDigits)
    try:
        import argparse
        opt = argparse.Namespace(dataset="minimal_digits_test", source_path=str(tmp_path), seed=0, augmentation="base",
                                 arch="convnet", skip_bad_images=False, cache_resized=0, kernels=0, use_tv_split=False)
        checks.check_dataset_splits(datasets.select(opt), "minimal_digits_test")
    finally:
        del datasets.DATASETS._entries["minimal_digits_test"]


def test_broken_dataset_splits_fail():
    class Items(torch.utils.data.Dataset):
        def __init__(self, image, labels, **masks):
            self.image, self.labels = image, labels
            for k, v in masks.items():
                setattr(self, k, v)
        def __len__(self):
            return len(self.labels)
        def __getitem__(self, i):
            return self.image, int(self.labels[i])
    good = Items(torch.zeros(1, 4, 4), np.array([0, 1]))
    checks.check_dataset_splits({"train": good, "test": good})
    fails(checks.check_dataset_splits, {"train": good}, match="splits")
    fails(checks.check_dataset_splits, {"train": good, "test": Items(torch.zeros(4, 4), np.array([0, 1]))},
          match=r"FloatTensor\[C, H, W\]")
    fails(checks.check_dataset_splits, {"train": good, "test": Items(torch.zeros(1, 4, 4), [0, 1])},
          match="numpy int array")
    fails(checks.check_dataset_splits, {"train": good, "test": Items(torch.zeros(1, 4, 4), np.array([0, 1]),
                                                                      is_query=np.array([1, 0]))}, match="is_query")


# --------------------------------------------------------------------------- metrics
def _register(**meta):
    registry = metrics.MetricRegistry("metric")
    registry.register("broken_metric", **meta)(lambda *a: 0.0)


@pytest.mark.parametrize("meta, match", [
    ({"evidence": "ranking", "spcae": "euclidean", "arg": "k"}, "unknown metadata key 'spcae'"),
    ({"evidence": "rankings", "space": "euclidean", "arg": "k"}, "unknown evidence kind 'rankings'"),
    ({"space": "euclidean", "arg": "k"}, "'evidence' is required"),
    ({"evidence": "ranking", "arg": "k"}, "'space' is required"),
    ({"evidence": "clustering", "space": "manhattan"}, "unknown space"),
    ({"evidence": "ranking", "space": "euclidean"}, "needs 'depth'"),
    ({"evidence": "ranking", "space": "euclidean", "arg": "K"}, "'arg' must be"),
    ({"evidence": "ranking", "space": "euclidean", "arg": "k", "depth": 0}, "'depth' must be"),
    ({"evidence": "class_distances", "arg": ("a", "b"), "lower_is_better": ("c",)}, "'lower_is_better'"),
    ({"evidence": "spectrum", "arg": "int", "range": (1, 0)}, "'range'"),
])
def test_metric_with_bad_metadata_fails_at_registration(meta, match):
    with pytest.raises(metrics.MetricRegistryError, match=match):
        _register(**meta)


def test_valid_metric_metadata_registers():
    _register(evidence="ranking", space="cosine", arg="k")
    _register(evidence="ranking", space="euclidean", depth="R")


def test_metric_outside_its_range_fails():
    entry = metrics.METRICS.entry("e_recall")
    fails(checks.check_metric, entry, lambda emb, labels, names: {n: 1.5 for n in names}, match="outside its range")
    fails(checks.check_metric, entry, lambda emb, labels, names: {n: float("nan") for n in names}, match="nan")
    fails(checks.check_metric, entry, lambda emb, labels, names: {}, match="missing")
