"""Console output of a run: the start-up header and the full configuration (``--print_config``)."""
from __future__ import annotations

import json
import textwrap
from typing import Any

from training.run_folder import public_config
from utilities.flags import invocation_flags

SHOWN = ("dataset", "arch", "embed_dim", "loss", "loss_distance", "loss_reducer", "loss_weights", "batch_mining",
         "data_sampler", "bs", "samples_per_class", "device", "savename")
"""Flags the header names on their own lines (``savename`` in the run folder path), so they are
not repeated among the changed ones; nor are the keys that are no setting of the run
(:func:`utilities.flags.invocation_flags`)."""
CHANGED_LINES = 4   # the header stays short even when a --config sets dozens of flags
WIDTH = 100


def format_config(opt: Any) -> str:
    """Every resolved flag as JSON, secrets redacted: the ``flags`` of ``config.json``."""
    return json.dumps(public_config(opt), indent=2, sort_keys=True, default=str)


def changed_flags(opt: Any, defaults: dict[str, Any]) -> list[str]:
    """``--flag value`` for every flag whose value differs from ``defaults`` (the built-in
    defaults with the dataset preset applied), secrets redacted, in alphabetical order."""
    public, hidden = public_config(opt), set(SHOWN) | invocation_flags()
    out = []
    for key in sorted(defaults):
        if key in hidden or key not in public or getattr(opt, key) == defaults[key]:
            continue
        value = public[key]
        shown = " ".join(map(str, value)) if isinstance(value, (list, tuple)) else value
        out.append(f"--{key}" if value is True else f"--{key} {shown}")
    return out


def format_header(opt: Any, defaults: dict[str, Any], run_path: str) -> str:
    """The start-up header (at most ~12 lines): the components of the run, the flags that differ
    from ``defaults`` and the run folder. Every flag: ``config.json`` or ``--print_config``."""
    loss = opt.loss + "".join(f", {what} {getattr(opt, key)}" for key, what in
                              (("loss_distance", "distance"), ("loss_reducer", "reducer"),
                               ("loss_weights", "weights")) if getattr(opt, key) is not None)
    rows = [("dataset", opt.dataset), ("model", f"{opt.arch}, embed_dim {opt.embed_dim}"), ("loss", loss),
            ("miner", opt.batch_mining),
            ("sampler", f"{opt.data_sampler}, bs {opt.bs}, samples_per_class {opt.samples_per_class}"),
            ("device", opt.device)]
    changed = changed_flags(opt, defaults)
    wrapped = [line.replace("\xa0", " ") for line in textwrap.wrap(   # a flag and its value stay on one line
        ", ".join(c.replace(" ", "\xa0") for c in changed), WIDTH - 11, break_on_hyphens=False)] or ["none"]
    if len(wrapped) > CHANGED_LINES:
        wrapped = wrapped[:CHANGED_LINES - 1] + ["... (every flag: config.json)"]
    rows += [("changed", wrapped[0])] + [("", line) for line in wrapped[1:]] + [("run", run_path)]
    lines = ["dmlbench configuration (every flag: config.json in the run folder, or --print_config)"]
    return "\n".join(lines + [f"  {name:<8} {value}" for name, value in rows])
