"""The console table of metrics: splits as rows, metrics as columns."""
from __future__ import annotations


def format_metrics_table(results: dict[str, dict[str, float]]) -> str:
    """Splits as rows, metrics as columns, 4 decimals. Per-category values (``<metric>/<category>``,
    one per super-class: 50 alphabets for Omniglot) stay in ``metrics.csv``; the table names how
    many were left out."""
    if not results:
        return "(no evaluation)"
    columns: list[str] = []
    for values in results.values():
        columns += [k for k, v in values.items() if k not in columns and isinstance(v, (int, float))]
    per_category = [c for c in columns if "/" in c]
    columns = [c for c in columns if "/" not in c]
    header = ["split"] + columns
    rows = [[split] + [f"{values.get(c, float('nan')):.4f}" for c in columns] for split, values in results.items()]
    widths = [max(len(r[i]) for r in [header] + rows) for i in range(len(header))]
    line = lambda cells: "  ".join(c.rjust(w) for c, w in zip(cells, widths))  # noqa: E731
    table = "\n".join([line(header), line(["-" * w for w in widths])] + [line(r) for r in rows])
    return table + (f"\n({len(per_category)} per-category values in metrics.csv)" if per_category else "")
