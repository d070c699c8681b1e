"""``criteria.proxy_common.unit_rows``: F.normalize's value and gradient in one autograd node."""
import torch
import torch.nn.functional as F

from criteria.proxy_common import unit_rows


def test_unit_rows_matches_normalize_value_and_gradient_including_clamped_rows():
    gen = torch.Generator().manual_seed(0)
    x = torch.randn(16, 8, dtype=torch.float64, generator=gen)
    x[3] *= 1e-14                                        # below eps: clamped, gradient g / eps
    x[5] = 0.0
    x.requires_grad_(True)
    g = torch.randn(16, 8, dtype=torch.float64, generator=gen)
    ours = torch.autograd.grad((unit_rows(x) * g).sum(), x)[0]
    ref = torch.autograd.grad((F.normalize(x, dim=-1) * g).sum(), x)[0]
    assert torch.allclose(unit_rows(x), F.normalize(x, dim=-1), rtol=1e-12, atol=0)
    assert torch.allclose(ours, ref, rtol=1e-10, atol=0)
    assert torch.autograd.gradcheck(unit_rows, (torch.randn(6, 5, dtype=torch.float64, requires_grad=True),))
