"""A study's figures: Optuna's own per method, and the best objective against trials for all methods.

``<method>/figures/{history,importances,slices}.png`` are Optuna's matplotlib figures, titled with
the method and the objective; ``best_vs_trials.png`` draws, for every method of the study, the best
objective found after each finished trial (the default configuration is trial 1), so that the
budget's effect is seen at a glance.
"""
from __future__ import annotations

import os
import warnings
from typing import Any

from studies.settings import Settings, method_of

OPTUNA_FIGURES = ("history", "importances", "slices")


def _pyplot():
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    return plt


def objective_label(settings: Settings) -> str:
    return f"mean val {settings.metric} over {settings.folds} folds"


def write_figures(settings: Settings, study: Any) -> list[str]:
    """Optuna's matplotlib figures of one method; a figure Optuna cannot draw (too few trials) is
    skipped."""
    plt = _pyplot()
    from optuna.visualization import matplotlib as ovm
    folder = os.path.join(settings.method_dir(method_of(study.study_name)), "figures")
    os.makedirs(folder, exist_ok=True)
    written = []
    for name, draw in zip(OPTUNA_FIGURES, (ovm.plot_optimization_history, ovm.plot_param_importances,
                                           ovm.plot_slice)):
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                ax = draw(study)
        except Exception:          # e.g. importances need two completed trials with varied params
            plt.close("all")
            continue
        axes = list(ax.flat) if hasattr(ax, "flat") else [ax]
        fig = axes[0].figure
        if name == "slices":       # one panel per parameter: room for slanted tick labels
            fig.set_size_inches(max(4.0 * len(axes), 6.0), 4.5)
            for a in axes:
                plt.setp(a.get_xticklabels(), rotation=40, ha="right", fontsize=8)
        fig.suptitle(f"{method_of(study.study_name)}: objective = {objective_label(settings)}", fontsize=10)
        path = os.path.join(folder, f"{name}.png")
        fig.savefig(path, dpi=100, bbox_inches="tight")
        plt.close(fig)
        written.append(path)
    return written


def best_so_far(study: Any) -> list[float]:
    """The best objective after each finished trial (COMPLETE, in trial order)."""
    best, out = None, []
    for trial in study.get_trials(deepcopy=False):
        if trial.state.name == "COMPLETE" and trial.value is not None:
            best = trial.value if best is None else max(best, trial.value)
            out.append(best)
    return out


def write_best_vs_trials(settings: Settings, studies: dict[str, Any]) -> str | None:
    """``best_vs_trials.png``: one line per method (``studies``: method -> Optuna study); None when
    no method has a finished trial."""
    curves = {m: best_so_far(s) for m, s in studies.items()}
    curves = {m: c for m, c in curves.items() if c}
    if not curves:
        return None
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(6.5, 4.5), layout="constrained")
    for method, curve in curves.items():
        ax.plot(range(1, len(curve) + 1), curve, marker="o", markersize=3, label=method)
    ax.set_xlabel("finished trials (trial 1: the default configuration)")
    ax.set_ylabel(f"best {objective_label(settings)}")
    ax.set_title(f"{os.path.basename(settings.study_dir)}: best objective against trials", fontsize=10)
    ax.grid(color="0.92")
    ax.legend(fontsize=8, ncol=max(1, len(curves) // 8 + (len(curves) % 8 > 0)), loc="lower right")
    path = os.path.join(settings.study_dir, "best_vs_trials.png")
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path
