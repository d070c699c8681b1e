"""Generated on-disk dataset trees in the real layouts and index-file formats (tiny JPEGs)."""
from __future__ import annotations

import io
import os

import pytest
from PIL import Image

_JPEGS: list[bytes] = []


def jpeg_bytes(i: int) -> bytes:
    """A 12x10 JPEG of one of 8 colours (encoded once, then reused)."""
    if not _JPEGS:
        for c in range(8):
            buf = io.BytesIO()
            Image.new("RGB", (12, 10), (30 * c, 255 - 30 * c, (70 * c) % 256)).save(buf, "JPEG")
            _JPEGS.append(buf.getvalue())
    return _JPEGS[i % len(_JPEGS)]


def write_image(path: str, i: int = 0) -> str:
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "wb") as fh:
        fh.write(jpeg_bytes(i))
    return path


def class_tree(images_root: str, classes: list[str], per_class: int = 2) -> None:
    """``<images_root>/<class>/<k>.jpg`` for every class."""
    for c, name in enumerate(classes):
        for k in range(per_class):
            write_image(os.path.join(images_root, name, f"img_{k}.jpg"), c + k)


CUB_CLASSES = ["001.Black_footed_Albatross", "002.Laysan_Albatross", "100.Brown_Pelican",
               "101.White_Pelican", "150.Sage_Thrasher", "200.Common_Yellowthroat"]


def cub_tree(source: str, per_class: int = 3) -> str:
    images = os.path.join(source, "cub200", "images")
    class_tree(images, CUB_CLASSES, per_class)
    write_image(os.path.join(images, CUB_CLASSES[0], "._img_0.jpg"))   # macOS AppleDouble junk
    return source


def sop_tree(source: str) -> str:
    """SOP: Info_Files/Ebay_{train,test}.txt with header ``image_id class_id super_class_id path``."""
    root = os.path.join(source, "online_products")
    rows = {"train": [(1, 1, "bicycle_final"), (2, 1, "bicycle_final"), (3, 2, "chair_final"), (4, 2, "chair_final")],
            "test": [(11319, 1, "bicycle_final"), (11320, 3, "lamp_final"), (11321, 3, "lamp_final")]}
    image_id = 0
    for split, classes in rows.items():
        lines = ["image_id class_id super_class_id path"]
        for class_id, super_id, folder in classes:
            for k in range(2):
                image_id += 1
                rel = f"{folder}/{class_id}{k:03d}_{k}.JPG"
                write_image(os.path.join(root, "images", rel), image_id)
                lines.append(f"{image_id} {class_id} {super_id} {rel}")
        os.makedirs(os.path.join(root, "Info_Files"), exist_ok=True)
        with open(os.path.join(root, "Info_Files", f"Ebay_{split}.txt"), "w") as fh:
            fh.write("\n".join(lines) + "\n")
    return source


def in_shop_tree(source: str, eval_subfolder: bool = True) -> str:
    """DeepFashion In-Shop: ``Eval/list_eval_partition.txt`` (count line, header, aligned rows)."""
    root = os.path.join(source, "in_shop")
    rows = []
    spec = [("WOMEN/Dresses", "id_00000002", ["train", "train"]), ("MEN/Denim", "id_00000007", ["train", "train"]),
            ("WOMEN/Skirts", "id_00000003", ["train", "train", "train"]),
            ("WOMEN/Dresses", "id_00000010", ["query", "gallery", "gallery"]),
            ("MEN/Denim", "id_00000011", ["query", "query", "gallery"]), ("MEN/Tees", "id_00000012", ["gallery"])]
    for i, (cat, item, statuses) in enumerate(spec):
        for k, status in enumerate(statuses):
            rel = f"img/{cat}/{item}/{k + 1:02d}_{k + 1}_front.jpg"
            write_image(os.path.join(root, rel), i + k)
            rows.append(f"{rel:<60}{item:<20}{status}")
    folder = os.path.join(root, "Eval") if eval_subfolder else root
    os.makedirs(folder, exist_ok=True)
    with open(os.path.join(folder, "list_eval_partition.txt"), "w") as fh:
        fh.write(f"{len(rows)}\nimage_name item_id evaluation_status\n" + "\n".join(rows) + "\n")
    return source


# Bad and unusual image files, for the decoding and pre-check tests.

def truncated_jpeg(path: str) -> str:
    """A 64x48 noisy JPEG cut off after 60% of its bytes (its header is intact, so ``verify`` passes)."""
    import numpy as np
    buf = io.BytesIO()
    noise = np.random.default_rng(0).integers(0, 256, (48, 64, 3), dtype=np.uint8)
    Image.fromarray(noise).save(buf, "JPEG", quality=90)
    data = buf.getvalue()
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "wb") as fh:
        fh.write(data[:int(len(data) * 0.6)])
    return path


