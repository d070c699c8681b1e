"""The one argparse namespace of dmlbench (docs/configuration.md).

Defaults come in layers, each overriding the one before:

1. the built-in defaults below (the Revisiting-DML tool's, except ``--dataset glyphs``);
2. the chosen dataset's preset (``DatasetSource.preset``);
3. an optional ``--config FILE.yaml`` (keys are flag names without ``--``);
4. the flags typed on the command line.

Component parameters (``--loss_<loss>_<param>``, ``--miner_<miner>_<param>``,
``--distance_<param>``, ...) are generated from the registered classes' signatures, so every
flag sets a real argument. Validation happens here, before any data is read or any run folder
exists: a bad value ends the program with one line on stderr and exit code 2. Each numeric flag
declares its domain where it is added (``add_checked(..., domain=POSITIVE)``, or a component's
``param_domains``) and every float must be finite; :func:`check_domains` checks them all.
"""
from __future__ import annotations

import argparse
import os
import sys
from typing import Any

import architectures
import batch_mining
import criteria
import datasampler
import datasets
import distances
import metrics
from training import objective
from training.online_logger import missing_key
from training.resume import check_resume, check_resume_overrides, resumed_flags
from utilities.flags import (MINUS_ONE_OR_POSITIVE, NON_NEGATIVE, OPEN_UNIT, POSITIVE, ROLES, Role, add_checked,
                             add_flag, at_least, between, domain_problem, parse_bool, registry_flags)
from utilities.cli import FlagError, OneLineParser, fail  # noqa: F401  (parameters.fail / FlagError for callers)
from utilities.help_screens import ScreenAction, component_help, registry_listing, short_help
from utilities.comm import batch_problem, world_size_from_env
from utilities.config_file import load_config
from utilities.registry import UnknownNameError

LEGACY_NO_EFFECT = {  # old flags kept so old scripts parse; they change nothing here
    "ext_some_parameter": 0.0, "online_backend": "wandb", "comet_api_key": "<your_api_key_here>",
    "mixup_no_manifold": False, "mixup_alpha": 2.0, "loss_mixupmargin_margin": 0.2,
    "loss_mixupmargin_beta_lr": 0.0005, "loss_mixupmargin_beta": 1.2, "loss_mixupmargin_nu": 0.0,
    "loss_mixupmargin_beta_constant": False, "loss_mixuptriplet_margin": 0.2,
    "data_gc_coreset_lim": 1e-9, "data_sim_measure": "euclidean", "data_idx_full_prec": False,
    "data_mb_mom": -1.0, "data_mb_lr": 1.0,
}
LEGACY_SECRETS = ("comet_api_key",)   # legacy flags whose values are still never written or printed


NAME_MAX_BYTES = 255   # longest file name (one path component) of common file systems


DEFAULT_SOURCE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "Datasets")   # inside the checkout
MAX_DEFAULT_WORKERS = 8


def available_cores() -> int:
    """The CPU cores this process may run on."""
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)


def default_workers() -> int:
    """``--kernels`` by default: one loader worker per core this process may run on, at most
    :data:`MAX_DEFAULT_WORKERS` (more rarely helps and costs memory), never more than the cores."""
    return max(1, min(available_cores(), MAX_DEFAULT_WORKERS))


def cap_workers(opt: argparse.Namespace) -> None:
    """``--kernels`` above the cores this process may use becomes that many, with one warning line:
    more workers only cost memory (each holds a copy of the dataset pipeline; ``--kernels 1000``
    exhausted it), and the number of workers never changes results."""
    cores = available_cores()
    if opt.kernels > cores:
        print(f"main.py: warning: --kernels {opt.kernels} is above the {cores} CPU core(s) this process "
              f"may use; using {cores} loader workers", file=sys.stderr)
        opt.kernels = cores




