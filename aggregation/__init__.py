"""Aggregation of finished runs into tables and figures (used by ``Result_Evaluations.py``).

One job per file:

* :mod:`aggregation.runs`: read run folders (see docs/run_folder.md) into :class:`Run` records;
* :mod:`aggregation.wandb_source`: the same records from the W&B API (optional, lazy import);
* :mod:`aggregation.selection`: which epoch's test metrics a run reports (``last|val|test_max``);
* :mod:`aggregation.stats`: mean, standard deviation and 95% confidence interval over seeds;
* :mod:`aggregation.naming`: human-readable method names ("Margin (D, β=1.2)", "R-Margin (β=1.2)");
* :mod:`aggregation.identity`: run identity (dataset, group, seed, config hash); copies counted once;
* :mod:`aggregation.groups`: runs grouped by dataset and ``--group`` (without one: by configuration
  apart from the seed), one run per seed, with config differences;
* :mod:`aggregation.tables`: the summary table, as markdown and CSV;
* :mod:`aggregation.latex`: the paper's LaTeX layouts (one column per dataset table, ``table*`` combined);
* :mod:`aggregation.plots`: R@1 against ρ, the metric correlation matrix, base against ρ bars (or why
  each is not drawn).
"""
