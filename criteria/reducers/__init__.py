"""Reducers turn a :class:`~criteria.terms.LossTerm` into a scalar (``--loss_reducer``).

Each reducer's parameters are ``--reducer_<param>`` flags shared by all reducers.
"""
from __future__ import annotations

from utilities.registry import Registry

FLAG_TEMPLATE = "reducer_{param}"
REDUCERS = Registry("reducer", flag="--loss_reducer", template=FLAG_TEMPLATE, supplies=())

from criteria.reducers.base import BaseReducer  # noqa: E402,F401
from utilities.registry import import_submodules  # noqa: E402
import_submodules(__name__, __path__)
