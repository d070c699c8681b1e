"""Validation splits that cannot select: fewer than two classes is refused in one line
(one class ranks nothing: every retrieval score is 1.0 and selection always picks epoch 1)."""
from __future__ import annotations

import os

import numpy as np
import pytest

import main
from datasets.table import Table, cv_fold_split, split_train_val


def table_of(n_classes: int, per_class: int) -> Table:
    labels = np.repeat(np.arange(n_classes), per_class)
    return Table(labels=labels, items=np.arange(len(labels)))


def test_a_class_split_leaving_one_validation_class_is_refused():
    with pytest.raises(ValueError, match="leaves 1 class for validation.*--tv_split_perc 0.6 or less"):
        split_train_val(table_of(5, 4), 0.8, by_samples=False, seed=0)
    train, val = split_train_val(table_of(5, 4), 0.6, by_samples=False, seed=0)
    assert len(np.unique(val.labels)) == 2 and len(np.unique(train.labels)) == 3


def test_a_sample_split_with_one_validation_class_is_refused():
    labels = np.array([0, 0, 1, 2, 3])           # only class 0 has two samples
    with pytest.raises(ValueError, match="validation split would hold 1 class"):
        split_train_val(Table(labels=labels, items=np.arange(5)), 0.5, by_samples=True, seed=0)


def test_cv_folds_that_would_validate_on_one_class_are_refused():
    """5 folds of 8 classes are partitions of 2, 2, 2, 1, 1 classes; MAP@R was 1.0 on the last two."""
    with pytest.raises(ValueError, match="--cv_folds 5: the dataset has only 8 training classes.*2 to 4 folds"):
        cv_fold_split(table_of(8, 3), 5, 0)
    assert all(len(np.unique(cv_fold_split(table_of(8, 3), 4, i)[1].labels)) == 2 for i in range(4))


def test_digits_with_use_tv_split_is_refused_in_one_line(tmp_path, capsys):
    """The digits preset trains on 5 classes: --tv_split_perc 0.8 left a 1-class validation split."""
    argv = ["--dataset", "digits", "--use_tv_split", "--save_path", str(tmp_path), "--savename", "d"]
    with pytest.raises(SystemExit) as exc:
        main.main(argv)
    err = capsys.readouterr().err.strip()
    assert exc.value.code == 2 and "\n" not in err and "--use_tv_split" in err and "1 class" in err
    assert not os.path.exists(tmp_path / "digits" / "d")
