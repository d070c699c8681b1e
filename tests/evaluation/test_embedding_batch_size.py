"""The evaluation's embedding batch size (``--eval_bs``) changes the cost of an evaluation, never
its numbers (issue 18, item 4)."""
from __future__ import annotations

import argparse

import pytest

import evaluation
from evaluation.engine import CPU_BATCH, CUDA_BATCH


@pytest.mark.parametrize("device, bs, eval_bs, want", [
    ("cpu", 112, 0, CPU_BATCH), ("cpu", 512, 0, CPU_BATCH), ("cuda", 16, 0, CUDA_BATCH), ("cuda", 512, 0, 512),
    ("cpu", 128, 64, 64), ("cuda", 16, 1000, 1000)])
def test_automatic_batch_size_is_128_on_the_cpu_and_the_training_batch_but_at_least_256_on_cuda(
        device, bs, eval_bs, want):
    opt = argparse.Namespace(device=device, bs=bs, eval_bs=eval_bs)
    assert evaluation.embedding_batch_size(opt) == want


def test_eval_bs_reaches_the_evaluation_options(tiny_opt):
    assert tiny_opt.device == "cpu"
    assert evaluation.options(tiny_opt)["batch_size"] == CPU_BATCH
    tiny_opt.eval_bs = 7
    assert evaluation.options(tiny_opt)["batch_size"] == 7


def test_metrics_csv_is_identical_for_two_embedding_batch_sizes(tiny_argv, tmp_path):
    import main
    folders = []
    for name, eval_bs in (("auto", "0"), ("bs7", "7")):
        argv = [a if a != "tiny" else name for a in tiny_argv] + ["--n_epochs", "2", "--eval_bs", eval_bs]
        assert main.main(argv) == 0
        folders.append(tmp_path / "runs" / "glyphs" / name)
    assert (folders[0] / "metrics.csv").read_bytes() == (folders[1] / "metrics.csv").read_bytes()
