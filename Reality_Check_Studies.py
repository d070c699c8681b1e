"""Fair comparison studies (Musgrave et al., "A Metric Learning Reality Check", ECCV 2020):
class-disjoint cross-validation, Optuna search, reproductions and fold ensembles. See
docs/studies.md; the parts live in ``studies/``.

    python Reality_Check_Studies.py --study STUDY --methods triplet contrastive --trials 50 \\
        --cv_folds 4 --reproductions 5 -- --dataset cub200 --source ../Datasets --n_epochs 100
"""
from __future__ import annotations

import sys

from studies.cli import main

if __name__ == "__main__":
    sys.exit(main())
