"""Every flag is read by something, and every component argument has a flag or is wired by its
``select`` from the data or from other flags: a renamed flag or argument fails here, never
silently reverting to a default in a user's run."""
from __future__ import annotations

import re
import subprocess

import pytest

import architectures
import batch_mining
import criteria
import datasampler
import datasets
import distances
import parameters
from conftest import ROOT
from utilities.flags import registry_flags, signature_flags

REGISTRIES = [("loss", criteria.LOSSES, criteria.FLAG_TEMPLATE), ("miner", batch_mining.MINERS, batch_mining.FLAG_TEMPLATE),
              ("sampler", datasampler.SAMPLERS, datasampler.FLAG_TEMPLATE),
              ("dataset", datasets.DATASETS, datasets.FLAG_TEMPLATE),
              ("architecture", architectures.ARCHITECTURES, architectures.FLAG_TEMPLATE),
              ("distance", distances.DISTANCES, distances.FLAG_TEMPLATE)] + [
    ("reducer" if registry is criteria.REDUCERS else "regularizer", registry, template)
    for registry, template in criteria.EXTRA_FLAG_REGISTRIES]
# What each kind's select hands over (the names a class may list in ``wired_params``).
WIRED_BY_SELECT = {kind: set(registry.supplies) for kind, registry, _ in REGISTRIES}
PRE_PARSED = {"config"}   # read before the full parse (parameters._pre_parse)


def generated_dests() -> set[str]:
    return {spec.dest for _, registry, template in REGISTRIES for spec in registry_flags(registry, template)}


def library_source() -> str:
    files = subprocess.run(["git", "ls-files", "*.py", "*.sh"], cwd=ROOT, capture_output=True, text=True).stdout.split()
    return "\n".join(open(f"{ROOT}/{f}", encoding="utf-8").read() for f in files if not f.startswith("tests/"))


def test_every_flag_is_read():
    dests = {a.dest for a in parameters.build_parser()._actions if a.dest != "help"}
    source = library_source()
    unread = sorted(d for d in dests - generated_dests() - set(parameters.LEGACY_NO_EFFECT) - PRE_PARSED
                    if not re.search(rf"opt\.{d}\b", source))
    assert unread == []


@pytest.mark.parametrize("kind,registry,template", REGISTRIES, ids=[r[0] + ("s" if r[0] != "loss" else "es") for r in REGISTRIES])
def test_every_component_argument_has_a_flag_or_is_wired(kind, registry, template):
    import inspect
    for entry in registry.entries():
        cls = entry.obj
        params = [p.name for p in list(inspect.signature(cls.__init__).parameters.values())[1:]
                  if p.kind not in (p.VAR_KEYWORD, p.VAR_POSITIONAL)]
        flagged = {spec.param for spec in signature_flags(cls, template.replace("{name}", entry.name))}
        wired = set(getattr(cls, "wired_params", ()))
        assert wired <= WIRED_BY_SELECT[kind], \
            f"{kind} {entry.name}: wired_params {sorted(wired - WIRED_BY_SELECT[kind])} are supplied by nobody"
        for name in params:
            assert name in flagged or name in wired, f"{kind} {entry.name}: argument {name} has no flag"
            assert not (name in flagged and name in WIRED_BY_SELECT[kind]), \
                f"{kind} {entry.name}: --{template} flag for {name} would be overwritten by select"


def test_a_parameter_that_select_wires_gets_no_flag():
    """e.g. ``base_lr`` (the lr that a loss's own lr multiplies) is wired, never a dead flag."""
    flags = {a.dest for a in parameters.build_parser()._actions}
    assert not [d for d in flags if d.startswith("loss_") and d.endswith(("_base_lr", "_n_classes", "_embed_dim"))]


def test_no_namespace_writes_after_parsing():
    """Below ``parameters.py`` nothing assigns to the namespace."""
    source = library_source().replace(open(f"{ROOT}/parameters.py").read(), "")
    assert re.findall(r"^\s*opt\.\w+(?:\s*,\s*opt\.\w+)*\s*=[^=]", source, re.M) == []
    assert "setattr(opt" not in source and "vars(opt).update" not in source
