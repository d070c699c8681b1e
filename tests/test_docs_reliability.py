"""docs/reliability.md names, for every fault and bad input, the test that reproduces it: each
named test function (or test file) must exist, so the page cannot drift from the suite."""
from __future__ import annotations

import os
import re

from conftest import ROOT


def defined_tests() -> set[str]:
    names = set()
    for folder, _, files in os.walk(os.path.join(ROOT, "tests")):
        for name in files:
            if name.endswith(".py"):
                names |= set(re.findall(r"^def (test_\w+)", open(os.path.join(folder, name)).read(), re.M))
    return names


def test_every_test_named_by_the_reliability_page_exists():
    page = open(os.path.join(ROOT, "docs", "reliability.md"), encoding="utf-8").read()
    rows = [line for line in page.splitlines() if line.startswith("| ") and not line.startswith("| ---")
            and not line.startswith("| situation")]
    assert len(rows) >= 60
    named = [ref for row in rows for ref in re.findall(r"`([^`]+)`", row.rsplit("|", 2)[-2])]
    assert all(row.rsplit("|", 2)[-2].strip() for row in rows), "a row without a test"
    functions = defined_tests()
    missing = [ref for ref in named if not (ref in functions or
                                            (ref.startswith("tests/") and os.path.exists(os.path.join(ROOT, ref))))]
    assert missing == []
