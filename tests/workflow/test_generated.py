"""End-to-end: GANs and VAEs domains generated inside the workflow, then their fidelity."""

import json
import zipfile

import numpy as np
import pandas as pd
import pytest
import torch

from synthcxr import generators
from synthcxr.fidelity_summary import fidelity_figure

pytestmark = pytest.mark.workflow


def test_generators_sample_the_asked_number_per_class_from_the_train_split_only(generated_study):
    original = pd.read_csv(generated_study / "splits" / "Original.csv")
    n_train = int((original.split == "train").sum())
    for domain, per_class in (("GANs", 8), ("VAEs", 6)):
        for name in ("NORMAL", "PNEUMONIA"):
            assert len(list((generated_study / "generated" / domain / name).glob("*.png"))) == per_class
        log = (generated_study / "logs" / "train_generator" / f"{domain}.log").read_text()
        assert f"on {n_train} train images" in log
        assert list((generated_study / "generators" / domain / "progress").glob("epoch_*.png"))
        intake = json.loads((generated_study / "intake" / f"{domain}.json").read_text())
        assert intake["images_used"] == 2 * per_class
    # Finished generators and classifiers leave no checkpoint that a later run could resume by mistake.
    assert (generated_study / "generators" / "GANs" / "generator.pt").exists()
    assert not [p for p in generated_study.glob("checkpoints/**/*") if p.is_file()]


def test_generators_are_saved_with_their_kind_and_progress_images(generated_study):
    for domain, kind in (("GANs", "gan"), ("VAEs", "vae")):
        saved_kind, model = generators.load_generator(generated_study / "generators" / domain / "generator.pt")
        assert saved_kind == kind and isinstance(model, torch.nn.Module)
        progress = {p.name for p in (generated_study / "generators" / domain / "progress").iterdir()}
        assert {"real.png", "epoch_0001.png", "final_samples.png"} <= progress


def test_fidelity_metrics_per_domain_count_the_right_images_and_stay_in_range(generated_study):
    original = pd.read_csv(generated_study / "splits" / "Original.csv")
    real_train = original[original.split == "train"]["class"].value_counts().to_dict()
    for domain, per_class in (("GANs", 8), ("VAEs", 6)):
        text = (generated_study / "fidelity" / f"{domain}.json").read_text()
        metrics = json.loads(text)
        assert "NaN" not in text and "Infinity" not in text  # plain JSON
        assert metrics["counts"]["synthetic"] == {"NORMAL": per_class, "PNEUMONIA": per_class}
        assert metrics["counts"]["real_train"] == real_train
        assert set(metrics["groups"]) == {"overall", "NORMAL", "PNEUMONIA"}
        for group in metrics["groups"].values():
            assert 0.0 <= group["two_sample"]["auroc"] <= 1.0
            for space in ("cnn", "pixel"):
                assert np.isfinite(group["distances"][space]["frechet"])
                assert np.isfinite(group["real_baseline"][space]["kid"])
            assert 0.0 < group["diversity"]["synthetic"]["ms_ssim"] < 1.0
            assert group["memorization"]["n_exact_copies"] == 0
        assert metrics["provenance"]["feature_model_sha256"]
        assert (generated_study / "fidelity" / f"{domain}_closest_pairs.npz").stat().st_size > 1000


def test_fidelity_table_and_figures_exist_for_each_synthetic_domain(generated_study):
    table = pd.read_csv(generated_study / "fidelity" / "summary.csv")
    assert set(table.domain) == {"GANs", "VAEs"} and set(table.reference) == {"Original"}
    assert set(table.group) == {"overall", "NORMAL", "PNEUMONIA"}
    assert table.two_sample_auroc.between(0, 1).all()
    assert (table.exact_copies == 0).all()
    for name in ("fidelity.png", "fidelity.pdf"):
        assert (generated_study / "figures" / name).stat().st_size > 1000
    for domain in ("GANs", "VAEs"):
        assert (generated_study / "fidelity" / f"{domain}_closest_pairs.png").exists()
    assert "not comparable with published FID" in (generated_study / "fidelity" / "summary.md").read_text()
    # The HTML twin the report shows: the same rows as the Markdown table.
    page = (generated_study / "fidelity" / "summary.html").read_text()
    assert "not comparable with published FID" in page and "<table" in page
    assert page.count("<tr") == len(table) + 1 and "two-sample AUROC [95% CI]" in page
    assert len(pd.read_csv(generated_study / "summary.csv")) == 12
    summary = (generated_study / "summary.md").read_text()
    assert "## Fidelity, diversity and memorization of the synthetic domains" in summary
    assert summary.count("| GANs ") >= 3 and "two-sample AUROC" in summary


def test_fidelity_figure_labels_the_domains_on_both_panels(generated_study):
    table = pd.read_csv(generated_study / "fidelity" / "summary.csv")
    figure = fidelity_figure(table, 0.05)
    left, right = figure.axes
    names = [label.get_text() for label in left.get_yticklabels()]
    assert names == ["GANs vs Original", "VAEs vs Original"]
    assert [label.get_text() for label in right.get_yticklabels()] == names  # the KID panel too


def test_the_report_holds_the_fidelity_table_and_figures(generated_study):
    names = {name.rsplit("/", 1)[-1] for name in zipfile.ZipFile(generated_study / "report.zip").namelist()}
    assert {"fidelity.png", "summary.md", "summary.html", "GANs_closest_pairs.png", "VAEs_closest_pairs.png"} <= names
