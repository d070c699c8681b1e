"""Search spaces as data: YAML files keyed by ``main.py`` flag names.

A space file::

    method: triplet                       # optional, a plain name; default: the file name without .yaml
    fixed: {loss: triplet, batch_mining: none}     # flags every trial of the method gets
    search:                               # flags Optuna chooses
      loss_triplet_margin: {type: float, low: 0.0, high: 1.0}
      lr: {type: logfloat, low: 1.0e-6, high: 1.0e-3}
      loss_fastap_num_bins: {type: int, low: 2, high: 50}
      loss_softtriplet_n_centroids: {type: categorical, choices: [2, 5, 10]}

The shipped spaces (``studies/spaces/*.yaml``) are the methods of the Reality Check (Musgrave et
al., ECCV 2020). Every problem is a :class:`~studies.StudyError` naming the file and key, with the
closest flag name for an unknown one, found before anything runs.
"""
from __future__ import annotations

import glob
import math
import os
import re
from dataclasses import dataclass
from typing import Any

import yaml

from studies import StudyError

SPACES_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "spaces")
KINDS = ("float", "logfloat", "int", "categorical")
#: A method name names folders of the study (``<study>/<method>/``): one plain name, never a path.
METHOD_NAME = re.compile(r"[A-Za-z0-9_-]+")


@dataclass(frozen=True)
class Space:
    """One method's search space: the fixed flags and the searched ranges, by flag name."""
    method: str
    fixed: dict[str, Any]
    search: dict[str, dict[str, Any]]
    path: str

    def suggest(self, trial: Any) -> dict[str, Any]:
        """The searched flags' values of an Optuna trial."""
        out = {}
        for name, spec in self.search.items():
            kind = spec["type"]
            if kind == "categorical":
                out[name] = trial.suggest_categorical(name, list(spec["choices"]))
            elif kind == "int":
                out[name] = trial.suggest_int(name, int(spec["low"]), int(spec["high"]))
            else:
                out[name] = trial.suggest_float(name, float(spec["low"]), float(spec["high"]),
                                                log=kind == "logfloat")
        return out


def flag_argv(flags: dict[str, Any]) -> list[str]:
    """``{"loss": "triplet", "x": true}`` -> ``["--loss", "triplet", "--x", "true"]``."""
    out = []
    for name, value in flags.items():
        out += [f"--{name}"] + ([str(v) for v in value] if isinstance(value, list) else [str(value)])
    return out


def check_flag(name: str, where: str, flag_names: list[str]) -> None:
    if name not in flag_names:
        from utilities.registry import rank_by_similarity
        close = rank_by_similarity(name, flag_names)[:3]
        raise StudyError(f"{where}: unknown flag '{name}' (closest: {', '.join(close)})")


def check_range(name: str, spec: Any, where: str) -> None:
    """One ``search`` entry: a known type, low <= high, a log range above 0, choices a list."""
    at = f"{where}: key '{name}'"
    if not isinstance(spec, dict) or spec.get("type") not in KINDS:
        raise StudyError(f"{at}: expected {{type: {' | '.join(KINDS)}, ...}}, got {spec!r}")
    if spec["type"] == "categorical":
        if not isinstance(spec.get("choices"), list) or not spec["choices"]:
            raise StudyError(f"{at}: categorical needs a non-empty list 'choices'")
        return
    try:
        low, high = float(spec["low"]), float(spec["high"])
    except (KeyError, TypeError, ValueError):
        raise StudyError(f"{at}: {spec['type']} needs numeric 'low' and 'high'") from None
    if not (math.isfinite(low) and math.isfinite(high)):
        raise StudyError(f"{at}: bounds must be finite numbers, got low {low:g}, high {high:g}")
    if low > high:
        raise StudyError(f"{at}: low {low:g} > high {high:g}")
    if spec["type"] == "logfloat" and low <= 0:
        raise StudyError(f"{at}: a log range needs low > 0, got {low:g}")
    if spec["type"] == "int" and (low != int(low) or high != int(high)):
        raise StudyError(f"{at}: int ranges need integer bounds, got {low:g}..{high:g}")


def load(path: str, flag_names: list[str]) -> Space:
    """Read and check one space file."""
    try:
        with open(path, encoding="utf-8") as fh:
            raw = yaml.safe_load(fh)
    except FileNotFoundError:
        raise StudyError(f"--space: file not found: {path}") from None
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as err:
        raise StudyError(f"--space {path}: cannot read it as YAML ({' '.join(str(err).split())[:120]})") from None
    where = f"--space {path}"
    if not isinstance(raw, dict) or not isinstance(raw.get("search", {}), dict) \
            or not isinstance(raw.get("fixed", {}) or {}, dict):
        raise StudyError(f"{where}: expected a mapping with 'fixed' and 'search' mappings")
    unknown = set(raw) - {"method", "fixed", "search"}
    if unknown:
        raise StudyError(f"{where}: unknown top-level key '{sorted(unknown)[0]}' (expected method, fixed, search)")
    fixed, search = dict(raw.get("fixed") or {}), dict(raw.get("search") or {})
    for name in list(fixed) + list(search):
        check_flag(name, where, flag_names)
    for name, spec in search.items():
        check_range(name, spec, where)
    both = set(fixed) & set(search)
    if both:
        raise StudyError(f"{where}: '{sorted(both)[0]}' is both fixed and searched")
    method = str(raw.get("method") or os.path.splitext(os.path.basename(path))[0])
    if not METHOD_NAME.fullmatch(method):
        raise StudyError(f"{where}: method {method!r} is not a plain name (letters, digits, '_' and '-' "
                         "only): it names the method's folder in the study")
    return Space(method, fixed, search, os.path.abspath(path))


def default_paths() -> dict[str, str]:
    """The shipped spaces, by method name."""
    return {os.path.splitext(os.path.basename(p))[0]: p for p in sorted(glob.glob(os.path.join(SPACES_DIR, "*.yaml")))}


def resolve(methods: list[str], space_files: list[str], flag_names: list[str]) -> dict[str, Space]:
    """The space of every method: a ``--space`` file naming it, else the shipped one."""
    user = {}
    for path in space_files:
        space = load(path, flag_names)
        user[space.method] = space
    known = sorted(set(default_paths()) | set(user))
    out = {}
    for method in methods:
        if method in user:
            out[method] = user[method]
        elif method in default_paths():
            out[method] = load(default_paths()[method], flag_names)
        else:
            from utilities.registry import rank_by_similarity
            close = rank_by_similarity(method, known)[:3]
            raise StudyError(f"--methods: unknown method '{method}' (closest: {', '.join(close)}; "
                             f"or give its space with --space FILE)")
    return out
