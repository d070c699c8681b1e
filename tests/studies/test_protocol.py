"""A study folder keeps its protocol: a rerun with other settings is refused in one line naming
them (the old search was labelled with the new budget or metric), --extend may only add trials or
reproductions."""
from __future__ import annotations

import dataclasses
import json

import pytest

from studies import StudyError
from studies.outputs import write_study_record
from studies.protocol import check_rerun, differences, protocol
from studies.settings import Settings
from studies.spaces import Space

SPACE = Space("triplet", {"loss": "triplet"}, {"loss_triplet_margin": {"type": "float", "low": 0.0, "high": 1.0}},
              "triplet.yaml")


def settings(tmp_path, **changes) -> Settings:
    base = Settings(study_dir=str(tmp_path), spaces={"triplet": SPACE}, trials=3, folds=2, metric="map_at_r",
                    seed=0, reproductions=2, base_argv=["--dataset", "glyphs", "--n_epochs", "1"])
    return dataclasses.replace(base, **changes)


@pytest.fixture
def study(tmp_path):
    write_study_record(settings(tmp_path), epochs=1)
    return tmp_path


def test_the_same_protocol_reruns(study):
    check_rerun(str(study), settings(study), 1, extend=False)


@pytest.mark.parametrize("changes, epochs, expected", [
    ({"folds": 4}, 1, "--cv_folds 2 (now 4)"),
    ({"metric": "e_recall@1"}, 1, "--metric map_at_r (now e_recall@1)"),
    ({"trials": 1}, 1, "--trials 3 (now 1)"),
    ({"trials": 8}, 1, "--trials 3 (now 8)"),
    ({}, 5, "--n_epochs 1 (now 5)"),
    ({"base_argv": ["--dataset", "digits", "--n_epochs", "1"]}, 1,
     "the main.py flags after -- --dataset glyphs --n_epochs 1 (now --dataset digits --n_epochs 1)"),
    ({"spaces": {"triplet": dataclasses.replace(SPACE, search={})}}, 1, "the search space of 'triplet'"),
])
def test_another_protocol_is_refused_naming_what_differs(study, changes, epochs, expected):
    with pytest.raises(StudyError) as err:
        check_rerun(str(study), settings(study, **changes), epochs, extend=False)
    line = str(err.value)
    assert expected in line and "Name a new --study folder" in line and "\n" not in line


def test_extend_raises_trials_and_reproductions_only(study):
    check_rerun(str(study), settings(study, trials=8, reproductions=5), 1, extend=True)
    with pytest.raises(StudyError, match=r"--trials 3 \(now 1\)"):
        check_rerun(str(study), settings(study, trials=1), 1, extend=True)      # fewer is never an extension
    with pytest.raises(StudyError, match=r"--cv_folds 2 \(now 3\)"):
        check_rerun(str(study), settings(study, trials=8, folds=3), 1, extend=True)


def test_a_new_method_may_join_and_the_record_says_everything(study):
    other = Space("contrastive", {"loss": "contrastive"}, {}, "contrastive.yaml")
    check_rerun(str(study), settings(study, spaces={"triplet": SPACE, "contrastive": other}), 1, extend=False)
    record = json.loads((study / "study.json").read_text())
    assert record["dataset"] == "glyphs" and record["methods"]["triplet"]["space"] == "triplet.yaml"
    assert differences(record, protocol(settings(study), 1), extend=False) == []