def basic_training_parameters(parser: argparse.ArgumentParser) -> None:
    g = parser.add_argument_group("basic")
    add_checked(g, "--dataset", default="glyphs", type=str, help="Dataset to use (see --list).")
    add_checked(g, "--use_tv_split", action="store_true", help="Split the training set into train and validation.")
    add_checked(g, "--tv_split_by_samples", action="store_true",
                   help="Make the validation split from a fraction of the samples of every class (default: of the classes).")
    add_checked(g, "--tv_split_perc", domain=OPEN_UNIT, default=0.8, type=float,
                help="Fraction of the training data kept for training.")
    add_checked(g, "--cv_folds", domain=NON_NEGATIVE, default=0, type=int,
                help="Class-disjoint cross-validation: cut the training classes, in order, into K contiguous "
                     "partitions; --cv_fold i validates on partition i (0: off; implies --use_tv_split).")
    add_checked(g, "--cv_fold", domain=NON_NEGATIVE, default=0, type=int,
                help="Which --cv_folds partition is the validation split (0 to K-1).")
    add_checked(g, "--augmentation", default="base", type=str, choices=["base", "adv", "big", "red"],
                   help="Training augmentation: base, adv (colour jitter), big (256px), red (no random resized crop).")
    add_checked(g, "--lr", domain=POSITIVE, default=0.00001, type=float, help="Learning rate of the network.")
    add_checked(g, "--fc_lr", domain=MINUS_ONE_OR_POSITIVE, default=-1, type=float,
                help="If not -1, the learning rate of the final embedding layer.")
    add_checked(g, "--decay", domain=NON_NEGATIVE, default=0.0004, type=float,
                help="Weight decay of the network parameters.")
    add_checked(g, "--n_epochs", domain=at_least(1), roles=(Role.RESULT, Role.MIDRUN), default=150, type=int, help="Number of training epochs.")
    add_checked(g, "--kernels", domain=NON_NEGATIVE, roles=(Role.MIDRUN,), default=default_workers(), type=int,
                help="DataLoader worker processes; built in: the cores this process may use, at most 8 (the glyphs and digits presets set 0: their data live in memory).")
    add_checked(g, "--bs", domain=POSITIVE, default=112, type=int,
                help="Mini-batch size (global, over all ranks).")
    add_checked(g, "--seed", domain=between(0, 2**32 - 1), roles=(Role.RESULT, Role.REPLICATE), default=1, type=int, help="Random seed.")
    add_checked(g, "--scheduler", default="step", type=str, choices=["step", "cosine", "none"],
                   help="Learning-rate schedule: step (multiply by --gamma at each epoch in --tau), cosine, none.")
    add_checked(g, "--gamma", domain=POSITIVE, default=0.3, type=float,
                help="Learning-rate factor applied at each --tau epoch.")
    add_checked(g, "--tau", domain=at_least(1), default=[1000], nargs="+", type=int,
                help="Epochs at which the learning rate is multiplied by --gamma.")
    add_checked(g, "--optim", default="adam", type=str, choices=["adam", "adamw", "sgd", "rmsprop"],
                help="Optimizer (sgd and rmsprop with momentum 0.9).")
    add_checked(g, "--loss", default="margin", type=str, help="Loss; 'a+b' sums several (see --loss_weights).")
    add_checked(g, "--batch_mining", default=None, type=str,
                   help="Batch miner (see --list), or 'none'. Default: the loss's own (distance for margin, "
                        "triplet, contrastive, quadruplet and snr; npair for npair and angular; lifted for "
                        "lifted), else none: the loss uses every pair, triplet or set of the batch.")
    add_checked(g, "--embed_dim", domain=between(1, 65536), default=128, type=int,
                help="Embedding dimensionality (at most 65536).")
    add_checked(g, "--not_pretrained", action="store_true", help="Do not load ImageNet weights.")
    add_checked(g, "--arch", default="resnet50_frozen_normalize", type=str,
                   help="Backbone name plus suffixes _frozen, _normalize, _double (any order).")
    add_checked(g, "--no_train_metrics", roles=(Role.RESULT, Role.MIDRUN), action="store_true",
                   help="Do not evaluate on the training data (saves a forward pass over it).")
    add_checked(g, "--evaluate_on_gpu", roles=(Role.MIDRUN,), action="store_true", help="Run kNN and k-means on the GPU when available.")
    add_checked(g, "--evaluation_metrics", nargs="+", default=[
        "e_recall@1", "e_recall@2", "e_recall@4", "nmi", "f1", "mAP_1000", "mAP_lim", "mAP_c",
        "dists@intra", "dists@inter", "dists@intra_over_inter", "rho_spectrum@0", "rho_spectrum@-1",
        "rho_spectrum@1", "rho_spectrum@2", "rho_spectrum@10"], type=str, help="Metrics to compute.")
    add_checked(g, "--storage_metrics", nargs="+", default=["e_recall@1"], type=str,
                   help="Metrics whose improvement selects checkpoint_best.pt (the first one decides).")
    add_checked(g, "--evaltypes", nargs="+", default=["discriminative"], type=str,
                   help="Embedding heads to evaluate; dmlbench networks have one, 'discriminative'.")
    add_checked(g, "--gpu", domain=NON_NEGATIVE, roles=(Role.MIDRUN,), default=[0], nargs="+", type=int,
                help="CUDA device index of a single-process run (several GPUs: launch with torchrun).")
    add_checked(g, "--savename", roles=(Role.LOCATION, Role.MIDRUN), default="group_plus_seed", type=str,
                   help="Run folder name; default <group>_s<seed>, or <dataset>_<loss>_<miner>_s<seed>_<time>.")
    add_checked(g, "--source_path", "--source", roles=(Role.LOCATION, Role.MIDRUN), dest="source_path", default=DEFAULT_SOURCE, type=str,
                   help="Root folder of the datasets (--source is the documented spelling); default: "
                        "the Datasets folder of this checkout.")
    add_checked(g, "--save_path", roles=(Role.LOCATION, Role.MIDRUN), default=os.path.join(os.getcwd(), "Training_Results"), type=str,
                   help="Where run folders are written: <save_path>/<dataset>/<savename>/.")


