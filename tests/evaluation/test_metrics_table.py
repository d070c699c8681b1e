"""The console table: requested metrics as columns; per-category values only in metrics.csv."""
from __future__ import annotations

from evaluation.table import format_metrics_table


def test_per_category_values_stay_out_of_the_console_table():
    table = format_metrics_table({"test": {"e_recall@1": 0.5, "e_recall@1/Latin": 0.2, "e_recall@1/Greek": 0.1,
                                           "nmi": 0.25}, "train": {"e_recall@1": 0.75, "nmi": 0.5}})
    lines = table.splitlines()
    assert lines[0].split() == ["split", "e_recall@1", "nmi"]
    assert lines[2].split() == ["test", "0.5000", "0.2500"] and lines[3].split() == ["train", "0.7500", "0.5000"]
    assert lines[-1] == "(2 per-category values in metrics.csv)"
    assert format_metrics_table({}) == "(no evaluation)"
