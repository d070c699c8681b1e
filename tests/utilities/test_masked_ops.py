"""masked_log_share against a float64 per-row loop, extreme logits included."""
from __future__ import annotations

import pytest
import torch

from utilities.masked_ops import masked_log_share


def loop_reference(x: torch.Tensor, part: torch.Tensor, among: torch.Tensor) -> torch.Tensor:
    """``logsumexp_part − logsumexp_among`` per row in float64 (0 for an empty part)."""
    rows = []
    for i in range(x.shape[0]):
        p, a = part[i] & among[i] & (x[i] > -torch.inf), among[i] & (x[i] > -torch.inf)
        rows.append(torch.logsumexp(x[i][p], 0) - torch.logsumexp(x[i][a], 0) if p.any() else x.new_zeros(()))
    return torch.stack(rows)


def case(scale: float) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    gen = torch.Generator().manual_seed(int(scale))
    x = torch.randn(9, 11, generator=gen) * scale
    part = torch.rand(9, 11, generator=gen) < 0.3
    among = part | (torch.rand(9, 11, generator=gen) < 0.6)
    part[0], among[1], part[1] = False, False, False           # an empty part; nothing in among
    part[2], among[2] = False, True
    part[2, :3] = True
    x[2, :3] -= 40 * scale                                      # row 2's part: far below the rest
    return x, part, among


@pytest.mark.parametrize("scale", [1.0, 10.0, 300.0])
@pytest.mark.parametrize("with_among", [True, False])
def test_masked_log_share_matches_float64_loop(scale, with_among):
    x, part, among = case(scale)
    x32 = x.clone().requires_grad_()
    if with_among:
        out = masked_log_share(x32, part, among)
    else:                                        # absent entries at -inf, set by a masking op
        out = masked_log_share(x32.masked_fill(~among, -torch.inf), part)
    (out * torch.linspace(1, 2, 9)).sum().backward()
    x64 = x.double().requires_grad_()
    want = loop_reference(x64, part, among)
    (want * torch.linspace(1, 2, 9, dtype=torch.float64)).sum().backward()
    assert torch.isfinite(out).all() and torch.isfinite(x32.grad).all()
    torch.testing.assert_close(out.double(), want.detach(), rtol=1e-5, atol=1e-5)
    torch.testing.assert_close(x32.grad.double(), x64.grad, rtol=1e-4, atol=1e-6)
    assert out[0] == 0 and out[1] == 0 and not x32.grad[:2].any()
    if scale >= 10:                              # the exact path really ran: float32 probabilities underflow
        naive = (torch.softmax(x.masked_fill(~among, -torch.inf), 1) * part).sum(1)
        assert naive[2] == 0 and want[2] < -43


def test_masked_log_share_float_mask_and_broadcast():
    x, part, among = case(1.0)
    got = masked_log_share(x, part[3:4].float(), among[3:4] | part[3:4])
    want = loop_reference(x.double(), part[3:4].expand_as(x), (among[3:4] | part[3:4]).expand_as(x))
    torch.testing.assert_close(got.double(), want, rtol=1e-5, atol=1e-6)


def test_masked_log_share_row_without_candidates_has_zero_gradient():
    """A row entirely at -inf (not from a masking op: the batch of one, self-pair excluded)."""
    x = torch.tensor([[-torch.inf, 1.0, 2.0], [-torch.inf] * 3]).requires_grad_()
    part = torch.tensor([[False, True, False], [True, False, False]])
    out = masked_log_share(x, part)
    out.sum().backward()
    want = loop_reference(x.detach().double(), part, torch.ones_like(part))
    torch.testing.assert_close(out.double(), want, rtol=1e-6, atol=1e-7)
    assert torch.isfinite(x.grad).all() and not x.grad[1].any()
