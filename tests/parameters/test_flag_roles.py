"""Every flag declares its roles where it is added; the sets that used to be kept by hand in
places are derived from those declarations and equal them, but for the differences listed."""
from __future__ import annotations

import pytest

import parameters
from utilities import flags
from utilities.flags import ROLES, Role

# The six hand-kept lists as they stood before the roles were declared on the flags.
OLD_SECRET = {"wandb_key", "comet_api_key"}                                    # training/run_folder.py
OLD_RESUMABLE = {"resume", "n_epochs", "eval_every", "kernels", "device", "gpu", "log_online", "wandb_key",
                 "argv", "savename", "save_path", "source_path", "evaluate_on_gpu", "no_train_metrics",
                 "plot_embeddings", "plot_retrievals", "list", "config", "project", "amp", "compile"}
OLD_LOCATION = {"resume", "argv", "savename", "save_path", "source_path", "list", "config", "wandb_key"}
OLD_NOT_FLAGS = {"argv", "list", "print_config", "savename"}                  # training/report.py
OLD_NOT_RESTORED = {"argv", "resume", "config", "list", "print_config", "help"} | OLD_SECRET   # training/resume.py


def test_every_flag_declares_its_roles():
    parser = parameters.build_parser()
    undeclared = [a.dest for a in parser._actions if a.dest != "help" and not hasattr(a, "roles")]
    assert undeclared == []
    assert {a.dest for a in parser._actions if a.dest != "help"} | {"argv"} == ROLES.declared()


def test_derived_sets_equal_the_old_hand_kept_lists():
    assert flags.secret_flags() == OLD_SECRET
    assert flags.resumable_flags() == OLD_RESUMABLE
    assert flags.midrun_flags() == OLD_RESUMABLE - OLD_LOCATION
    assert flags.unrestored_flags() | {"help"} == OLD_NOT_RESTORED
    # savename moved to the header's SHOWN (it is in the run line); --help never reaches the namespace
    assert flags.invocation_flags() == OLD_NOT_FLAGS - {"savename"}


def test_legacy_flags_are_the_legacy_group():
    assert flags.legacy_flags() == set(parameters.LEGACY_NO_EFFECT)


def test_never_recorded_keys_cover_the_old_location_list():
    assert flags.unrecorded_flags() >= OLD_LOCATION
    assert flags.unrecorded_flags() - OLD_LOCATION == {"comet_api_key", "print_config"}


def test_generated_component_flags_change_results():
    assert ROLES.roles("loss_margin_beta") == {Role.RESULT}


def test_a_flag_declared_twice_with_other_roles_is_refused():
    table = flags.RoleTable()
    table.declare("x", {Role.RESULT})
    table.declare("x", {Role.RESULT})
    with pytest.raises(TypeError, match="--x"):
        table.declare("x", {Role.MIDRUN})


def test_roles_asked_before_any_declaration_fail_loudly():
    with pytest.raises(RuntimeError, match="import parameters"):
        flags.RoleTable().having(Role.SECRET)
