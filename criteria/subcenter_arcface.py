"""Sub-center ArcFace: K sub-centres per class, the closest one takes the ArcFace margin."""
from __future__ import annotations

import math
from typing import Any

import torch

from criteria import LOSSES
from criteria.arcface import ArcFaceLoss
from criteria.proxy_common import angles, cosine_logits, parameters_doc


@LOSSES.register("subcenter_arcface")
class SubCenterArcFaceLoss(ArcFaceLoss):
    __doc__ = """Sub-center ArcFace (Deng et al., "Sub-center ArcFace: Boosting Face Recognition by
    Large-scale Noisy Web Faces", ECCV 2020).

    Each class c owns ``K`` sub-centres ``w_c^k``; the class cosine is the closest one,
    ``cos θ_ic = max_k cos(x_i, w_c^k)``, and the loss is ArcFace on these cosines (margin on the
    target class only). :meth:`outliers` flags training samples whose angle to their class's
    dominant sub-centre exceeds ``outlier_threshold`` degrees (75° in the paper): the noisy samples
    the paper drops before re-training.

    """ + parameters_doc(ArcFaceLoss) + """    sub_centers : int
        Sub-centres K per class.
    outlier_threshold : float
        Angle in degrees beyond which outliers() flags a sample.
    """

    def __init__(self, n_classes: int = 1, embed_dim: int = 128, lr: float = 0.0005,
                 angular_margin: float = 0.5, feature_scale: float = 64.0, easy_margin: bool = False,
                 sub_centers: int = 3, outlier_threshold: float = 75.0, **base: Any):
        if sub_centers < 1:
            raise ValueError(f"--loss_subcenter_arcface_sub_centers must be >= 1, got {sub_centers}")
        self.sub_centers, self.outlier_threshold = sub_centers, outlier_threshold
        super().__init__(n_classes=n_classes, embed_dim=embed_dim, lr=lr, angular_margin=angular_margin,
                         feature_scale=feature_scale, easy_margin=easy_margin, **base)

    def rows_per_class(self) -> int:
        return self.sub_centers

    def subcenter_cosines(self, embeddings: torch.Tensor) -> torch.Tensor:
        """``cos(x_i, w_c^k)`` (B, C, K); row ``c·K + k`` of the weights is ``w_c^k``."""
        cos = cosine_logits(embeddings, self.proxies)
        return cos.view(cos.shape[0], -1, self.sub_centers)

    def class_cosines(self, embeddings: torch.Tensor) -> torch.Tensor:
        """``max_k cos(x_i, w_c^k)`` (B, C), from the centres taken k-major (row ``k·C + c``): the max
        runs along the middle axis of (B, K, C), faster on CPU than over a short last axis."""
        k, dim = self.sub_centers, self.proxies.shape[1]
        centres = self.proxies.view(-1, k, dim).transpose(0, 1).reshape(-1, dim)
        return cosine_logits(embeddings, centres).view(embeddings.shape[0], k, -1).amax(dim=1)

    @torch.no_grad()
    def outliers(self, embeddings: torch.Tensor, labels: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """``(is_outlier (N,) bool, dominant (C,) int)``.

        The dominant sub-centre of class c is the one closest to the most samples of c; a sample
        is an outlier when its angle to its class's dominant sub-centre exceeds the threshold.
        """
        n_classes = self.proxies.shape[0] // self.sub_centers
        sub = self.subcenter_cosines(embeddings)[torch.arange(labels.numel()), labels]   # (N, K)
        votes = torch.zeros(n_classes, self.sub_centers, device=labels.device)
        votes.index_put_((labels, sub.argmax(1)), torch.ones_like(labels, dtype=votes.dtype), accumulate=True)
        dominant = votes.argmax(1)
        cos_dominant = sub.gather(1, dominant[labels].view(-1, 1)).squeeze(1)
        return angles(cos_dominant) > math.radians(self.outlier_threshold), dominant
