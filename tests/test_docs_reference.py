"""docs/components.md is generated from the docstrings (docs/make_reference.py) and must be current."""
from __future__ import annotations

import importlib.util
import os

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def load_generator():
    spec = importlib.util.spec_from_file_location("make_reference", os.path.join(ROOT, "docs", "make_reference.py"))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def rendered() -> str:
    return load_generator().render()


def test_component_reference_is_up_to_date(rendered):
    with open(os.path.join(ROOT, "docs", "components.md"), encoding="utf-8") as fh:
        on_disk = fh.read()
    assert on_disk == rendered, (
        "docs/components.md is stale: run `python docs/make_reference.py` and commit the result")


def test_reference_lists_every_registered_component(rendered):
    import batch_mining
    import criteria
    import metrics
    text = rendered
    for registry in (criteria.LOSSES, batch_mining.MINERS, metrics.METRICS):
        for name in registry.names():
            assert f"### `{name}`" in text, name


def test_reference_rendering_of_a_loss_carries_paper_flags_and_defaults(rendered):
    text = rendered
    margin = text.split("### `margin`", 1)[1].split("\n### ", 1)[0]
    assert "Wu et al." in margin                                  # the paper
    assert "default miner: `distance`" in margin and "takes: `triplets`" in margin
    assert "| `--loss_margin_beta` | `beta` | `1.2` |" in margin  # flag, parameter, default
    assert "```text" in margin                                    # the formula block
    distance = text.split("## Miners", 1)[1].split("### `distance`", 1)[1].split("\n### ", 1)[0]
    assert "output: `triplets`" in distance
