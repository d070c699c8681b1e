"""No run found under ``--root`` is dropped without a line: runs on other data never pool with a
run (nor pass for its copy), and run folders named ``_x`` or ``.x``, reached through symbolic
links, or moved aside by a sweep are read or listed."""
from __future__ import annotations

import json
import os

import Result_Evaluations
from aggregation.identity import deduplicate
from aggregation.runs import find_runs, load_runs
from test_aggregation import curve, make_run


def on_data(folder, fingerprint, source):
    """Give a run folder the data identity ``main.py`` saves in its config.json."""
    config = json.loads((folder / "config.json").read_text())
    config["data"] = {"source": source, "fingerprint": fingerprint}
    (folder / "config.json").write_text(json.dumps(config))
    return folder


def test_runs_on_different_data_are_never_one_group(tmp_path, capsys):
    """The reported case: two Omniglot runs of one --group and seed with different --source
    folders were one seed, "(same flags)", and one result was discarded."""
    base = tmp_path / "Training_Results"
    a = on_data(make_run(base, "Omni", 0, curve(0.5), source_path="/data/a"), "a" * 64, "/data/a")
    b = on_data(make_run(base / "copy", "Omni", 0, curve(0.7), source_path="/data/b"), "b" * 64, "/data/b")
    runs, duplicates = deduplicate(load_runs(str(base)))
    assert duplicates == [] and sorted(r.path for r in runs) == sorted([str(a), str(b)])
    assert Result_Evaluations.main(["--root", str(base)]) == 0
    out = capsys.readouterr().out
    assert "2 runs found, 2 used in 2 groups, 0 excluded." in out
    assert "| Omni [data aaaaaaaa from /data/a] |" in out and "| Omni [data bbbbbbbb from /data/b] |" in out
    assert "same flags" not in out and "repeated" not in out


def test_copies_on_the_same_data_elsewhere_are_one_run(tmp_path):
    """Same data fingerprint from another folder (a copied dataset): one configuration."""
    base = tmp_path / "Training_Results"
    on_data(make_run(base, "Omni", 0, curve(0.5), source_path="/data/a"), "a" * 64, "/data/a")
    on_data(make_run(base / "bak", "Omni", 0, curve(0.5), source_path="/mnt/a"), "a" * 64, "/mnt/a")
    _, duplicates = deduplicate(load_runs(str(base)))
    assert len(duplicates) == 1


def test_underscore_dot_and_linked_run_folders_are_read_and_the_rest_listed(tmp_path, capsys):
    base = tmp_path / "Training_Results"
    under = make_run(base, "_x", 0, curve(0.5))
    dot = make_run(base, ".x", 0, curve(0.6))
    elsewhere = make_run(tmp_path / "elsewhere", "Linked", 0, curve(0.7))
    os.symlink(elsewhere, base / "glyphs" / "Linked_s0")
    os.symlink(base, base / "glyphs" / "loop")                  # a link cycle ends the walk there
    aside = make_run(base / "glyphs" / "_superseded", "Old", 0, curve(0.1))
    runs, unsearched = find_runs(str(base))
    assert sorted(r.path for r in runs) == sorted([str(under), str(dot), str(base / "glyphs" / "Linked_s0")])
    assert [(u.path, u.reason) for u in unsearched] == [
        (str(aside), "under _superseded/: an attempt Revisit_Runs.sh moved aside")]
    assert Result_Evaluations.main(["--root", str(base)]) == 0
    out = capsys.readouterr().out
    assert "3 runs found, 3 used in 3 groups, 0 excluded, 1 not read (listed below)." in out
    assert "### Run folders not read (1)" in out and f"`{aside}`: under _superseded/" in out
