"""Command-line flags generated from component signatures.

A component's tunable parameters are the keyword arguments of its ``__init__``. Each one becomes
a flag named from a template, e.g. ``--loss_margin_beta`` for the ``beta`` argument of the loss
registered as ``margin``. The default and type come from the signature, the help text from the
numpy-style ``Parameters`` section of the class docstring. A trailing underscore is dropped, so
``lambda_`` gives ``--loss_softtriplet_lambda``. Arguments that a component needs from
the run or the data (distance objects, class counts, ...) are declared in its class attribute
``wired_params``; :meth:`utilities.registry.Registry.create` hands them over and they get no flag.

This keeps flags and components in one place: adding a loss file adds its flags, and a flag can
never outlive the argument it sets.

Each flag may carry a :class:`Domain` (the values it accepts, e.g. ``POSITIVE``): hand-written
flags get one through :func:`add_checked`, generated ones from the component's class attribute
``param_domains`` (``{"n_classes": at_least(4)}``). :func:`domain_problem` checks a parsed value
against it, and refuses NaN and infinity in every float flag, so bad values are refused while
parsing, before any run folder exists.

Each flag also declares its :class:`Role` where it is added (``add_checked(..., roles=...)``; a
generated flag changes results): whether it changes results, may change on ``--resume``, is a
secret, says where the run or its data are, and so on. Every part of the program that treats
flags by their role asks the query functions below (:func:`secret_flags`, :func:`resumable_flags`,
...), which read the roles declared so far (:data:`ROLES`); ``parameters`` declares every flag when
it is imported.
"""
from __future__ import annotations

import argparse
import inspect
import math
import re
import types
import typing
from dataclasses import dataclass
from enum import Enum
from typing import Any, Callable, Collection, Iterator, Protocol


@dataclass(frozen=True)
class Domain:
    """The values a flag accepts: ``test(value)`` is true for each of them; ``expected`` says
    which in words (``"> 0"``), for the one-line error."""
    test: Callable[[Any], bool]
    expected: str


POSITIVE = Domain(lambda v: v > 0, "> 0")
NON_NEGATIVE = Domain(lambda v: v >= 0, ">= 0")
OPEN_UNIT = Domain(lambda v: 0 < v < 1, "in (0, 1)")
MINUS_ONE_OR_POSITIVE = Domain(lambda v: v == -1 or v > 0, "-1 or > 0")


def at_least(low: float) -> Domain:
    return Domain(lambda v: v >= low, f">= {low}")


def between(low: float, high: float) -> Domain:
    """The closed interval ``[low, high]``."""
    return Domain(lambda v: low <= v <= high, f"in [{low}, {high}]")


def domain_problem(flag: str, value: Any, domain: Domain | None) -> str | None:
    """A one-line problem with ``--flag value``, or ``None`` when it is acceptable.

    ``None`` (an unset optional flag) always passes; every float must be finite; each element of a
    list is checked on its own."""
    items = value if isinstance(value, (list, tuple)) else [value]
    for item in items:
        if item is None or isinstance(item, bool):
            continue
        if isinstance(item, float) and not math.isfinite(item):
            want = f"a finite number {domain.expected}" if domain else "a finite number"
            return f"--{flag} {item}: expected {want}"
        if domain is not None and isinstance(item, (int, float)) and not domain.test(item):
            shown = " ".join(map(str, items)) if len(items) > 1 else item
            return f"--{flag} {shown}: expected {domain.expected}"
    return None


class Role(Enum):
    """What a flag is to the rest of the program, declared where the flag is added."""
    RESULT = "changes what the run trains or reports"      # absent: the numbers are the same whatever it is
    REPLICATE = "tells repetitions of one configuration apart"   # --seed: changes results, not the configuration
    MIDRUN = "may change when the run is resumed"
    SECRET = "its value is never written or printed"
    LOCATION = "where the run or its data are, not what they are"
    FLAG_SOURCE = "a file that other flags are read from"
    INVOCATION = "what this command does (list, print), not a setting of the run"
    LEGACY = "kept from the Revisiting-DML tool so its scripts parse; no effect"


CHANGES_RESULTS = frozenset({Role.RESULT})   # the roles of a flag that declares none


