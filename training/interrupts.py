"""SIGINT / SIGTERM during a run: stop at once, say so in ``summary.json``, exit 128 + signal.

Python turns SIGINT into ``KeyboardInterrupt`` wherever the main thread happens to be, and
ignores nothing else by default; a worker-heavy loader or a broad ``except`` can then hide it,
and SIGTERM (what schedulers and ``Revisit_Runs.sh`` send) kills without a word. Inside
:func:`signals_raise` both raise :class:`RunInterrupted`, a ``BaseException`` that no
``except Exception`` swallows, which ``main.py`` records as an interrupted run.

An exception raised while Python runs a ``__del__`` method or a weakref/GC callback is printed
as "Exception ignored" and dropped: a signal that lands while a finished DataLoader iterator
shuts its workers down (as evaluation loaders start and stop) would be lost, and the run would
train on. This happened at the fork point: ``logging`` releases its lock in an
``os.register_at_fork`` callback, where the signal of a loader starting its workers landed. So
the handler also records the signal, and :func:`raise_if_interrupted` (called between epochs)
and the end of the :func:`signals_raise` block raise it again: no signal is lost. The dropped
exception's "Exception ignored" traceback is not printed.
"""
from __future__ import annotations

import contextlib
import os
import signal
import sys
import threading
from typing import Any, Iterator

HANDLED = (signal.SIGINT, signal.SIGTERM)
RECEIVED: list[int] = []     # signals received inside signals_raise() by this process, in order


class RunInterrupted(BaseException):
    """The run was stopped by a signal; ``signal_name`` is ``"SIGINT"`` or ``"SIGTERM"``."""

    def __init__(self, signum: int):
        self.signum = signum
        self.signal_name = signal.Signals(signum).name
        super().__init__(f"interrupted by {self.signal_name}")

    @property
    def exit_code(self) -> int:
        return 128 + self.signum


def raise_if_interrupted() -> None:
    """Raise :class:`RunInterrupted` for a signal received in :func:`signals_raise` whose
    exception was dropped on the way (see the module docstring); a no-op otherwise."""
    if RECEIVED:
        raise RunInterrupted(RECEIVED[0])


@contextlib.contextmanager
def signals_raise() -> Iterator[None]:
    """Within the block, SIGINT and SIGTERM raise :class:`RunInterrupted` in the main thread;
    one whose exception was dropped is raised again when the block ends."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    main_pid = os.getpid()

    def handler(signum: int, frame: Any) -> None:
        if os.getpid() != main_pid:         # a forked DataLoader worker: Python's default behaviour
            if signum == signal.SIGINT:
                raise KeyboardInterrupt     # the worker loop expects it and exits quietly
            signal.signal(signum, signal.SIG_DFL)
            os.kill(os.getpid(), signum)
        RECEIVED.append(signum)
        raise RunInterrupted(signum)

    default_unraisable = sys.unraisablehook

    def unraisable(info: Any) -> None:     # a dropped RunInterrupted is recorded: no traceback
        if not isinstance(info.exc_value, RunInterrupted):
            default_unraisable(info)

    RECEIVED.clear()
    previous = {sig: signal.signal(sig, handler) for sig in HANDLED}
    sys.unraisablehook = unraisable
    try:
        yield
        raise_if_interrupted()
    finally:
        for sig, old in previous.items():
            signal.signal(sig, old)
        sys.unraisablehook = default_unraisable
        RECEIVED.clear()
