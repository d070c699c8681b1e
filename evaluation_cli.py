"""Standalone evaluation: ``python -m evaluation`` (or ``python evaluation_cli.py``).

    python -m evaluation --checkpoint RUN/checkpoint_best.pt [--dataset D --source S]
                         [--split test] [--metrics ...] [--export_embeddings out.npz]
    python -m evaluation --embeddings FILE.npz [--metrics ...]

With ``--checkpoint``, the model and its flags are restored from the checkpoint (its
``config`` and ``model`` entries), the split is embedded once and evaluated. With
``--embeddings``, a ``.npz`` holding ``embeddings`` (N, D) and ``labels`` (N,), and optionally
``is_query``, ``is_gallery`` (bool) and ``category`` (N,), is evaluated without any model.
Prints a table and writes ``eval_<split>.json`` (into the checkpoint's or the file's folder,
or ``--out``).
"""
from __future__ import annotations

import argparse
import os
import sys
import zipfile
import zlib
from typing import Any

import numpy as np

import metrics
from evaluation.artifacts import save_report
from metrics.evidence import compute
from evaluation.engine import embed, protocol_columns
from evaluation.table import format_metrics_table
from utilities.atomic import can_write_in
from utilities.cli import printable_output
from utilities.registry import UnknownNameError

DEFAULT_METRICS = ["e_recall@1", "e_recall@2", "e_recall@4", "e_recall@8", "precision_at_1", "r_precision",
                   "map_at_r", "mAP_1000", "mrr", "nmi", "f1"]
COLUMNS = ("embeddings", "labels", "is_query", "is_gallery", "category")


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m evaluation",
                                description="Evaluate a dmlbench checkpoint or a saved .npz of embeddings.")
    src = p.add_mutually_exclusive_group(required=True)
    src.add_argument("--checkpoint", help="checkpoint_best.pt / checkpoint_last.pt of a run.")
    src.add_argument("--embeddings", help=".npz with embeddings, labels [, is_query, is_gallery, category].")
    p.add_argument("--dataset", default=None, help="Evaluate on another dataset than the run's.")
    p.add_argument("--source", "--source_path", dest="source_path", default=None, help="Dataset root folder.")
    p.add_argument("--split", default="test", choices=["train", "val", "test"], help="Split to evaluate.")
    p.add_argument("--metrics", nargs="+", default=None,
                   help="Metric names (default: the run's --evaluation_metrics, or a standard set).")
    p.add_argument("--metric_average", default=None, choices=["micro", "macro"], help="Averaging of ranking metrics.")
    p.add_argument("--export_embeddings", default=None, help="Also save the embeddings to this .npz.")
    p.add_argument("--out", default=None, help="Folder for eval_<split>.json (default: beside the input).")
    p.add_argument("--device", default=None, choices=["cpu", "cuda"], help="Device (default: cuda if available).")
    p.add_argument("--batch_size", default=256, type=int, help="Embedding batch size.")
    p.add_argument("--seed", default=None, type=int, help="k-means seed (default: the run's --seed, or 0).")
    return p


def fail(message: str) -> None:
    print(f"python -m evaluation: error: {' '.join(message.split())}", file=sys.stderr)
    raise SystemExit(2)


def restore(args: argparse.Namespace, device: str) -> tuple[Any, Any, argparse.Namespace]:
    """The model, the split dataset and the flags of ``--checkpoint``, read through the run
    record of its folder (:meth:`training.run_record.RunRecord.restore_model`); one line and exit
    2 when the checkpoint or its data cannot be used."""
    import parameters
    from training.checkpoint import CheckpointError
    from training.run_record import RunFolderError, RunRecord
    record = RunRecord(os.path.dirname(os.path.abspath(args.checkpoint)))
    try:
        parser = parameters.build_parser()
        return record.restore_model(os.path.basename(args.checkpoint), dataset=args.dataset,
                                    source_path=args.source_path, split=args.split, device=device,
                                    defaults=vars(parser.parse_args([])), parser=parser)
    except CheckpointError as err:
        fail(f"--checkpoint {err}")
    except RunFolderError as err:
        fail(str(err))
    except (ValueError, FileNotFoundError) as err:     # the data of the saved flags cannot be built
        fail(f"--checkpoint {args.checkpoint}: {first_line(err)}")
    raise AssertionError("unreachable")


#: Errors a damaged .npz raises while it is opened or read (truncated zip, not a zip, a
#: pickled member refused by ``allow_pickle=False``, a corrupt compressed stream).
NPZ_ERRORS = (OSError, ValueError, EOFError, zipfile.BadZipFile, zlib.error)


def load_npz(path: str) -> dict[str, np.ndarray | None]:
    """The columns of an embeddings file, checked (:func:`check_columns`); one line and exit 2
    for a file that is not a readable .npz or whose arrays do not fit together."""
    try:
        archive = np.load(path, allow_pickle=False)
        if not isinstance(archive, np.lib.npyio.NpzFile):
            fail(f"--embeddings {path}: a single .npy array, not an .npz archive of named arrays")
        with archive as f:
            missing = [k for k in ("embeddings", "labels") if k not in f]
            if missing:
                fail(f"--embeddings {path}: missing array(s) {', '.join(missing)} (found {', '.join(f.files)})")
            cols = {k: (f[k] if k in f else None) for k in COLUMNS}
    except NPZ_ERRORS as err:
        fail(f"--embeddings {path}: not a readable .npz file ({type(err).__name__}: {first_line(err)})")
    problem = check_columns(cols)
    if problem:
        fail(f"--embeddings {path}: {problem}")
    return cols


