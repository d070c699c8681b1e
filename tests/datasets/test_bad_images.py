"""The image pre-check decodes fully (once, recorded), names bad files, and honours
--skip_bad_images; bombs are bad images; --cache_resized survives a read-only dataset;
high-bit-depth images are scaled to [0, 1]."""
from __future__ import annotations

import os

import numpy as np
import pytest
from PIL import Image

import datasets.images
from datasets.cache import resize_one
from datasets.folder import FolderSource
from datasets.images import BadImageError, load_image
from fixture_trees import bomb_png, class_tree, float_tiff, grey_16bit_png, truncated_jpeg, user_cache  # noqa: F401


def four_classes(root) -> str:
    class_tree(str(root), ["a", "b", "c", "d"], per_class=3)
    return str(root)


def test_truncated_jpeg_fails_the_precheck_or_is_skipped(tmp_path, capsys):
    root = four_classes(tmp_path)
    bad = truncated_jpeg(os.path.join(root, "c", "img_1.jpg"))
    with pytest.raises(ValueError, match=f"unreadable image {bad} \\(image file is truncated.*Pass --skip_bad_images"):
        FolderSource(root=root).tables()
    source = FolderSource(root=root, skip_bad_images=True)
    assert len(source.tables()["test"]) == 5 and source.skipped == [bad]
    out = capsys.readouterr().out
    assert "skipped 1 unreadable image(s)" in out and bad in out


def test_decompression_bomb_is_a_named_bad_image(tmp_path):
    root = four_classes(tmp_path)
    bomb = bomb_png(os.path.join(root, "a", "bomb.png"))
    with pytest.raises(ValueError, match=f"unreadable image {bomb} \\(decompression bomb"):
        FolderSource(root=root).tables()
    with pytest.raises(BadImageError, match=f"unreadable image {bomb}: .*decompression bomb"):
        load_image(bomb)
    source = FolderSource(root=root, skip_bad_images=True)
    assert len(source.tables()["train"]) == 6 and source.skipped == [bomb]


def test_image_over_the_pixel_limit_but_under_the_error_threshold_is_bad(tmp_path, monkeypatch):
    root = four_classes(tmp_path)                       # 12x10 = 120 pixels: PIL only warns below 2x the limit
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", 100)
    with pytest.raises(ValueError, match="decompression bomb: 12x10 pixels exceed the limit of 100"):
        FolderSource(root=root).tables()


def test_bad_files_named_in_one_line_with_count(tmp_path):
    root = four_classes(tmp_path)
    bad = [truncated_jpeg(os.path.join(root, c, f"img_{k}.jpg")) for c, k in zip("aabbccd", (0, 1) * 4)]
    with pytest.raises(ValueError) as exc:
        FolderSource(root=root).tables()
    message = str(exc.value)
    assert "\n" not in message and "7 bad file(s) in total" in message and "and 2 more" in message
    assert all(path in message for path in bad[:5])


def test_precheck_decodes_once_and_again_only_changed_files(tmp_path, monkeypatch):
    root = four_classes(tmp_path)
    decoded: list[str] = []
    real = datasets.images.image_problem
    monkeypatch.setattr(datasets.images, "image_problem", lambda p: decoded.append(p) or real(p))
    FolderSource(root=root).tables()
    assert len(decoded) == 12
    decoded.clear()
    FolderSource(root=root).tables()
    assert decoded == []                                                   # recorded: not decoded again
    changed = os.path.join(root, "b", "img_2.jpg")
    os.utime(changed, ns=(1, 1))
    FolderSource(root=root).tables()
    assert decoded == [changed]


def test_pool_sized_by_cores():
    assert datasets.images.pool_size(0) == (os.cpu_count() or 1) and datasets.images.pool_size(3) == 3


def test_cache_resized_on_unwritable_dataset_uses_the_user_cache(tmp_path, user_cache):
    root = four_classes(tmp_path / "data")
    with open(os.path.join(root, ".cache_resized_8"), "w") as fh:   # the cache folder cannot be created
        fh.write("in the way")
    tables = FolderSource(root=root, cache_resized=8, skip_bad_images=True).tables()
    assert len(tables["train"]) == 6 and len(tables["test"]) == 6
    assert all(p.startswith(str(user_cache)) and os.path.isfile(p) for t in tables.values() for p in t.items)


def test_cache_resized_with_no_writable_folder_names_it(tmp_path, monkeypatch):
    root = four_classes(tmp_path / "data")
    (tmp_path / "data" / ".cache_resized_8").write_text("in the way")
    (tmp_path / "blocked").write_text("a file, not a folder")
    monkeypatch.setenv("DMLBENCH_CACHE", str(tmp_path / "blocked" / "cache"))
    with pytest.raises(ValueError, match=r"^--cache_resized: cannot write the cache folder .*\.cache_resized_8 nor "):
        FolderSource(root=root, cache_resized=8, skip_bad_images=True).tables()


@pytest.mark.parametrize("write, expected", [
    (lambda p: grey_16bit_png(p + ".png", 32768), 128),            # I;16: 32768 / 65535 -> 0.5
    (lambda p: grey_16bit_png(p + ".png", 65535), 255),
    (lambda p: float_tiff(p + ".tif", 0.25), 64),                  # F: already in [0, 1]
    (lambda p: float_tiff(p + ".tif", 1.7), 255),                  # clipped
    (lambda p: float_tiff(p + ".tif", -0.3), 0),
])
def test_high_bit_depth_scaled_to_unit_range(tmp_path, write, expected):
    path = write(str(tmp_path / "img"))
    pixels = np.asarray(load_image(path))
    assert pixels.shape == (10, 12, 3) and np.all(pixels == expected)
    cached = str(tmp_path / "cached.jpg")
    assert resize_one(path, cached, 8) is None
    assert abs(int(np.asarray(Image.open(cached)).mean()) - expected) <= 2  # the resize cache too


@pytest.mark.slow
def test_truncated_jpeg_run_skips_it_or_exits_2_before_training(tmp_path, capsys):
    import main
    root = four_classes(tmp_path / "data")
    class_tree(root, ["a", "b", "c", "d"], per_class=4)
    bad = truncated_jpeg(os.path.join(root, "a", "img_3.jpg"))
    argv = ["--dataset", "folder", "--source", root, "--arch", "resnet18", "--not_pretrained",
            "--folder_image_size", "16", "--bs", "4", "--samples_per_class", "2", "--n_epochs", "1",
            "--kernels", "0", "--device", "cpu", "--embed_dim", "8", "--evaluation_metrics", "e_recall@1",
            "--save_path", str(tmp_path / "runs")]
    with pytest.raises(SystemExit) as exc:
        main.main(argv + ["--savename", "strict"])
    err = capsys.readouterr().err.strip()
    assert exc.value.code == 2 and err.count("\n") == 0 and bad in err
    assert not (tmp_path / "runs" / "folder" / "strict" / "metrics.csv").exists() or \
        "train" not in (tmp_path / "runs" / "folder" / "strict" / "metrics.csv").read_text()
    assert main.main(argv + ["--skip_bad_images", "--savename", "skip"]) == 0
    assert "skipped 1 unreadable image(s)" in capsys.readouterr().out