def wandb_parameters(parser: argparse.ArgumentParser) -> None:
    g = parser.add_argument_group("W&B")
    add_checked(g, "--log_online", roles=(Role.MIDRUN,), action="store_true", help="Also log config and metrics to Weights & Biases.")
    add_checked(g, "--wandb_key", roles=(Role.SECRET, Role.MIDRUN), default="<your_api_key_here>", type=str,
                   help="W&B API key (prefer the WANDB_API_KEY environment variable). Never printed.")
    add_checked(g, "--project", roles=(Role.MIDRUN,), default="Sample_Project", type=str, help="W&B project.")
    add_checked(g, "--group", roles=(), default=None, type=str, help="W&B group: runs that differ only by seed.")


def loss_specific_parameters(parser: argparse.ArgumentParser) -> None:
    g = parser.add_argument_group("loss", "Composition of the loss, then each loss's own parameters.")
    add_checked(g, "--loss_distance", default=None, type=str, help="Distance used by the loss (default: the loss's own).")
    add_checked(g, "--loss_reducer", default=None, type=str, help="How per-element losses are reduced (default: the loss's own).")
    add_checked(g, "--loss_weights", default=None, type=str, help="Comma-separated weights for --loss a+b (default all 1).")
    add_checked(g, "--loss_weight_decay", domain=NON_NEGATIVE, default=0.0, type=float,
                help="Weight decay on loss parameters (proxies, betas).")
    add_checked(g, "--embedding_regularizer", default=None, type=str, help="Regulariser on the embeddings.")
    add_checked(g, "--embedding_reg_weight", domain=NON_NEGATIVE, default=0.0, type=float,
                help="Weight of --embedding_regularizer.")
    add_checked(g, "--weight_regularizer", default=None, type=str, help="Regulariser on a loss's weights (proxies).")
    add_checked(g, "--weight_reg_weight", domain=NON_NEGATIVE, default=0.0, type=float,
                help="Weight of --weight_regularizer.")
    add_checked(g, "--xbm_memory_size", domain=NON_NEGATIVE, default=0, type=int,
                help="Cross-batch memory size; 0 disables XBM.")
    add_checked(g, "--xbm_start_iteration", domain=NON_NEGATIVE, default=0, type=int,
                help="Iteration at which XBM starts contributing.")
    for spec in registry_flags(distances.DISTANCES, distances.FLAG_TEMPLATE):
        add_flag(g, spec)
    for extra in criteria.EXTRA_FLAG_REGISTRIES:
        for spec in registry_flags(*extra):
            add_flag(g, spec)
    for spec in registry_flags(criteria.LOSSES, criteria.FLAG_TEMPLATE):
        add_flag(g, spec)


