"""--help fits about two screens (it printed 859 lines), --help_all lists every flag, and
--help_component NAME one component's flags; every default shown is the one that applies."""
from __future__ import annotations

import pytest

import parameters


def screen(capsys, argv: list[str]) -> str:
    with pytest.raises(SystemExit) as exc:
        parameters.parse_args(argv)
    assert exc.value.code == 0
    return capsys.readouterr().out


def test_help_fits_two_screens_with_groups_and_component_summaries(capsys):
    out = screen(capsys, ["--help"])
    assert len(out.splitlines()) <= 100
    for title in ("data:", "model and objective:", "training:", "evaluation:", "run:", "help:"):
        assert title in out
    assert "--loss_<loss>_<param>: " in out and "--help_component margin" in out and "--help_all" in out
    assert screen(capsys, ["-h"]) == out


def test_help_shows_the_defaults_that_apply(capsys):
    glyphs = screen(capsys, ["--help"])
    cub = screen(capsys, ["--dataset", "cub200", "--help"])
    kernels = lambda text: " ".join(text.split("--kernels KERNELS", 1)[1].split("--save_path")[0].split())
    assert kernels(glyphs).endswith("(default: 0)")                       # the glyphs preset's 0
    assert kernels(cub).endswith(f"(default: {parameters.default_workers()})")
    assert "(default: 1e-05)" in cub.split("--lr LR", 1)[1].split("\n")[0]


def test_help_all_lists_every_flag(capsys):
    out = screen(capsys, ["--help_all"])
    assert len(out.splitlines()) > 500 and "--loss_margin_beta" in out and "--glyphs_n_classes" in out


def test_help_component_lists_one_components_flags(capsys):
    out = screen(capsys, ["--help_component", "margin"])
    assert "loss margin:" in out and "--loss_margin_beta " in out and "--loss_triplet_margin" not in out
    assert "dataset glyphs:" in screen(capsys, ["--help_component", "glyphs"])
    with pytest.raises(SystemExit) as exc:
        parameters.parse_args(["--help_component", "margn"])
    err = capsys.readouterr().err.strip()
    assert exc.value.code == 2 and "unknown component 'margn'. Closest: margin" in err and "\n" not in err
