"""Losses, selectable by exact name with ``--loss``.

``select(opt)`` is the only place where flags become keyword arguments: each loss's own
parameters come from its ``--loss_<name>_<param>`` flags, generated from its signature, and
what it needs from the run (its composition, and ``n_classes``, ``embed_dim`` or ``base_lr``
when it declares them in ``wired_params``) is handed over by :meth:`LOSSES.create
<utilities.registry.Registry.create>`.
"""
from __future__ import annotations

from typing import Any

from torch import nn

import distances
from utilities.registry import Registry

FLAG_TEMPLATE = "loss_{name}_{param}"
#: What ``select`` hands a loss that declares it: its composition and the values of the run.
SUPPLIED = ("distance", "reducer", "embedding_regularizer", "embedding_reg_weight", "weight_regularizer",
            "weight_reg_weight", "n_classes", "embed_dim", "base_lr")
LOSSES = Registry("loss", flag="--loss", template=FLAG_TEMPLATE, supplies=SUPPLIED)

from criteria.reducers import REDUCERS, FLAG_TEMPLATE as REDUCER_TEMPLATE  # noqa: E402
from criteria.regularizers import (  # noqa: E402
    EMBEDDING_FLAG_TEMPLATE, EMBEDDING_REGULARIZERS, WEIGHT_FLAG_TEMPLATE, WEIGHT_REGULARIZERS)
from utilities.registry import import_submodules  # noqa: E402
import_submodules(__name__, __path__, skip=("base", "terms", "reducers", "regularizers"))

# Registries whose classes' parameters become flags (parameters.py) and that --list prints.
EXTRA_FLAG_REGISTRIES = ((REDUCERS, REDUCER_TEMPLATE), (EMBEDDING_REGULARIZERS, EMBEDDING_FLAG_TEMPLATE),
                         (WEIGHT_REGULARIZERS, WEIGHT_FLAG_TEMPLATE))
LISTED_REGISTRIES = (("reducers (--loss_reducer)", REDUCERS),
                     ("embedding regularizers (--embedding_regularizer)", EMBEDDING_REGULARIZERS),
                     ("weight regularizers (--weight_regularizer)", WEIGHT_REGULARIZERS))


def _build_component(registry: Registry, name: str | None, opt: Any) -> Any:
    return None if name is None else registry.create(name, opt)


def flag_template(name: str) -> str:
    return FLAG_TEMPLATE.replace("{name}", name)


def build(name: str, opt: Any, *, n_classes: int) -> nn.Module:
    """Build one loss by name: its own flags, the composition flags (distance, reducer,
    regularizers), and the values derived from the data (``n_classes``), each handed over
    only when the loss declares it (``wired_params``)."""
    cls = LOSSES.get(name)
    return LOSSES.create(
        name, opt,
        distance=distances.build(opt.loss_distance or cls.default_distance, opt),
        reducer=build_reducer(opt.loss_reducer, cls.default_reducer, opt),
        embedding_regularizer=_build_component(EMBEDDING_REGULARIZERS, opt.embedding_regularizer, opt),
        embedding_reg_weight=opt.embedding_reg_weight,
        weight_regularizer=_build_component(WEIGHT_REGULARIZERS, opt.weight_regularizer, opt),
        weight_reg_weight=opt.weight_reg_weight,
        n_classes=n_classes, embed_dim=opt.embed_dim, base_lr=opt.lr)


def parse_reducer_spec(spec: str | None, default: str) -> dict[str, str]:
    """``--loss_reducer`` as ``{term name: reducer name, "*": default}``.

    ``"mean"`` applies one reducer to every term; ``"pos_loss:mean,neg_loss:avg_nonzero"`` picks
    one per term (the loss's own default for terms not named; a bare name sets that default).
    """
    out = {"*": default}
    for item in (spec or "").split(","):
        item = item.strip()
        if not item:
            continue
        if ":" in item:
            term, _, name = item.partition(":")
            out[term.strip()] = name.strip()
        else:
            out["*"] = item
    return out


