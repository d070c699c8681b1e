"""A deliberately broken component fails each shipped contract check (every check can fail), and
the exemptions are the declared ones."""
from __future__ import annotations

import numpy as np
import pytest
import torch
from torch import nn

import architectures
import contracts
import datasets
import metrics
from architectures.input_space import BNINCEPTION
from batch_mining.all_triplets import AllTripletsMiner
from contracts import CHECKS, Subject, checks_for, run_check
from criteria.reducers.basic import MeanReducer
from criteria.regularizers.lp import LpRegularizer
from criteria.terms import LossTerm
from criteria.triplet import TripletLoss
from datasampler.class_random import ClassRandomSampler
from datasampler.full_random import FullRandomSampler
from datasets.digits import DigitsSource
from datasets.table import Table
from datasets.tensor_dataset import TensorImageDataset
from distances.cosine import CosineSimilarity
from distances.euclidean import EuclideanDistance
from distances.snr import SNRDistance
from utilities.registry import Entry
from utilities.tuples import Triplets



def named(kind: str, name: str) -> contracts.Check:
    return next(c for c in CHECKS[kind] if c.name == name)


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


LOSS_CASES = [("loss", VectorLoss, "check_loss_forward", "0-dim"), ("loss", Float32Loss, "check_loss_float64", "float64"),
              ("loss", DetachedOnDegenerateLoss, "check_loss_degenerate_batches", "one_class"),
              ("loss", NaNOnPairsLoss, "check_loss_mined_tuples", "pairs"),
              ("loss", UnsavedStateLoss, "check_loss_state_dict", "state_dict"),
              ("loss", SetMinerTripletLoss, "check_loss_declarations", "default miner"),
              ("loss", UnknownKindLoss, "check_loss_declarations", "unknown tuple kinds")]


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


class Int32OnDegenerateMiner(AllTripletsMiner):
    """Well typed on a regular batch, int32 indices when the batch has one class."""
    def mine(self, embeddings, labels):
        out = super().mine(embeddings, labels)
        return Triplets(*(t.int() for t in out)) if labels.unique().numel() == 1 else out


MINER_CASES = [("miner", WrongLabelPositiveMiner, "check_miner_label_consistency", "positive with another label"),
               ("miner", Int32Miner, "check_miner_output", "int64"),
               ("miner", PairsDeclaredTripletsMiner, "check_miner_output", "declares"),
               ("miner", OutOfRangeMiner, "check_miner_output", "out of range"),
               ("miner", GradientMiner, "check_miner_output", "gradient"),
               ("miner", SelfPairsOnDegenerateMiner, "check_miner_label_consistency", "own positive"),
               ("miner", Int32OnDegenerateMiner, "check_miner_degenerate_batches", "one_class.*int64")]


def test_label_consistency_exemption_is_explicit():
    class Declared(WrongLabelPositiveMiner):
        label_consistent = False
    names = contracts.check_component("miner", Declared)    # declared on purpose (like rho_distance's flips)
    assert "check_miner_label_consistency" not in names and "check_miner_output" in names


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


DISTANCE_CASES = [("distance", AsymmetricEuclidean, "check_distance_symmetry", "symmetric"),
                  ("distance", SimilarityNotDeclared, "check_distance_ordering", "closest_first"),
                  ("distance", Float32Distance, "check_distance_matrix", "float64"),
                  ("distance", SymmetricSNR, "check_distance_symmetry", "symmetric")]


def test_an_asymmetric_distance_is_exempt_from_symmetry_only_by_declaring_it():
    assert [c.name for c in checks_for(Subject("distance", SNRDistance))] == ["check_distance_matrix",
                                                                             "check_distance_ordering"]
    assert "check_distance_symmetry" in [c.name for c in checks_for(Subject("distance", SymmetricSNR))]


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


class UnguardedReducer(MeanReducer):
    """Skips the base class's empty-term guard: the mean of nothing is NaN."""
    def __call__(self, term, labels):
        return self.reduce(term, labels)


REDUCER_CASES = [("reducer", Float32Reducer, "check_reducer_term_kinds", "float64"),
                 ("reducer", VectorReducer, "check_reducer_term_kinds", "0-dim"),
                 ("reducer", UnguardedReducer, "check_reducer_empty_term", "empty term")]
REGULARIZER_CASES = [(kind, broken, check, match) for kind in ("embedding_regularizer", "weight_regularizer")
                     for broken, check, match in [(NaNOnEmptyRegularizer, "check_regularizer_empty_matrix", "empty"),
                                                  (DetachedRegularizer, "check_regularizer_matrix", "connected")]]


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


