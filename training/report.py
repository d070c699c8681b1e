"""Console output: the resolved configuration and the final metrics table."""
from __future__ import annotations

from typing import Any

from training.run_folder import public_config


def format_config(opt: Any) -> str:
    cfg = public_config(opt)
    width = max(len(k) for k in cfg)
    return "\n".join(f"  {k:<{width}} : {v}" for k, v in sorted(cfg.items()) if k != "argv")


def print_registries() -> None:
    """``main.py --list``: every registry with a one-line description of each entry."""
    import architectures
    import batch_mining
    import criteria
    import datasampler
    import datasets
    import distances
    import metrics
    sections = [("losses (--loss)", criteria.LOSSES), ("miners (--batch_mining)", batch_mining.MINERS),
                ("samplers (--data_sampler)", datasampler.SAMPLERS),
                ("architectures (--arch, + _frozen/_normalize/_double)", architectures.ARCHITECTURES),
                ("datasets (--dataset)", datasets.DATASETS), ("distances (--loss_distance)", distances.DISTANCES),
                ("metrics (--evaluation_metrics)", metrics.METRICS)]
    sections += list(criteria.LISTED_REGISTRIES)
    for title, registry in sections:
        print(f"{title}:")
        for name, summary in registry.describe():
            print(f"  {name:<28} {summary}")
        print()
