"""Exact-name registries with listing and helpful errors.

Every component folder (``criteria``, ``batch_mining``, ``datasampler``, ...) owns one
:class:`Registry`. Names are matched exactly; there is no substring matching. An unknown
name raises :class:`UnknownNameError`, whose one-line message names the closest valid names and
points to ``python main.py --list`` for the rest.

A component registry also builds its components: :meth:`Registry.create` is the one door from
flags to a constructed object. A component's constructor arguments are of two sorts:

* its own parameters, each a flag generated from the signature (``template``, e.g.
  ``loss_{name}_{param}`` gives ``--loss_margin_beta``; :mod:`utilities.flags`);
* what it *needs* from the run or the data (the class count, the embedding size, its distance
  object, ...): declared by the class attribute ``wired_params`` (a base class declares what every
  component of its kind needs; a subclass adds its own), handed over by ``create`` under that
  declaration and never matched against the constructor's parameter names.

Registration validates the declaration against the registry's vocabulary (``supplies``: what its
``select`` can hand over) and against the constructor, so a component whose declaration cannot
be met fails at import, not in a user's run.
"""
from __future__ import annotations

import difflib
import re
from dataclasses import dataclass, field
import inspect
from typing import Any, Callable, Iterator

from utilities.flags import kwargs_from, signature_flags


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


SUMMARY_WIDTH = 110


def plain_text(rst: str) -> str:
    """reStructuredText markup as plain text: ````x```` -> x, ``:class:`~a.b.C``` -> C,
    ``:ref:`text <target>``` -> text."""
    text = re.sub(r":\w+:`~?([^`<]*?)\s*(?:<[^`>]*>)?`", lambda m: m.group(1).rsplit(".", 1)[-1]
                  if m.group(0).count("~") else m.group(1), rst)
    return re.sub(r"``([^`]*)``", r"\1", text)


def shorten(text: str, width: int = SUMMARY_WIDTH) -> str:
    """``text`` cut at the last word boundary that fits ``width`` characters, with an ellipsis."""
    if len(text) <= width:
        return text
    cut = text[:width - 1].rsplit(" ", 1)[0].rstrip(" ,;:(")
    return cut + "…"


@dataclass
class Entry:
    """One registered component: its name, the object (usually a class) and metadata."""
    name: str
    obj: Any
    meta: dict[str, Any] = field(default_factory=dict)

    @property
    def summary(self) -> str:
        """The first sentence of the object's docstring as plain text, cut at a word, used by
        ``main.py --list``."""
        doc = (getattr(self.obj, "__doc__", None) or "").strip()
        paragraph = " ".join(line.strip() for line in doc.split("\n\n")[0].splitlines())
        return shorten(plain_text(paragraph.split(". ")[0].rstrip(".")))


class RegistrationError(TypeError):
    """A component whose declaration cannot be met (raised at import, when it registers)."""


def accepts(cls: type, param: str) -> bool:
    """Whether ``cls(**{param: ...})`` reaches a constructor that names ``param``: the class's own
    ``__init__``, or, through ``**kwargs``, the ``__init__`` of a base class it passes them to."""
    for klass in cls.__mro__:
        if "__init__" not in vars(klass):
            continue
        params = inspect.signature(vars(klass)["__init__"]).parameters
        if param in params and params[param].kind not in (inspect.Parameter.VAR_POSITIONAL,
                                                          inspect.Parameter.VAR_KEYWORD):
            return True
        if not any(p.kind is p.VAR_KEYWORD for p in params.values()):
            return False
    return False


