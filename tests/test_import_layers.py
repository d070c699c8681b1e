"""The package imports point down the floors, with no circles, not even through imports inside
functions.

Floors, from the ground up (README, "Architecture"):

0. ``utilities``: registry, flags, atomic files, seeding, communication primitives, tuple math;
1. the components: ``distances``, ``criteria``, ``batch_mining``, ``datasampler``,
   ``architectures``, ``datasets``, ``metrics``;
2. ``evaluation``: embed a dataset, the metrics of its splits, figures;
3. ``training``: the objective, the loop, the distributed step, checkpoints, the run folder;
4. the scripts: ``parameters``, ``main``, ``aggregation``, ``Result_Evaluations``,
   ``evaluation_cli`` (``python -m evaluation``), ``sweep_state`` (asked by ``Revisit_Runs.sh``), ``bench``,
   ``toy_experiments``, ``contracts`` (the contract checks of every component kind, which build
   and run components of every floor below);
5. the studies that run many runs: ``studies``, ``Reality_Check_Studies``.

Every ``import`` statement of every module is read with :mod:`ast`, wherever it stands.

Two exceptions stay, each for a reason Python imposes:

- ``evaluation.__main__`` stands on the script floor: ``python -m evaluation`` runs that one
  module of the package, and it only hands over to the script ``evaluation_cli``;
- a component module imports its own package's ``__init__``, which holds the registry it
  registers into (``@register``); ``__init__`` loads the component modules by file name
  (``import_submodules``), never by an import statement, so no circle is run at import.
"""
from __future__ import annotations

import ast
import os
from collections import defaultdict

from conftest import ROOT

FLOORS = {
    "utilities": 0,
    "distances": 1, "criteria": 1, "batch_mining": 1, "datasampler": 1, "architectures": 1,
    "datasets": 1, "metrics": 1,
    "evaluation": 2,
    "training": 3,
    "parameters": 4, "main": 4, "aggregation": 4, "Result_Evaluations": 4, "evaluation_cli": 4, "bench": 4, "sweep_state": 4,
    "toy_experiments": 4, "contracts": 4,
    "studies": 5, "Reality_Check_Studies": 5,
}
ENTRY_POINTS = {"evaluation.__main__": 4}   # `python -m evaluation` must start inside the package


def module_name(path: str) -> str:
    rel = os.path.relpath(path, ROOT)[:-3].replace(os.sep, ".")
    return rel[:-len(".__init__")] if rel.endswith(".__init__") else rel


def project_modules() -> dict[str, str]:
    out = {}
    for top in FLOORS:
        single = os.path.join(ROOT, top + ".py")
        if os.path.isfile(single):
            out[top] = single
            continue
        for folder, _, files in os.walk(os.path.join(ROOT, top)):
            out.update({module_name(os.path.join(folder, f)): os.path.join(folder, f)
                        for f in files if f.endswith(".py")})
    return out


def imports_of(name: str, path: str, known: set[str]) -> set[str]:
    """Project modules imported anywhere in the file (the longest known dotted prefix)."""
    package = name if path.endswith("__init__.py") else name.rpartition(".")[0]
    found = set()
    for node in ast.walk(ast.parse(open(path, encoding="utf-8").read())):
        targets: list[str] = []
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parts = package.split(".")
                base = ".".join(parts[:len(parts) - node.level + 1] + ([base] if base else []))
            targets = [f"{base}.{alias.name}" for alias in node.names] + [base]
        for target in targets:
            parts = target.split(".")
            for n in range(len(parts), 0, -1):
                if ".".join(parts[:n]) in known:
                    found.add(".".join(parts[:n]))
                    break
    found.discard(name)
    return found


def floor(module: str) -> int:
    for prefix, level in ENTRY_POINTS.items():
        if module == prefix:
            return level
    return FLOORS[module.split(".")[0]]


def graph() -> dict[str, set[str]]:
    modules = project_modules()
    return {name: imports_of(name, path, set(modules)) for name, path in modules.items()}


def cycles(edges: dict[str, set[str]]) -> list[list[str]]:
    """One cycle per strongly connected component with more than one node (Tarjan)."""
    index, low, stack, on_stack, out, counter = {}, {}, [], set(), [], [0]

    def visit(v: str) -> None:
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on_stack.add(v)
        for w in edges.get(v, ()):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                out.append(sorted(component))

    for v in sorted(edges):
        if v not in index:
            visit(v)
    return out


def test_imports_point_down_the_floors():
    upward = [f"{a} (floor {floor(a)}) imports {b} (floor {floor(b)})"
              for a, targets in graph().items() for b in sorted(targets) if floor(b) > floor(a)]
    assert upward == []


def test_ground_floor_imports_no_component_package():
    bad = [f"{a} imports {b}" for a, targets in graph().items() if floor(a) == 0
           for b in targets if floor(b) != 0]
    assert bad == []


def test_no_package_import_circles():
    """``evaluation.__main__`` is left out: Python runs it, nothing imports it."""
    packages: dict[str, set[str]] = defaultdict(set)
    for a, targets in graph().items():
        if a not in ENTRY_POINTS:
            packages[a.split(".")[0]] |= {b.split(".")[0] for b in targets} - {a.split(".")[0]}
    assert cycles(packages) == []


def test_no_module_import_circles():
    """Within a package too. A component module's import of its own package's ``__init__`` (the
    registry it registers into) is the one allowed back edge: ``__init__`` loads its component
    modules by file name (``import_submodules``), never by an import statement."""
    edges = {a: {b for b in targets if not a.startswith(b + ".")} for a, targets in graph().items()}
    assert cycles(edges) == []


def test_the_checker_sees_a_circle_and_an_upward_import():
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
    assert floor("utilities.atomic") < floor("training.loop") < floor("main")
    assert floor("evaluation.__main__") == 4 and floor("evaluation.engine") == 2


def reached_from(start: str, edges: dict[str, set[str]]) -> set[str]:
    """Every module that importing ``start`` imports, directly or through others."""
    seen, todo = set(), [start]
    while todo:
        for target in edges.get(todo.pop(), ()):
            if target not in seen:
                seen.add(target)
                todo.append(target)
    return seen


def test_the_studies_summarise_with_the_ground_floor_statistics():
    """The studies' outputs (mean and 95% CI over reproductions) use ``utilities.stats``, not a
    module of the aggregation scripts. (Printing the Reality Check table, the study command shares
    ``aggregation.reality_check`` with ``Result_Evaluations.py --reality_check``: floor 5 above 4.)"""
    reached = reached_from("studies.outputs", graph())
    assert "utilities.stats" in reached
    assert sorted(m for m in reached if m.startswith("aggregation")) == []


def test_evaluation_never_reaches_the_flags_or_training():
    """The standalone evaluation, which rebuilds a run's model from its flags, is the script
    ``evaluation_cli``; the ``evaluation`` package itself never reaches ``parameters`` or training."""
    edges = graph()
    for module in (m for m in edges if m.startswith("evaluation.") and m != "evaluation.__main__"):
        reached = reached_from(module, edges)
        assert sorted(m for m in reached if m == "parameters" or m.startswith("training")) == [], module
