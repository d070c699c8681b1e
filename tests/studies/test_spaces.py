"""Search spaces as YAML data: the shipped ones load, bad ones are refused with the closest flag."""
from __future__ import annotations

import pytest

from studies import StudyError
from studies.spaces import default_paths, load, resolve

PAPER_METHODS = {"contrastive", "triplet", "ntxent", "proxynca", "margin", "margin_per_class_beta", "softmax",
                 "cosface", "arcface", "fastap", "snr_contrastive", "multisimilarity", "multisimilarity_miner",
                 "softtriple"}


@pytest.fixture(scope="module")
def flag_names():
    import parameters
    return [a.dest for a in parameters.build_parser()._actions if a.dest != "help"]


def test_every_shipped_space_loads(flag_names):
    assert PAPER_METHODS <= set(default_paths())
    spaces = resolve(sorted(default_paths()), [], flag_names)
    assert all(s.search for s in spaces.values())


@pytest.mark.parametrize("body, expected", [
    ("search: {loss_triplet_margn: {type: float, low: 0, high: 1}}", "closest: loss_triplet_margin"),
    ("search: {loss_triplet_margin: {type: float, low: 2, high: 1}}", "low 2 > high 1"),
    ("search: {lr: {type: logfloat, low: 0, high: 1}}", "low > 0"),
    ("search: {lr: {type: gaussian, low: 0, high: 1}}", "expected {type"),
    ("fixed: {los: triplet}", "closest: loss"),
])
def test_bad_space_is_refused(tmp_path, flag_names, body, expected):
    path = tmp_path / "mine.yaml"
    path.write_text(body)
    with pytest.raises(StudyError, match=None) as exc:
        load(str(path), flag_names)
    assert expected in str(exc.value) and str(path) in str(exc.value)


def test_user_space_overrides_and_unknown_method(tmp_path, flag_names):
    path = tmp_path / "triplet.yaml"
    path.write_text("fixed: {loss: triplet}\nsearch: {lr: {type: logfloat, low: 1.0e-5, high: 1.0e-3}}\n")
    assert resolve(["triplet"], [str(path)], flag_names)["triplet"].search == {
        "lr": {"type": "logfloat", "low": 1e-5, "high": 1e-3}}
    with pytest.raises(StudyError, match="closest: triplet"):
        resolve(["triplett"], [], flag_names)


# The Reality Check's published optima (Musgrave et al., ECCV 2020; powerful-benchmarker's
# docs/papers/mlrc.md: CUB200, Cars196, SOP, CUB200 with batch 256), in dmlbench's conventions:
# ArcFace margins in radians, ProxyNCA's temperature = 1 / softmax_scale, SoftTriple's gamma = 1 / the
# paper's, the proxies' learning rates as lrmulti at --lr 1e-5.
DEG = 3.141592653589793 / 180
PUBLISHED = {
    "contrastive": {"loss_contrastive_pos_margin": [-0.2, 0.2652, 0.2850, 0.2227],
                    "loss_contrastive_neg_margin": [0.3841, 0.5409, 0.5130, 0.7694]},
    "triplet": {"loss_triplet_margin": [0.0961, 0.1190, 0.0451, 0.1368]},
    "ntxent": {"loss_ntxent_temperature": [0.0091, 0.0219, 0.0002, 0.0415]},
    "proxynca": {"loss_proxynca_lrmulti": [v / 1e-5 for v in (6.04e-3, 4.43e-3, 5.28e-4, 2.16e-1)],
                 "loss_proxynca_temperature": [1 / v for v in (13.98, 7.97, 10.73, 10.03)]},
    "margin": {"loss_margin_beta_lr": [1.31e-3, 1.11e-4, 1.82e-3, 1.00e-6],
               "loss_margin_margin": [0.0878, 0.0781, 0.0915, 0.0674],
               "loss_margin_beta": [0.7838, 1.3164, 1.1072, 0.9762]},
    "margin_per_class_beta": {"loss_margin_beta_lr": [2.65e-4, 4.76e-5, 7.10e-5, 1.32e-2],
                              "loss_margin_margin": [0.0779, 0.0776, 0.0518, -0.0204],
                              "loss_margin_beta": [0.9796, 0.9598, 0.8424, 0.1097]},
    "softmax": {"loss_softmax_lr": [4.46e-3, 1.10e-2, 5.46e-4, 7.20e-2],
                "loss_softmax_temperature": [0.1087, 0.0886, 0.0630, 0.0707]},
    "cosface": {"loss_cosface_lr": [2.53e-3, 7.41e-3, 2.16e-3, 3.99e-3],
                "loss_cosface_margin": [0.6182, 0.4324, 0.3364, 0.4144],
                "loss_cosface_scale": [100.0, 161.5, 100.0, 88.23]},
    "arcface": {"loss_arcface_lr": [5.13e-3, 7.39e-6, 2.01e-3, 3.95e-2],
                "loss_arcface_angular_margin": [v * DEG for v in (23.22, 20.52, 18.63, 23.14)],
                "loss_arcface_feature_scale": [100.0, 49.50, 220.3, 78.86]},
    "fastap": {"loss_fastap_num_bins": [17, 27, 16, 86]},
    "snr_contrastive": {"loss_contrastive_pos_margin": [0.3264, 0.1670, 0.3759, 0.1182],
                        "loss_contrastive_neg_margin": [0.8446, 0.9337, 1.0831, 0.6822]},
    "multisimilarity": {"loss_multisimilarity_pos_weight": [0.01, 14.35, 8.49, 0.01],
                        "loss_multisimilarity_neg_weight": [50.60, 75.83, 57.38, 46.85],
                        "loss_multisimilarity_thresh": [0.56, 0.66, 0.41, 0.82]},
    "multisimilarity_miner": {"loss_multisimilarity_pos_weight": [17.97, 7.49, 15.94, 11.63],
                              "loss_multisimilarity_neg_weight": [75.66, 47.99, 156.61, 55.20],
                              "loss_multisimilarity_thresh": [0.77, 0.63, 0.72, 0.85],
                              "miner_multisimilarity_epsilon": [0.39, 0.72, 0.34, 0.42]},
    "softtriple": {"loss_softtriplet_lrmulti": [v / 1e-5 for v in (5.37e-5, 1.40e-4, 8.68e-5, 1.06e-4)],
                   "loss_softtriplet_lambda": [78.02, 17.69, 100.00, 72.12],
                   "loss_softtriplet_gamma": [1 / v for v in (58.95, 19.18, 47.90, 51.07)],
                   "loss_softtriplet_reg_weight": [0.3754, 0.0669, 0.4430],
                   "loss_softtriplet_margin_delta": [0.4307, 0.3588, 0.3145, 0.6959]},
}
# What the paper fixed and dmlbench must fix too (not search).
FIXED = {"softtriple": {"loss_softtriplet_n_centroids": 10},
         "multisimilarity": {"loss_multisimilarity_margin": 2.0, "batch_mining": "none"},
         "multisimilarity_miner": {"loss_multisimilarity_margin": 2.0, "batch_mining": "multisimilarity"},
         "margin": {"loss_margin_beta_constant": False, "loss_margin_beta_per_class": False},
         "margin_per_class_beta": {"loss_margin_beta_constant": False, "loss_margin_beta_per_class": True}}