class RoleTable:
    """The roles of every flag declared so far, by its ``dest``; one per program (:data:`ROLES`)."""

    def __init__(self) -> None:
        self._roles: dict[str, frozenset[Role]] = {}

    def declare(self, dest: str, roles: Collection[Role]) -> None:
        """Record the roles of ``dest``; declaring it again must repeat them."""
        roles = frozenset(roles)
        if self._roles.setdefault(dest, roles) != roles:
            raise TypeError(f"flag --{dest} declared with two sets of roles")
        self._roles[dest] = roles

    def roles(self, dest: str) -> frozenset[Role]:
        """The roles of ``dest`` (a saved key no flag declares: a result-changing one)."""
        return self._check().get(dest, CHANGES_RESULTS)

    def declared(self) -> frozenset[str]:
        return frozenset(self._check())

    def having(self, *roles: Role) -> frozenset[str]:
        """The flags that declare at least one of ``roles``."""
        return frozenset(dest for dest, own in self._check().items() if own & set(roles))

    def _check(self) -> dict[str, frozenset[Role]]:
        if not self._roles:
            raise RuntimeError("flag roles asked before any flag was declared (import parameters first)")
        return self._roles


ROLES = RoleTable()


def secret_flags() -> frozenset[str]:
    """Flags whose values never reach a file, a log or a printed line (``--wandb_key``)."""
    return ROLES.having(Role.SECRET)


def resumable_flags() -> frozenset[str]:
    """Flags whose value may differ from the saved one when a run is resumed."""
    return ROLES.having(Role.MIDRUN)


def unrecorded_flags() -> frozenset[str]:
    """Flags that are never recorded as a change of the run: where it and its data are, where its
    flags came from, what the command did, secrets."""
    return ROLES.having(Role.LOCATION, Role.FLAG_SOURCE, Role.INVOCATION, Role.SECRET)


def midrun_flags() -> frozenset[str]:
    """What a resume may change about the run itself (``--n_epochs``, ...): recorded in
    ``config.json`` and listed in the error that refuses any other typed flag."""
    return resumable_flags() - unrecorded_flags()


def unrestored_flags() -> frozenset[str]:
    """Saved flags that ``--resume`` does not restore: where the flags came from, what the
    command did, and the (redacted) secrets."""
    return ROLES.having(Role.FLAG_SOURCE, Role.INVOCATION, Role.SECRET)


def invocation_flags() -> frozenset[str]:
    """Keys of the namespace that are no setting of the run (``argv``, ``--list``, ...)."""
    return ROLES.having(Role.INVOCATION)


def legacy_flags() -> frozenset[str]:
    """The Revisiting-DML tool's flags that are kept so its scripts parse and change nothing."""
    return ROLES.having(Role.LEGACY)


def add_checked(group: argparse._ArgumentGroup, *names: str, domain: Domain | None = None,
                roles: Collection[Role] = CHANGES_RESULTS, **kwargs: Any) -> argparse.Action:
    """``group.add_argument(*names, **kwargs)``, remembering ``domain`` and ``roles`` on the
    action and declaring the roles in :data:`ROLES`."""
    action = group.add_argument(*names, **kwargs)
    action.domain = domain
    action.roles = frozenset(roles)
    ROLES.declare(action.dest, action.roles)
    return action


@dataclass
class FlagSpec:
    """One generated flag: ``--<name>`` stored at ``dest``; ``domain`` from the class's
    ``param_domains``."""
    name: str
    param: str
    default: Any
    type: Any
    help: str
    domain: Domain | None = None

    @property
    def dest(self) -> str:
        return self.name


def _param_docs(cls: type) -> dict[str, str]:
    """Map parameter name to the first sentence of its description in the class docstring."""
    doc = inspect.getdoc(cls) or ""
    docs: dict[str, str] = {}
    lines = doc.splitlines()
    for i, line in enumerate(lines):
        m = re.match(r"^(\w+)\s*:\s*\S", line)
        if m and i + 1 < len(lines) and lines[i + 1].startswith((" ", "\t")):
            text = []
            for nxt in lines[i + 1:]:
                if not nxt.startswith((" ", "\t")) and nxt.strip():
                    break
                text.append(nxt.strip())
            sentence = " ".join(t for t in text if t)
            docs[m.group(1)] = sentence.split(". ")[0].rstrip(".")
    return docs


