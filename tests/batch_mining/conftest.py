"""Miner tests use tiny tensors: one intra-op thread avoids thread start-up/spin costs that
dominate on a shared machine (restored afterwards)."""
from __future__ import annotations

import pytest
import torch


@pytest.fixture(autouse=True)
def single_thread():
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)
