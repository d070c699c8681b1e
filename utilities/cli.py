"""The command line's error handling: one line naming the flag, exit code 2, no usage dump."""
from __future__ import annotations

import argparse
import difflib
import re
import sys
from typing import Any

from utilities.registry import rank_by_similarity


class FlagError(ValueError):
    """A bad flag value; ``main`` prints it as one line and exits with code 2."""


def printable_output() -> None:
    """Let stdout print any text: characters its encoding lacks (a non-ASCII path under
    ``LC_ALL=C`` or ``PYTHONIOENCODING=ascii``) are written as backslash escapes instead of
    raising ``UnicodeEncodeError`` (stderr does this by default)."""
    reconfigure = getattr(sys.stdout, "reconfigure", None)     # absent on replaced streams (pytest)
    if reconfigure is not None:
        reconfigure(errors="backslashreplace")


def fail(message: str) -> None:
    """Print ``main.py: error: <message>`` as one line and exit with code 2."""
    print(f"main.py: error: {' '.join(message.split())}", file=sys.stderr)
    raise SystemExit(2)


TYPE_WORDS = {"int": "an integer", "float": "a number", "str": "a text value", "parse_bool": "true or false"}
OTHER_TOOLS_NAMES = {  # what other training scripts call our flags: suggested first for an unknown flag
    "learning_rate": "lr", "batch_size": "bs", "epochs": "n_epochs", "num_epochs": "n_epochs",
    "weight_decay": "decay", "wd": "decay", "num_workers": "kernels", "workers": "kernels",
    "embedding_size": "embed_dim", "embed_size": "embed_dim", "embedding_dim": "embed_dim",
    "backbone": "arch", "model": "arch", "optimizer": "optim", "miner": "batch_mining",
    "sampler": "data_sampler", "output_dir": "save_path", "data_root": "source", "data_dir": "source",
    "lr_scheduler": "scheduler", "eval_freq": "eval_every",
}
SIMILAR = 0.5   # difflib ratio below which a flag is too unlike a typed one to be suggested


class OneLineParser(argparse.ArgumentParser):
    """argparse's own errors as one line naming the flag, not usage + error: an unknown flag with
    the closest valid ones, a bad value with the type expected. Flags must be typed in full
    (``allow_abbrev=False``): ``--n_epoch 3`` is an error, not ``--n_epochs 3``."""

    def __init__(self, *args: Any, **kwargs: Any):
        super().__init__(*args, allow_abbrev=False, **kwargs)

    def parse_args(self, args: Any = None, namespace: Any = None) -> argparse.Namespace:  # type: ignore[override]
        opt, extras = self.parse_known_args(args, namespace)
        if extras:
            self.error(self.unknown_problem(extras))
        return opt

    def long_flags(self) -> list[str]:
        return [s for a in self._actions for s in a.option_strings if s.startswith("--") and s != "--help"]

    def unknown_problem(self, extras: list[str]) -> str:
        """``unknown flag --n_epoch (closest: --n_epochs, ...)``, or the stray value."""
        flag = next((e for e in extras if e.startswith("-")), None)
        if flag is None:
            return f"unexpected value {extras[0]!r} (not after a flag that takes it)"
        name = flag.split("=", 1)[0]
        typed, flags = name.lstrip("-"), [f[2:] for f in self.long_flags()]
        ranked = rank_by_similarity(typed, flags)
        close = [c for c in ranked[:3] if difflib.SequenceMatcher(None, typed, c).ratio() >= SIMILAR] or ranked[:1]
        known = OTHER_TOOLS_NAMES.get(typed.lower())
        if known in flags:
            close = [known] + [c for c in close if c != known][:2]
        return f"unknown flag {name} (closest: {', '.join('--' + c for c in close)}; every flag: --help)"

    def error(self, message: str) -> None:  # type: ignore[override]
        fail(self.value_problem(message))

    def value_problem(self, message: str) -> str:
        """argparse's ``argument --lr: invalid float value: 'abc'`` as ``--lr 'abc': expected a number``."""
        match = re.match(r"argument (\S+): (.*)$", message)
        if match is None:
            return message
        flag, problem = match.group(1).split("/")[0], match.group(2)
        action = self._option_string_actions.get(flag)
        expected = type_words(action)
        bad = re.match(r"invalid (?:\S+) value: (.*)$", problem)
        if bad:
            return f"{flag} {bad.group(1)}: expected {expected}"
        choice = re.match(r"invalid choice: (.*?) \(choose from .*\)$", problem)
        if choice and action is not None and action.choices is not None:
            return f"{flag} {choice.group(1)}: expected one of {', '.join(map(str, action.choices))}"
        if re.match(r"expected (one|at least one|at most one|\d+) arguments?$", problem):
            many = " (one or more)" if action is not None and action.nargs in ("+", "*") else ""
            return f"{flag}: expected {expected}{many} after it"
        if problem.startswith("ignored explicit argument"):
            return f"{flag} is a switch and takes no value ({problem})"
        return f"{flag}: {problem}"


def type_words(action: argparse.Action | None) -> str:
    """What ``action`` takes, in words: ``an integer``, ``a number``, ..."""
    conv = getattr(action, "type", None)
    if conv is None:
        return "a value"
    name = getattr(conv, "__name__", str(conv))
    return TYPE_WORDS.get(name, f"a {name} value")