def check_columns(cols: dict[str, np.ndarray | None]) -> str | None:
    """What is wrong with the arrays of an embeddings file, or None: ``embeddings`` real (N, D),
    ``labels`` (N,) integers, ``is_query`` / ``is_gallery`` (N,) booleans, ``category`` (N,)."""
    emb, labels = cols["embeddings"], cols["labels"]
    if emb.dtype.kind not in "biuf":
        return f"array 'embeddings' must hold real numbers, not dtype {emb.dtype}"
    if emb.ndim != 2:
        return f"array 'embeddings' must be 2-D (N, D), got shape {emb.shape}"
    n = len(emb)
    if labels.dtype.kind not in "iu":
        return f"array 'labels' must hold integers, not dtype {labels.dtype}"
    for name in ("labels", "is_query", "is_gallery", "category"):
        if cols[name] is not None and cols[name].shape != (n,):
            return f"array '{name}' must have shape ({n},) like the {n} embeddings, got {cols[name].shape}"
    for name in ("is_query", "is_gallery"):
        if cols[name] is not None and cols[name].dtype.kind != "b":
            return f"array '{name}' must be boolean, not dtype {cols[name].dtype}"
    return None


def first_line(err: BaseException) -> str:
    text = str(err).strip()
    return text.splitlines()[0] if text else "no message"


def writable_out(path: str) -> str:
    """The report folder ``path``, made if missing; one line and exit 2 when it cannot be."""
    try:
        os.makedirs(path, exist_ok=True)
    except OSError as err:
        fail(f"--out {path}: cannot create the folder ({err.strerror or err})")
    if not os.access(path, os.W_OK):
        fail(f"--out {path}: the folder is not writable")
    return path


def main(argv: list[str] | None = None) -> int:
    printable_output()
    args = build_parser().parse_args(argv)
    source = args.checkpoint or args.embeddings
    if not os.path.isfile(source):
        fail(f"{'--checkpoint' if args.checkpoint else '--embeddings'}: no such file: {source}")
    if args.batch_size < 1:
        fail(f"--batch_size {args.batch_size}: expected >= 1")
    out_dir = writable_out(args.out or os.path.dirname(os.path.abspath(source)))   # before the embedding
    try:
        for name in args.metrics or []:
            metrics.parse(name)
    except (UnknownNameError, ValueError) as err:
        fail(str(err).replace("--evaluation_metrics", "--metrics"))
    out_dir = args.out or os.path.dirname(os.path.abspath(source))
    if not can_write_in(out_dir):        # checked first: a read-only run is read, never written
        fail(f"--out: cannot write eval_{args.split}.json into {out_dir} (not writable); pass --out DIR")
    if args.export_embeddings and not can_write_in(os.path.dirname(os.path.abspath(args.export_embeddings))):
        fail(f"--export_embeddings: cannot write {args.export_embeddings} (folder not writable)")
    import torch
    device = args.device or ("cuda" if torch.cuda.is_available() else "cpu")
    if device == "cuda" and not torch.cuda.is_available():
        fail("--device cuda: no CUDA device is available")

    if args.checkpoint:
        model, dataset, opt = restore(args, device)
        names = args.metrics or list(opt.evaluation_metrics)
        average_mode = args.metric_average or opt.metric_average
        seed = opt.seed if args.seed is None else args.seed
        emb, labels = embed(model, dataset, args.batch_size, device, desc=f"embed {args.split}")
        cols = protocol_columns(dataset)
        cols["embeddings"], cols["labels"] = emb, labels
    else:
        cols = load_npz(args.embeddings)
        names, average_mode = args.metrics or DEFAULT_METRICS, args.metric_average or "micro"
        seed = args.seed or 0

    try:
        results = compute(cols["embeddings"], cols["labels"], names, is_query=cols["is_query"],
                          is_gallery=cols["is_gallery"], categories=cols["category"], device=device,
                          average_mode=average_mode, seed=seed)
    except ValueError as err:   # bad data (non-finite rows, no queries) or an argument beyond it
        message = str(err).replace("--evaluation_metrics", "--metrics")
        where = f"--checkpoint {source} ({args.split} split)" if args.checkpoint else f"--embeddings {source}"
        fail(message if message.startswith("--metrics") else f"{where}: {message}")
    print(format_metrics_table({args.split: results}))
    os.makedirs(out_dir, exist_ok=True)
    report = os.path.join(out_dir, f"eval_{args.split}.json")
    save_report(report, args.split, os.path.abspath(source), results, len(cols["labels"]))
    print(f"wrote {report}")
    if args.export_embeddings:
        arrays = {k: (v.astype(str) if v.dtype == object else v) for k, v in cols.items() if v is not None}
        np.savez(args.export_embeddings, **arrays)
        print(f"wrote {args.export_embeddings}")
    return 0
