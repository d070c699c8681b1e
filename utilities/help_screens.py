"""``--help`` that fits about two screens, ``--help_all`` and ``--help_component NAME``.

argparse prints every flag of the parser (over 800 lines once each component's flags are
generated). The short screen shows the flags a run is made of, grouped, and one summary line per
kind of component flag; the full listing and one component's flags are one flag away. Defaults
shown are the parser's current ones, i.e. after the dataset preset and ``--config`` layers.
"""
from __future__ import annotations

import argparse
import sys
from typing import Any, Callable, Iterable

from utilities.cli import fail
from utilities.registry import closest_names_hint


def format_actions(parser: argparse.ArgumentParser, sections: Iterable[tuple[str, list[argparse.Action]]],
                   usage: str, epilog: str = "") -> str:
    """``sections`` (title, actions) in the parser's own help format, after a one-line usage, then
    ``epilog`` as it is (its lines are not re-wrapped)."""
    formatter = parser._get_formatter()
    formatter.add_text(usage)
    for title, actions in sections:
        formatter.start_section(title)
        formatter.add_arguments(actions)
        formatter.end_section()
    return formatter.format_help() + (f"\n{epilog}\n" if epilog else "")


def actions_with_prefix(parser: argparse.ArgumentParser, prefix: str) -> list[argparse.Action]:
    return [a for a in parser._actions if a.dest.startswith(prefix) and a.option_strings]


class ScreenAction(argparse.Action):
    """A help flag: prints ``screen(parser, value)`` and exits 0 (nargs 0 or 1)."""

    def __init__(self, option_strings: list[str], dest: str, screen: Callable[..., str], nargs: int = 0,
                 **kwargs: object) -> None:
        super().__init__(option_strings, dest="help", nargs=nargs, default=argparse.SUPPRESS, **kwargs)
        self.screen = screen

    def __call__(self, parser, namespace, values, option_string=None):  # type: ignore[override]
        parser._print_message(self.screen(parser, values[0] if values else None), sys.stdout)
        parser.exit()


def component_prefix(registry: Any, name: str) -> str:
    return registry.template.format(name=name, param="")


def plural(noun: str, n: int) -> str:
    return noun if n == 1 else noun[:-1] + "ies" if noun.endswith("y") else noun + ("es" if noun.endswith("s") else "s")


def short_help(parser: argparse.ArgumentParser, core: Iterable[tuple[str, list[str]]],
               registries: list[tuple[str, Any]]) -> str:
    """The ``core`` flags (title, dests), grouped, then one line per kind of component flag of
    ``registries`` (what, registry with a flag ``template``)."""
    by_dest = {a.dest: a for a in parser._actions}
    sections = [(title, [by_dest[d] for d in dests]) for title, dests in core]
    help_actions = [a for a in parser._actions if a.dest == "help"]
    lines = ["component flags (each component's own; python main.py --help_component NAME lists one):"]
    for what, registry in registries:
        counts = {n: len(actions_with_prefix(parser, component_prefix(registry, n))) for n in registry.names()}
        owners = [n for n, c in counts.items() if c]
        if owners:
            example = max(owners, key=lambda n: counts[n])
            lines.append(f"  --{registry.template.format(name='<' + what.replace(' ', '_') + '>', param='<param>')}: "
                         f"{sum(counts.values())} flags of {len(owners)} {plural(what, len(owners))} (e.g. --help_component {example})")
    epilog = "\n".join(lines) + ("\n\nEvery flag: python main.py --help_all. Every component: python main.py --list.\n"
                                  "Defaults shown are those that apply to the --dataset (and --config) typed.")
    return format_actions(parser, sections + [("help", help_actions)],
                          "usage: python main.py [--dataset NAME] [--loss NAME] [flags...]", epilog)


def component_help(parser: argparse.ArgumentParser, name: str, registries: list[tuple[str, Any]]) -> str:
    """The flags of every component called ``name`` (a loss, a miner, a dataset, ...)."""
    sections = []
    for what, registry in registries:
        if name in registry:
            actions = actions_with_prefix(parser, component_prefix(registry, name))
            summary = registry.entry(name).summary
            sections.append((f"{what} {name}: {summary}", actions or []))
    if not sections:
        names = sorted({n for _, r in registries for n in r.names()})
        fail(f"--help_component: unknown component '{name}'. {closest_names_hint(name, names)}")
    return format_actions(parser, sections, f"usage: python main.py ... [flags of {name}]",
                          "" if any(a for _, a in sections) else f"{name} takes no flags of its own")


def registry_listing(sections: Iterable[tuple[str, Any]]) -> str:
    """``main.py --list``: per (title, registry), each entry's name and one-line description."""
    lines = []
    for title, registry in sections:
        lines += [f"{title}:"] + [f"  {name:<28} {summary}" for name, summary in registry.describe()] + [""]
    return "\n".join(lines) + "\n"
