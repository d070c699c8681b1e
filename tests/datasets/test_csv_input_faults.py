"""CSV tables: encodings, physical line numbers, numeric labels, duplicated rows, query-less splits."""
from __future__ import annotations

import pytest

from datasets.csv_table import CsvSource
from fixture_trees import csv_tree, user_cache  # noqa: F401

HEADER = "label,path,split"
SIX_ROWS = ["a,imgs/0.jpg,train", "a,imgs/1.jpg,train", "b,imgs/2.jpg,train",
            "c,imgs/3.jpg,test", "c,imgs/4.jpg,test", "d,imgs/5.jpg,test"]


def test_utf8_byte_order_mark_is_read(tmp_path):
    path = csv_tree(str(tmp_path), [HEADER] + SIX_ROWS, encoding="utf-8-sig")
    tables = CsvSource(root=path).tables()
    assert tables["train"].labels.tolist() == [0, 0, 1] and len(tables["test"]) == 3


def test_latin1_file_named_with_the_encoding_problem(tmp_path):
    path = csv_tree(str(tmp_path), [HEADER] + SIX_ROWS[:4] + ["café,imgs/4.jpg,test"], encoding="latin-1")
    with pytest.raises(ValueError) as exc:
        CsvSource(root=path).tables()
    message = str(exc.value)
    assert message.startswith(f"{path}: line 6: byte 0xe9 is not UTF-8") and "\n" not in message


def test_error_line_numbers_count_blank_lines(tmp_path):
    path = csv_tree(str(tmp_path), [HEADER, "", "a,imgs/0.jpg,train", "", "", "a,imgs/1.jpg,training"])
    with pytest.raises(ValueError, match=r"dataset.csv: line 6: split 'training' is not one of"):
        CsvSource(root=path).tables()
    path = csv_tree(str(tmp_path), ["label,path,split,is_query", "", "a,imgs/0.jpg,train,0", "b,imgs/1.jpg,train,0",
                                    "", "c,imgs/2.jpg,test,maybe"])
    with pytest.raises(ValueError, match=r"dataset.csv: line 6: is_query: expected 0/1"):
        CsvSource(root=path).tables()


def test_numeric_labels_one_class_per_number(tmp_path):
    rows = [HEADER, "1,imgs/0.jpg,train", "1.0,imgs/1.jpg,train", "01,imgs/2.jpg,train", "1.5,imgs/3.jpg,train",
            "1.50,imgs/4.jpg,train", "cat,imgs/5.jpg,train", "2,imgs/6.jpg,test", "2.0,imgs/7.jpg,test"]
    tables = CsvSource(root=csv_tree(str(tmp_path), rows)).tables()
    assert tables["train"].labels.tolist() == [0, 0, 0, 1, 1, 2] and tables["test"].labels.tolist() == [0, 0]
    from datasets.csv_table import normalise_label
    assert [normalise_label(v) for v in ("1e1", "-3.0", "nan", "inf", " x")] == ["10", "-3", "nan", "inf", " x"]


def test_duplicated_rows_in_a_split_are_refused(tmp_path):
    rows = [HEADER] + SIX_ROWS + ["c,imgs/3.jpg,test", "", "d,./imgs/5.jpg,test"]
    path = csv_tree(str(tmp_path), rows)
    with pytest.raises(ValueError) as exc:
        CsvSource(root=path).tables()
    message = str(exc.value)
    assert message.startswith(f"{path}: split test lists 2 image path(s) more than once: ") and "\n" not in message
    assert "imgs/3.jpg (lines 5, 8)" in message and "imgs/5.jpg (lines 7, 10)" in message


@pytest.mark.parametrize("column, missing", [("is_query", "query"), ("is_gallery", "gallery")])
def test_split_without_query_or_gallery_rows_is_refused(tmp_path, column, missing):
    rows = [f"{HEADER},{column}"] + [f"{r},0" for r in SIX_ROWS]
    path = csv_tree(str(tmp_path), rows)
    with pytest.raises(ValueError, match=f"^{path}: no {missing} rows in split test$"):
        CsvSource(root=path).tables()
