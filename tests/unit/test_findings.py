"""Findings: the sentences of findings.md and their HTML form, from the numbers of the comparison tables."""

import re

import pandas as pd
import pytest
from simulated import COMPARED_VALUES, _unadjusted_versus_holm, simulated_study

from synthcxr import catalog, findings

CONTEXT = {
    "reference": "Original",
    "synthetic": ["GANs", "VAEs"],
    "mixed": "Mixed",
    "test_domains": ["Original", "GANs"],
    "seeds": [1, 2, 3],
    "n_boot_intervals": 300,
    "n_boot_comparisons": 1000,
    "alpha": 0.05,
    "min_groups_per_class": 5,
    "demo": False,
}


@pytest.fixture(scope="module")
def study():
    return simulated_study()


def _text(sections):
    return findings.to_markdown(sections)


def test_findings_sentences_carry_the_comparison_numbers(study):
    summary, comparisons = study
    text = _text(findings.findings(summary, comparisons, CONTEXT))
    for row in comparisons.itertuples():
        if row.train == "Mixed":
            continue
        clause = (
            f"{catalog.LABELS[row.metric]} by {row.difference:+.3f} (unadjusted 95% CI {row.ci_low:+.3f} to "
            f"{row.ci_high:+.3f}; "
            f"{row.train_value:.3f} vs {row.reference_value:.3f})"
        )
        assert clause in text, clause
    vaes = comparisons[(comparisons.train == "VAEs") & comparisons.significant & (comparisons.difference < 0)]
    assert not vaes.empty
    for row in vaes.itertuples():
        # a raw p-value at the floor of 1000 replicates (2/1001) makes the adjusted one an upper bound
        relation = "≤" if row.p_value <= 2 / 1001 * (1 + 1e-9) else "="
        assert f"Holm-adjusted p {relation} {row.p_holm:.4f}" in text
    assert "VAEs-trained models fall significantly short of Original-trained ones" in text
    assert f"the {len(comparisons)} p-values" in text and "Holm-corrected" in text
    assert findings.DISCLAIMER in text
    assert "not X-rays" not in text  # not a demo run


def test_findings_mixed_verdicts_hand_made():
    """One test split per verdict: the wording for each is written out here, not taken from findings."""
    nan = float("nan")
    rows = []
    for test, (ba_diff, ba_sig, au_diff, au_sig) in {
        "A": (0.05, True, 0.01, False),  # one significantly higher, none lower
        "B": (-0.05, True, 0.00, False),  # one significantly lower
        "C": (0.05, True, -0.03, True),  # one higher, one lower
        "D": (0.02, False, -0.01, False),  # nothing significant
    }.items():
        rows.append((test, "balanced_accuracy", ba_diff, 0.001 if ba_sig else 0.5, 0.004 if ba_sig else 1.0, ba_sig))
        rows.append((test, "auroc", au_diff, 0.001 if au_sig else 0.5, 0.004 if au_sig else 1.0, au_sig))
    rows += [("E", "balanced_accuracy", 0.01, nan, nan, False), ("E", "auroc", 0.01, nan, nan, False)]  # untested
    comparisons = pd.DataFrame(rows, columns=["test", "metric", "difference", "p_value", "p_holm", "significant"])
    comparisons = comparisons.assign(
        train="Mixed",
        reference="Original",
        train_value=0.8,
        reference_value=0.8,
        ci_low=-0.1,
        ci_high=0.1,
        n_test=100,
        n_groups=50,
        note="",
    )
    tests = ["A", "B", "C", "D", "E"]
    summary = pd.DataFrame(
        {
            "train": ["Original"] * 5 + ["Mixed"] * 5,
            "test": tests * 2,
            "accuracy": 0.9,
            "majority_baseline_accuracy": 0.6,
        }
    )
    context = dict(CONTEXT, synthetic=[], test_domains=tests)
    text = _text(findings.findings(summary, comparisons, context))
    assert "On the A test split, Mixed beats Original" in text
    assert "On the B test split, Mixed falls short of Original" in text
    assert "On the C test split, Mixed is better on some metrics and worse on others than Original" in text
    assert "On the D test split, Mixed does not differ significantly from Original" in text
    assert "On the E test split, Mixed could not be tested against Original" in text
    assert "Mixed beats Original on 1 of 5 test splits (A)." in text


