"""Console output: the resolved configuration and the final metrics table."""
from __future__ import annotations

from typing import Any

from utilities.run_folder import public_config


def format_config(opt: Any) -> str:
    cfg = public_config(opt)
    width = max(len(k) for k in cfg)
    return "\n".join(f"  {k:<{width}} : {v}" for k, v in sorted(cfg.items()) if k != "argv")


def format_metrics_table(results: dict[str, dict[str, float]]) -> str:
    """Splits as rows, metrics as columns, 4 decimals."""
    if not results:
        return "(no evaluation)"
    columns: list[str] = []
    for values in results.values():
        columns += [k for k, v in values.items() if k not in columns and isinstance(v, (int, float))]
    header = ["split"] + columns
    rows = [[split] + [f"{values.get(c, float('nan')):.4f}" for c in columns] for split, values in results.items()]
    widths = [max(len(r[i]) for r in [header] + rows) for i in range(len(header))]
    line = lambda cells: "  ".join(c.rjust(w) for c, w in zip(cells, widths))  # noqa: E731
    return "\n".join([line(header), line(["-" * w for w in widths])] + [line(r) for r in rows])


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
    sections += list(getattr(criteria, "LISTED_REGISTRIES", ()))
    for title, registry in sections:
        print(f"{title}:")
        for name, summary in registry.describe():
            print(f"  {name:<28} {summary}")
        print()
