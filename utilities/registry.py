"""Exact-name registries with listing and helpful errors.

Every component folder (``criteria``, ``batch_mining``, ``datasampler``, ...) owns one
:class:`Registry`. Names are matched exactly; there is no substring matching. An unknown
name raises :class:`UnknownNameError`, whose one-line message names the closest valid names and
points to ``python main.py --list`` for the rest.
"""
from __future__ import annotations

import difflib
from dataclasses import dataclass, field
from typing import Any, Callable, Iterator


class UnknownNameError(KeyError):
    """Raised for a name that is not registered. ``str(err)`` is a single readable line."""

    def __init__(self, kind: str, name: str, valid: list[str], flag: str | None = None):
        self.kind, self.name, self.valid, self.flag = kind, name, valid, flag
        super().__init__(self.message)

    @property
    def message(self) -> str:
        where = f"{self.flag}: " if self.flag else ""
        return f"{where}unknown {self.kind} '{self.name}'. {closest_names_hint(self.name, self.valid)}"

    def __str__(self) -> str:  # KeyError would repr() the message
        return self.message


N_CLOSEST = 5
LIST_HINT = "python main.py --list"


def closest_names_hint(name: str, valid: list[str], n: int = N_CLOSEST, listing: str = LIST_HINT) -> str:
    """``Closest: a, b, c (all 45 names: python main.py --list)``: the ``n`` valid names closest to
    ``name`` and where the full list is, so that an error stays one short line however many
    components are registered. Every name is shown when there are at most ``n``."""
    closest = rank_by_similarity(name, valid)[:n]
    rest = f" (all {len(valid)} names: {listing})" if len(valid) > n else ""
    return f"Closest: {', '.join(closest)}{rest}"


def rank_by_similarity(name: str, valid: list[str]) -> list[str]:
    """Return ``valid`` sorted so that the names closest to ``name`` come first."""
    def score(candidate: str) -> tuple[float, str]:
        ratio = difflib.SequenceMatcher(None, name.lower(), candidate.lower()).ratio()
        bonus = 0.5 if candidate.startswith(name) or name.startswith(candidate) else 0.0
        return (-(ratio + bonus), candidate)
    return sorted(valid, key=score)


@dataclass
class Entry:
    """One registered component: its name, the object (usually a class) and metadata."""
    name: str
    obj: Any
    meta: dict[str, Any] = field(default_factory=dict)

    @property
    def summary(self) -> str:
        """First line of the object's docstring, used by ``main.py --list``."""
        doc = (getattr(self.obj, "__doc__", None) or "").strip()
        paragraph = " ".join(line.strip() for line in doc.split("\n\n")[0].splitlines())
        sentence = paragraph.split(". ")[0].rstrip(".")
        return sentence if len(sentence) <= 110 else sentence[:107] + "..."


class Registry:
    """A mapping from exact names to components.

    Parameters
    ----------
    kind : str
        What the registry holds, e.g. ``"loss"``; used in error messages.
    flag : str, optional
        The command-line flag that selects from this registry, used in error messages.
    """

    def __init__(self, kind: str, flag: str | None = None):
        self.kind = kind
        self.flag = flag
        self._entries: dict[str, Entry] = {}

    def register(self, name: str, **meta: Any) -> Callable[[Any], Any]:
        """Decorator registering ``obj`` under ``name`` with optional metadata."""
        def decorator(obj: Any) -> Any:
            if name in self._entries:
                raise ValueError(f"{self.kind} '{name}' is registered twice")
            self._entries[name] = Entry(name, obj, dict(meta))
            return obj
        return decorator

    def entry(self, name: str) -> Entry:
        """The :class:`Entry` for ``name``; raises :class:`UnknownNameError` if absent."""
        try:
            return self._entries[name]
        except KeyError:
            raise UnknownNameError(self.kind, name, self.names(), self.flag) from None

    def get(self, name: str) -> Any:
        """The registered object for ``name``."""
        return self.entry(name).obj

    def check(self, name: str) -> None:
        """Raise :class:`UnknownNameError` unless ``name`` is registered."""
        self.entry(name)

    def names(self) -> list[str]:
        """All registered names, sorted."""
        return sorted(self._entries)

    def entries(self) -> Iterator[Entry]:
        for name in self.names():
            yield self._entries[name]

    def __contains__(self, name: object) -> bool:
        return name in self._entries

    def __len__(self) -> int:
        return len(self._entries)

    def describe(self) -> list[tuple[str, str]]:
        """``(name, one-line description)`` for every entry, sorted by name."""
        return [(e.name, e.summary) for e in self.entries()]


def import_submodules(package_name: str, package_path: list[str], skip: tuple[str, ...] = ("base",)) -> None:
    """Import every module of a component package so that its ``@register`` decorators run.

    Adding a component is then adding one file; no import list needs editing.
    """
    import importlib
    import pkgutil
    for info in sorted(pkgutil.iter_modules(package_path), key=lambda i: i.name):
        if info.name.startswith("_") or info.name in skip:
            continue
        importlib.import_module(f"{package_name}.{info.name}")
