"""dmlbench: train and evaluate one deep metric learning run.

    python main.py [flags]        # see README.md, or `python main.py --help` / `--list`

The story of a run: parse the flags, open the run folder, build data, model, loss, miner,
sampler and optimizer, train with periodic evaluation, write the summary.
"""
from __future__ import annotations

import argparse
import os
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
from training.checkpoint import CheckpointError, load_checkpoint, restore, save_checkpoint
from training.interrupts import RunInterrupted, raise_if_interrupted, signals_raise
from training.loop import NonFiniteLossError, train_epoch
from training.online_logger import OnlineLogger
from training.report import format_config, format_header
from training.run_folder import RunFolder, RunFolderError, public_config
from training.run_record import RunRecord
from training.selection import EpochSelector, patience_exhausted
from utilities import comm
from utilities.cli import printable_output
from utilities.seeding import seed_everything, set_deterministic, worker_init_fn


def open_run(opt: argparse.Namespace) -> RunFolder:
    """Create and lock the run folder; or, for ``--resume`` (whose flags parsing restored and
    checked), lock the run's folder (nothing is written yet). Any problem: one line, exit 2."""
    path = RunFolder.location(opt, savename=distributed.shared_savename(opt.savename))
    if not comm.is_main():  # rank 0 owns the run folder; other ranks never write
        return RunFolder(path)
    try:
        if opt.resume:
            return RunFolder.open_existing(path)
        return RunFolder.create(path, opt)
    except (FileExistsError, PermissionError, RunFolderError) as err:
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


