"""Every dataset test gets its own user cache folder (``$DMLBENCH_CACHE``): the verified-image
record and the fallback resize cache never touch ``~/.cache`` nor leak between tests."""
from __future__ import annotations

import pytest


@pytest.fixture(autouse=True)
def user_cache(tmp_path_factory, monkeypatch):
    folder = tmp_path_factory.mktemp("user_cache")
    monkeypatch.setenv("DMLBENCH_CACHE", str(folder))
    return folder
