"""synthcxr.fidelity_summary: the fidelity table's figures."""

import numpy as np
from helpers import phantoms

from synthcxr import memorisation
from synthcxr.fidelity_summary import closest_pairs_figure


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
