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