def train(opt: argparse.Namespace, run: RunFolder) -> tuple[dict[str, dict[str, float]], EpochSelector, bool] | None:
    """Build every component, train with periodic evaluation, keep the run folder up to date.

    Returns the last evaluation's results, the epoch selector (the selected epoch and its test
    metrics) and whether ``--patience`` stopped the run early, or ``None`` when a resumed run was
    already complete (nothing is written)."""
    seed_everything(opt.seed)
    set_deterministic(opt.deterministic)
    if opt.device == "cuda" and comm.world_size() == 1:
        torch.cuda.set_device(opt.gpu[0])      # --gpu: "cuda" below then means that device
    device = torch.device(opt.device)
    data = datasets.select(opt)
    model = architectures.select(opt, in_channels=datasets.channels(data["train"])).to(device)
    objective = training.objective.select(opt, n_classes=datasets.n_classes(data["train"])).to(device)
    sampler = datasampler.select(opt, data["train"].labels, comm.rank(), comm.world_size(),
                                 categories=data["train"].category)
    loader = make_loader(data["train"], sampler, opt)
    optimizer, scheduler = optim.select(opt, model, objective)
    selector = EpochSelector(opt.selection, opt.storage_metrics[0],
                             metrics.parse(opt.storage_metrics[0]).higher_is_better)
    splits = eval_splits(opt, data)
    eval_data = {**data, "train": datasets.eval_view(data["train"])}   # train split with eval transforms

    start_epoch, last_results, identity = 0, {}, datasets.identity(opt, data)
    if opt.resume:      # every check first: a refused resume leaves the folder as it was
        start_epoch = resume_state(opt, run, identity, model=model, loss=objective.loss, optimizer=optimizer,
                                   scheduler=scheduler, sampler=sampler, selector=selector)
        record = RunRecord(run.path)
        if record.completed and (start_epoch == opt.n_epochs or record.stopped_early):
            return None
        if not os.access(run.path, os.W_OK):   # e.g. a read-only file system: refused, nothing written
            raise RunFolderError(f"--resume {run.path}: the run folder is not writable, and continuing "
                                 f"the run writes into it (reading or evaluating it does not)")
        print(f"resumed {run.path} after epoch {start_epoch}")
    logger = OnlineLogger(opt, run.path, opt.log_online and comm.is_main())   # a failed login writes nothing

    def begin() -> None:
        """Record the run as running (for a resume: what it changed, in ``config.json``). A resume
        does this only once it has trained an epoch, so that anything failing before (workers that
        cannot start, memory) leaves a finished run's files as they were."""
        if run.began:
            return
        if opt.resume:
            run.record_resume(opt, start_epoch)
        run.record_data(identity)
        run.write_summary("running", start_epoch, opt.selection, selector.best_epoch, selector.test_metrics)
        run.began = True

    if not opt.resume:
        begin()
    model, step = distributed.wrap(model, objective, device=opt.device, global_batch=opt.dist_global_batch,
                                   compile=opt.compile)   # DDP and the global-batch objective; torch.compile

    def checkpoint(name: str, epoch: int) -> None:
        if not comm.is_main():       # rank 0 owns the run folder
            return
        save_checkpoint(run.file(name), epoch=epoch, model=model, loss=objective.loss, optimizer=optimizer,
                        scheduler=scheduler, sampler=sampler, selector=selector,
                        wall_time=run.wall_time(), config=public_config(opt), logs=run.logs())

    if sampler.requires_storage and sampler.storage is None:   # embedding-storage samplers
        sampler.set_storage(embed(model, eval_data["train"], evaluation.embedding_batch_size(opt), device,
                                  opt.kernels, desc="storage")[0])
    stopped_early = False
    for epoch in range(start_epoch + 1, opt.n_epochs + 1):
        sampler.set_epoch(epoch)
        row = train_epoch(model, step, loader, optimizer, device, epoch,
                          amp=opt.amp, skip_budget=opt.skip_nonfinite, sampler=sampler)
        begin()
        scheduler.step()
        run.log_train(row)
        logger.log({f"train/{k}": v for k, v in row.items()}, step=epoch)
        if epoch % opt.eval_every == 0 or epoch == opt.n_epochs:
            last_results = evaluate_splits(model, eval_data, splits, **evaluation.options(opt))
            run.log_metrics(epoch, last_results)
            if comm.is_main():
                save_arrays(run.path, epoch, last_results)
            logger.log({f"{s}/{k}": v for s, vals in last_results.items() for k, v in vals.items()}, step=epoch)
            print(f"epoch {epoch}: " + ", ".join(f"{s} {m}={last_results[s].get(m, float('nan')):.4f}"
                                                 for s in last_results for m in opt.storage_metrics))
            if selector.update(epoch, last_results):
                checkpoint("checkpoint_best.pt", epoch)
        checkpoint("checkpoint_last.pt", epoch)
        run.write_summary("running", epoch, opt.selection, selector.best_epoch, selector.test_metrics)
        raise_if_interrupted()     # a signal whose exception a worker shutdown (__del__) dropped
        if patience_exhausted(opt.patience, opt.eval_every, epoch, selector.best_epoch):
            print(f"early stop after epoch {epoch}: no better val {opt.storage_metrics[0]} in {opt.patience} "
                  f"evaluations since epoch {selector.best_epoch} (--patience)")
            stopped_early = True
            break
    begin()                       # a resume with no epoch left to train (killed before its summary)
    logger.finish()
    plot_test_figures(model, data["test"], run.path, tsne=opt.plot_embeddings, retrievals=opt.plot_retrievals,
                      device=opt.device, batch_size=evaluation.embedding_batch_size(opt), seed=opt.seed,
                      save=comm.is_main())   # every rank embeds its shard; rank 0 draws
    return last_results, selector, stopped_early


def resume_state(opt: argparse.Namespace, run: RunFolder, identity: dict[str, str], **live: object) -> int:
    """Check a resume and load its checkpoint into the ``live`` objects; return the epochs done.

    A run killed before its first checkpoint starts again from epoch 0. Refused (with
    :class:`RunFolderError` / ``CheckpointError``, before anything is written) when the data are
    not the run's, the checkpoint is unreadable, or ``--n_epochs`` is below the epochs done."""
    conflict = run.data_conflict(identity)
    if conflict:
        raise RunFolderError(f"--resume {run.path}: {conflict}")
    record = RunRecord(run.path)
    if not record.has_checkpoint("checkpoint_last.pt"):
        return 0
    state = load_checkpoint(record.checkpoint("checkpoint_last.pt"))
    done = int(state["epoch"])
    if done > opt.n_epochs:
        raise RunFolderError(f"--resume {run.path}: --n_epochs {opt.n_epochs} is below the {done} epochs "
                             f"already trained")
    try:
        restore(state, **live)
    except (RuntimeError, ValueError, KeyError, TypeError) as err:   # another run's checkpoint
        reason = " ".join(str(err).split())[:200] or type(err).__name__
        raise RunFolderError(f"--resume {run.path}: checkpoint_last.pt does not fit this run's model, loss or "
                             f"optimizer ({reason}); is it another run's checkpoint?") from None
    run.restore_logs(done, state["wall_time"], state.get("logs"))
    return done


