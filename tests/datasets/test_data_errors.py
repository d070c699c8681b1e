"""Bad data fails before training with a one-line error naming the path and the layout."""
from __future__ import annotations

import os

import pytest

import parameters
from datasets.cub200 import Cub200Source
from datasets.folder import FolderSource
from datasets.online_products import OnlineProductsSource
from fixture_trees import class_tree, cub_tree, sop_tree, user_cache  # noqa: F401


@pytest.mark.parametrize("dataset, expected", [
    ("cub200", "cub200/images not found; expected layout: <source>/cub200/images/<NNN.Class_Name>/*.jpg"),
    ("cars196", "cars196/images not found; expected layout: <source>/cars196/images/<class name>/"),
    ("online_products", "Info_Files/Ebay_train.txt not found; expected layout"),
    ("in_shop", "in_shop/list_eval_partition.txt not found; expected layout"),
    ("folder", "nowhere not found; expected layout: <source>/<class name>/*.jpg"),
    ("csv", "nowhere not found; expected a CSV file (or a folder with dataset.csv)"),
])
def test_missing_root_fails_at_parse_time(tmp_path, capsys, dataset, expected):
    with pytest.raises(SystemExit) as exc:
        parameters.parse_args(["--dataset", dataset, "--source", str(tmp_path / "nowhere"),
                                "--evaluation_metrics", "e_recall@1"])
    assert exc.value.code == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("main.py: error: --source: ") and expected in err and "\n" not in err


def rewrite(path, edit):
    """Replace the lines of ``path`` by ``edit(lines)``; return the original lines."""
    with open(path) as fh:
        lines = fh.read().splitlines()
    with open(path, "w") as fh:
        fh.write("\n".join(edit(lines)))
    return lines


def test_bad_index_header_names_file_and_format(tmp_path):
    sop_tree(str(tmp_path))
    rewrite(os.path.join(tmp_path, "online_products", "Info_Files", "Ebay_test.txt"),
            lambda lines: ["image_id class_id path"] + lines[1:])
    with pytest.raises(ValueError, match=r"Ebay_test.txt: bad header .*expected a header line "
                                         r"'image_id class_id super_class_id path'"):
        OnlineProductsSource(root=str(tmp_path)).tables()


def test_empty_class_folder(tmp_path):
    cub_tree(str(tmp_path))
    empty = os.path.join(tmp_path, "cub200", "images", "150.Empty")
    os.makedirs(empty)
    with pytest.raises(ValueError, match=f"empty class folder \\(no image files\\): {empty}"):
        Cub200Source(root=str(tmp_path)).tables()


def test_unreadable_image_fails_or_is_skipped(tmp_path, capsys):
    class_tree(str(tmp_path), ["a", "b", "c", "d"], per_class=3)
    bad = os.path.join(tmp_path, "c", "img_1.jpg")
    with open(bad, "wb") as fh:
        fh.write(b"not a jpeg at all")
    with pytest.raises(ValueError, match=f"unreadable image {bad} .*Pass --skip_bad_images"):
        FolderSource(root=str(tmp_path)).tables()
    source = FolderSource(root=str(tmp_path), skip_bad_images=True)
    tables = source.tables()
    assert len(tables["test"]) == 5 and source.skipped == [bad]
    assert "skipped 1 unreadable image(s)" in capsys.readouterr().out


def test_missing_listed_image_is_named(tmp_path):
    sop_tree(str(tmp_path))
    gone = os.path.join(tmp_path, "online_products", "images", "chair_final", "3000_0.JPG")
    os.remove(gone)
    with pytest.raises(ValueError, match=f"unreadable image {gone} \\(missing file\\)"):
        OnlineProductsSource(root=str(tmp_path)).tables()


def test_cub_folder_without_numeric_prefix(tmp_path):
    cub_tree(str(tmp_path))
    class_tree(os.path.join(tmp_path, "cub200", "images"), ["Sparrow"])
    with pytest.raises(ValueError, match="Sparrow has no numeric prefix"):
        Cub200Source(root=str(tmp_path)).tables()


def test_in_shop_partition_file_errors(tmp_path):
    from datasets.in_shop import InShopSource
    from fixture_trees import in_shop_tree
    in_shop_tree(str(tmp_path))
    partition = os.path.join(tmp_path, "in_shop", "Eval", "list_eval_partition.txt")
    lines = rewrite(partition, lambda lines: ["99"] + lines[1:])
    with pytest.raises(ValueError, match="the first line says 99 rows but the file has 14"):
        InShopSource(root=str(tmp_path)).tables()
    rewrite(partition, lambda _: lines[:-1] + [lines[-1].replace("gallery", "val")])
    with pytest.raises(ValueError, match="unknown evaluation_status 'val'"):
        InShopSource(root=str(tmp_path)).tables()
