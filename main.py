"""dmlbench: train and evaluate one deep metric learning run.

    python main.py [flags]        # see README.md, or `python main.py --help` / `--list`

The story of a run: parse the flags, open the run folder, build data, model, loss, miner,
sampler and optimizer, train with periodic evaluation, write the summary.
"""
from __future__ import annotations

import argparse
import sys

import torch
from torch.utils.data import DataLoader

import architectures
import datasampler
import datasets
import parameters
import evaluation
import metrics
import training.objective
from datasets.epoch_keys import keyed_batches
from evaluation import embed, evaluate_splits, save_arrays
from evaluation.plots import plot_test_figures, plot_training_curves
from evaluation.table import format_metrics_table
from training import distributed, optim
from training.checkpoint import load_checkpoint, restore, save_checkpoint
from training.loop import NonFiniteLossError, train_epoch
from training.online_logger import OnlineLogger
from training.report import format_config, print_registries
from training.run_folder import RunFolder, public_config
from training.selection import EpochSelector
from utilities import comm
from utilities.seeding import seed_everything, set_deterministic, worker_init_fn


def open_run(opt: argparse.Namespace) -> RunFolder:
    """Create the run folder, or check that a resumed one matches the given flags."""
    path = RunFolder.location(opt, savename=distributed.shared_savename(opt.savename))
    if opt.resume:
        conflicts = RunFolder.config_conflicts(path, opt)
        if conflicts:
            parameters.fail(f"--resume {path}: flags differ from the saved run: {'; '.join(conflicts)}")
        return RunFolder(path)
    if not comm.is_main():  # rank 0 owns the run folder; other ranks never write
        return RunFolder(path)
    try:
        return RunFolder.create(path, opt)
    except (FileExistsError, PermissionError) as err:
        parameters.fail(str(err))
    raise AssertionError("unreachable")


def eval_splits(opt: argparse.Namespace, data: dict) -> list[str]:
    if opt.eval_splits:
        return [s for s in opt.eval_splits if s in data]
    splits = ["test"] + (["val"] if "val" in data else [])
    return splits + ([] if opt.no_train_metrics else ["train"])


def make_loader(dataset: torch.utils.data.Dataset, sampler: datasampler.BaseBatchSampler,
                opt: argparse.Namespace) -> DataLoader:
    generator = torch.Generator().manual_seed(opt.seed)
    # (index, epoch) keys: augmentation is a function of (seed, epoch, sample), not of the worker
    return DataLoader(dataset, batch_sampler=keyed_batches(dataset, sampler), num_workers=opt.kernels,
                      pin_memory=opt.device == "cuda", worker_init_fn=worker_init_fn,
                      persistent_workers=opt.kernels > 0, generator=generator)