def batchmining_specific_parameters(parser: argparse.ArgumentParser) -> None:
    g = parser.add_argument_group("miner")
    add_checked(g, "--miner_distance_fn", default=None, type=str, help="Distance used by the miner (default: the miner's own).")
    for spec in registry_flags(batch_mining.MINERS, batch_mining.FLAG_TEMPLATE):
        add_flag(g, spec)


def batch_creation_parameters(parser: argparse.ArgumentParser) -> None:
    g = parser.add_argument_group("sampler")
    add_checked(g, "--data_sampler", default="class_random", type=str, help="How batches are built (see --list).")
    add_checked(g, "--samples_per_class", domain=POSITIVE, default=2, type=int,
                help="Images per class in a batch (K of P x K).")
    add_checked(g, "--data_batchmatch_bigbs", domain=POSITIVE, default=512, type=int,
                help="Candidate pool size for coreset/batch-matching samplers.")
    add_checked(g, "--data_batchmatch_ncomps", domain=POSITIVE, default=10, type=int,
                help="Candidate batches compared by batch-matching samplers.")
    add_checked(g, "--data_storage_no_update", action="store_true", help="Do not refresh the embedding storage of storage-based samplers.")
    add_checked(g, "--data_d2_coreset_lambda", default=1.0, type=float, help="Regularisation of the D2 coreset sampler.")
    add_checked(g, "--data_sampler_lowproj_dim", domain=MINUS_ONE_OR_POSITIVE, default=-1, type=int,
                help="Random projection width for coreset samplers (-1: none).")
    add_checked(g, "--data_gc_softened", action="store_true", help="Soft greedy coreset.")
    for spec in registry_flags(datasampler.SAMPLERS, datasampler.FLAG_TEMPLATE):
        add_flag(g, spec)


def data_parameters(parser: argparse.ArgumentParser) -> None:
    g = parser.add_argument_group("data")
    add_checked(g, "--skip_bad_images", action="store_true", help="Skip unreadable images (counted and reported) instead of failing.")
    add_checked(g, "--cache_resized", domain=NON_NEGATIVE, default=0, type=int,
                help="Decode and resize images once to this size into a cache folder (0: off).")
    for spec in registry_flags(datasets.DATASETS, datasets.FLAG_TEMPLATE):
        add_flag(g, spec)
    for spec in registry_flags(architectures.ARCHITECTURES, architectures.FLAG_TEMPLATE):
        add_flag(g, spec)


