"""Human-readable method names, as in the Revisiting-DML paper's tables.

A method is named from its resolved flags, not from its group name: ``--loss margin
--loss_margin_beta 1.2 --batch_mining distance`` is "Margin (D, β=1.2)", and the same with
``--batch_mining rho_distance`` is "R-Margin (β=1.2)". Its base method (for base-vs-ρ plots)
is the same loss with distance-weighted mining.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

LOSS_NAMES = {
    "npair": "N-Pair", "lifted": "GenLifted", "angular": "Angular", "proxynca": "ProxyNCA",
    "histogram": "Histogram", "contrastive": "Contrastive", "softtriplet": "SoftTriple",
    "arcface": "ArcFace", "triplet": "Triplet", "quadruplet": "Quadruplet", "margin": "Margin",
    "snr": "SNR", "multisimilarity": "Multisimilarity", "softmax": "Softmax",
}
# Losses whose name shows the miner, abbreviated as in the paper.
MINED_LOSSES = ("contrastive", "triplet", "quadruplet", "margin", "snr")
MINER_ABBREV = {"random": "R", "semihard": "S", "softhard": "H", "distance": "D"}
RHO_MINER = "rho_distance"
BASE_MINER = "distance"
# The paper's row order; unknown methods follow, alphabetically.
PAPER_ORDER = (
    "N-Pair", "GenLifted", "ProxyNCA", "Histogram", "Contrastive (D)", "SoftTriple", "Angular",
    "ArcFace", "Triplet (R)", "Triplet (S)", "Triplet (H)", "Triplet (D)", "Quadruplet (D)",
    "Margin (D, β=0.6)", "Margin (D, β=1.2)", "SNR (D)", "Multisimilarity", "Softmax",
    "R-Contrastive", "R-Margin (β=0.6)", "R-Margin (β=1.2)", "R-Triplet", "R-SNR",
)


@dataclass(frozen=True)
class Method:
    """A loss, its miner and (for the margin loss) its β."""
    loss: str
    miner: str | None
    beta: float | None = None

    @property
    def regularised(self) -> bool:
        return self.miner == RHO_MINER

    @property
    def label(self) -> str:
        losses = self.loss.split("+")
        name = "+".join(LOSS_NAMES.get(loss, loss.replace("_", " ").title()) for loss in losses)
        beta = f"β={self.beta:g}" if self.beta is not None else None
        if self.regularised:
            return f"R-{name}" + (f" ({beta})" if beta else "")
        if not any(loss in MINED_LOSSES for loss in losses) or self.miner is None:
            return name
        details = [MINER_ABBREV.get(self.miner, self.miner)] + ([beta] if beta else [])
        return f"{name} ({', '.join(details)})"

    @property
    def base(self) -> "Method | None":
        """The unregularised counterpart of a ρ-regularised method."""
        return Method(self.loss, BASE_MINER, self.beta) if self.regularised else None

    @property
    def sort_key(self) -> tuple[int, str]:
        label = self.label
        return (PAPER_ORDER.index(label), label) if label in PAPER_ORDER else (len(PAPER_ORDER), label)


def method_of(flags: dict[str, Any]) -> Method:
    """The method of a run, from its flags (``loss``, ``batch_mining``, ``loss_margin_beta``)."""
    loss = str(flags.get("loss", "?"))
    losses = loss.split("+")
    mined = any(name in MINED_LOSSES for name in losses)
    miner = flags.get("batch_mining") if mined else None
    beta = flags.get("loss_margin_beta") if "margin" in losses else None
    return Method(loss, str(miner) if miner else None, float(beta) if beta is not None else None)