def train(opt: argparse.Namespace, run: RunFolder) -> tuple[dict[str, dict[str, float]], EpochSelector]:
    """Build every component, train with periodic evaluation, keep the run folder up to date.

    Returns the last evaluation's results and the epoch selector (the selected epoch and its
    test metrics)."""
    seed_everything(opt.seed)
    set_deterministic(opt.deterministic)
    if opt.device == "cuda" and comm.world_size() == 1:
        torch.cuda.set_device(opt.gpu[0])      # --gpu: "cuda" below then means that device
    device = torch.device(opt.device)
    data = datasets.select(opt)
    model = architectures.select(opt, in_channels=datasets.channels(data["train"])).to(device)
    objective = training.objective.select(opt, n_classes=datasets.n_classes(data["train"])).to(device)
    sampler = datasampler.select(opt, data["train"].labels, comm.rank(), comm.world_size(),
                                 categories=getattr(data["train"], "category", None))
    loader = make_loader(data["train"], sampler, opt)
    optimizer, scheduler = optim.select(opt, model, objective)
    selector = EpochSelector(opt.selection, opt.storage_metrics[0],
                             metrics.parse(opt.storage_metrics[0]).higher_is_better)
    logger = OnlineLogger(opt, run.path, opt.log_online and comm.is_main())
    splits = eval_splits(opt, data)
    eval_data = {**data, "train": datasets.eval_view(data["train"])}   # train split with eval transforms

    start_epoch, last_results = 0, {}
    if opt.resume:
        state = load_checkpoint(run.file("checkpoint_last.pt"))
        start_epoch = restore(state, model=model, loss=objective.loss, optimizer=optimizer,
                              scheduler=scheduler, sampler=sampler, selector=selector)
        run.restore_logs(start_epoch, state["wall_time"])
        print(f"resumed {run.path} after epoch {start_epoch}")
    model, step = distributed.wrap(model, objective, device=opt.device, global_batch=opt.dist_global_batch,
                                   compile=opt.compile)   # DDP and the global-batch objective; torch.compile

    def checkpoint(name: str, epoch: int) -> None:
        save_checkpoint(run.file(name), epoch=epoch, model=model, loss=objective.loss, optimizer=optimizer,
                        scheduler=scheduler, sampler=sampler, selector=selector,
                        wall_time=run.wall_time(), config=public_config(opt))

    if sampler.requires_storage and sampler.storage is None:   # embedding-storage samplers
        sampler.set_storage(embed(model, eval_data["train"], max(opt.bs, 256), device, opt.kernels, desc="storage")[0])
    for epoch in range(start_epoch + 1, opt.n_epochs + 1):
        sampler.set_epoch(epoch)
        row = train_epoch(model, step, loader, optimizer, device, epoch,
                          amp=opt.amp, skip_budget=opt.skip_nonfinite)
        scheduler.step()
        run.log_train(row)
        logger.log({f"train/{k}": v for k, v in row.items()}, step=epoch)
        if epoch % opt.eval_every == 0 or epoch == opt.n_epochs:
            last_results = evaluate_splits(model, eval_data, splits, **evaluation.options(opt))
            run.log_metrics(epoch, last_results)
            save_arrays(run.path, epoch, last_results)
            logger.log({f"{s}/{k}": v for s, vals in last_results.items() for k, v in vals.items()}, step=epoch)
            print(f"epoch {epoch}: " + ", ".join(f"{s} {m}={last_results[s].get(m, float('nan')):.4f}"
                                                 for s in last_results for m in opt.storage_metrics))
            if selector.update(epoch, last_results):
                checkpoint("checkpoint_best.pt", epoch)
        checkpoint("checkpoint_last.pt", epoch)
        run.write_summary("running", epoch, opt.selection, selector.best_epoch, selector.test_metrics)
    logger.finish()
    plot_test_figures(model, data["test"], run.path, tsne=opt.plot_embeddings, retrievals=opt.plot_retrievals,
                      device=opt.device, seed=opt.seed)
    return last_results, selector


def main(argv: list[str] | None = None) -> int:
    opt = parameters.parse_args(argv)
    if opt.list:
        print_registries()
        return 0
    distributed.setup(opt.device)  # a no-op unless launched by torchrun
    print("dmlbench configuration:\n" + format_config(opt))
    run = open_run(opt)
    run.write_summary("running", 0, opt.selection, None, {})
    try:
        results, selector = train(opt, run)
    except (ValueError, FileNotFoundError) as err:      # bad data or flags found while building
        record_failure(run, opt, str(err))
        parameters.fail(str(err))
    except NonFiniteLossError as err:                   # checkpoint_last.pt keeps the last good epoch
        record_failure(run, opt, str(err))
        print(f"main.py: error: {err} (use --skip_nonfinite N to skip such batches)", file=sys.stderr)
        return 1
    except OSError as err:                              # disk full, folder not writable, ...
        record_failure(run, opt, f"{type(err).__name__}: {err}")
        print(f"main.py: error: cannot write the run folder {run.path}: {err}", file=sys.stderr)
        return 1
    except Exception as err:
        record_failure(run, opt, f"{type(err).__name__}: {err}")
        raise
    comm.barrier()  # rank 0 has written checkpoint_last.pt
    epochs = len(run.train_rows)
    run.write_summary("completed", epochs, opt.selection, selector.best_epoch, selector.test_metrics)
    plot_training_curves(run.path, opt.storage_metrics)
    print("\nfinal metrics (last evaluation):\n" + format_metrics_table(results))
    print(f"\nselected epoch ({opt.selection}): {selector.best_epoch}")
    print(f"run folder: {run.path}")
    distributed.cleanup()
    return 0


def record_failure(run: RunFolder, opt: argparse.Namespace, error: str) -> None:
    """Mark the run failed in summary.json; if even that write fails, the last summary stays."""
    try:
        run.write_summary("failed", len(run.train_rows), opt.selection, None, {}, error=error)
    except OSError:
        pass


if __name__ == "__main__":
    sys.exit(main())
