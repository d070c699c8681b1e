"""``--help`` that fits about two screens, ``--help_all`` and ``--help_component NAME``.

argparse prints every flag of the parser (over 800 lines once each component's flags are
generated). The short screen shows the flags a run is made of, grouped, and one summary line per
kind of component flag; the full listing and one component's flags are one flag away. Defaults
shown are the parser's current ones, i.e. after the dataset preset and ``--config`` layers.
"""
from __future__ import annotations

import argparse
import sys
from typing import Callable, Iterable


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
