"""ViT-B/16 (Dosovitskiy et al., ICLR 2021) from torchvision, embedding the class token."""
from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from architectures import ARCHITECTURES
from architectures.input_space import IMAGENET
from architectures.weights import load_state_dict, require_rgb


@ARCHITECTURES.register("vit_b_16")
class ViTB16(nn.Module):
    """ViT-B/16: the final class token (B, 768) after the encoder's LayerNorm.

    Pretrained weights are torchvision's ``IMAGENET1K_V1`` (trained at 224 px). Other input sizes
    work: the patch-position embeddings are resized bicubically to the input's patch grid.
    """

    input_space = IMAGENET
    wired_params = ("in_channels", "pretrained", "weights_dir")

    def __init__(self, in_channels: int = 3, pretrained: bool = True, weights_dir: str = ""):
        from torchvision import models  # lazy: `import architectures` (flag building) stays light
        super().__init__()
        require_rgb(in_channels, "vit_b_16")
        self.vit = models.vit_b_16(weights=None)
        if pretrained:
            self.vit.load_state_dict(load_state_dict(models.ViT_B_16_Weights.IMAGENET1K_V1.url, weights_dir, "vit_b_16"))
        self.vit.heads = nn.Identity()
        self.feat_dim = self.vit.hidden_dim

    def position_embedding(self, rows: int, cols: int) -> torch.Tensor:
        pos = self.vit.encoder.pos_embedding                       # (1, 1 + g*g, C)
        grid = int(round((pos.shape[1] - 1) ** 0.5))
        if (rows, cols) == (grid, grid):
            return pos
        patches = pos[:, 1:].reshape(1, grid, grid, -1).permute(0, 3, 1, 2)
        patches = F.interpolate(patches, size=(rows, cols), mode="bicubic", align_corners=False)
        return torch.cat([pos[:, :1], patches.flatten(2).transpose(1, 2)], 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        tokens = self.vit.conv_proj(x)                              # (B, C, H/16, W/16)
        rows, cols = tokens.shape[-2:]
        tokens = tokens.flatten(2).transpose(1, 2)
        tokens = torch.cat([self.vit.class_token.expand(len(x), -1, -1), tokens], 1)
        encoder = self.vit.encoder
        tokens = encoder.ln(encoder.layers(encoder.dropout(tokens + self.position_embedding(rows, cols))))
        return tokens[:, 0]