def _unwrap_optional(tp: Any) -> Any:
    origin = typing.get_origin(tp)
    if origin in (typing.Union, types.UnionType):
        args = [a for a in typing.get_args(tp) if a is not type(None)]
        if len(args) == 1:
            return args[0]
    return tp


def signature_flags(cls: type, template: str) -> list[FlagSpec]:
    """Flags for the keyword arguments of ``cls.__init__``.

    ``template`` is formatted with ``param``, e.g. ``"loss_margin_{param}"``.
    """
    wired = set(getattr(cls, "wired_params", ()))
    domains = getattr(cls, "param_domains", {})
    hints = typing.get_type_hints(cls.__init__)
    docs = _param_docs(cls)
    specs = []
    for p in inspect.signature(cls.__init__).parameters.values():
        if p.name == "self" or p.name in wired or p.kind in (p.VAR_KEYWORD, p.VAR_POSITIONAL):
            continue
        if p.default is inspect.Parameter.empty:
            raise TypeError(f"{cls.__name__}.{p.name} needs a default to become a flag")
        tp = _unwrap_optional(hints.get(p.name, type(p.default)))
        name = template.format(param=p.name.rstrip("_"))
        specs.append(FlagSpec(name, p.name, p.default, tp, docs.get(p.name, f"See {cls.__name__}."),
                              domains.get(p.name)))
    return specs


def parse_bool(text: str) -> bool:
    """``true/false, yes/no, on/off, 1/0`` (any case) for boolean flags."""
    low = text.lower()
    if low in ("1", "true", "yes", "on"):
        return True
    if low in ("0", "false", "no", "off"):
        return False
    raise argparse.ArgumentTypeError(f"expected true/false, got '{text}'")


def add_flag(group: argparse._ArgumentGroup, spec: FlagSpec) -> None:
    """Add one generated flag to an argparse group (its domain is checked after parsing)."""
    flag = "--" + spec.name
    tp, origin = spec.type, typing.get_origin(spec.type)
    if tp is bool:
        if spec.default is None:
            kwargs = dict(default=None, nargs="?", const=True, help=spec.help + " (default: the component's own)")
        elif spec.default:
            kwargs = dict(default=True, help=spec.help)
        else:
            # Old-tool style switch: present means True; `--x false` is also accepted.
            kwargs = dict(default=False, nargs="?", const=True, help=spec.help)
        kwargs.update(type=parse_bool, metavar="BOOL")
    elif origin in (list, tuple):
        inner = typing.get_args(tp)[0] if typing.get_args(tp) else str
        default = list(spec.default) if spec.default is not None else None
        kwargs = dict(default=default, nargs="+", type=inner, help=spec.help)
    elif origin is typing.Literal:
        choices = list(typing.get_args(tp))
        kwargs = dict(default=spec.default, type=type(choices[0]), choices=choices, help=spec.help)
    else:
        kwargs = dict(default=spec.default, type=tp if callable(tp) else str, help=spec.help)
    add_checked(group, flag, domain=spec.domain, **kwargs)


class EntrySource(Protocol):
    """What :func:`registry_flags` reads of a :class:`utilities.registry.Registry`."""
    kind: str

    def entries(self) -> Iterator[Any]: ...


def registry_flags(registry: EntrySource, template: str) -> list[FlagSpec]:
    """All flags of a registry; ``template`` may use ``{name}`` and ``{param}``.

    Where several entries share a flag (a template without ``{name}``), their defaults must agree.
    """
    seen: dict[str, FlagSpec] = {}
    for entry in registry.entries():
        for spec in signature_flags(entry.obj, template.replace("{name}", entry.name)):
            prev = seen.get(spec.name)
            if prev is not None and (prev.default != spec.default or prev.type != spec.type):
                raise TypeError(f"flag --{spec.name}: {registry.kind}s disagree on its default/type")
            seen.setdefault(spec.name, spec)
    return list(seen.values())


def kwargs_from(opt: Any, cls: type, template: str) -> dict[str, Any]:
    """The keyword arguments for ``cls`` read from the namespace ``opt`` (the inverse of the flags).

    Every flag must be in ``opt``: a missing one is a programming error, never a silent default."""
    return {spec.param: getattr(opt, spec.dest)
            for spec in signature_flags(cls, template)}
