"""Every study's first trial is the method's default configuration.

A tuned method must be compared with what a user gets without tuning: the first trial of every
method's study runs the shipped defaults of its searched flags (with the study's base flags and the
method's fixed flags), so the search can only improve on them and the table shows by how much.
A default outside the space's range (or not among its choices) cannot be a trial of that space;
that flag is then left to the sampler, and the trial notes which.
"""
from __future__ import annotations

import argparse
from typing import Any

from studies.spaces import Space


def in_space(spec: dict[str, Any], value: Any) -> bool:
    """Whether ``value`` is a point of the search range ``spec``."""
    if spec["type"] == "categorical":
        return value in spec["choices"]
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return False
    return float(spec["low"]) <= float(value) <= float(spec["high"])


def default_params(space: Space, opt: argparse.Namespace) -> dict[str, Any]:
    """The resolved default (``opt``: the base and fixed flags parsed as ``main.py`` does) of each
    searched flag of ``space`` that lies in its range; ``{"outside": [...]}`` names the others."""
    params, outside = {}, []
    for name, spec in space.search.items():
        value = getattr(opt, name)
        if in_space(spec, value):
            params[name] = int(value) if spec["type"] == "int" else value
        else:
            outside.append(name)
    return {"params": params, "outside": outside}


def enqueue_default(study: Any, default: dict[str, Any]) -> bool:
    """Enqueue the default configuration as the study's first trial (a new, empty study only);
    whether it was enqueued."""
    if study.get_trials(deepcopy=False):
        return False
    study.enqueue_trial(default["params"], user_attrs={"default_config": True,
                                                      "default_outside_space": default["outside"]})
    return True