class Registry:
    """A mapping from exact names to components, and the one door that builds them.

    Parameters
    ----------
    kind : str
        What the registry holds, e.g. ``"loss"``; used in error messages.
    flag : str, optional
        The command-line flag that selects from this registry, used in error messages.
    template : str, optional
        The flag names of a component's own parameters, with ``{name}`` (the registered name) and
        ``{param}``, e.g. ``"loss_{name}_{param}"``; ``None``: components of this kind take no flags.
    supplies : tuple of str, optional
        What :meth:`create`'s callers hand over, by name (the vocabulary of ``wired_params``).
        When given, every registered class is checked when it registers (:meth:`check_declaration`).
    """

    def __init__(self, kind: str, flag: str | None = None, *, template: str | None = None,
                 supplies: tuple[str, ...] | None = None):
        self.kind = kind
        self.flag = flag
        self.template = template
        self.supplies = supplies
        self._entries: dict[str, Entry] = {}

    def register(self, name: str, **meta: Any) -> Callable[[Any], Any]:
        """Decorator registering ``obj`` under ``name`` with optional metadata."""
        def decorator(obj: Any) -> Any:
            if name in self._entries:
                raise ValueError(f"{self.kind} '{name}' is registered twice")
            if self.supplies is not None:
                self.check_declaration(obj, name)
            self._entries[name] = Entry(name, obj, dict(meta))
            return obj
        return decorator

    def check_declaration(self, cls: type, name: str = "") -> None:
        """Raise :class:`RegistrationError` unless :meth:`create` can build ``cls``: each declared
        need (``wired_params``) is something this registry's callers supply and that the
        constructor accepts, and every other argument has a default (so it can be a flag)."""
        what = f"{self.kind} '{name or cls.__name__}' ({cls.__name__})"
        needs = self.needs_of(cls)
        unknown = [n for n in needs if n not in (self.supplies or ())]
        if unknown:
            raise RegistrationError(f"{what} declares the need '{unknown[0]}', which nobody supplies "
                                    f"(a {self.kind} can need: {', '.join(self.supplies or ())})")
        refused = [n for n in needs if not accepts(cls, n)]
        if refused:
            raise RegistrationError(f"{what} declares the need '{refused[0]}', which its constructor "
                                    "does not accept")
        required = [p.name for p in list(inspect.signature(cls.__init__).parameters.values())[1:]
                    if p.default is inspect.Parameter.empty and p.name not in needs
                    and p.kind not in (p.VAR_KEYWORD, p.VAR_POSITIONAL)]
        if required:
            raise RegistrationError(f"{what}: __init__ requires '{required[0]}', which is neither a declared "
                                    "need (wired_params) nor a flag with a default")
        try:
            signature_flags(cls, "x_{param}")
        except TypeError as err:
            raise RegistrationError(f"{what}: {err}") from None

    @staticmethod
    def needs_of(cls: type) -> tuple[str, ...]:
        """What ``cls`` declares it needs from :meth:`create`'s caller (``wired_params``)."""
        return tuple(getattr(cls, "wired_params", ()))

    def needs(self, name: str) -> tuple[str, ...]:
        """What the component ``name`` needs from :meth:`create`'s caller."""
        return self.needs_of(self.get(name))

    def flag_values(self, name: str, flags: Any) -> dict[str, Any]:
        """The component's own parameters as the namespace ``flags`` sets them (empty without a
        template or a namespace: the constructor's defaults)."""
        if flags is None or self.template is None:
            return {}
        return kwargs_from(flags, self.get(name), self.template.replace("{name}", name))

    def check_arguments(self, name: str, flags: Any, /, *, unset: dict[str, Any] | None = None) -> None:
        """Check the component's own parameters as :meth:`create` would pass them, without building
        it: its ``check_arguments(**params)`` classmethod raises a one-line ``ValueError``."""
        self.get(name).check_arguments(**self._own(name, flags, unset))

    def _own(self, name: str, flags: Any, unset: dict[str, Any] | None) -> dict[str, Any]:
        own = self.flag_values(name, flags)
        for param, value in (unset or {}).items():
            if own.get(param) is None and value is not None:
                own[param] = value
        return own

    def create(self, name: str, flags: Any = None, /, *, unset: dict[str, Any] | None = None,
               **offered: Any) -> Any:
        """Build the component ``name``: its own parameters from the namespace ``flags`` (``None``:
        their defaults), and each need it declares taken from ``offered``. What it does not
        declare is not passed, whatever the constructor's parameter names.

        ``unset`` gives values for own parameters whose flag is unset (``None``), e.g. a miner's
        margin that follows the loss's when its own flag is not typed."""
        cls = self.get(name)
        needs = self.needs_of(cls)
        missing = [n for n in needs if n not in offered]
        if missing:
            raise TypeError(f"{self.kind} '{name}' needs '{missing[0]}', which the caller of create "
                            "did not hand over")
        return cls(**self._own(name, flags, unset), **{n: offered[n] for n in needs})

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
