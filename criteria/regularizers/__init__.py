"""Regularizers added to a loss, weighted by their flag:

* embedding regularizers (``--embedding_regularizer``, ``--embedding_reg_weight``) act on the
  batch embeddings; parameters are ``--embedding_reg_<param>`` flags;
* weight regularizers (``--weight_regularizer``, ``--weight_reg_weight``) act on a loss's own
  weight matrix (proxies, class weights); parameters are ``--weight_reg_<param>`` flags.
"""
from __future__ import annotations

from utilities.registry import Registry

EMBEDDING_FLAG_TEMPLATE = "embedding_reg_{param}"
WEIGHT_FLAG_TEMPLATE = "weight_reg_{param}"
EMBEDDING_REGULARIZERS = Registry("embedding regularizer", flag="--embedding_regularizer",
                                  template=EMBEDDING_FLAG_TEMPLATE, supplies=())
WEIGHT_REGULARIZERS = Registry("weight regularizer", flag="--weight_regularizer",
                               template=WEIGHT_FLAG_TEMPLATE, supplies=())

from utilities.registry import import_submodules  # noqa: E402
import_submodules(__name__, __path__)