def run_parameters(parser: argparse.ArgumentParser) -> None:
    g = parser.add_argument_group("run control")
    add_checked(g, "--list", roles=(Role.INVOCATION, Role.MIDRUN), action="store_true", help="Print every registry with a one-line description and exit.")
    add_checked(g, "--print_config", roles=(Role.INVOCATION,), action="store_true",
                   help="Print the resolved configuration (every flag, as config.json holds it) and exit; no run.")
    add_checked(g, "--config", roles=(Role.FLAG_SOURCE, Role.MIDRUN), default=None, type=str, help="YAML file of flag defaults (applied after the dataset preset).")
    add_checked(g, "--eval_every", domain=at_least(1), roles=(Role.RESULT, Role.MIDRUN), default=1, type=int,
                help="Evaluate every N epochs (and after the last).")
    add_checked(g, "--eval_splits", nargs="+", default=None, choices=["train", "val", "test"],
                   help="Splits to evaluate (default: test, val if present, train unless --no_train_metrics).")
    add_checked(g, "--selection", default="last", choices=["last", "val", "test_max"],
                   help="Which epoch summary.json reports and checkpoint_best.pt holds.")
    add_checked(g, "--patience", domain=NON_NEGATIVE, default=0, type=int,
                help="Stop when the validation metric (--selection val) has not improved for N evaluations (0: never).")
    add_checked(g, "--metric_average", default="micro", choices=["micro", "macro"],
                   help="Average retrieval metrics over queries (micro) or per class first (macro).")
    add_checked(g, "--train_eval_subset", domain=NON_NEGATIVE, default=0, type=int,
                help="Evaluate train on a fixed random subset of N items (0: all).")
    add_checked(g, "--eval_bs", domain=NON_NEGATIVE, default=0, type=int,
                help="Embedding batch size of evaluation and storage passes (0: 128 on the CPU, max(--bs, 256) on CUDA).")
    add_checked(g, "--plot_embeddings", roles=(Role.MIDRUN,), action="store_true", help="Save a t-SNE plot of test embeddings.")
    add_checked(g, "--plot_retrievals", domain=NON_NEGATIVE, roles=(Role.MIDRUN,), default=0, type=int,
                help="Save a grid of N queries and their top-8 neighbours.")
    add_checked(g, "--resume", roles=(Role.FLAG_SOURCE, Role.MIDRUN), default=None, type=str, help="Run folder (or checkpoint) to continue from.")
    add_checked(g, "--device", roles=(Role.MIDRUN,), default=None, choices=["cpu", "cuda"], help="Training device (default: cuda if available).")
    add_checked(g, "--amp", roles=(Role.RESULT, Role.MIDRUN), action="store_true", help="Mixed precision (CUDA autocast).")
    add_checked(g, "--compile", roles=(Role.RESULT, Role.MIDRUN), action="store_true", help="torch.compile the model.")
    add_checked(g, "--deterministic", action="store_true", help="Use torch's deterministic algorithms.")
    add_checked(g, "--skip_nonfinite", domain=NON_NEGATIVE, default=0, type=int,
                help="Skip up to N batches per epoch with a non-finite loss or gradient (a skipped batch changes nothing; an epoch that skips every batch fails the run).")
    add_checked(g, "--dist_global_batch", default=True, type=parse_bool, metavar="BOOL",
                   help="Under torchrun, mine and compute the loss on the all-gathered global batch.")
    ROLES.declare("argv", (Role.INVOCATION, Role.MIDRUN))   # not a flag: the command line, saved with them


def print_registries() -> None:
    """``main.py --list``: every registry with a one-line description of each entry."""
    sections = [("losses (--loss)", criteria.LOSSES), ("miners (--batch_mining)", batch_mining.MINERS),
                ("samplers (--data_sampler)", datasampler.SAMPLERS),
                ("architectures (--arch, + _frozen/_normalize/_double)", architectures.ARCHITECTURES),
                ("datasets (--dataset)", datasets.DATASETS), ("distances (--loss_distance)", distances.DISTANCES),
                ("metrics (--evaluation_metrics)", metrics.METRICS)]
    print(registry_listing(sections + list(criteria.LISTED_REGISTRIES)), end="")


def legacy_parameters(parser: argparse.ArgumentParser) -> None:
    g = parser.add_argument_group("legacy", "Flags of the Revisiting-DML tool kept so its scripts parse; they have no effect.")
    for name, default in LEGACY_NO_EFFECT.items():
        roles = (Role.LEGACY, Role.SECRET) if name in LEGACY_SECRETS else (Role.LEGACY,)
        if isinstance(default, bool):
            add_checked(g, "--" + name, roles=roles, action="store_true", help="No effect (legacy).")
        else:
            add_checked(g, "--" + name, roles=roles, default=default, type=type(default), help="No effect (legacy).")


