"""synthcxr.fidelity_summary: the fidelity table's figures and the coverage its intervals are labelled with."""

import numpy as np
import pandas as pd
from helpers import phantoms

from synthcxr import memorisation
from synthcxr.fidelity_summary import closest_pairs_figure, fidelity_figure, fidelity_rows, markdown, readable


def test_closest_pairs_figure(tmp_path):
    real, labels = phantoms(6)
    summary, details = memorisation.memorization(real[:4], real[4:10], real[10:])
    pairs = memorisation.closest_pairs(real[:4], labels[:4], real[4:10], details, k=3)
    assert np.all(np.diff(pairs["distance"]) >= 0) and pairs["synthetic"].shape == (3, *real.shape[1:])
    for col in range(3):  # each synthetic image beside its nearest training image
        np.testing.assert_array_equal(
            pairs["train"][col], real[4:10][details["train_index"][pairs["synthetic_index"][col]]]
        )
    np.savez(tmp_path / "pairs.npz", **pairs)
    with np.load(tmp_path / "pairs.npz", allow_pickle=False) as saved:
        figure = closest_pairs_figure(dict(saved), title="test")
    figure.savefig(tmp_path / "pairs.png")
    assert (tmp_path / "pairs.png").stat().st_size > 1000


def test_the_two_sample_interval_is_labelled_with_the_coverage_of_statistics_alpha():
    numbers = ["two_sample_auroc", "two_sample_auroc_ci_low", "two_sample_auroc_ci_high", "kid_cnn", "kid_cnn_std"]
    numbers += ["kid_cnn_real_baseline", "frechet_cnn_same_size", "frechet_cnn_real_baseline", "ms_ssim_synthetic"]
    numbers += ["ms_ssim_real", "nearest_is_train_share", "nearest_is_train_expected", "exact_copies"]
    table = pd.DataFrame([{"domain": "GANs", "reference": "Original", "group": "overall", "n_synthetic": 10}])
    table = table.assign(**dict.fromkeys(numbers, 0.5))
    for alpha, label in ((0.05, "95%"), (0.1, "90%")):
        assert f"two-sample AUROC [{label} CI]" in markdown(table, alpha)
        assert f"AUROC ({label} CI)" in fidelity_figure(table, alpha).axes[0].get_xlabel()


def test_a_group_too_small_for_a_measure_gets_a_row_that_says_so():
    """A measure left None by evaluate_fidelity (a group with too few images) is "n/a", not a crash."""
    measures = {
        "n_synthetic": 3,
        "distances": {"cnn": None, "pixel": {"kid": 0.2, "frechet": 4.0}},
        "real_baseline": {"cnn": None, "pixel": None},
        "diversity": {"synthetic": {"ms_ssim": None, "mean_l2": None}, "real": {"ms_ssim": 0.4, "mean_l2": 1.0}},
        "memorization": {
            "share_below_threshold": 0.0,
            "nearest_is_train_share": 0.5,
            "nearest_is_train_expected": 0.5,
            "n_exact_copies": 0,
        },
    }
    whole = measures | {"two_sample": {"auroc": 0.7, "auroc_ci": [0.6, 0.8]}}
    rows = fidelity_rows({"GANs": {"groups": {"overall": whole, "NORMAL": measures}}}, ["Original"])
    assert rows.loc[0, "two_sample_auroc_ci_high"] == 0.8 and rows.loc[0, "kid_pixel"] == 0.2
    assert rows.loc[1, ["two_sample_auroc", "two_sample_auroc_ci_low", "kid_cnn", "ms_ssim_synthetic"]].isna().all()
    shown = readable(rows, 0.05)
    assert shown.loc[0, "two-sample AUROC [95% CI]"] == "0.70 [0.60, 0.80]"
    assert shown.loc[1, "two-sample AUROC [95% CI]"] == "n/a [n/a, n/a]"
    assert shown.loc[1, "MS-SSIM synthetic / real"] == "n/a / 0.40"
    fidelity_figure(rows, 0.05)  # draws what there is
