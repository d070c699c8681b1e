"""The shared registry: exact names, listing, closest-first suggestions."""
from __future__ import annotations

import pytest

import main
from utilities.registry import Registry, UnknownNameError


def test_register_get_and_list():
    reg = Registry("thing", flag="--thing")

    @reg.register("alpha", kind="a")
    class Alpha:
        """An alpha thing. More text."""

    assert reg.get("alpha") is Alpha and reg.names() == ["alpha"] and "alpha" in reg
    assert reg.entry("alpha").meta == {"kind": "a"}
    assert reg.describe() == [("alpha", "An alpha thing")]
    with pytest.raises(ValueError):
        reg.register("alpha")(Alpha)


def test_no_substring_matching_and_suggestions_closest_first():
    reg = Registry("loss", flag="--loss")
    for name in ("margin", "triplet", "contrastive", "multisimilarity"):
        reg.register(name)(type(name, (), {}))
    with pytest.raises(UnknownNameError) as exc:
        reg.get("marg")                          # a prefix is not a match
    assert exc.value.valid and str(exc.value).startswith("--loss: unknown loss 'marg'")
    assert str(exc.value).split("Closest: ")[1].split(", ")[0] == "margin"
    with pytest.raises(UnknownNameError) as exc:
        reg.get("tripplet")
    assert str(exc.value).split("Closest: ")[1].startswith("triplet")
    assert "--list" not in str(exc.value)            # four names: all of them shown, nothing to point to


def test_an_unknown_name_shows_the_closest_few_and_points_to_the_list():
    reg = Registry("loss", flag="--loss")
    names = [f"loss_{i:02d}" for i in range(40)] + ["margin"]
    for name in names:
        reg.register(name)(type(name, (), {}))
    with pytest.raises(UnknownNameError) as exc:
        reg.get("margn")
    line = str(exc.value)
    assert line.startswith("--loss: unknown loss 'margn'. Closest: margin, ")
    assert line.endswith("(all 41 names: python main.py --list)")
    assert len(line.split("Closest: ")[1].split(" (all")[0].split(", ")) == 5
    assert "\n" not in line and len(line) < 160


def test_main_list_prints_every_registry(capsys):
    assert main.main(["--list"]) == 0
    out = capsys.readouterr().out
    for title in ("losses", "miners", "samplers", "architectures", "datasets", "metrics", "distances"):
        assert title in out
    assert "margin " in out and "glyphs " in out and "class_random " in out


def test_no_registered_component_is_abstract():
    """A registered name must work: every class behind one implements all abstract methods."""
    import inspect

    import architectures
    import batch_mining
    import criteria
    import datasampler
    import datasets
    import distances
    from criteria.regularizers import EMBEDDING_REGULARIZERS, WEIGHT_REGULARIZERS
    registries = [criteria.LOSSES, criteria.REDUCERS, EMBEDDING_REGULARIZERS, WEIGHT_REGULARIZERS,
                  batch_mining.MINERS, datasampler.SAMPLERS, datasets.DATASETS, distances.DISTANCES,
                  architectures.ARCHITECTURES]
    abstract = [f"{reg.kind} {e.name}" for reg in registries for e in reg.entries()
                if inspect.isclass(e.obj) and inspect.isabstract(e.obj)]
    assert abstract == []
