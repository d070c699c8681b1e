"""--cv_folds K --cv_fold i: a class-disjoint partition of the training classes, seed-independent."""
from __future__ import annotations

import numpy as np
import pytest

from conftest import TINY_GLYPHS


def tables_of(argv):
    import datasets
    import parameters
    opt = parameters.parse_args(argv)
    return {split: d.table for split, d in datasets.select(opt).items()}, opt




def test_folds_partition_the_training_classes_and_never_touch_test(tmp_path):
    import datasets
    import parameters
    base = TINY_GLYPHS + ["--save_path", str(tmp_path), "--cv_folds", "3"]
    opt = parameters.parse_args(base + ["--cv_fold", "0"])
    source = datasets.build_source(opt).tables()
    train_items = source["train"].items
    test_keys = {np.asarray(x).tobytes() for x in source["test"].items}
    val_sets = []
    for fold in range(3):
        for seed in ("0", "7"):
            tables, opt = tables_of(base + ["--cv_fold", str(fold), "--seed", seed])
            assert opt.use_tv_split and set(tables) == {"train", "val", "test"}
            val = {np.asarray(x).tobytes() for x in tables["val"].items}
            train = {np.asarray(x).tobytes() for x in tables["train"].items}
            assert not val & train and not (val | train) & test_keys
            assert len(val) + len(train) == len(train_items)
            if seed == "0":
                val_sets.append(val)
                val_labels = tables["val"].labels
            else:                                                # glyph pixels follow the seed; the
                assert np.array_equal(tables["val"].labels, val_labels)   # classes and counts do not
    assert all(not a & b for i, a in enumerate(val_sets) for b in val_sets[i + 1:])
    assert sum(len(v) for v in val_sets) == len(train_items)    # a partition


def test_cv_fold_split_is_contiguous_in_class_order():
    from datasets.table import Table, cv_fold_split
    labels = np.repeat(np.arange(7), 2)
    table = Table(labels=labels, items=np.arange(14))
    vals = [cv_fold_split(table, 3, i)[1].items for i in range(3)]
    assert [sorted(set(labels[v])) for v in vals] == [[0, 1, 2], [3, 4], [5, 6]]


@pytest.mark.parametrize("flags, expected", [
    (["--cv_folds", "1"], "--cv_folds 1"),
    (["--cv_folds", "3", "--cv_fold", "3"], "--cv_fold 3"),
    (["--cv_folds", "2", "--tv_split_by_samples"], "--tv_split_by_samples"),
])
def test_bad_fold_flags_are_one_line_exit_2(flags, expected, capsys):
    import parameters
    with pytest.raises(SystemExit) as exc:
        parameters.parse_args(TINY_GLYPHS + flags)
    err = capsys.readouterr().err.strip()
    assert exc.value.code == 2 and expected in err and "\n" not in err


@pytest.mark.parametrize("dataset, train_classes", [("cub200", 100), ("cars196", 98), ("online_products", 11318)])
def test_folds_are_powerful_benchmarkers_class_ranges(dataset, train_classes):
    """The Reality Check's folds (powerful-benchmarker's ClassDisjointSplitManager: test_size 0.5,
    test_start_idx 0.5, 4 training partitions, no shuffle) take the sorted classes' first half as
    train+val, the second half as test (dmlbench's CUB200 and Cars196 training classes are the same
    first halves) and cut the first half with sklearn's KFold(4) without shuffling: CUB200 4 x 25
    classes, Cars196 25, 25, 24, 24. SOP keeps its official 11,318 training classes, cut the same way."""
    from sklearn.model_selection import KFold
    from datasets.table import Table, cv_fold_split
    table = Table(labels=np.repeat(np.arange(train_classes), 2), items=np.arange(2 * train_classes))
    reference = [val for _, val in KFold(n_splits=4, shuffle=False).split(np.arange(train_classes))]
    for fold in range(4):
        train, val = cv_fold_split(table, 4, fold)
        assert np.array_equal(np.unique(np.asarray(val.items) // 2), reference[fold])   # rows -> classes
        assert not set(np.asarray(train.items) // 2) & set(reference[fold])
    expected = {"cub200": [25] * 4, "cars196": [25, 25, 24, 24]}
    if dataset in expected:
        assert [len(v) for v in reference] == expected[dataset]
