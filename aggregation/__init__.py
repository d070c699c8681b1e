"""Aggregation of finished runs into tables and figures (used by ``Result_Evaluations.py``).

One job per file:

* :mod:`aggregation.runs`: find run folders and read each through its run record
  (:class:`training.run_record.RunRecord`) into a :class:`Run`;
* :mod:`aggregation.wandb_source`: the same records from the W&B API (optional, lazy import);
* :mod:`aggregation.selection`: which epoch's test metrics a run reports (``last|val|test_max``, the
  run's own rule, and ``test_max_per_metric``);
* :mod:`utilities.stats` (on the ground floor, shared with the studies): mean, standard deviation and
  95% confidence interval over seeds;
* :mod:`aggregation.naming`: human-readable method names ("Margin (D, β=1.2)", "R-Margin (β=1.2)");
* :mod:`aggregation.identity`: run identity (dataset, group, seed, configuration); copies counted once;
* :mod:`aggregation.groups`: runs grouped by dataset and ``--group`` (without one: by configuration
  apart from the seed), one run per seed, with config differences;
* :mod:`aggregation.tables`: the summary table, as markdown and CSV;
* :mod:`aggregation.latex`: the paper's LaTeX layouts (one column per dataset table, ``table*`` combined);
* :mod:`aggregation.plots`: R@1 against ρ, the metric correlation matrix, base against ρ bars (or why
  each is not drawn).
"""