LOG_SEARCHED = {"multisimilarity": ("loss_multisimilarity_pos_weight", "loss_multisimilarity_neg_weight"),
                "multisimilarity_miner": ("loss_multisimilarity_pos_weight", "loss_multisimilarity_neg_weight")}


@pytest.mark.parametrize("method", sorted(PUBLISHED))
def test_every_published_optimum_lies_in_the_shipped_space(flag_names, method):
    space = load(default_paths()[method], flag_names)
    assert set(space.search) == set(PUBLISHED[method])        # the paper's searched parameters, no more
    for flag, optima in PUBLISHED[method].items():
        spec = space.search[flag]
        for value in optima:
            assert float(spec["low"]) <= value <= float(spec["high"]), (method, flag, value, spec)
    for flag, value in FIXED.get(method, {}).items():
        assert space.fixed[flag] == value, (method, flag)
    for flag in LOG_SEARCHED.get(method, ()):
        assert space.search[flag]["type"] == "logfloat"       # alpha = 0.01 must be reachable


def test_every_shipped_space_quotes_the_published_optima():
    for method, path in default_paths().items():
        with open(path, encoding="utf-8") as fh:
            text = fh.read()
        assert "Published optima" in text and "docs/papers/mlrc.md" in text, method


def test_a_mining_margin_of_two_keeps_every_pair():
    """The multi-similarity spaces fix the loss's own mining margin at 2: the loss is then the
    all-pairs multi-similarity loss, checked against a float64 loop over anchors and pairs."""
    import math
    import torch
    import torch.nn.functional as F
    from criteria.multisimilarity import MultiSimilarityLoss
    torch.manual_seed(0)
    emb = F.normalize(torch.randn(12, 6, dtype=torch.float64), dim=1)
    labels = torch.arange(3).repeat_interleave(4)
    alpha, beta, lam = 2.0, 40.0, 0.5
    got = MultiSimilarityLoss(pos_weight=alpha, neg_weight=beta, thresh=lam, margin=2.0)(emb, labels).item()
    sim = (emb @ emb.T).tolist()
    pos, neg = [], []
    for a in range(12):
        ps = [sim[a][p] for p in range(12) if p != a and labels[p] == labels[a]]
        ns = [sim[a][n] for n in range(12) if labels[n] != labels[a]]
        pos.append(math.log1p(sum(math.exp(-alpha * (s - lam)) for s in ps)) / alpha)
        neg.append(math.log1p(sum(math.exp(beta * (s - lam)) for s in ns)) / beta)
    assert got == pytest.approx(sum(pos) / 12 + sum(neg) / 12, rel=1e-9)
    mined = MultiSimilarityLoss(pos_weight=alpha, neg_weight=beta, thresh=lam, margin=0.1)(emb, labels).item()
    assert mined != pytest.approx(got, rel=1e-6)           # the default margin 0.1 mines: another loss
