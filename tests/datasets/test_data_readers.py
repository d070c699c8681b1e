"""Every real-dataset reader on a generated tree with the exact on-disk layout."""
from __future__ import annotations

import os

import pytest

import datasets
import parameters
from datasets.cars196 import Cars196Source
from datasets.csv_table import CsvSource
from datasets.cub200 import Cub200Source
from datasets.folder import FolderSource
from datasets.in_shop import InShopSource
from datasets.online_products import OnlineProductsSource
from fixture_trees import CUB_CLASSES, class_tree, cub_tree, in_shop_tree, sop_tree, user_cache, write_image  # noqa: F401


def class_names(table, level=-2):
    return sorted({p.split(os.sep)[level] for p in table.items})


def test_cub200_split_by_numeric_prefix_and_skips_appledouble(tmp_path):
    tables = Cub200Source(root=cub_tree(str(tmp_path))).tables()
    assert class_names(tables["train"]) == CUB_CLASSES[:3]
    assert class_names(tables["test"]) == CUB_CLASSES[3:]
    for table in tables.values():
        assert len(table) == 9 and sorted(set(table.labels)) == [0, 1, 2]
        assert not any(os.path.basename(p).startswith("._") for p in table.items)


def test_cars196_uses_natural_class_order(tmp_path):
    names = [f"Model {i}" for i in range(1, 197)]
    class_tree(os.path.join(tmp_path, "cars196", "images"), names, per_class=1)
    assert sorted(names)[:3] == ["Model 1", "Model 10", "Model 100"]        # string order differs
    tables = Cars196Source(root=str(tmp_path)).tables()
    assert class_names(tables["train"]) == sorted(names[:98])
    assert [p.split(os.sep)[-2] for p in tables["train"].items[:3]] == ["Model 1", "Model 2", "Model 3"]
    assert tables["train"].labels[:3].tolist() == [0, 1, 2]
    assert class_names(tables["test"]) == sorted(names[98:]) and tables["test"].labels.max() == 97


def test_online_products_official_split_with_super_classes(tmp_path):
    tables = OnlineProductsSource(root=sop_tree(str(tmp_path))).tables()
    train, test = tables["train"], tables["test"]
    assert len(train) == 8 and train.labels.tolist() == [0, 0, 1, 1, 2, 2, 3, 3]
    assert train.category.tolist() == [0, 0, 0, 0, 1, 1, 1, 1]
    assert len(test) == 6 and test.labels.tolist() == [0, 0, 1, 1, 2, 2]
    assert test.category.tolist() == [0, 0, 1, 1, 1, 1]
    assert train.items[0].endswith(os.path.join("online_products", "images", "bicycle_final/1000_0.JPG"))


@pytest.mark.parametrize("eval_subfolder", [True, False])
def test_in_shop_query_gallery_protocol(tmp_path, eval_subfolder):
    tables = InShopSource(root=in_shop_tree(str(tmp_path), eval_subfolder)).tables()
    train, test = tables["train"], tables["test"]
    assert len(train) == 7 and sorted(set(train.labels)) == [0, 1, 2] and train.is_query is None
    assert len(test) == 7 and sorted(set(test.labels)) == [0, 1, 2]
    assert test.is_query.tolist() == [True, False, False, True, True, False, False]
    assert test.is_gallery.tolist() == [False, True, True, False, False, True, True]
    assert len(set(train.category)) == 3                                  # WOMEN/Dresses, MEN/Denim, WOMEN/Skirts


def test_folder_split_by_fraction_and_by_class_list(tmp_path):
    class_tree(str(tmp_path), ["c10", "c2", "c1", "c3"])
    tables = FolderSource(root=str(tmp_path), train_frac=0.5).tables()
    assert class_names(tables["train"]) == ["c1", "c2"] and class_names(tables["test"]) == ["c10", "c3"]
    tables = FolderSource(root=str(tmp_path), train_classes=["c10", "c3"]).tables()
    assert class_names(tables["train"]) == ["c10", "c3"] and tables["train"].labels.tolist() == [0, 0, 1, 1]
    with pytest.raises(ValueError, match="no class folder 'c9'"):
        FolderSource(root=str(tmp_path), train_classes=["c9"]).tables()


def write_csv(path, lines):
    with open(path, "w") as fh:
        fh.write("\n".join(lines) + "\n")
    return str(path)


def test_csv_table_with_query_gallery_and_category(tmp_path):
    for i in range(6):
        write_image(os.path.join(tmp_path, "imgs", f"{i}.jpg"), i)
    lines = ["label,path,split,is_query,is_gallery,category",
             "cat,imgs/0.jpg,train,0,0,animal", "cat,imgs/1.jpg,train,0,0,animal",
             "car,imgs/2.jpg,train,0,0,vehicle", f"dog,{tmp_path}/imgs/3.jpg,test,1,0,animal",
             "dog,imgs/4.jpg,test,0,1,animal", "bus,imgs/5.jpg,test,false,true,vehicle"]
    write_csv(tmp_path / "dataset.csv", lines)
    tables = CsvSource(root=str(tmp_path)).tables()            # a folder holding dataset.csv
    assert tables["train"].labels.tolist() == [1, 1, 0] and tables["train"].category.tolist() == [0, 0, 1]
    assert tables["train"].is_query is None
    test = tables["test"]
    assert test.labels.tolist() == [1, 1, 0]
    assert test.is_query.tolist() == [True, False, False] and test.is_gallery.tolist() == [False, True, True]
    assert CsvSource.check_source(str(tmp_path / "dataset.csv")) is None


def test_csv_errors(tmp_path):
    write_image(os.path.join(tmp_path, "a.jpg"))
    bad = write_csv(tmp_path / "bad.csv", ["label,path,split", "x,a.jpg,training"])
    with pytest.raises(ValueError, match=r"line 2: split 'training' is not one of"):
        CsvSource(root=bad).tables()
    missing = write_csv(tmp_path / "missing.csv", ["label,file,split", "x,a.jpg,train"])
    with pytest.raises(ValueError, match="missing column 'path'"):
        CsvSource(root=missing).tables()
    os.makedirs(tmp_path / "folder")
    assert "folder/dataset.csv not found" in CsvSource.check_source(str(tmp_path / "folder"))


@pytest.mark.parametrize("by_samples", [False, True])
def test_tv_split_on_real_layout_keeps_categories(tmp_path, by_samples):
    sop_tree(str(tmp_path))
    argv = ["--dataset", "online_products", "--source", str(tmp_path), "--use_tv_split", "--tv_split_perc", "0.5",
            "--kernels", "0", "--online_products_image_size", "16", "--evaluation_metrics", "e_recall@1"]
    argv += ["--tv_split_by_samples"] if by_samples else []
    data = datasets.select(parameters.parse_args(argv))
    assert set(data) == {"train", "val", "test"}
    train, val = data["train"], data["val"]
    assert len(train) + len(val) == 8 and train.category is not None and val.category is not None
    shared = set(train.paths) & set(val.paths)
    assert not shared
    if by_samples:
        assert len(set(train.labels)) == 4 and len(set(val.labels)) == 4
    else:
        assert len(set(train.labels)) == 2 and len(set(val.labels)) == 2
    image, label = val[0]
    assert image.shape == (3, 16, 16) and isinstance(label, int)