def bomb_png(path: str, side: int = 100_000) -> str:
    """A tiny PNG whose IHDR declares ``side`` x ``side`` pixels (a decompression bomb), CRC fixed."""
    import struct
    import zlib
    buf = io.BytesIO()
    Image.new("L", (4, 4)).save(buf, "PNG")
    data = bytearray(buf.getvalue())
    ihdr = 8 + 4                                        # signature, chunk length; then b"IHDR" + 13 bytes
    data[ihdr + 4:ihdr + 12] = struct.pack(">II", side, side)
    data[ihdr + 17:ihdr + 21] = struct.pack(">I", zlib.crc32(bytes(data[ihdr:ihdr + 17])))
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "wb") as fh:
        fh.write(bytes(data))
    return path


def grey_16bit_png(path: str, value: int, size: tuple[int, int] = (12, 10)) -> str:
    """A uniform 16-bit greyscale PNG (PIL mode ``I;16``) of ``value`` in 0..65535."""
    os.makedirs(os.path.dirname(path), exist_ok=True)
    Image.new("I;16", size, value).save(path, "PNG")
    return path


def float_tiff(path: str, value: float, size: tuple[int, int] = (12, 10)) -> str:
    """A uniform 32-bit float TIFF (PIL mode ``F``) of ``value``."""
    os.makedirs(os.path.dirname(path), exist_ok=True)
    Image.new("F", size, value).save(path, "TIFF")
    return path


def csv_tree(source: str, lines: list[str], encoding: str = "utf-8", name: str = "dataset.csv") -> str:
    """``<source>/<name>`` with ``lines`` (joined by newlines) and an image for every ``imgs/<k>.jpg`` it names."""
    import re
    for k in sorted({int(m) for m in re.findall(r"imgs/(\d+)\.jpg", "\n".join(lines))}):
        write_image(os.path.join(source, "imgs", f"{k}.jpg"), k)
    path = os.path.join(source, name)
    with open(path, "w", encoding=encoding, newline="") as fh:
        fh.write("\n".join(lines) + "\n")
    return path


@pytest.fixture(autouse=True)
def user_cache(tmp_path_factory, monkeypatch):
    """A fresh ``$DMLBENCH_CACHE`` per test (autouse where imported): the verified-image record and
    the fallback resize cache never touch ``~/.cache`` nor leak between tests."""
    folder = tmp_path_factory.mktemp("user_cache")
    monkeypatch.setenv("DMLBENCH_CACHE", str(folder))
    return folder


def textured_class_tree(images_root: str, n_classes: int = 8, per_class: int = 4, size: int = 20) -> str:
    """``<images_root>/c<k>/img_<j>.png``: seeded noise over a class colour, so that crops and flips
    change the pixels (the flat colours of :func:`class_tree` hide augmentation)."""
    import numpy as np
    rng = np.random.default_rng(0)
    for c in range(n_classes):
        base = rng.integers(0, 256, size=3)
        for k in range(per_class):
            pixels = np.clip(base + rng.normal(0, 60, size=(size, size, 3)), 0, 255).astype(np.uint8)
            path = os.path.join(images_root, f"c{c}", f"img_{k}.png")
            os.makedirs(os.path.dirname(path), exist_ok=True)
            Image.fromarray(pixels).save(path)
    return images_root


#: The fixture's Omniglot alphabets and their character counts (the real ones hold 14 to 55).
OMNIGLOT_ALPHABETS = {"images_background": {"Alphabet_of_the_Magi": 3, "Latin": 4},
                      "images_evaluation": {"Angelic": 2, "Tengwar": 3}}


def omniglot_tree(source: str, container: str = "", drawings: int = 3,
                  alphabets: dict[str, dict[str, int]] | None = None) -> str:
    """Omniglot's layout under ``<source>/<container>`` (``""``, ``omniglot-py`` as torchvision
    unpacks it): ``images_{background,evaluation}/<alphabet>/characterNN/<id>_<drawer>.png``, each a
    105x105 1-bit PNG of a few seeded strokes (a character's drawings share their strokes).
    ``alphabets`` (default :data:`OMNIGLOT_ALPHABETS`) gives each folder's alphabets and their
    character counts. Returns the dataset folder (``<source>/<container>``)."""
    import numpy as np
    from PIL import ImageDraw
    root = os.path.join(source, container) if container else source
    rng, char_id = np.random.default_rng(0), 0
    for folder, counts in (alphabets or OMNIGLOT_ALPHABETS).items():
        for alphabet, n_characters in counts.items():
            for k in range(1, n_characters + 1):
                char_id += 1
                strokes = rng.integers(10, 95, size=(3, 4))
                path = os.path.join(root, folder, alphabet, f"character{k:02d}")
                os.makedirs(path, exist_ok=True)
                for drawer in range(1, drawings + 1):
                    img = Image.new("1", (105, 105), 1)
                    draw = ImageDraw.Draw(img)
                    for line in strokes + rng.integers(-3, 4, size=strokes.shape):
                        draw.line([int(v) for v in line], fill=0, width=3)
                    img.save(os.path.join(path, f"{char_id:04d}_{drawer:02d}.png"))
    return root
