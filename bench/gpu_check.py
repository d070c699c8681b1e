"""Validate a CUDA install end to end in one command (under 8 minutes on one GPU).

    python bench/gpu_check.py                 # on the GPU (the paper protocol's model, CUB-sized JPEGs)
    python bench/gpu_check.py --device cpu    # tiny sizes (resnet18, 32 px, DDP on gloo): CI tests the logic

On a generated ``folder`` tree of JPEG photos (so decoding is real; random init, no weights download):

* ``train`` / ``train --amp``: a short ``main.py`` run of the paper protocol's model (ResNet-50 with
  frozen BatchNorm, normalised 128-d embeddings, margin loss with distance-weighted mining);
* ``knn+kmeans <device> == cpu``: :func:`metrics.evidence.compute` on the same embeddings on the device
  and on the CPU gives equal metrics;
* ``ddp 1 process``: ``torchrun --nproc_per_node=1 main.py`` (nccl on CUDA, gloo on the CPU);
* throughput: bare backbone forward + backward images/s (AMP and channels_last on CUDA) against the
  full training step (model, miner, loss, optimizer) with batches already on the device, and with
  the data loader in the loop.

Prints one table; exits 1 if a check fails. A check that cannot run here (faiss missing, no CUDA for
``--amp``) is listed as SKIP with the reason.
"""
from __future__ import annotations

import argparse
import importlib.util
import math
import os
import subprocess
import sys
import tempfile
import time
from typing import Callable

import numpy as np
import torch

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)
sys.path.insert(0, os.path.join(ROOT, "bench"))

from data import write_tree  # noqa: E402  (bench/data.py: the generated JPEG tree)
from training.run_record import RunRecord  # noqa: E402

SIZES = {  # per device: tree, model and step sizes
    "cuda": dict(classes=32, per_class=16, width=500, height=375, arch="resnet50_frozen_normalize",
                 image_size=0, bs=64, epochs=2, steps=20, workers=8),
    "cpu": dict(classes=8, per_class=4, width=64, height=48, arch="resnet18_frozen_normalize",
                image_size=32, bs=16, epochs=1, steps=3, workers=0),
}


def run_flags(args: argparse.Namespace, size: dict, root: str, save: str, name: str) -> list[str]:
    return ["--dataset", "folder", "--source_path", root, "--arch", size["arch"], "--not_pretrained",
            "--embed_dim", "128", "--loss", "margin", "--batch_mining", "distance", "--bs", str(size["bs"]),
            "--samples_per_class", "4", "--n_epochs", str(size["epochs"]), "--folder_image_size", str(size["image_size"]),
            "--kernels", str(size["workers"]), "--device", args.device, "--seed", "0",
            "--evaluation_metrics", "e_recall@1", "nmi", "--save_path", save, "--savename", name]


def main_run(cmd: list[str], folder: str, timeout: float) -> tuple[bool, str]:
    """Run ``cmd``; passed when it exits 0 and ``metrics.csv`` in ``folder`` holds finite values."""
    proc = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=timeout,
                          env={**os.environ, "WANDB_MODE": "disabled"})
    if proc.returncode != 0:
        return False, f"exit {proc.returncode}: {(proc.stderr.strip().splitlines() or ['?'])[-1][:100]}"
    last = RunRecord(folder).metric_rows()[-1]
    ok = all(math.isfinite(last.get(k, math.nan)) for k in ("e_recall@1", "nmi"))
    return ok, f"test R@1 {last['e_recall@1']:.3f}" if ok else "non-finite metrics"


def check_metrics_devices(device: str) -> tuple[bool, str]:
    """Same embeddings, kNN + k-means on ``device`` and on the CPU: equal metrics."""
    from metrics.evidence import compute
    rng = np.random.default_rng(0)
    labels = np.repeat(np.arange(20), 10)
    emb = (rng.normal(size=(20, 64))[labels] + 0.7 * rng.normal(size=(200, 64))).astype(np.float32)
    emb /= np.linalg.norm(emb, axis=1, keepdims=True)
    names = ["e_recall@1", "e_recall@4", "nmi", "f1", "mAP_1000"]
    here, cpu = (compute(emb, labels, names, device=d, seed=0) for d in (device, "cpu"))
    diff = max(abs(here[k] - cpu[k]) for k in names)
    return diff < 1e-6, f"max |diff| {diff:.1e} over {', '.join(names)}"


def images_per_second(step: Callable[[], None], images: int, n: int, device: str) -> float:
    step()                                               # warm-up (cudnn autotune, allocator)
    if device == "cuda":
        torch.cuda.synchronize()
    start = time.perf_counter()
    for _ in range(n):
        step()
    if device == "cuda":
        torch.cuda.synchronize()
    return images * n / (time.perf_counter() - start)


