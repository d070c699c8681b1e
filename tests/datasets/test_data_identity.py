"""The data identity a resume checks covers the files' contents, not only their names."""
from __future__ import annotations

import os
import shutil

import pytest

import main
from datasets.file_identity import EDGE_BYTES, content_key
from tests.datasets.fixture_trees import class_tree


def test_equal_size_files_swapped_with_their_mtimes_differ(tmp_path):
    """``cp -p`` of two equal-size files keeps sizes and modification times: only content tells."""
    a, b = tmp_path / "a.jpg", tmp_path / "b.jpg"
    for path, fill, middle in ((a, b"x", b"1"), (b, b"x", b"2")):
        path.write_bytes(fill * EDGE_BYTES + middle + fill * EDGE_BYTES)   # differ in the middle only
    assert content_key(str(a)) == content_key(str(b))      # the documented blind spot: same size and edges
    b.write_bytes(b"y" + b"x" * (2 * EDGE_BYTES))
    os.utime(b, ns=(os.stat(a).st_mtime_ns,) * 2)
    assert os.path.getsize(a) == os.path.getsize(b) and content_key(str(a)) != content_key(str(b))
    assert content_key(str(tmp_path / "gone.jpg")) == "missing"


@pytest.mark.slow
def test_resume_on_a_copy_with_two_classes_swapped_is_refused(tmp_path, capsys):
    """Same file names, two classes' images swapped (folders renamed: sizes and mtimes kept):
    the resume used to be accepted with an unchanged fingerprint."""
    class_tree(str(tmp_path / "a"), [f"c{i}" for i in range(6)], per_class=3)
    shutil.copytree(tmp_path / "a", tmp_path / "copy")                  # copy2: mtimes kept
    os.rename(tmp_path / "copy" / "c0", tmp_path / "copy" / "tmp")
    os.rename(tmp_path / "copy" / "c1", tmp_path / "copy" / "c0")
    os.rename(tmp_path / "copy" / "tmp", tmp_path / "copy" / "c1")
    common = ["--dataset", "folder", "--arch", "convnet_normalize", "--embed_dim", "8", "--arch_convnet_width", "4",
              "--bs", "4", "--samples_per_class", "2", "--kernels", "0", "--device", "cpu", "--n_epochs", "1",
              "--evaluation_metrics", "e_recall@1", "--no_train_metrics", "--not_pretrained",
              "--save_path", str(tmp_path / "runs"), "--savename", "r"]
    assert main.main(common + ["--source", str(tmp_path / "a")]) == 0
    folder = str(tmp_path / "runs" / "folder" / "r")
    with pytest.raises(SystemExit) as exc:
        main.main(common + ["--source", str(tmp_path / "copy"), "--resume", folder, "--n_epochs", "2"])
    err = capsys.readouterr().err
    assert exc.value.code == 2 and "file contents fingerprint" in err
    assert main.main(common + ["--source", str(tmp_path / "a"), "--resume", folder, "--n_epochs", "2"]) == 0
