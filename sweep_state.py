"""Does a run folder satisfy a sweep entry? ``Revisit_Runs.sh`` asks before it runs each entry.

    python sweep_state.py RUN_FOLDER MAIN.PY FLAGS...

Prints one line, ``<state>\\t<reason>``, and exits 0. The states:

* ``new``: no run in the folder;
* ``completed``: the run is complete and its saved configuration is the one the flags ask for;
* ``resumable``: the same configuration, killed or stopped by a signal: ``--resume`` continues it;
* ``extend``: the same configuration, trained for fewer epochs than asked: ``--resume`` extends it;
* ``stale``: failed for a reason of its own (or unreadable): moved aside and run again;
* ``differs``: another configuration (other flags, or more epochs than asked; the reason names
  them): moved aside and run again;
* ``error``: the flags themselves are refused (the reason is main.py's message).

The comparison is the run record's (:func:`training.run_record.configuration_differences`):
every result-relevant flag, ``--n_epochs`` apart. A flag that the saved run does not have (added
to dmlbench later) counts as saved with its default value.
"""
from __future__ import annotations

import contextlib
import io
import sys
from typing import Any

import parameters
from training.run_record import RunRecord, configuration_differences


def wanted_flags(argv: list[str]) -> dict[str, Any]:
    """The resolved flags of ``main.py argv``; ``ValueError`` with main.py's message if refused."""
    err = io.StringIO()
    try:
        with contextlib.redirect_stderr(err):
            return vars(parameters.parse_args(argv))
    except SystemExit:
        raise ValueError(" ".join(err.getvalue().split()) or "flags refused") from None


def state(folder: str, argv: list[str]) -> tuple[str, str]:
    """``(state, reason)`` of ``folder`` for the run of ``argv`` (see the module docstring)."""
    record = RunRecord(folder)
    if not RunRecord.holds_run(folder):
        return "new", ""
    if not record.readable():
        return "stale", "its config.json is missing or unreadable"
    if not record.completed and not record.resumable:
        return "stale", f"it failed: {record.summary.get('error', '?')}"
    try:
        wanted = wanted_flags(argv)
    except ValueError as err:
        return "error", str(err)
    saved = {**parameters.layered_defaults(wanted["dataset"]), **record.flags}
    diffs = configuration_differences(saved, wanted)
    n_saved, n_wanted = diffs.pop("n_epochs", (wanted["n_epochs"],) * 2)
    if n_saved > n_wanted:
        diffs["n_epochs"] = (n_saved, n_wanted)
    if diffs:
        return "differs", "; ".join(f"--{k} saved {s!r}, sweep {w!r}" for k, (s, w) in diffs.items())
    if record.completed and n_saved < n_wanted:
        return "extend", f"{record.epochs_done} of {n_wanted} epochs trained"
    if record.completed:
        return "completed", ""
    return "resumable", f"{record.epochs_done or 0} of {n_wanted} epochs trained"


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if not args:
        print("usage: python sweep_state.py RUN_FOLDER MAIN.PY FLAGS...", file=sys.stderr)
        return 2
    print("\t".join(state(args[0], args[1:])))
    return 0


if __name__ == "__main__":
    sys.exit(main())