#: The flags a run is made of, grouped, for the short ``--help`` screen.
CORE_FLAGS = (
    ("data", ["dataset", "source_path", "use_tv_split"]),
    ("model and objective", ["arch", "embed_dim", "loss", "batch_mining"]),
    ("training", ["bs", "samples_per_class", "optim", "lr", "n_epochs", "patience"]),
    ("evaluation", ["evaluation_metrics", "eval_every", "selection"]),
    ("run", ["seed", "device", "kernels", "save_path", "group", "resume", "config"]),
)


def component_registries() -> list[tuple[str, Any]]:
    """(what, registry) of every kind whose components generate their own flags."""
    out = [("loss", criteria.LOSSES), ("miner", batch_mining.MINERS), ("sampler", datasampler.SAMPLERS),
           ("architecture", architectures.ARCHITECTURES), ("dataset", datasets.DATASETS),
           ("distance", distances.DISTANCES)]
    return out + [(registry.kind, registry) for registry, _ in criteria.EXTRA_FLAG_REGISTRIES]


def help_parameters(parser: argparse.ArgumentParser) -> None:
    g = parser.add_argument_group("help")
    g.add_argument("-h", "--help", action=ScreenAction, help="Show the flags a run is made of, grouped, and exit "
                   "(about two screens).", screen=lambda p, _: short_help(p, CORE_FLAGS, component_registries()))
    g.add_argument("--help_all", action=ScreenAction, screen=lambda p, _: p.format_help(),
                   help="Show every flag and exit.")
    g.add_argument("--help_component", action=ScreenAction, nargs=1, metavar="NAME",
                   screen=lambda p, name: component_help(p, name, component_registries()),
                   help="Show the flags of one component (a loss, miner, sampler, dataset, ...) and exit.")


def build_parser() -> argparse.ArgumentParser:
    """The full parser, with built-in defaults only."""
    parser = OneLineParser(prog="main.py", description="dmlbench: deep metric learning benchmark",
                           formatter_class=argparse.ArgumentDefaultsHelpFormatter, add_help=False)
    for add_group in (help_parameters, basic_training_parameters, wandb_parameters, loss_specific_parameters,
                      batchmining_specific_parameters, batch_creation_parameters, data_parameters,
                      run_parameters, legacy_parameters):
        add_group(parser)
    return parser


build_parser()   # declares every flag's roles (utilities.flags.ROLES) as soon as this module is imported


def layered_defaults(dataset: str) -> dict[str, Any]:
    """Every flag's default after the first two layers, the built-in defaults and the preset of
    ``dataset``: what a run gets when nothing else is typed. The start-up header lists the flags
    that differ from these (typed on the command line or set by ``--config``)."""
    parser = build_parser()
    if dataset in datasets.DATASETS:
        parser.set_defaults(**datasets.DATASETS.get(dataset).preset)
    return {a.dest: a.default for a in parser._actions if a.dest != "help"}


def _pre_parse(argv: list[str]) -> argparse.Namespace:
    pre = OneLineParser(add_help=False)
    pre.add_argument("--dataset", default=None)
    pre.add_argument("--config", default=None)
    pre.add_argument("--resume", default=None)
    known, _ = pre.parse_known_args(argv)
    return known


