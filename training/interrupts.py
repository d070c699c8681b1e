"""SIGINT / SIGTERM during a run: stop at once, say so in ``summary.json``, exit 128 + signal.

Python turns SIGINT into ``KeyboardInterrupt`` wherever the main thread happens to be, and
ignores nothing else by default; a worker-heavy loader or a broad ``except`` can then hide it,
and SIGTERM (what schedulers and ``Revisit_Runs.sh`` send) kills without a word. Inside
:func:`signals_raise` both raise :class:`RunInterrupted`, a ``BaseException`` that no
``except Exception`` swallows, which ``main.py`` records as an interrupted run.
"""
from __future__ import annotations

import contextlib
import os
import signal
import threading
from typing import Any, Iterator

HANDLED = (signal.SIGINT, signal.SIGTERM)


class RunInterrupted(BaseException):
    """The run was stopped by a signal; ``signal_name`` is ``"SIGINT"`` or ``"SIGTERM"``."""

    def __init__(self, signum: int):
        self.signum = signum
        self.signal_name = signal.Signals(signum).name
        super().__init__(f"interrupted by {self.signal_name}")

    @property
    def exit_code(self) -> int:
        return 128 + self.signum


@contextlib.contextmanager
def signals_raise() -> Iterator[None]:
    """Within the block, SIGINT and SIGTERM raise :class:`RunInterrupted` in the main thread."""
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
        raise RunInterrupted(signum)

    previous = {sig: signal.signal(sig, handler) for sig in HANDLED}
    try:
        yield
    finally:
        for sig, old in previous.items():
            signal.signal(sig, old)
