"""Proxy losses inside the training program: param groups, end-to-end runs, exact resume."""
from __future__ import annotations

import os

import pytest
import torch

import criteria
import main
from training import optim

FAST = ["--evaluation_metrics", "e_recall@1", "--no_train_metrics"]   # no k-means: seconds matter
NAMES = ["softmax", "arcface", "cosface", "sphereface", "large_margin_softmax", "subcenter_arcface",
         "proxynca", "proxyanchor", "softtriplet", "p2sgrad"]


@pytest.mark.parametrize("name,flag,expected", [
    ("softmax", [], 1e-5), ("arcface", ["--loss_arcface_lr", "0.01"], 0.01),
    ("proxynca", ["--lr", "2e-5"], 2e-5 * 50), ("softtriplet", ["--loss_softtriplet_lrmulti", "3"], 3 * 1e-3),
    ("proxyanchor", [], 100 * 1e-3),
])
def test_own_param_group_with_flag_lr_and_no_weight_decay(tiny_argv, name, flag, expected):
    import parameters
    opt = parameters.parse_args(tiny_argv + ["--lr", "1e-3", "--loss", name] + flag)
    loss = criteria.select(opt, n_classes=8)
    model = torch.nn.Linear(2, 2)
    groups = optim.param_groups(model, loss, opt.lr, opt.decay, opt.fc_lr, opt.loss_weight_decay)
    own = [g for g in groups if g["name"].startswith("loss_")]
    assert len(own) == 1 and own[0]["params"] == [loss.proxies]
    assert own[0]["lr"] == pytest.approx(expected) and own[0]["weight_decay"] == 0.0
    assert loss.proxies.shape[0] % 8 == 0 and loss.proxies.shape[1] == opt.embed_dim
    opt.loss_weight_decay = 0.1
    groups = optim.param_groups(model, loss, opt.lr, opt.decay, opt.fc_lr, opt.loss_weight_decay)
    assert [g["weight_decay"] for g in groups if g["name"].startswith("loss_")] == [0.1]


@pytest.mark.slow
@pytest.mark.parametrize("name", NAMES)
def test_end_to_end_one_epoch(tiny_argv, name):
    assert main.main(tiny_argv + FAST + ["--loss", name, "--n_epochs", "1"]) == 0
    state = torch.load(_run(tiny_argv) + "/checkpoint_last.pt", weights_only=False)
    assert "proxies" in state["loss"]
    assert any(g.get("name", "").startswith("loss_") for g in state["optimizer"]["param_groups"])


def _run(argv):
    save = argv[argv.index("--save_path") + 1]
    return os.path.join(save, "glyphs", argv[argv.index("--savename") + 1])


@pytest.mark.slow
def test_resume_keeps_proxies_bit_identical(tmp_path, capsys):
    from tests.conftest import TINY_GLYPHS
    common = TINY_GLYPHS + FAST + ["--loss", "softtriplet", "--lr", "1e-3"]
    straight = common + ["--save_path", str(tmp_path / "a"), "--savename", "run", "--n_epochs", "2"]
    split = common + ["--save_path", str(tmp_path / "b"), "--savename", "run"]
    assert main.main(straight) == 0
    assert main.main(split + ["--n_epochs", "1"]) == 0
    after_one = torch.load(_run(split) + "/checkpoint_last.pt", weights_only=False)["loss"]["proxies"]
    capsys.readouterr()
    assert main.main(split + ["--n_epochs", "2", "--resume", _run(split)]) == 0
    assert "after epoch 1" in capsys.readouterr().out          # it continued, it did not restart
    a = torch.load(_run(straight) + "/checkpoint_last.pt", weights_only=False)
    b = torch.load(_run(split) + "/checkpoint_last.pt", weights_only=False)
    assert a["epoch"] == b["epoch"] == 2
    assert torch.equal(a["loss"]["proxies"], b["loss"]["proxies"])
    assert not torch.equal(after_one, b["loss"]["proxies"])      # epoch 2 did train the proxies
    for key in a["model"]:
        assert torch.equal(a["model"][key], b["model"][key]), key
    sa, sb = a["optimizer"]["state"], b["optimizer"]["state"]
    assert sa.keys() == sb.keys()
    for k in sa:
        for field in sa[k]:
            assert torch.equal(torch.as_tensor(sa[k][field]), torch.as_tensor(sb[k][field])), (k, field)


def test_non_cosine_distance_is_rejected_at_parse_time(tiny_argv):
    import parameters
    with pytest.raises(SystemExit):
        parameters.parse_args(tiny_argv + ["--loss", "proxyanchor", "--loss_distance", "euclidean"])
