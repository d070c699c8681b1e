"""requirements.txt declares what the tool imports, and nothing it does not."""
from __future__ import annotations

import ast
import re
import subprocess
import sys

from conftest import ROOT

IMPORT_NAMES = {"faiss": "faiss-cpu", "sklearn": "scikit-learn", "yaml": "pyyaml", "PIL": "pillow"}
NOT_IMPORTED = {  # requirements the tool's own modules never import, and why each is there
    "six": "pretrainedmodels imports it without declaring it",
    "pytest": "runs the test suite (python -m pytest -q)",
}
TRANSITIVE = {"pillow": "torchvision"}   # imported, installed and pinned through the named requirement
OPTIONAL_FOLDERS = ("bench/", "tests/")  # benchmarks may compare against libraries the tool does not need


def requirements() -> dict[str, str]:
    """Requirement name (lower case) -> its line."""
    out = {}
    for line in open(f"{ROOT}/requirements.txt", encoding="utf-8"):
        line = line.split("#")[0].strip()
        if line:
            out[re.split(r"[<>=!~\[ ;]", line, maxsplit=1)[0].lower()] = line
    return out


def third_party_imports() -> dict[str, set[str]]:
    """Distribution name -> the library files that import it."""
    files = subprocess.run(["git", "ls-files", "*.py"], cwd=ROOT, capture_output=True, text=True).stdout.split()
    local = {f.split("/")[0].removesuffix(".py") for f in files}
    found: dict[str, set[str]] = {}
    for path in files:
        if path.startswith(OPTIONAL_FOLDERS):
            continue
        for node in ast.walk(ast.parse(open(f"{ROOT}/{path}", encoding="utf-8").read())):
            names = [a.name for a in node.names] if isinstance(node, ast.Import) else (
                [node.module] if isinstance(node, ast.ImportFrom) and not node.level and node.module else [])
            for name in names:
                top = name.split(".")[0]
                if top not in sys.stdlib_module_names and top not in local:
                    found.setdefault(IMPORT_NAMES.get(top, top).lower(), set()).add(path)
    return found


def test_every_imported_library_is_required():
    required = requirements()
    missing = {name: sorted(files)[:2] for name, files in third_party_imports().items()
               if name not in required and TRANSITIVE.get(name) not in required}
    assert missing == {}


def test_every_requirement_is_imported_or_explained():
    unused = set(requirements()) - set(third_party_imports()) - set(NOT_IMPORTED)
    assert sorted(unused) == []


def test_the_libraries_behind_the_numbers_are_pinned():
    """Nearest neighbours and k-means (faiss), the confidence intervals (scipy), the networks, the
    seeded data and index arithmetic (numpy) and the clustering scores (scikit-learn)."""
    required = requirements()
    pinned = ("torch", "torchvision", "faiss-cpu", "scipy", "numpy", "scikit-learn")
    assert [name for name in pinned if "==" not in required[name]] == []