def main(argv: list[str] | None = None) -> int:
    printable_output()            # a non-ASCII path on an ASCII-only stdout is escaped, not an error
    opt = parameters.parse_args(argv)
    if opt.list:
        parameters.print_registries()
        return 0
    if opt.print_config:          # every resolved flag, as config.json holds them; no run
        print(format_config(opt))
        return 0
    distributed.setup(opt.device)  # a no-op unless launched by torchrun
    run = open_run(opt)
    print(format_header(opt, parameters.layered_defaults(opt.dataset), run.path))
    try:
        return run_and_report(opt, run)
    finally:
        run.unlock()              # also released when the process ends; in-process callers reuse it


def run_and_report(opt: argparse.Namespace, run: RunFolder) -> int:
    """Train, then write the final summary and print the results; every failure is reported in
    one line and recorded as the run's (see :func:`record_failure`). Returns the exit code."""
    try:
        with signals_raise():
            outcome = train(opt, run)
    except RunInterrupted as err:                       # SIGINT / SIGTERM: say so, exit 128 + signal
        record_failure(run, opt, f"{err} after epoch {len(run.train_rows)}; continue with --resume {run.path}",
                       interrupted=err.signal_name)
        print(f"main.py: {err} after epoch {len(run.train_rows)}; continue with --resume {run.path}",
              file=sys.stderr)
        return err.exit_code
    except (RunFolderError, CheckpointError) as err:    # a refused resume: the folder is untouched
        parameters.fail(str(err))
    except (ValueError, FileNotFoundError) as err:      # bad data or flags found while building
        record_failure(run, opt, str(err))
        parameters.fail(str(err))
    except NonFiniteLossError as err:                   # checkpoint_last.pt keeps the last good epoch
        record_failure(run, opt, str(err))
        print(f"main.py: error: {err}", file=sys.stderr)
        return 1
    except OSError as err:                              # disk full, folder not writable, ...
        record_failure(run, opt, f"{type(err).__name__}: {err}")
        print(f"main.py: error: cannot write the run folder {run.path}: {err}", file=sys.stderr)
        return 1
    except Exception as err:
        record_failure(run, opt, f"{type(err).__name__}: {err}")
        raise
    if outcome is None:
        if RunRecord(run.path).stopped_early:
            print(f"{run.path} completed: it stopped early (--patience {opt.patience}); nothing to do")
        else:
            print(f"{run.path} already completed its {opt.n_epochs} epochs; nothing to do "
                  f"(pass a larger --n_epochs to continue it)")
        return 0
    results, selector, stopped_early = outcome
    comm.barrier()  # rank 0 has written checkpoint_last.pt
    epochs = len(run.train_rows)
    run.write_summary("completed", epochs, opt.selection, selector.best_epoch, selector.test_metrics,
                      stopped_early=stopped_early)
    if comm.is_main():
        plot_training_curves(run.path, run.logs(), opt.storage_metrics, selected_epoch=selector.best_epoch,
                             selection=opt.selection)
    print(f"\nmetrics at the selected epoch {selector.best_epoch} (--selection {opt.selection}; as in summary.json):\n"
          + format_metrics_table(selector.results))
    if selector.best_epoch != epochs and results:
        print(f"\nlast epoch {epochs} (not selected):\n" + format_metrics_table(results))
    print(f"run folder: {run.path}")
    distributed.cleanup()
    return 0


def record_failure(run: RunFolder, opt: argparse.Namespace, error: str, interrupted: str | None = None) -> None:
    """Mark the run failed in ``summary.json`` once training has begun. Before that, a resumed
    folder is left as it was, and a folder this process created is removed again (it holds
    nothing), so that the same name can be used after fixing the problem. If even that write
    fails, the last summary stays."""
    try:
        if run.began:
            run.write_summary("failed", len(run.train_rows), opt.selection, None, {}, error=error,
                              interrupted=interrupted)
        elif comm.is_main():
            run.remove_if_unused()
    except OSError:
        pass


if __name__ == "__main__":
    sys.exit(main())
