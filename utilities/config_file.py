"""``--config FILE.yaml``: flag values from a YAML file, converted and checked as the command line
would (YAML bypasses argparse's types and choices)."""
from __future__ import annotations

import argparse
import os
from typing import Any

from utilities.cli import FlagError
from utilities.registry import rank_by_similarity


def load_config(path: str, parser: argparse.ArgumentParser) -> dict[str, Any]:
    """Read a YAML config and convert/validate every value with the flag's own type."""
    import yaml
    if not os.path.isfile(path):
        raise FlagError(f"--config: file not found: {path}")
    try:
        with open(path, encoding="utf-8") as fh:
            raw = yaml.safe_load(fh) or {}
    except UnicodeDecodeError as err:
        raise FlagError(f"--config {path}: not UTF-8 text (byte 0x{err.object[err.start]:02x} at offset "
                        f"{err.start}); save it as UTF-8") from None
    except yaml.YAMLError as err:
        mark = getattr(err, "problem_mark", None)
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark is not None else ""
        problem = getattr(err, "problem", None) or str(err).splitlines()[0]
        raise FlagError(f"--config {path}: not valid YAML{where}: {problem}") from None
    except OSError as err:
        raise FlagError(f"--config {path}: cannot read it: {err.strerror}") from None
    if not isinstance(raw, dict):
        raise FlagError(f"--config {path}: expected a mapping of flag names to values")
    actions = {a.dest: a for a in parser._actions}
    out = {}
    for key, value in raw.items():
        key = str(key).lstrip("-")
        if key not in actions or key in ("config", "help"):
            close = rank_by_similarity(key, [d for d in actions if d != "help"])[:3]
            raise FlagError(f"--config {path}: unknown key '{key}' (closest: {', '.join(close)})")
        out[key] = _convert(actions[key], value, f"--config {path}: key '{key}'")
    return out


def check_saved_flags(flags: dict[str, Any], parser: argparse.ArgumentParser, file: str) -> dict[str, Any]:
    """The flags a run saved (its ``config.json``, a checkpoint's ``config``), checked as strictly as
    typed ones before they rebuild a run: each flag's type, choices and domain (finite floats
    included). A hand-edited ``scheduler: bogus`` is a :class:`FlagError` naming ``file`` and the
    key. Keys that are not flags of ``parser`` are left to the caller."""
    from utilities.flags import domain_problem
    actions = {a.dest: a for a in parser._actions}
    out = {}
    for key, value in flags.items():
        if key not in actions:
            out[key] = value
            continue
        where = f"{file}: key '{key}'"
        out[key] = _convert(actions[key], value, where)
        problem = domain_problem(key, out[key], getattr(actions[key], "domain", None))
        if problem:
            raise FlagError(f"{where}: {problem}")
    return out


def _convert(action: argparse.Action, value: Any, where: str) -> Any:
    """A config value as the command line would give it: the flag's type, its choices, no
    ``null`` where the flag has a value by default (YAML bypasses argparse's own checks)."""
    if value is None:
        if action.default is None:
            return None
        raise FlagError(f"{where}: null is not a value (the default is {action.default!r}); "
                        "give a value or remove the key")
    if isinstance(value, dict):
        raise FlagError(f"{where}: expected a value, got a mapping")
    conv = action.type
    if action.nargs in ("+", "*"):
        values = value if isinstance(value, list) else [value]
        if not values and action.nargs == "+":
            raise FlagError(f"{where}: expected at least one value, got an empty list")
        out = []
        for v in values:
            if v is None or isinstance(v, (list, dict)):
                raise FlagError(f"{where}: expected a list of values, got {value!r}")
            out.append(_check_choice(action, _convert_one(conv, v, where), where))
        return out
    if isinstance(value, list):
        raise FlagError(f"{where}: expected one value, got a list {value!r}")
    if conv is None and action.const is not None:  # store_true style
        if not isinstance(value, bool):
            raise FlagError(f"{where}: expected true/false, got {value!r}")
        return value
    return _check_choice(action, _convert_one(conv, value, where), where)


def _check_choice(action: argparse.Action, value: Any, where: str) -> Any:
    if action.choices is not None and value not in action.choices:
        raise FlagError(f"{where}: {value!r} is not one of {list(action.choices)}")
    return value


def _convert_one(conv: Any, value: Any, where: str) -> Any:
    if conv is None:
        return value
    if isinstance(value, bool) and getattr(conv, "__name__", "") == "parse_bool":
        return value
    if conv in (int, float) and isinstance(value, bool):
        raise FlagError(f"{where}: expected a number, got {value!r}")
    if conv is int and isinstance(value, float) and not value.is_integer():
        raise FlagError(f"{where}: expected an integer, got {value!r}")
    try:
        return conv(value) if not isinstance(value, bool) or conv is not str else conv(value).lower()
    except (TypeError, ValueError, OverflowError, argparse.ArgumentTypeError):
        raise FlagError(f"{where}: cannot read {value!r} as {getattr(conv, '__name__', conv)}") from None
