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


# ---- the construction door: declared needs, validated at registration -------------------------
def _door() -> Registry:
    return Registry("widget", flag="--widget", template="widget_{name}_{param}", supplies=("n_classes", "embed_dim"))


def test_registration_rejects_a_need_the_constructor_does_not_accept():
    from utilities.registry import RegistrationError
    reg = _door()

    class Refuses:
        wired_params = ("n_classes",)

        def __init__(self, width: int = 3):
            self.width = width
    with pytest.raises(RegistrationError, match="'n_classes', which its constructor does not accept"):
        reg.register("refuses")(Refuses)

    class Unknown:
        wired_params = ("gpu",)

        def __init__(self, gpu: int = 0):
            self.gpu = gpu
    with pytest.raises(RegistrationError, match="'gpu', which nobody supplies"):
        reg.register("unknown")(Unknown)
    assert reg.names() == []


def test_create_hands_over_declared_needs_only_never_by_parameter_name():
    """``n_classes`` reaches only the component that declares it; an undeclared argument of the
    same name is one of its own parameters (a flag), whatever is offered."""
    import argparse
    reg = _door()

    @reg.register("declares")
    class Declares:
        wired_params = ("n_classes",)

        def __init__(self, n_classes: int = 1, scale: float = 1.0):
            self.n_classes, self.scale = n_classes, scale

    @reg.register("undeclared")
    class Undeclared:
        def __init__(self, n_classes: int = 1):
            self.n_classes = n_classes

    flags = argparse.Namespace(widget_declares_scale=2.0, widget_undeclared_n_classes=7)
    built = reg.create("declares", flags, n_classes=10, embed_dim=64)
    assert (built.n_classes, built.scale) == (10, 2.0)
    assert reg.create("undeclared", flags, n_classes=10).n_classes == 7
    assert reg.create("undeclared").n_classes == 1                          # no flags: the defaults
    with pytest.raises(TypeError, match="needs 'n_classes'"):
        reg.create("declares", flags)


def test_a_need_reached_through_kwargs_is_accepted():
    reg = _door()

    class Base:
        def __init__(self, embed_dim: int = 2):
            self.embed_dim = embed_dim

    @reg.register("child")
    class Child(Base):
        wired_params = ("embed_dim",)

        def __init__(self, **base):
            super().__init__(**base)
    assert reg.create("child", None, embed_dim=5).embed_dim == 5


def test_list_descriptions_are_plain_text_cut_at_a_word():
    from utilities.registry import plain_text, shorten
    assert plain_text("Uses ``avg_nonzero`` and :class:`~criteria.base.BaseLoss` (:func:`metrics.compute`)") == \
        "Uses avg_nonzero and BaseLoss (metrics.compute)"
    assert plain_text(":ref:`the guide <guide-anchor>`") == "the guide"
    text = "word " * 40
    short = shorten(text.strip(), 30)
    assert short.endswith("…") and len(short) <= 30 and short[:-1].split(" ")[-1] == "word"


def test_main_list_has_no_markup_no_cut_words_and_says_cosine(capsys):
    assert main.main(["--list"]) == 0
    out = capsys.readouterr().out
    assert "``" not in out and ":class:`" not in out and "..." not in out
    for line in out.splitlines():
        if line.endswith("…"):
            assert line[-2] != " "                                   # cut after a whole word
    c_nmi = next(line for line in out.splitlines() if line.split()[:1] == ["c_nmi"])
    assert "cosine, on L2-normalised embeddings" in c_nmi
