"""Parsing imports no heavy library: ``--help``, ``--list`` and a flag error cost about one
``import torch`` (bench/startup.py measures it). Components import torchvision, scikit-learn,
faiss, matplotlib, PIL and wandb inside the functions that use them."""
from __future__ import annotations

import json
import subprocess
import sys

import pytest

from conftest import ROOT

HEAVY = ("torchvision", "sklearn", "faiss", "matplotlib", "PIL", "scipy", "wandb")
PROBE = f"""
import json, sys
heavy = {HEAVY!r}
loaded = lambda: sorted(h for h in heavy if h in sys.modules)
import parameters
after_parameters = loaded()
import main
print(json.dumps({{"parameters": after_parameters, "main": loaded()}}))
"""


@pytest.mark.slow
def test_importing_parameters_and_main_loads_no_heavy_library():
    proc = subprocess.run([sys.executable, "-c", PROBE], cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    loaded = json.loads(proc.stdout.strip().splitlines()[-1])
    assert loaded == {"parameters": [], "main": []}
