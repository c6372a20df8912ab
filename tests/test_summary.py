import pandas as pd

from synthcxr.summary import leakage_lines


def test_leakage_lines_name_the_cells_with_copies():
    summary = pd.DataFrame({"train": ["GANs", "VAEs"], "test": ["Original", "Original"], "train_test_overlap": [3, 0]})
    lines = leakage_lines(summary)
    assert len(lines) == 1 and "Original test split: 3 image(s)" in lines[0] and "GANs" in lines[0]
    assert "No test image" in leakage_lines(summary.assign(train_test_overlap=0))[0]
