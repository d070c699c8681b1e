"""Reading whitespace-separated index files (SOP's ``Ebay_*.txt``, DeepFashion's partitions)."""
from __future__ import annotations

import numpy as np


def read_index(path: str, header: list[str], skip_count_line: bool = False) -> dict[str, np.ndarray]:
    """Columns of a whitespace-separated text table whose header row must equal ``header``.

    With ``skip_count_line`` the first line holds the number of rows (DeepFashion style) and is
    checked against the rows read. Errors name the file, the line and the expected format.
    """
    fmt = f"expected a header line '{' '.join(header)}'" + (" after a line with the row count" if skip_count_line else "")
    with open(path) as fh:
        lines = [line.split() for line in fh if line.strip()]
    count = None
    if skip_count_line:
        if not lines or len(lines[0]) != 1 or not lines[0][0].isdigit():
            raise ValueError(f"{path}: line 1 is not a row count; {fmt}")
        count, lines = int(lines[0][0]), lines[1:]
    if not lines or lines[0] != header:
        raise ValueError(f"{path}: bad header {' '.join(lines[0]) if lines else '(empty file)'!r}; {fmt}")
    rows = lines[1:]
    for i, row in enumerate(rows):
        if len(row) != len(header):
            line_no = i + 2 + int(skip_count_line)
            raise ValueError(f"{path}: line {line_no} has {len(row)} fields, expected {len(header)} ({' '.join(header)})")
    if count is not None and count != len(rows):
        raise ValueError(f"{path}: the first line says {count} rows but the file has {len(rows)}")
    return {name: np.asarray([r[j] for r in rows], dtype=object) for j, name in enumerate(header)}