class RankBlindSampler(FullRandomSampler):
    """Every rank keeps the first part of the global batch."""
    def rank_slice(self, batch):
        return batch[:self.batch_size // self.world_size]


SAMPLER_CASES = [("sampler", WrongSizeSampler, "check_sampler_batches", "a batch of 7"),
                 ("sampler", UnseededSampler, "check_sampler_determinism", "deterministic"),
                 ("sampler", OneClassTooManySampler, "check_sampler_batches", "P x K"),
                 ("sampler", ForgetfulSampler, "check_sampler_state_dict", "state_dict"),
                 ("sampler", RankBlindSampler, "check_sampler_ranks", "do not split")]


# --------------------------------------------------------------------------- architectures
def unnormalized_net():
    """A '_normalize' network whose output is scaled after the normalisation."""
    model = architectures.build("convnet_normalize", embed_dim=8, pretrained=False)
    forward = model.forward
    model.forward = lambda x: 2 * forward(x)
    return model


def misdeclared_input_space_net():
    """A network whose backbone declares another input space than the one it normalises into."""
    model = architectures.build("convnet", embed_dim=8, pretrained=False)
    model.backbone.input_space = BNINCEPTION
    return model


ARCHITECTURE_CASES = [
    ("architecture", lambda: Subject("architecture", unnormalized_net()), "check_architecture_output", "unit norm"),
    ("architecture", lambda: Subject("architecture", architectures.build("convnet", embed_dim=8, pretrained=False),
                                     embed_dim=9), "check_architecture_output", r"not \(2, 9\)"),
    ("architecture", lambda: Subject("architecture", nn.Sequential(nn.Flatten(), nn.Linear(3 * 32 * 32, 8),
                                                                   nn.Unflatten(1, (8, 1)))),
     "check_architecture_output", "output"),
    ("architecture", lambda: Subject("architecture", misdeclared_input_space_net()), "check_architecture_pixels",
     "normalisation"),
]


def test_a_bare_module_is_checked_on_float_images_only():
    flat = nn.Sequential(nn.Flatten(), nn.LazyLinear(8))
    assert contracts.check_component("architecture", flat) == ["check_architecture_output"]


# --------------------------------------------------------------------------- datasets
class ReaderWithUnfilledArgument(DigitsSource):
    """Requires an argument nobody supplies: select would die with a TypeError in a user's run."""
    wired_params = ("seed",)

    def __init__(self, image_dir, seed: int = 0):
        super().__init__(seed=seed)


class ReaderWithUnknownWiredName(DigitsSource):
    wired_params = DigitsSource.wired_params + ("gpu",)


class Items(torch.utils.data.Dataset):
    """A split with labels and masks but no table: the shape of a split before the protocol was declared."""
    def __init__(self, image, labels, is_query=None, is_gallery=None):
        self.image, self.labels, self.is_query, self.is_gallery = image, labels, is_query, is_gallery

    def __len__(self):
        return len(self.labels)

    def __getitem__(self, i):
        return self.image, int(self.labels[i])


class TablelessSource(DigitsSource):
    """Splits that answer ``labels`` and the masks but are no SplitDataset: a run's data fingerprint
    (``datasets.identity``) would crash on the missing ``table``."""
    def to_dataset(self, table, train):
        return Items(torch.zeros(1, 8, 8), table.labels)


class WrongRowsView(TensorImageDataset):
    def eval_view(self):
        return TensorImageDataset(self.table.subset(np.arange(1)))


class WrongRowsViewSource(DigitsSource):
    def to_dataset(self, table, train):
        return WrongRowsView(table)


def with_splits(**splits) -> Subject:
    """A dataset subject whose built splits are ``splits`` (hand-made, no source is read)."""
    subject = Subject("dataset", DigitsSource)
    subject.built = splits
    return subject


def split(image, labels, **masks) -> TensorImageDataset:
    class Constant(TensorImageDataset):
        def __getitem__(self, i):
            return image, int(self.labels[i])
    return Constant(Table(labels, torch.zeros(len(labels)), **masks))


GOOD = split(torch.zeros(1, 4, 4), np.array([0, 1]))
DATASET_CASES = [
    ("dataset", ReaderWithUnfilledArgument, "check_dataset_reader", "requires 'image_dir'"),
    ("dataset", ReaderWithUnknownWiredName, "check_dataset_reader", "'gpu'"),
    ("dataset", lambda: with_splits(train=GOOD), "check_dataset_items", "splits"),
    ("dataset", lambda: with_splits(train=GOOD, test=split(torch.zeros(4, 4), np.array([0, 1]))),
     "check_dataset_items", r"FloatTensor\[C, H, W\]"),
    ("dataset", lambda: with_splits(train=GOOD, test=Items(torch.zeros(1, 4, 4), [0, 1])),
     "check_dataset_items", "numpy int array"),
    ("dataset", lambda: with_splits(train=GOOD, test=split(torch.zeros(1, 4, 4), np.array([0, 1]),
                                                           is_query=np.array([1, 0]), is_gallery=np.array([True, True]))),
     "check_dataset_items", "is_query"),
    ("dataset", lambda: with_splits(train=GOOD, test=split(torch.zeros(1, 4, 4), np.array([0, 1]),
                                                           is_query=np.array([True, False]))),
     "check_dataset_items", "only one of"),
    ("dataset", TablelessSource, "check_dataset_protocol", "not a datasets.base.SplitDataset"),
    ("dataset", WrongRowsViewSource, "check_dataset_protocol", "eval_view"),
]


def test_a_tableless_source_passes_the_item_checks_and_would_crash_a_run():
    """What the protocol check is for: these splits look right item by item, yet a run dies on them."""
    subject = Subject("dataset", TablelessSource)
    for name in ("check_dataset_reader", "check_dataset_items"):
        run_check(named("dataset", name), subject)
    with pytest.raises(AttributeError, match="table"):
        datasets.fingerprint({split: ds.table for split, ds in subject.built.items()})
    with pytest.raises(AssertionError, match=r"check_dataset_protocol\(TablelessSource\)"):
        contracts.check_component("dataset", TablelessSource)


def test_select_passes_a_reader_only_the_arguments_it_declares():
    """A reader may declare only what it needs: here neither root, augmentation nor arch."""
    class MinimalDigits(DigitsSource):
        wired_params = ("seed",)

        def __init__(self, seed: int = 0):
            super().__init__(seed=seed)
    assert contracts.check_component("dataset", MinimalDigits) == [c.name for c in CHECKS["dataset"]]


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


def computes(value_of):
    return lambda emb, labels, names: {n: value_of for n in names} if value_of is not None else {}


METRIC_CASES = [
    ("metric", lambda: Subject("metric", Entry("broken", None, {"evidence": "rankings", "space": "euclidean"})),
     "check_metric_metadata", "unknown evidence kind 'rankings'"),
    ("metric", lambda: Subject("metric", "e_recall", compute=computes(1.5)), "check_metric_values", "outside its range"),
    ("metric", lambda: Subject("metric", "e_recall", compute=computes(float("nan"))), "check_metric_values", "nan"),
    ("metric", lambda: Subject("metric", "e_recall", compute=computes(None)), "check_metric_values", "missing"),
]


# --------------------------------------------------------------------------- every check can fail
BROKEN = (LOSS_CASES + MINER_CASES + DISTANCE_CASES + REDUCER_CASES + REGULARIZER_CASES + SAMPLER_CASES
          + ARCHITECTURE_CASES + DATASET_CASES + METRIC_CASES)


def case_id(case) -> str:
    kind, broken, check, _ = case
    return f"{check}-{broken.__name__ if isinstance(broken, type) else BROKEN.index(case)}"


@pytest.mark.parametrize("kind, broken, check, match", BROKEN, ids=[case_id(c) for c in BROKEN])
def test_broken_component_fails_its_check(kind, broken, check, match):
    subject = Subject(kind, broken) if isinstance(broken, type) else broken()
    with pytest.raises(AssertionError, match=match):
        run_check(named(kind, check), subject)


def test_every_check_is_shown_failing():
    assert {(kind, check) for kind, _, check, _ in BROKEN} == {(k, c.name) for k in CHECKS for c in CHECKS[k]}


def test_check_component_names_the_failed_check():
    with pytest.raises(AssertionError, match=r"^check_loss_forward\(VectorLoss\): .*0-dim"):
        contracts.check_component("loss", VectorLoss)
    assert contracts.check_component("loss", TripletLoss)[0] == "check_loss_declarations"
    with pytest.raises(ValueError, match="unknown component kind 'losses'"):
        contracts.check_component("losses", TripletLoss)