def test_findings_say_what_few_seeds_allow():
    nothing = pd.DataFrame(columns=["test", "train", "metric", "p_value", "significant", "difference"])
    summary = pd.DataFrame(
        {"train": ["Original"], "test": ["Original"], "accuracy": 0.9, "majority_baseline_accuracy": 0.6}
    )

    def how(seeds):
        context = dict(CONTEXT, synthetic=[], mixed=None, test_domains=["Original"], seeds=seeds)
        return dict(findings.findings(summary, nothing, context))["How the numbers were made"][0]

    for seeds in ([1], [1, 2]):
        text = how(seeds)
        assert f"With {len(seeds)} seed(s) per training domain" in text and "model-level" in text
        assert "no difference is marked significant" in text and "not about training domains" in text
    for seeds in ([1, 2, 3], [1, 2, 3, 4, 5]):
        text = how(seeds)
        assert "model-level" not in text and "is about the training domain" in text and "new seed" in text


def test_findings_hand_made_table():
    comparisons = pd.DataFrame(
        [
            # test, train, metric, train value, reference value, diff, low, high, p, p_holm, significant
            ("Original", "GANs", "balanced_accuracy", 0.712, 0.832, -0.120, -0.180, -0.050, 0.003, 0.004, True),
            ("Original", "GANs", "auroc", 0.900, 0.910, -0.010, -0.040, 0.020, 0.400, 0.800, False),
            ("Original", "Mixed", "balanced_accuracy", 0.870, 0.832, 0.038, 0.010, 0.070, 0.010, 0.030, True),
            ("Original", "Mixed", "auroc", 0.950, 0.910, 0.040, 0.000, 0.080, 0.040, 0.080, False),
        ],
        columns=["test", "train", *COMPARED_VALUES],
    ).assign(reference="Original", n_test=100, n_groups=50, note="")
    summary = pd.DataFrame(
        {
            "train": ["Original", "GANs", "Mixed"],
            "test": ["Original"] * 3,
            "accuracy": [0.85, 0.74, 0.88],
            "accuracy_ci_low": [0.80, 0.70, 0.84],
            "accuracy_ci_high": [0.90, 0.80, 0.92],
            "majority_baseline_accuracy": [0.73] * 3,
        }
    )
    context = dict(CONTEXT, synthetic=["GANs"], test_domains=["Original"], demo=True)
    text = _text(findings.findings(summary, comparisons, context))
    assert (
        "On the Original test split (100 images, 50 patient groups), training on GANs instead of Original changed "
        "balanced accuracy by -0.120 (unadjusted 95% CI -0.180 to -0.050; 0.712 vs 0.832) and AUROC by -0.010 "
        "(unadjusted 95% CI -0.040 to +0.020; 0.900 vs 0.910)"
    ) in text
    assert "significant after Holm correction: lower balanced accuracy (Holm-adjusted p = 0.0040)" in text
    assert "Mixed beats Original on 1 of 1 test splits (Original)." in text
    assert "The largest shortfall of GANs is in balanced accuracy on the Original test split: -0.120" in text
    assert (
        "GANs-trained model on the Original test split (accuracy 0.740, 95% CI 0.700 to 0.800) is not clearly" in text
    )
    assert "Original-trained model on the Original test split" not in text.split("majority-class baseline")[-1]
    assert findings.DEMO_NOTE in text
    page = findings.to_html(findings.findings(summary, comparisons, context))
    assert page.startswith("<!DOCTYPE html>") and "<h2>Does Mixed beat Original?</h2>" in page


def test_findings_tell_an_unadjusted_interval_from_a_holm_significant_difference():
    comparisons = _unadjusted_versus_holm()
    summary = pd.DataFrame(
        {"train": ["Original", "GANs"], "test": ["Original"] * 2, "accuracy": 0.9, "majority_baseline_accuracy": 0.6}
    )
    context = dict(CONTEXT, synthetic=["GANs"], mixed=None, test_domains=["Original"])
    text = _text(findings.findings(summary, comparisons, context))
    assert (
        "significant after Holm correction: lower balanced accuracy (Holm-adjusted p ≤ 0.0060); not significant "
        "after Holm correction, although the unadjusted interval excludes zero: AUROC (unadjusted p = 0.0200, "
        "Holm-adjusted p = 0.0800)."
    ) in text
    assert "AUROC by -0.030 (unadjusted 95% CI -0.055 to -0.004; 0.880 vs 0.910)" in text
    assert "F1 (" not in text.split("significant after Holm")[-1]  # F1's interval holds zero: no such remark
    assert "A p-value written 'p < 0.002' is at the resolution floor" in text
    # with no significant difference the sentence still says which is which
    alone = comparisons[comparisons.metric != "balanced_accuracy"]
    text = _text(findings.findings(summary, alone, context))
    assert (
        "none of these differences is significant after Holm correction, although the unadjusted interval excludes "
        "zero for AUROC (unadjusted p = 0.0200, Holm-adjusted p = 0.0800)."
    ) in text


