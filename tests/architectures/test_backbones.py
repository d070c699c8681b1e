"""Every backbone builds without pretrained weights and embeds a tiny input; suffixes; offline errors."""
from __future__ import annotations

import urllib.error

import pytest
import torch

import architectures
import parameters
from architectures import weights
from utilities.registry import UnknownNameError

SIZES = {"bninception": 64, "vit_b_16": 32}             # BN-Inception's pooling needs >= 64 px


@pytest.mark.parametrize("arch", ["resnet18_frozen_normalize", "resnet34", "resnet50_double",
                                  pytest.param("resnet101", marks=pytest.mark.slow), "googlenet_normalize",
                                  pytest.param("vit_b_16", marks=pytest.mark.slow),
                                  pytest.param("bninception_frozen", marks=pytest.mark.slow), "convnet"])
def test_builds_not_pretrained_and_embeds(arch):
    torch.manual_seed(0)
    opt = parameters.parse_args(["--arch", arch, "--not_pretrained", "--embed_dim", "12"])
    model = architectures.select(opt, in_channels=3).eval()
    size = SIZES.get(arch.split("_")[0] if not arch.startswith("vit") else "vit_b_16", 32)
    with torch.no_grad():
        out = model(torch.randn(2, 3, size, size))
    assert out.shape == (2, 12) and torch.isfinite(out).all()
    if "normalize" in arch:
        assert torch.allclose(out.norm(dim=1), torch.ones(2), atol=1e-5)


def test_suffix_tokens_in_any_order_never_substrings():
    assert architectures.parse_arch("resnet50_normalize_frozen") == ("resnet50", {"frozen", "normalize"})
    assert architectures.parse_arch("vit_b_16_double") == ("vit_b_16", {"double"})
    with pytest.raises(UnknownNameError, match="suffix 'frozenbn'"):
        architectures.parse_arch("resnet50_frozenbn")
    with pytest.raises(UnknownNameError, match="unknown architecture 'resnet5_frozen'. Closest: resnet50"):
        architectures.parse_arch("resnet5_frozen")


def test_frozen_batchnorm_stays_fixed_in_training():
    model = architectures.build("resnet18_frozen", 8, pretrained=False).train()
    bn = model.batchnorms()[0]
    before = bn.running_mean.clone()
    model(torch.randn(2, 3, 32, 32))
    assert not bn.training and torch.equal(bn.running_mean, before) and not bn.weight.requires_grad


def test_offline_pretrained_error_names_file_and_cache_folder(tmp_path, monkeypatch):
    def no_network(url, path):
        raise urllib.error.URLError("no internet")
    monkeypatch.setattr(weights, "download", no_network)
    with pytest.raises(weights.PretrainedWeightsError) as err:
        architectures.build("resnet18", 8, pretrained=True, weights_dir=str(tmp_path))
    message = str(err.value)
    folder = str(tmp_path / "hub" / "checkpoints")
    assert "resnet18-f37072fd.pth" in message and folder in message and "--not_pretrained" in message


def test_pretrained_weights_are_read_from_the_cache_folder(tmp_path):
    from torchvision import models
    folder = tmp_path / "hub" / "checkpoints"
    folder.mkdir(parents=True)
    reference = models.resnet18(weights=None)
    torch.save(reference.state_dict(), folder / "resnet18-f37072fd.pth")
    model = architectures.build("resnet18", 8, pretrained=True, weights_dir=str(tmp_path))
    assert torch.equal(model.backbone[0].weight, reference.conv1.weight)


def test_rgb_backbones_reject_one_channel_data():
    with pytest.raises(ValueError, match="takes 3-channel images"):
        architectures.build("resnet18", 8, in_channels=1, pretrained=False)


def test_googlenet_has_no_parameter_without_gradient():
    """DistributedDataParallel refuses parameters that never get a gradient (e.g. an unused fc)."""
    import architectures
    model = architectures.build("googlenet_normalize", 8, 3, pretrained=False)
    model(torch.randn(2, 3, 64, 64)).sum().backward()
    assert [n for n, p in model.named_parameters() if p.requires_grad and p.grad is None] == []
