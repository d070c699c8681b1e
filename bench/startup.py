"""Start-up time of the command line against ``python -c "import torch"``.

    python bench/startup.py [--repeats 5]

Runs each command ``--repeats`` times, interleaved (one of each per round, so a busy machine
slows all of them alike), and prints the median wall time of each and its ratio to
``import torch``, the floor every dmlbench command pays. ``--help``, ``--list`` and a mistyped
flag should cost little more than that floor: parsing must not import torchvision,
scikit-learn, faiss or matplotlib (they are imported where they are used).
"""
from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

COMMANDS: dict[str, list[str]] = {
    'python -c "import torch"': ["-c", "import torch"],
    "python main.py --help": ["main.py", "--help"],
    "python main.py --list": ["main.py", "--list"],
    "python main.py --n_epoch 3 (error)": ["main.py", "--n_epoch", "3"],
}


def wall_time(args: list[str]) -> tuple[float, int]:
    """Seconds one ``python <args>`` takes in the repository root, and its exit code."""
    start = time.perf_counter()
    done = subprocess.run([sys.executable, *args], cwd=ROOT, stdout=subprocess.DEVNULL,
                          stderr=subprocess.DEVNULL, check=False)
    return time.perf_counter() - start, done.returncode


def measure(repeats: int) -> dict[str, tuple[float, int]]:
    """Median seconds and the exit code of every command, ``repeats`` interleaved rounds."""
    times: dict[str, list[float]] = {name: [] for name in COMMANDS}
    codes: dict[str, int] = {}
    for _ in range(repeats):
        for name, args in COMMANDS.items():
            seconds, codes[name] = wall_time(args)
            times[name].append(seconds)
    return {name: (statistics.median(times[name]), codes[name]) for name in COMMANDS}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeats", type=int, default=5, help="Rounds; each command runs once per round.")
    args = parser.parse_args(argv)
    results = measure(max(1, args.repeats))
    floor = results['python -c "import torch"'][0]
    width = max(len(name) for name in results)
    print(f"{'command':<{width}}  median_s  x_import_torch  exit")
    for name, (seconds, code) in results.items():
        print(f"{name:<{width}}  {seconds:8.2f}  {seconds / floor:14.2f}  {code:4d}")
    print(f"({args.repeats} interleaved repeats, median)")


if __name__ == "__main__":
    main()