def _comparison_rows(train, test, difference):
    return [
        dict(
            test=test,
            train=train,
            reference="Original",
            metric=metric,
            train_value=0.8 + difference,
            reference_value=0.8,
            difference=difference,
            ci_low=difference - 0.05,
            ci_high=difference + 0.05,
            p_value=0.5,
            p_holm=1.0,
            significant=False,
            n_test=40,
            n_groups=30,
            note="",
        )
        for metric in ("accuracy", "balanced_accuracy", "f1", "auroc")
    ]


def test_findings_call_a_second_real_domain_real_and_lead_with_the_external_test_set():
    trains, tests = ["Original", "Hospital2", "GANs"], ["Original", "Hospital2", "GANs", "Ext"]
    comparisons = pd.DataFrame(
        [row for train in trains[1:] for test in tests for row in _comparison_rows(train, test, -0.01)]
    )
    summary = pd.DataFrame(
        [
            dict(
                train=train,
                test=test,
                n_test=40,
                accuracy=0.8,
                balanced_accuracy=0.8,
                auroc=0.9,
                majority_baseline_accuracy=0.5,
                accuracy_ci_low=0.7,
                accuracy_ci_high=0.9,
            )
            for train in trains
            for test in tests
        ]
    )
    context = dict(
        reference="Original",
        synthetic=["GANs"],
        real_trains=["Hospital2"],
        mixed=None,
        test_domains=tests,
        external=["Ext"],
        generator_saw_test={},
        generator_unknown=["GANs"],
        seeds=[1, 2, 3],
        n_boot_intervals=100,
        n_boot_comparisons=100,
        alpha=0.05,
        min_groups_per_class=5,
        demo=False,
    )
    sections = findings.findings(summary, comparisons, context)
    titles = [title for title, _ in sections]
    text = "\n".join(p for _, paragraphs in sections for p in paragraphs if isinstance(p, str))
    # GANs' generator data is unknown: the heading names it instead of claiming no generator saw Ext
    heading = (
        "On real images that no training saw and no generator is known to have seen (the generator data of GANs "
        "is unknown)"
    )
    assert titles.index(heading) < titles.index("Training on synthetic instead of real images")
    assert f"{heading} (Ext, 40 images)" in text and "no training and no generator saw" not in text
    # each verdict on the external set carries the primary metric's difference and interval
    assert "GANs does not differ significantly from Original (AUROC -0.010, 95% CI -0.060 to +0.040)" in text
    known = findings.findings(summary, comparisons, dict(context, generator_unknown=[]))
    assert "On real images that no training and no generator saw" in [title for title, _ in known]
    assert "training on Hospital2 instead of" not in text  # never framed as synthetic...
    assert "training on real images of Hospital2 instead of Original" in text  # ...but as real
    synthetic = dict(sections)["Training on synthetic instead of real images"]
    assert synthetic and all("training on GANs instead of Original" in p for p in synthetic)
    assert not any(p.startswith("Hospital2") for p in dict(sections)["Where synthetic training falls short"])
    assert "The images the generator of GANs was trained on are unknown" in text


def _seen_study(difference=0.05, significant=True):
    """Mixed and GANs against Original on two test splits, Original and GANs; a generator behind GANs (and so
    behind Mixed) saw the GANs test split. Every compared metric differs by ``difference``."""
    rows = []
    for train in ("GANs", "Mixed"):
        for test in ("Original", "GANs"):
            for row in _comparison_rows(train, test, difference if train == "Mixed" else -difference):
                rows.append(dict(row, p_value=0.001, p_holm=0.004, significant=significant))
    comparisons = pd.DataFrame(rows)
    summary = pd.DataFrame(
        [
            dict(train=train, test=test, n_test=40, accuracy=0.8, majority_baseline_accuracy=0.5)
            for train in ("Original", "GANs", "Mixed")
            for test in ("Original", "GANs")
        ]
    )
    context = dict(
        CONTEXT,
        synthetic=["GANs"],
        generator_saw_test={"GANs": ["GANs"], "Mixed": ["GANs"]},
        generator_unknown=[],
    )
    return summary, comparisons, context


def test_a_test_split_a_generator_saw_is_flagged_in_the_mixed_section_and_not_counted_as_a_win():
    summary, comparisons, context = _seen_study()
    mixed = dict(findings.findings(summary, comparisons, context))["Does Mixed beat Original?"]
    assert mixed[0].startswith("Mixed beats Original on 1 of 1 test splits that no generator behind it saw (Original).")
    assert "The GANs test split is not counted: a generator behind Mixed saw its test images." in mixed[0]
    on_gans = next(p for p in mixed if p.startswith("On the GANs test split"))
    on_original = next(p for p in mixed if p.startswith("On the Original test split"))
    assert "a generator behind it saw these test images" in on_gans
    assert "a generator behind it saw" not in on_original