def build_reducer(spec: str | None, default: str, opt: Any = None) -> Any:
    """One reducer, or a ``{term: reducer}`` dict for per-term choices (``BaseLoss.reduce``)."""
    names_ = parse_reducer_spec(spec, default)
    built = {term: _build_component(REDUCERS, name, opt) for term, name in names_.items()}
    return built["*"] if len(built) == 1 else built


def loss_weights(opt: Any) -> list[float]:
    """``--loss_weights`` as floats, one per ``+``-separated loss (all 1 by default)."""
    n = len(opt.loss.split("+"))
    if not opt.loss_weights:
        return [1.0] * n
    try:
        weights = [float(w) for w in str(opt.loss_weights).split(",")]
    except ValueError:
        raise ValueError(f"--loss_weights {opt.loss_weights}: expected comma-separated numbers") from None
    if len(weights) != n:
        raise ValueError(f"--loss_weights has {len(weights)} values but --loss {opt.loss} names {n} losses")
    return weights


def check_flags(opt: Any) -> None:
    """Parse-time checks of the loss composition flags (called by ``parameters.validate``)."""
    weights = loss_weights(opt)
    classes = [LOSSES.get(name) for name in opt.loss.split("+")]
    declared = [t for cls in classes for t in cls.term_names]
    every_declares = all(cls.term_names for cls in classes)
    for cls in classes:
        for term, name in parse_reducer_spec(opt.loss_reducer, cls.default_reducer).items():
            REDUCERS.check(name)
            if term != "*" and every_declares and term not in declared:
                raise ValueError(f"--loss_reducer: --loss {opt.loss} has no term '{term}' "
                                 f"(its terms: {', '.join(dict.fromkeys(declared))})")
    if opt.embedding_regularizer:
        EMBEDDING_REGULARIZERS.check(opt.embedding_regularizer)
    if opt.weight_regularizer:
        WEIGHT_REGULARIZERS.check(opt.weight_regularizer)
    if any(w < 0 for w in weights):
        raise ValueError(f"--loss_weights {opt.loss_weights}: weights must be non-negative")
    size = opt.xbm_memory_size
    if size < 0 or opt.xbm_start_iteration < 0:
        raise ValueError("--xbm_memory_size and --xbm_start_iteration must be non-negative")
    if size and not any(set(cls.takes) & {"pairs", "triplets"} for cls in classes):
        raise ValueError(f"--xbm_memory_size needs a pair or triplet loss; --loss {opt.loss} takes neither")
    # the reducers' values (and a class-weights file) are checked without building them
    for name in {n for cls in classes for n in parse_reducer_spec(opt.loss_reducer, cls.default_reducer).values()}:
        REDUCERS.check_arguments(name, opt)


def select(opt: Any, *, n_classes: int | None = None) -> nn.Module:
    """The loss named by ``opt.loss``: one loss, or ``a+b`` weighted by ``--loss_weights``, each
    wrapped in a cross-batch memory when ``--xbm_memory_size`` is set. ``n_classes`` (the
    number of training classes) comes from the data; losses with proxies or class weights need it.
    Without it, ``opt.n_classes`` is read (a namespace a notebook made, ``criteria.select(opt)``)."""
    if n_classes is None:
        n_classes = opt.n_classes
    from criteria.combined import WeightedLossSum
    from criteria.xbm import CrossBatchMemory
    size = opt.xbm_memory_size
    built = {}
    for i, name in enumerate(opt.loss.split("+")):
        loss = build(name, opt, n_classes=n_classes)
        if i and hasattr(loss, "embedding_regularizer"):
            loss.embedding_regularizer = None        # a sum adds the embedding regularizer once
        if size and set(loss.takes) & {"pairs", "triplets"}:
            loss = CrossBatchMemory(loss, size, opt.xbm_start_iteration)
        built[name] = loss
    if len(built) == 1:
        return next(iter(built.values()))
    return WeightedLossSum(built, loss_weights(opt))


def names() -> list[str]:
    return LOSSES.names()