def check_domains(parser: argparse.ArgumentParser, opt: argparse.Namespace) -> None:
    """Every flag's value against its domain (``add_checked`` / ``param_domains``); every float
    must be finite. Runs on the parsed namespace, so it covers the command line, the config
    file and the presets alike."""
    for action in parser._actions:
        if action.dest in ("help",) or not hasattr(opt, action.dest):
            continue
        problem = domain_problem(action.dest, getattr(opt, action.dest), getattr(action, "domain", None))
        if problem:
            raise FlagError(problem)


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """Parse ``argv`` (default ``sys.argv[1:]``) with the four layers of defaults, then validate.

    Raises ``SystemExit(2)`` with a one-line message on stderr for any invalid input.
    """
    argv = list(sys.argv[1:] if argv is None else argv)
    parser = build_parser()
    try:
        pre = _pre_parse(argv)
        # a resume named in a --config file is a resume too: the run's flags, the same checks
        resume = pre.resume or (load_config(pre.config, parser).get("resume") if pre.config else None)
        saved = resumed_flags(resume, parser) if resume else {}
        dataset = pre.dataset or saved.get("dataset") or parser.get_default("dataset")
        if dataset in datasets.DATASETS:
            parser.set_defaults(**datasets.DATASETS.get(dataset).preset)
        parser.set_defaults(**saved)     # --resume: the run's own flags, under what is typed now
        if pre.config:
            config = load_config(pre.config, parser)
            parser.set_defaults(**config)
            if "dataset" in config and pre.dataset is None and config["dataset"] in datasets.DATASETS:
                parser.set_defaults(**{**datasets.DATASETS.get(config["dataset"]).preset, **config})
        opt = parser.parse_args(argv)
        opt.argv = argv
        check_resume_overrides(opt, saved, resume)
        if not opt.list:
            check_domains(parser, opt)
            finalize(opt)
            validate(opt)
    except (FlagError, UnknownNameError, ValueError) as err:
        fail(str(err))
    return opt


def finalize(opt: argparse.Namespace) -> None:
    """Derived values: device, the miner of the loss when none is named, savename."""
    if opt.batch_mining is None:
        opt.batch_mining = objective.default_miner(opt.loss)
    if opt.cv_folds:
        opt.use_tv_split = True          # a cross-validation fold is a train/val split
    if opt.device is None:
        import torch
        opt.device = "cuda" if torch.cuda.is_available() else "cpu"
    cap_workers(opt)
    if opt.savename == "group_plus_seed":
        if opt.group:
            opt.savename = f"{opt.group}_s{opt.seed}"
            check_savename(opt.savename, "--group")
        else:
            import time
            stamp = time.strftime("%Y%m%d-%H%M%S")
            opt.savename = f"{opt.dataset}_{opt.loss}_{opt.batch_mining}_s{opt.seed}_{stamp}"


