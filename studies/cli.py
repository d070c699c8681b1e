"""``Reality_Check_Studies.py``: a fair comparison study of several methods (the Reality Check
protocol, Musgrave et al., ECCV 2020). See docs/studies.md.

    python Reality_Check_Studies.py --study STUDY --methods triplet contrastive --trials 50 \\
        --cv_folds 4 --reproductions 5 [--workers N] [--launcher slurm ...] -- <main.py flags>

Every bad input (unknown method, bad space, K < 2 or above the training classes, unreachable
storage, SLURM without ``sbatch``, bad ``main.py`` flags) is one line on stderr and exit code 2,
before anything trains.
"""
from __future__ import annotations

import argparse
import os
import sys
from typing import Any

from studies import StudyError
from studies.launch import SlurmOptions, check_launcher, run_jobs
from studies.settings import Settings
from studies.spaces import default_paths, flag_argv, resolve
from studies.storage import PASSWORD_ENV, without_password

PROG = "Reality_Check_Studies.py"


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # type: ignore[override]
        raise StudyError(message)


def build_parser() -> argparse.ArgumentParser:
    p = _Parser(prog=PROG, description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--study", required=True, help="Study folder (Optuna journal, runs, tables).")
    p.add_argument("--methods", nargs="+", required=True,
                   help=f"Methods to compare; shipped spaces: {', '.join(default_paths())}.")
    p.add_argument("--space", nargs="+", default=[], help="Space YAML files overriding or adding methods.")
    p.add_argument("--trials", type=int, default=50, help="Finished trials per method (the search budget).")
    p.add_argument("--cv_folds", type=int, default=4, help="Class-disjoint folds K of the training classes.")
    p.add_argument("--metric", default="map_at_r", help="Validation metric averaged over the folds.")
    p.add_argument("--seed", type=int, default=0, help="Seed of the TPE sampler and of the search runs.")
    p.add_argument("--prune", action="store_true", help="Prune trials on the running fold mean (median pruner).")
    p.add_argument("--extend", action="store_true",
                   help="Allow a rerun to raise --trials or --reproductions of a finished study (nothing else "
                        "may differ from the protocol recorded in the study folder).")
    p.add_argument("--startup_trials", type=int, default=None,
                   help="Random trials before TPE models the results, the default configuration included "
                        "(default: a fifth of --trials, from 2 to 10).")
    p.add_argument("--reproductions", type=int, default=5, help="Retrainings of the best configuration (0: none).")
    p.add_argument("--storage", default=None, help="Optuna storage URL (default: a journal file in --study).")
    p.add_argument("--workers", type=int, default=1, help="Workers sharing the storage.")
    p.add_argument("--launcher", choices=["local", "slurm"], default="local", help="Where the workers run.")
    p.add_argument("--heartbeat", type=float, default=30.0,
                   help="Seconds between a running trial's heartbeats; 3 missed: its worker is dead.")
    p.add_argument("--slurm_partition", default=None)
    p.add_argument("--slurm_gpus", type=int, default=1, help="GPUs per SLURM job.")
    p.add_argument("--slurm_cpus", type=int, default=8, help="CPUs per SLURM job.")
    p.add_argument("--slurm_time", type=int, default=24 * 60, help="Time limit per SLURM job, minutes.")
    p.add_argument("--slurm_mem", default=None, help="Memory per SLURM job, e.g. 64G.")
    p.add_argument("--slurm_extra", nargs="+", default=[], help="More sbatch options, KEY=VALUE (account=abc).")
    return p


def split_argv(argv: list[str]) -> tuple[list[str], list[str]]:
    if "--" in argv:
        i = argv.index("--")
        return argv[:i], argv[i + 1:]
    return argv, []


def secrets_to_environment(main_argv: list[str]) -> list[str]:
    """The ``main.py`` flags without the secret ones (``--wandb_key K``, ``--wandb_key=K``), which
    would otherwise reach ``study.json``, submitit's pickled jobs and every fold run's command line.
    The W&B key goes to ``WANDB_API_KEY`` instead (unless that is already set: ``main.py``'s order),
    which the fold runs, local worker processes and SLURM jobs inherit."""
    from training.online_logger import PLACEHOLDER_KEY
    import parameters  # noqa: F401  (importing it declares every flag's roles)
    from utilities.flags import secret_flags
    names = {f"--{key}": key for key in secret_flags()}
    out, tokens = [], iter(main_argv)
    for token in tokens:
        name, eq, value = token.partition("=")
        if name not in names:
            out.append(token)
            continue
        value = value if eq else next(tokens, "")
        if names[name] == "wandb_key" and value not in ("", PLACEHOLDER_KEY):
            os.environ.setdefault("WANDB_API_KEY", value)
    return out


def check_main_flags(settings: Settings) -> tuple[int, dict[str, dict[str, Any]]]:
    """Parse each method's first fold run as ``main.py`` would (bad flags: ``main.py``'s one-line
    error, exit 2) and check K against the training classes; returns ``--n_epochs`` and each
    method's default configuration (:func:`studies.first_trial.default_params`)."""
    import datasets
    import parameters
    from datasets.table import check_folds
    from studies.first_trial import default_params
    from studies.objective import fold_folders
    epochs, defaults = 0, {}
    for space in settings.spaces.values():
        params = {}
        for name, spec in space.search.items():
            params[name] = spec["choices"][0] if spec["type"] == "categorical" else (
                int(spec["low"]) if spec["type"] == "int" else float(spec["low"]))
        argv, _ = fold_folders(settings, space, params, settings.seed, "check", False)[0]
        opt = parameters.parse_args(argv)
        epochs = opt.n_epochs
        defaults[space.method] = default_params(space, parameters.parse_args(
            list(settings.base_argv) + flag_argv(space.fixed)))
    n_classes = len(set(datasets.build_source(opt).tables()["train"].labels.tolist()))
    try:
        check_folds(n_classes, settings.folds)
    except ValueError as err:
        raise StudyError(str(err)) from None
    return epochs, defaults


def check_printable(path: str, flag: str) -> None:
    """The study prints its paths (and its fold runs print theirs): a path that this process's
    output encoding cannot write would end in a traceback midway, so it is refused at once."""
    encoding = getattr(sys.stdout, "encoding", None) or "utf-8"
    try:
        path.encode(encoding)
    except UnicodeEncodeError:
        raise StudyError(f"{flag} {path.encode(encoding, 'backslashreplace').decode(encoding)}: this output "
                         f"encoding ({encoding}) cannot print the path; use a path in that encoding or run "
                         "with a UTF-8 locale (e.g. PYTHONIOENCODING=utf-8)") from None


def settings_from(args: argparse.Namespace, base_argv: list[str]) -> Settings:
    import parameters
    check_printable(os.path.abspath(args.study), "--study")
    if args.cv_folds < 2:
        raise StudyError(f"--cv_folds {args.cv_folds}: expected at least 2 folds")
    for flag in ("trials", "workers"):
        if getattr(args, flag) < 1:
            raise StudyError(f"--{flag} {getattr(args, flag)}: expected at least 1")
    if not args.heartbeat > 0:
        raise StudyError(f"--heartbeat {args.heartbeat:g}: expected seconds above 0 (a worker whose trial misses "
                         "3 heartbeats is taken for dead)")
    if args.reproductions < 0:
        raise StudyError(f"--reproductions {args.reproductions}: expected 0 or more")
    from studies.worker import MIN_FOLDS_TO_PRUNE
    if args.prune and args.cv_folds < MIN_FOLDS_TO_PRUNE:
        raise StudyError(f"--prune needs --cv_folds {MIN_FOLDS_TO_PRUNE} or more (got {args.cv_folds}): a trial is "
                         "never pruned on its first fold alone, so with fewer folds nothing is saved")
    if args.startup_trials is not None and args.startup_trials < 1:
        raise StudyError(f"--startup_trials {args.startup_trials}: expected at least 1")
    from studies.sampler import default_startup_trials
    startup = default_startup_trials(args.trials) if args.startup_trials is None else args.startup_trials
    flag_names = [a.dest for a in parameters.build_parser()._actions if a.dest != "help"]
    import metrics
    try:
        if not metrics.parse(args.metric).higher_is_better:
            raise StudyError(f"--metric {args.metric}: the study maximises; pick a higher-is-better metric")
    except (ValueError, KeyError) as err:      # an unknown name is a registry KeyError
        raise StudyError(f"--metric: {str(err).strip(chr(34) + chr(39))}") from None
    spaces = resolve(args.methods, args.space, flag_names)
    storage, password = without_password(args.storage) if args.storage else (None, None)
    if password is not None:          # the workers read it from the environment, never from a file
        os.environ[PASSWORD_ENV] = password
    return Settings(study_dir=os.path.abspath(args.study), spaces=spaces, trials=args.trials, folds=args.cv_folds,
                    metric=args.metric, seed=args.seed, prune=args.prune, storage=storage,
                    reproductions=args.reproductions, heartbeat_s=args.heartbeat, base_argv=base_argv,
                    startup_trials=startup)


def search_all(settings: Settings, worker_index: int) -> int:
    """One worker's share of every method's search, method after method (``worker_index`` names
    the job; the trials' seeds come from the study, not from the worker)."""
    from studies.worker import run_worker
    return sum(run_worker(settings, space) for space in settings.spaces.values())


def reproduce_all(settings: Settings, calls: list[tuple[str, dict[str, Any], int]]) -> list[dict[str, Any]]:
    from studies.reproductions import reproduce
    return [reproduce(settings, settings.spaces[m], params, r) for m, params, r in calls]


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    own, main_argv = split_argv(argv)
    base_argv = secrets_to_environment(main_argv)
    try:
        args = build_parser().parse_args(own)
        settings = settings_from(args, base_argv)
        slurm = SlurmOptions(args.slurm_partition, args.slurm_gpus, args.slurm_cpus, args.slurm_time,
                             args.slurm_mem, args.slurm_extra)
        check_launcher(args.launcher, slurm)
        from studies.storage import open_storage, repair_journal
        if "://" not in settings.storage_url:
            repaired = repair_journal(settings.storage_url)
            if repaired:
                print(repaired, file=sys.stderr, flush=True)
        open_storage(settings.storage_url)
        epochs, defaults = check_main_flags(settings)
        from studies.protocol import check_rerun
        check_rerun(settings.study_dir, settings, epochs, args.extend)
        return run_study(settings, args, slurm, epochs, defaults)
    except StudyError as err:
        print(f"{PROG}: error: {' '.join(str(err).split())}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"{PROG}: interrupted; its workers were stopped. Rerun the same command to go on with the study.",
              file=sys.stderr)
        return 130


def run_study(settings: Settings, args: argparse.Namespace, slurm: SlurmOptions, epochs: int,
              defaults: dict[str, dict[str, Any]]) -> int:
    """Everything after the checks: the study record, the search, the outputs, the reproductions."""
    from studies import outputs
    from studies.worker import load_study
    from studies.first_trial import enqueue_default
    os.makedirs(settings.study_dir, exist_ok=True)
    outputs.write_study_record(settings, epochs)
    for method in settings.spaces:
        enqueue_default(load_study(settings, method), defaults[method])
    logs = os.path.join(settings.study_dir, "logs")
    in_process = args.launcher == "local" and args.workers == 1
    run_jobs([(search_all, (settings, i)) for i in range(args.workers)], args.launcher, logs, slurm, in_process)
    from studies.figures import write_best_vs_trials, write_figures
    best, studies = {}, {}
    for method, space in settings.spaces.items():
        study = studies[method] = load_study(settings, method)
        outputs.write_trials(settings, study)
        write_figures(settings, study)
        try:
            trial = study.best_trial
        except ValueError:
            print(f"[{method}] no completed trial; no best configuration", file=sys.stderr)
            continue
        best[method] = trial.params
        path = outputs.write_best(settings, space, trial.params, trial.value)
        print(f"[{method}] best {settings.metric} {trial.value:.4f} (trial #{trial.number}): {path}")
    write_best_vs_trials(settings, studies)
    if not settings.reproductions or not best:
        return 0
    calls = [(m, p, r) for m, p in best.items() for r in range(1, settings.reproductions + 1)]
    groups = [calls] if in_process else [[c] for c in calls]
    results = [res for out in run_jobs([(reproduce_all, (settings, g)) for g in groups], args.launcher, logs,
                                       slurm, in_process) for res in out]
    summaries = {m: outputs.write_test(settings, m, [r for r, c in zip(results, calls) if c[0] == m]) for m in best}
    path = outputs.write_test_table(settings, summaries)
    print(format_summary(settings.study_dir) + f"test table: {path}")
    return 0


def format_summary(study_dir: str) -> str:
    """The study's test table as ``Result_Evaluations.py --reality_check`` prints it: percent,
    95 % half-widths, the paired comparison with the best method and the warnings."""
    from aggregation import reality_check as rc
    return rc.markdown(rc.load_studies([study_dir]))