def test_a_test_split_a_generator_saw_is_flagged_in_the_shortfall_section():
    summary, comparisons, context = _seen_study()
    (shortfall,) = dict(findings.findings(summary, comparisons, context))["Where synthetic training falls short"]
    caveat = " (a generator behind it saw these test images: this cell overstates generalisation)"
    # each of the 4 metrics on the GANs split carries the caveat, none on the Original split
    assert shortfall.count(f"0.0040){caveat}") == 4
    assert shortfall.count("on Original (-0.050") == 4 and f"on Original (-0.050{caveat}" not in shortfall


def test_leakage_between_two_identical_domains_is_stated_beside_every_sentence_it_affects():
    """Report mode: GANs holds the same images as Original. Every sentence comparing the two says so, so that
    'does not differ significantly' is not read as evidence about two independent data sets."""
    summary, comparisons, context = _seen_study(difference=0.0, significant=False)
    overlap = {"domains": ["GANs", "Original"], "shared_images": 120, "share": 1.0, "identical": True}
    context = dict(context, generator_saw_test={}, domain_overlaps=[overlap])
    sections = dict(findings.findings(summary, comparisons, context))
    caution = (
        "caution, leakage between domains: GANs and Original share 120 image(s) with equal pixels (100% of the "
        "smaller; largely the same images under two names): this is not a comparison of independent data"
    )
    synthetic = sections["Training on synthetic instead of real images"]
    assert len(synthetic) == 2 and all(caution in p for p in synthetic)
    (shortfall,) = sections["Where synthetic training falls short"]
    assert shortfall.endswith(" C" + caution[1:] + ".")
    # Mixed against Original: affected on the GANs test split (its images are Original's), not on Original's
    mixed = sections["Does Mixed beat Original?"]
    assert caution in next(p for p in mixed if p.startswith("On the GANs test split"))
    assert "caution" not in next(p for p in mixed if p.startswith("On the Original test split"))
    without = dict(findings.findings(summary, comparisons, dict(context, domain_overlaps=[])))
    assert "caution" not in findings.to_markdown(list(without.items()))


def _sentences(text):
    return len(re.findall(r"[.?!](?:\s|$)", text))


def test_the_findings_lead_with_a_headline_of_at_most_five_sentences_naming_the_primary_endpoint(study):
    summary, comparisons = study
    context = dict(CONTEXT, primary={"metric": "auroc", "test": "GANs"})
    sections = findings.findings(summary, comparisons, context)
    headline, intro, table = sections[0][1][:3]
    assert sections[0][0] is None and _sentences(headline) <= 5
    assert headline.startswith("Question: do models trained on synthetic chest X-rays (GANs and VAEs)")
    assert "Primary endpoint, AUROC on the GANs test split: Original-trained models" in headline
    vaes = comparisons[(comparisons.train == "VAEs") & (comparisons.test == "GANs") & (comparisons.metric == "auroc")]
    row = next(vaes.itertuples())
    assert f"VAEs {row.difference:+.3f} (95% CI {row.ci_low:+.3f} to {row.ci_high:+.3f})" in headline
    assert "VAEs falls short of Original" in headline and headline.count("Caveat") == 1
    # the compact table: training domain x test split, the primary metric's difference with interval and mark
    assert list(table.columns) == ["training domain", "Original", "GANs"]
    assert list(table["training domain"]) == ["Original", "GANs", "VAEs", "Mixed"]
    assert table.iloc[0, 1].endswith("(reference)") and table.iloc[2, 2].endswith("*")
    assert "AUROC on each test split" in intro
    markdown = findings.to_markdown(sections)
    assert markdown.index("Primary endpoint") < markdown.index("| training domain") < markdown.index("## Details")
    assert findings.words_before_details(markdown) < 600
    page = findings.to_html(sections)
    assert "<table" in page and "<code>*</code>" in page and "`" not in page


def test_the_headline_caveat_follows_what_limits_the_primary_result(study):
    summary, comparisons = study

    def caveat(**changes):
        headline = findings.findings(summary, comparisons, dict(CONTEXT, **changes))[0][1][0]
        return headline[headline.index("Caveat") :]

    assert "model-level" in caveat(seeds=[1, 2]) and "no difference between training domains" in caveat(seeds=[1])
    seen = caveat(generator_saw_test={"GANs": ["Original"]})
    assert seen.startswith("Caveat: a generator behind GANs saw the Original test images")
    assert "generator of VAEs learned from are unknown" in caveat(generator_unknown=["VAEs"])
    assert "one train/test split and one run of each generator" in caveat()