def validate(opt: argparse.Namespace) -> None:
    """Every check that needs no data. Raises :class:`FlagError` (or ``UnknownNameError``)."""
    datasets.DATASETS.check(opt.dataset)
    for loss_name in opt.loss.split("+"):
        criteria.LOSSES.check(loss_name)
    batch_mining.check(opt.batch_mining)
    datasampler.SAMPLERS.check(opt.data_sampler)
    architectures.parse_arch(opt.arch)
    for name in (opt.loss_distance, opt.miner_distance_fn):
        if name is not None:
            distances.DISTANCES.check(name)
    for name in list(opt.evaluation_metrics) + list(opt.storage_metrics):
        parsed = metrics.parse(name)
        if parsed.family == "rho_spectrum" and abs(parsed.value) > opt.embed_dim:
            raise FlagError(f"--evaluation_metrics {name}: |k| = {abs(parsed.value)} exceeds --embed_dim "
                            f"{opt.embed_dim} (the embeddings have at most {opt.embed_dim} singular values); "
                            f"drop it or use |k| <= {opt.embed_dim}")
    missing = [m for m in opt.storage_metrics if m not in opt.evaluation_metrics]
    if missing:
        raise FlagError(f"--storage_metrics {missing[0]} is not among --evaluation_metrics")
    if opt.bs % opt.samples_per_class:
        raise FlagError(f"--bs {opt.bs} is not divisible by --samples_per_class {opt.samples_per_class}")
    problem = batch_problem(opt.bs, opt.samples_per_class, world_size_from_env(), opt.dist_global_batch)
    if problem:
        raise FlagError(problem)
    if opt.cv_folds == 1 or opt.cv_fold >= max(opt.cv_folds, 1):
        raise FlagError(f"--cv_folds {opt.cv_folds} --cv_fold {opt.cv_fold}: expected K >= 2 folds and "
                        "0 <= i < K" if opt.cv_folds != 1 else "--cv_folds 1: expected at least 2 folds")
    if opt.cv_folds and opt.tv_split_by_samples:
        raise FlagError("--cv_folds splits by classes; drop --tv_split_by_samples")
    if opt.patience and opt.selection != "val":
        raise FlagError(f"--patience {opt.patience} stops on the validation metric: add --selection val")
    if opt.selection == "val" and not opt.use_tv_split:
        raise FlagError("--selection val needs a validation split: add --use_tv_split")
    check_eval_splits(opt)
    check_savename(opt.savename)
    if opt.device == "cuda":
        import torch
        if not torch.cuda.is_available():
            raise FlagError("--device cuda: no CUDA device is available")
        if not 0 <= opt.gpu[0] < torch.cuda.device_count():
            raise FlagError(f"--gpu {opt.gpu[0]}: only {torch.cuda.device_count()} CUDA device(s) are visible")
    if len(opt.gpu) > 1:
        raise FlagError(f"--gpu {' '.join(map(str, opt.gpu))}: one index per process; for several GPUs "
                        "launch with torchrun --nproc_per_node=N (see the README's multi-GPU section)")
    if opt.evaltypes != ["discriminative"]:
        raise FlagError(f"--evaltypes {' '.join(opt.evaltypes)}: dmlbench networks have one embedding head, "
                        "'discriminative'")
    if opt.resume is not None:
        check_resume(opt.resume)
    if missing_key(opt):
        raise FlagError(missing_key(opt))
    source_cls = datasets.DATASETS.get(opt.dataset)
    if datasampler.SAMPLERS.get(opt.data_sampler).needs_categories and not source_cls.has_categories:
        raise FlagError(f"--data_sampler {opt.data_sampler} needs super-class labels, which --dataset {opt.dataset} lacks")
    if source_cls.needs_source:
        problem = source_cls.check_source(opt.source_path)
        if problem:
            raise FlagError(f"--source: {problem}")
    problem = objective.pairing_problem(opt.loss, opt.batch_mining, opt.loss_distance, opt.miner_distance_fn)
    if problem:
        raise FlagError(problem)
    objective.check_miner_arguments(opt)
    criteria.check_flags(opt)
    changed = [f"--{k}" for k, v in LEGACY_NO_EFFECT.items() if getattr(opt, k) != v]
    if changed:
        print(f"main.py: warning: {', '.join(changed)} ha{'ve' if len(changed) > 1 else 's'} "
              "no effect in dmlbench (legacy flag)", file=sys.stderr)


def check_eval_splits(opt: argparse.Namespace) -> None:
    """``--eval_splits`` must name splits the run has, and ``--selection`` must see its split."""
    if not opt.eval_splits:
        return
    if "val" in opt.eval_splits and not opt.use_tv_split:
        raise FlagError(f"--eval_splits {' '.join(opt.eval_splits)}: there is no validation split to "
                        "evaluate; add --use_tv_split or drop 'val'")
    needed = {"val": "val", "test_max": "test"}.get(opt.selection)
    if needed and needed not in opt.eval_splits:
        raise FlagError(f"--eval_splits {' '.join(opt.eval_splits)}: --selection {opt.selection} needs "
                        f"the {needed} split evaluated; add '{needed}'")


def check_savename(name: str, flag: str = "--savename") -> None:
    """The run folder name must be one file name inside ``<save_path>/<dataset>/``; ``flag`` is
    the flag it came from (``--group`` for the default ``<group>_s<seed>``)."""
    shown = name if len(name) <= 40 else name[:37] + "..."
    if name in ("", ".", ".."):
        raise FlagError(f"{flag} {name!r}: expected a folder name (not empty, '.' or '..')")
    bad = [c for c in ("/", os.sep, os.altsep, "\0") if c and c in name]
    if bad:
        raise FlagError(f"{flag} {shown!r}: the run folder name must not contain {bad[0]!r} "
                        "(it would leave --save_path)")
    size = len(name.encode("utf-8", errors="surrogateescape"))
    if size > NAME_MAX_BYTES:
        what = " in the run folder name <group>_s<seed>" if flag == "--group" else ""
        raise FlagError(f"{flag} {shown!r}: {size} bytes{what}, expected at most {NAME_MAX_BYTES} "
                        "(the file-name limit)")
