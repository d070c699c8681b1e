"""Does learning transfer? Raw-pixel kNN vs the default run's embeddings on unseen glyph classes.

    python bench/pixel_baseline.py [RUN_FOLDER]

Without a run folder it trains the default `python main.py` run first. Prints the test
e_recall@1 and nmi of both, and their difference.
"""
from __future__ import annotations

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import torch  # noqa: E402

import main  # noqa: E402
import metrics  # noqa: E402
import parameters  # noqa: E402
from evaluation import embed, embedding_batch_size  # noqa: E402
from training.run_record import RunRecord  # noqa: E402

NAMES = ["e_recall@1", "nmi"]


def run(folder: str | None) -> None:
    if folder is None:
        opt = parameters.parse_args(["--savename", "pixel_baseline_reference", "--seed", "0"])
        folder = os.path.join(opt.save_path, opt.dataset, opt.savename)
        if not RunRecord(folder).has_checkpoint("checkpoint_last.pt"):
            main.main(["--savename", "pixel_baseline_reference", "--seed", "0"])
    model, test, opt = RunRecord(folder).restore_model("checkpoint_last.pt", split="test", device="cpu")
    pixels = torch.stack([test[i][0] for i in range(len(test))]).flatten(1).float().numpy()
    emb, labels = embed(model, test, embedding_batch_size(opt))
    # the run's own evaluation settings (k-means seed, averaging): the learned row is the run's
    # last test row of metrics.csv, not a re-clustering with another seed
    options = {"seed": opt.seed, "average_mode": opt.metric_average}
    raw = metrics.compute(pixels, test.labels, NAMES, **options)
    learned = metrics.compute(emb, labels, NAMES, **options)
    print(f"run: {folder}")
    print(f"{'':<16}{'e_recall@1':>12}{'nmi':>10}")
    print(f"{'raw-pixel kNN':<16}{raw['e_recall@1']:>12.4f}{raw['nmi']:>10.4f}")
    print(f"{'learned':<16}{learned['e_recall@1']:>12.4f}{learned['nmi']:>10.4f}")
    print(f"{'difference':<16}{learned['e_recall@1'] - raw['e_recall@1']:>+12.4f}{learned['nmi'] - raw['nmi']:>+10.4f}")


if __name__ == "__main__":
    run(sys.argv[1] if len(sys.argv) > 1 else None)
