"""The Revisiting-DML tool's flags with their defaults (facts from its parameters.py).

``OLD_BASIC`` are global flags; ``OLD_COMPONENT`` belong to a loss or miner and exist once that
component is registered.
"""
from __future__ import annotations

OLD_BASIC = {
    "use_tv_split": False, "tv_split_by_samples": False, "tv_split_perc": 0.8, "augmentation": "base",
    "lr": 1e-5, "fc_lr": -1, "decay": 4e-4, "n_epochs": 150, "kernels": 6, "bs": 112, "seed": 1,
    "scheduler": "step", "gamma": 0.3, "tau": [1000], "optim": "adam", "loss": "margin",
    "batch_mining": "distance", "embed_dim": 128, "not_pretrained": False,
    "arch": "resnet50_frozen_normalize", "no_train_metrics": False, "evaluate_on_gpu": False,
    "storage_metrics": ["e_recall@1"], "evaltypes": ["discriminative"], "gpu": [0],
    "savename": "group_plus_seed", "log_online": False, "wandb_key": "<your_api_key_here>",
    "data_sampler": "class_random", "samples_per_class": 2, "data_batchmatch_bigbs": 512,
    "data_batchmatch_ncomps": 10, "data_storage_no_update": False, "data_d2_coreset_lambda": 1,
    "data_sampler_lowproj_dim": -1, "data_gc_softened": False, "ext_some_parameter": 0,
    "online_backend": "wandb", "mixup_alpha": 2.0, "data_gc_coreset_lim": 1e-9,
    "data_sim_measure": "euclidean", "data_mb_mom": -1, "data_mb_lr": 1,
}

OLD_COMPONENT = {
    "loss_contrastive_pos_margin": 0, "loss_contrastive_neg_margin": 1, "loss_triplet_margin": 0.2,
    "loss_margin_margin": 0.2, "loss_margin_beta_lr": 0.0005, "loss_margin_beta": 1.2,
    "loss_margin_nu": 0, "loss_margin_beta_constant": False, "loss_proxynca_lrmulti": 50,
    "loss_npair_l2": 0.005, "loss_angular_alpha": 45, "loss_angular_npair_ang_weight": 2,
    "loss_angular_npair_l2": 0.005, "loss_multisimilarity_pos_weight": 2,
    "loss_multisimilarity_neg_weight": 40, "loss_multisimilarity_margin": 0.1,
    "loss_multisimilarity_thresh": 0.5, "loss_lifted_neg_margin": 1, "loss_lifted_l2": 0.005,
    "loss_quadruplet_margin_alpha_1": 0.2, "loss_quadruplet_margin_alpha_2": 0.2,
    "loss_softtriplet_n_centroids": 2, "loss_softtriplet_margin_delta": 0.01,
    "loss_softtriplet_gamma": 0.1, "loss_softtriplet_lambda": 8, "loss_softtriplet_reg_weight": 0.2,
    "loss_softtriplet_lrmulti": 1, "loss_softmax_lr": 0.00001, "loss_softmax_temperature": 0.05,
    "loss_histogram_nbins": 65, "loss_snr_margin": 0.2, "loss_snr_reg_lambda": 0.005,
    "loss_arcface_lr": 0.0005, "loss_arcface_angular_margin": 0.5, "loss_arcface_feature_scale": 16,
    "miner_distance_lower_cutoff": 0.5, "miner_distance_upper_cutoff": 1.4,
    "miner_rho_distance_lower_cutoff": 0.5, "miner_rho_distance_upper_cutoff": 1.4,
    "miner_rho_distance_cp": 0.2,
}


def component_registered(kind: str, flag: str) -> bool:
    """Whether the loss/miner owning ``flag`` (or named ``flag``) is registered."""
    import batch_mining
    import criteria
    registry = criteria.LOSSES if kind == "loss" else batch_mining.MINERS
    body = flag.split("_", 1)[1] if flag.startswith(("loss_", "miner_")) else flag
    return any(body == n or body.startswith(n + "_") for n in registry.names())