def throughput(args: argparse.Namespace, size: dict, root: str, save: str) -> dict[str, float]:
    """images/s: bare backbone fwd+bwd; the full training step on resident batches; with the loader."""
    import architectures
    import datasampler
    import datasets
    import parameters
    import training.objective
    from main import make_loader
    from training import optim
    opt = parameters.parse_args(run_flags(args, size, root, save, "throughput"))
    dev = torch.device(args.device)
    cuda = args.device == "cuda"
    fmt = torch.channels_last if cuda else torch.contiguous_format
    data = datasets.select(opt)
    model = architectures.select(opt, in_channels=3).to(dev, memory_format=fmt)
    objective = training.objective.select(opt, n_classes=datasets.n_classes(data["train"])).to(dev)
    optimizer, _ = optim.select(opt, model, objective)
    sampler = datasampler.select(opt, data["train"].labels, 0, 1)
    loader = make_loader(data["train"], sampler, opt)
    images, labels = next(iter(loader))
    images, labels = images.to(dev).contiguous(memory_format=fmt), labels.to(dev)
    model.train()

    def step(x: torch.Tensor, y: torch.Tensor, full: bool) -> None:
        with torch.autocast(dev.type, enabled=cuda):
            out = model(x)
        loss = objective(out.float(), y) if full else out.float().square().mean()
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        if full:
            optimizer.step()

    def with_loader() -> None:
        nonlocal batches
        try:
            x, y = next(batches)
        except StopIteration:
            batches = iter(loader)
            x, y = next(batches)
        step(x.to(dev, non_blocking=True).contiguous(memory_format=fmt), y.to(dev, non_blocking=True), True)

    batches = iter(loader)
    n, bs = size["steps"], len(labels)
    return {"backbone fwd+bwd (resident batch)": images_per_second(lambda: step(images, labels, False), bs, n, args.device),
            "training step (resident batch)": images_per_second(lambda: step(images, labels, True), bs, n, args.device),
            "training step + data loader": images_per_second(with_loader, bs, n, args.device)}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu", choices=["cuda", "cpu"])
    parser.add_argument("--timeout", type=float, default=150.0, help="Seconds per main.py run.")
    args = parser.parse_args()
    if args.device == "cuda" and not torch.cuda.is_available():
        print("gpu_check.py: error: --device cuda: no CUDA device is available", file=sys.stderr)
        return 2
    size = SIZES[args.device]
    has_faiss = importlib.util.find_spec("faiss") is not None
    rows: list[tuple[str, str, str, float]] = []

    def record(name: str, fn: Callable[[], tuple[bool, str]], skip: str | None = None) -> None:
        if skip:
            rows.append((name, "SKIP", skip, 0.0))
            return
        start = time.perf_counter()
        try:
            ok, detail = fn()
        except Exception as err:           # a check that crashes is a failed check, named in the table
            ok, detail = False, f"{type(err).__name__}: {err}"[:110]
        rows.append((name, "PASS" if ok else "FAIL", detail, time.perf_counter() - start))

    with tempfile.TemporaryDirectory() as tmp:
        root, save = os.path.join(tmp, "data"), os.path.join(tmp, "runs")
        write_tree(root, size["classes"] * size["per_class"], size["width"], size["height"], size["classes"])
        no_faiss = None if has_faiss else "faiss not installed (the metrics' k-means needs it)"
        main_py = [sys.executable, os.path.join(ROOT, "main.py")]
        for name, extra in (("train", []), ("train --amp", ["--amp"])):
            save_name = name.replace(" --", "_")
            flags = run_flags(args, size, root, save, save_name) + extra
            record(name, lambda f=flags, s=save_name: main_run(main_py + f, os.path.join(save, "folder", s), args.timeout),
                   no_faiss or (None if args.device == "cuda" or not extra else "--amp is CUDA-only (autocast off on the CPU)"))
        record(f"knn+kmeans {args.device} == cpu", lambda: check_metrics_devices(args.device), no_faiss)
        torchrun = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node=1",
                    os.path.join(ROOT, "main.py")]
        backend = "nccl" if args.device == "cuda" else "gloo"
        record(f"ddp 1 process ({backend})",
               lambda: main_run(torchrun + run_flags(args, size, root, save, "ddp"), os.path.join(save, "folder", "ddp"),
                                args.timeout), no_faiss)
        rates: dict[str, float] = {}

        def measure() -> tuple[bool, str]:
            rates.update(throughput(args, size, root, save))
            return all(r > 0 for r in rates.values()), f"{len(rates)} rates"
        record("throughput", measure)

    amp = "AMP, channels_last" if args.device == "cuda" else "fp32"
    print(f"\ngpu_check ({args.device}: {torch.cuda.get_device_name() if args.device == 'cuda' else 'CPU'}, "
          f"torch {torch.__version__}, {size['arch']}, faiss {'yes' if has_faiss else 'no'}, "
          f"wandb {'yes' if importlib.util.find_spec('wandb') else 'no (not needed: no --log_online)'})")
    print(f"{'check':<36}{'result':<8}{'seconds':>8}  detail")
    for name, status, detail, seconds in rows:
        print(f"{name:<36}{status:<8}{seconds:>8.1f}  {detail}")
    if rates:
        base = rates["backbone fwd+bwd (resident batch)"]
        print(f"\n{'throughput (' + amp + ', batch ' + str(size['bs']) + ')':<44}{'images/s':>10}{'vs backbone':>13}")
        for name, rate in rates.items():
            print(f"{name:<44}{rate:>10.1f}{rate / base:>12.2f}x")
    failed = [r[0] for r in rows if r[1] == "FAIL"]
    skipped = [r[0] for r in rows if r[1] == "SKIP"]
    print(f"\n{'FAILED: ' + ', '.join(failed) if failed else 'all checks passed'}"
          + (f" ({len(skipped)} skipped: {', '.join(skipped)})" if skipped else ""))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
