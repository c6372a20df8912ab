"""synthcxr.study: the domains' roles and every check across config keys, in milliseconds (no snakemake run).

Each config error the workflow refuses at dry run is here, with the message users see; a few subprocess dry
runs stay as end-to-end cases (test_real_studies.py, test_endpoints.py). Also synthcxr.dag_checks (the folder
checks at DAG time) and synthcxr.report_menu.
"""

import copy
import functools
import subprocess
import sys

import pytest
from helpers import make_domain
from snakemake.utils import validate
from workflow_helpers import REPO

from synthcxr import dag_checks
from synthcxr.catalog import COMPARED_METRICS
from synthcxr.folders import DomainError
from synthcxr.report_menu import FIGURE_SUBCATEGORIES, FIGURES, REPORT_CATEGORIES
from synthcxr.study import ConfigError, Study, prepared

SCHEMA = REPO / "workflow" / "schemas" / "config.schema.yaml"
GENERATED = {"generated": {"model": "vae", "source": "Original", "per_class": 4}}
# The study of test_real_studies.py's bad-input cases: a real domain, a synthetic one, a real external test set.
DOMAINS = {
    "Original": {"path": "data/Original", "kind": "real"},
    "GANs": {"path": "data/GANs", "kind": "synthetic"},
    "External": {"path": "data/External", "kind": "real", "split": "test"},
}


@functools.cache
def defaults():
    """A config as the Snakefile hands it on: validated by the schema, its defaults filled in (once: a
    validation takes about 0.1 s)."""
    config = {"domains": {"Original": {"path": "data/Original", "kind": "real"}}}
    validate(config, str(SCHEMA))
    return config


def study_config(domains=DOMAINS, members=("Original", "GANs"), **sections):
    """The schema's defaults with these ``domains`` and Mixed ``members``; each of ``sections`` replaces the
    keys it names in its section of the defaults (a value that is not a section replaces the key)."""
    config = copy.deepcopy(defaults())
    config["domains"] = copy.deepcopy(domains)
    config["mixed"]["members"] = list(members)
    for key, value in sections.items():
        config[key] = config[key] | value if isinstance(config.get(key), dict) else value
    return config


def refusal(config):
    with pytest.raises(ConfigError) as caught:
        Study.from_config(config)
    return str(caught.value)


# ---------------------------------------------------------------- roles


def test_roles_follow_the_config_and_lists_follow_study_order():
    domains = {
        "Zeta": {"path": "z", "kind": "synthetic"},
        "External": DOMAINS["External"],
        "Hospital2": {"path": "h", "kind": "real"},
        "Original": DOMAINS["Original"],
        "VAEs": GENERATED,
    }
    study = Study.from_config(study_config(domains, members=["Zeta", "Original"], reference="Original"))
    assert study.reference == "Original"
    # the reference, other real training domains, synthetic training domains, then external test sets
    assert study.all_domains == study.test_domains == ["Original", "Hospital2", "VAEs", "Zeta", "External"]
    assert study.mixed_members == ["Original", "Zeta"]
    assert study.train_domains == ["Original", "Hospital2", "VAEs", "Zeta", "Mixed"]
    assert study.external_test_domains == ["External"]
    assert study.real_training == ["Hospital2", "Original"]  # the config's order
    assert study.synthetic == ["VAEs", "Zeta"]
    assert study.generated_domains == ["VAEs"]
    assert study.fidelity_domains == ["VAEs"]  # Zeta names no reference
    assert study.train_sources("Mixed") == ["Original", "Zeta"] and study.train_sources("Zeta") == ["Zeta"]
    assert study.leakage_pair_domains("Mixed", "Original") == ["Original", "Zeta"]
    assert study.folder_origin("VAEs") == "generated" and study.domain_folder("VAEs") == "results/generated/VAEs"
    assert study.domain_folder("Zeta") == "z" and study.domain_split("External") == "test"
    assert study.test_label("External") == "External (external)" and study.test_label("Zeta") == "Zeta"
    assert prepared("manifest", ["Zeta", "VAEs"]) == ["results/splits/Zeta.csv", "results/splits/VAEs.csv"]


def test_without_mixed_members_there_is_no_mixed_training_domain():
    study = Study.from_config(study_config(members=()))
    assert study.train_domains == ["Original", "GANs"]


def test_the_only_real_training_domain_is_the_reference_without_the_key():
    assert Study.from_config(study_config()).reference == "Original"


def test_what_a_generator_saw_and_the_unseen_external_test_sets():
    domains = copy.deepcopy(DOMAINS) | {
        "Other": {"path": "o", "kind": "real", "split": "test"},
        "VAEs": GENERATED,
    }
    # its generator saw all of External; its fidelity is measured against Original
    domains["GANs"] |= {"generator_trained_on": {"domain": "External", "split": "all"}, "reference": "Original"}
    study = Study.from_config(study_config(domains))
    assert study.generator_trained_on("VAEs") == {"domain": "Original", "split": "train"}
    # GANs' generator saw External's test images, and so did Mixed's (GANs is a member)
    assert study.generator_saw_test() == {"GANs": ["External"], "Mixed": ["External"]}
    assert study.unseen_external_test_domains() == ["Other"]
    assert study.fidelity_reference("GANs") == "Original"


def test_fidelity_references_and_the_key_that_names_them():
    domains = copy.deepcopy(DOMAINS) | {"VAEs": GENERATED}
    domains["GANs"]["reference"] = "Original"
    study = Study.from_config(study_config(domains))
    assert study.fidelity_domains == ["GANs", "VAEs"]
    assert [study.fidelity_reference(d) for d in study.fidelity_domains] == ["Original", "Original"]
    assert study.fidelity_reference_key("GANs") == "reference"
    assert study.fidelity_reference_key("VAEs") == "generated.source"


def test_volume_parts_and_statistics_settings():
    config = study_config(volume={"domains": ["GANs"], "percents": [100, 50, 25]}, statistics={"alpha": 0.1})
    study = Study.from_config(config)
    assert study.volume_domains == ["GANs"] and study.volume_percents == [25, 50]
    assert study.bootstrap_settings("comparison_resamples") == {
        "n_boot": 5000,
        "alpha": 0.1,
        "seed": 0,
        "min_groups_per_class": 5,
    }
    # the primary endpoint's default: AUROC on the real external test set no generator saw
    assert study.primary == {"metric": "auroc", "test": "External"}


def test_patient_id_spaces_of_a_leakage_check():
    domains = copy.deepcopy(DOMAINS)
    domains["Original"]["patient_id_space"] = domains["External"]["patient_id_space"] = "hospital"
    study = Study.from_config(study_config(domains))
    assert study.patient_id_space("GANs") is None
    assert study.check_id_spaces("Mixed", "External") == {"Original": "hospital", "External": "hospital"}
    assert study.check_id_spaces("GANs", "External") == {}  # a synthetic source has no patients


# ---------------------------------------------------------------- config errors: the messages users see


def test_domains_without_kind_are_listed():
    domains = copy.deepcopy(DOMAINS)
    del domains["Original"]["kind"], domains["GANs"]["kind"]
    assert refusal(study_config(domains)).startswith(
        "domains ['Original', 'GANs']: say what each domain's images are with kind: real or kind: synthetic"
    )


def test_kind_real_on_a_generated_domain():
    domains = DOMAINS | {"VAEs": GENERATED | {"kind": "real"}}
    assert refusal(study_config(domains)) == "domains.VAEs.kind: a generated domain is synthetic; remove kind: real"


@pytest.mark.parametrize(
    "name, settings, message",
    [
        ("VAEs", GENERATED | {"split": "test"}, "domains.VAEs.split: test does not apply to a generated domain"),
        (
            "Table",
            {"manifest": "t.csv", "images": "img", "kind": "real", "split": "folders"},
            "domains.Table.split: folders does not apply to a manifest domain",
        ),
        ("Demo", {"demo": {"per_class": 4, "shift": "gan"}, "kind": "synthetic", "split": "folders"}, "a demo domain"),
    ],
)
def test_a_split_mode_that_does_not_fit_the_origin(name, settings, message):
    assert message in refusal(study_config(DOMAINS | {name: settings}))


@pytest.mark.parametrize(
    "reference, why",
    [("External", "is an external test set (split: test)"), ("GANs", "is synthetic"), ("Nowhere", "is not in domains")],
)
def test_a_reference_that_is_not_a_real_training_domain(reference, why):
    message = refusal(study_config(reference=reference))
    assert message == f"reference: '{reference}' {why}; name one of the real training domains ['Original']"


def test_two_real_training_domains_need_a_reference():
    message = refusal(study_config(DOMAINS | {"Hospital2": {"path": "h", "kind": "real"}}))
    assert message == (
        "reference: required when there is not exactly one real training domain; name one of the real training "
        "domains ['Original', 'Hospital2']"
    )


@pytest.mark.parametrize("reference", [None, "GANs"])
def test_a_study_without_a_real_training_domain_says_why(reference):
    domains = copy.deepcopy(DOMAINS)
    domains["Original"]["kind"] = "synthetic"
    message = refusal(study_config(domains) | ({"reference": reference} if reference else {}))
    assert message.startswith("reference: the study has no real training domain (kind: real, not split: test)")
    assert "['External'] are real but external test sets (split: test), never trained on" in message
    assert "domains []" not in message


def test_mixed_name_that_is_a_domain():
    config = study_config()
    config["mixed"]["name"] = "GANs"
    assert refusal(config) == "mixed.name 'GANs' is also a name in domains; choose another"


def test_mixed_members_not_in_domains():
    message = refusal(study_config(members=["Original", "Nowhere"]))
    assert message == "mixed.members ['Nowhere'] are not in domains; allowed: ['Original', 'GANs', 'External']"


def test_an_external_test_set_as_mixed_member():
    message = refusal(study_config(members=["Original", "GANs", "External"]))
    assert message == (
        "mixed.members ['External']: an external test set (split: test) is never trained on; "
        "allowed: ['Original', 'GANs']"
    )


def test_generator_trained_on_an_unknown_domain():
    domains = copy.deepcopy(DOMAINS)
    domains["GANs"]["generator_trained_on"] = {"domain": "Orignal", "split": "train"}
    assert refusal(study_config(domains)) == (
        "domains.GANs.generator_trained_on.domain: 'Orignal' is not a real domain of domains; "
        "allowed: ['Original', 'External']"
    )


@pytest.mark.parametrize("name, settings", [("Original", {}), ("VAEs", GENERATED)])
def test_generator_trained_on_only_on_a_synthetic_folder(name, settings):
    domains = copy.deepcopy(DOMAINS) | {"VAEs": copy.deepcopy(GENERATED)}
    domains[name]["generator_trained_on"] = {"domain": "Original", "split": "train"}
    assert refusal(study_config(domains)).startswith(
        f"domains.{name}.generator_trained_on: only for a synthetic path or demo domain"
    )


def test_generator_trained_on_an_external_test_set_names_the_key():
    domains = copy.deepcopy(DOMAINS)
    domains["GANs"]["generator_trained_on"] = {"domain": "External", "split": "train"}
    assert refusal(study_config(domains)) == (
        "domains.GANs.generator_trained_on.domain: 'External' must be another domain that is not generated and not "
        "an external test set (split: test): the fidelity of GANs is measured against it; allowed: ['Original']"
    )


def test_a_fidelity_reference_that_is_the_domain_itself():
    domains = copy.deepcopy(DOMAINS)
    domains["GANs"]["reference"] = "GANs"
    assert refusal(study_config(domains)).startswith("domains.GANs.reference: 'GANs' must be another domain")


def test_a_reference_beside_generated():
    domains = DOMAINS | {"GANs": GENERATED | {"reference": "External"}}
    assert refusal(study_config(domains)) == (
        "domains.GANs: a generated domain is compared with its generated.source ('Original'); remove reference"
    )


def test_volume_domains_that_are_not_training_domains():
    message = refusal(study_config(volume={"domains": ["External"], "percents": [50]}))
    assert message == "volume.domains ['External'] are not training domains; allowed: ['Original', 'GANs', 'Mixed']"


@pytest.mark.parametrize(
    "pattern, message",
    [
        ("(", "domains.Original.group_pattern '(' is not a regular expression: missing ), unterminated subpattern"),
        (r"\d+", r"domains.Original.group_pattern '\d+' must have exactly one capture group, has 0"),
        (r"(\w)(\d)", r"domains.Original.group_pattern '(\w)(\d)' must have exactly one capture group, has 2"),
    ],
)
def test_a_group_pattern_with_one_capture_group(pattern, message):
    domains = copy.deepcopy(DOMAINS)
    domains["Original"]["group_pattern"] = pattern
    assert refusal(study_config(domains)).startswith(message)


@pytest.mark.parametrize("name", ["GANs", "VAEs"])
def test_a_patient_id_space_on_a_synthetic_domain(name):
    domains = copy.deepcopy(DOMAINS) | {"VAEs": copy.deepcopy(GENERATED)}
    domains[name]["patient_id_space"] = "hospital"
    assert refusal(study_config(domains)).startswith(
        f"domains.{name}.patient_id_space: 'hospital' on a synthetic domain; only real domains have patients"
    )


@pytest.mark.parametrize(
    "primary, message",
    [
        ({"test": "Elsewhere"}, "statistics.primary.test: 'Elsewhere' is not a test split of this study"),
        ({"test": "Mixed"}, "statistics.primary.test: 'Mixed' is not a test split of this study"),
        ({"metric": "sensitivity"}, "statistics.primary.metric: 'sensitivity' is not compared"),
    ],
)
def test_a_primary_endpoint_outside_the_study(primary, message):
    assert refusal(study_config(statistics={"primary": primary})).startswith(message)


def test_config_errors_are_value_errors():
    assert issubclass(ConfigError, ValueError)


def test_the_modules_the_dag_imports_need_no_third_party_package():
    """The Snakefile imports them: a dry run must work with only Snakemake installed."""
    program = (
        "import sys\nfor name in ('torch', 'torchvision', 'numpy', 'pandas', 'PIL', 'matplotlib'):\n"
        "    sys.modules[name] = None\n"
        "import synthcxr.study, synthcxr.dag_checks, synthcxr.report_menu\nprint('imported')"
    )
    scripts = REPO / "scripts"
    result = subprocess.run([sys.executable, "-c", program], cwd=scripts, capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "imported"


# ---------------------------------------------------------------- checks of the folders at DAG time


def folder_study(tmp_path, monkeypatch, per_class=6):
    make_domain(tmp_path / "data" / "Original", per_class=per_class, size=8)
    make_domain(tmp_path / "data" / "GANs", per_class=per_class, seed=1, size=8)
    monkeypatch.chdir(tmp_path)
    config = study_config({name: DOMAINS[name] for name in ("Original", "GANs")} | {"VAEs": GENERATED})
    return Study.from_config(config), config


def test_user_folders_are_fingerprinted_and_workflow_folders_are_not(tmp_path, monkeypatch, capsys):
    study, config = folder_study(tmp_path, monkeypatch)
    (tmp_path / "data" / "GANs" / "notes").mkdir()
    fingerprints = dag_checks.folder_fingerprints(study, config)
    assert list(fingerprints) == ["Original", "GANs", "VAEs"] and fingerprints["VAEs"] is None
    assert len(set(fingerprints.values())) == 3
    assert "Note: domain 'GANs': 1 folder(s) or image(s)" in capsys.readouterr().err
    (tmp_path / "data" / "Original" / "NORMAL" / "normal_000.png").unlink()
    assert dag_checks.folder_fingerprints(study, config)["Original"] != fingerprints["Original"]


def test_too_few_images_stop_before_any_job(tmp_path, monkeypatch):
    study, config = folder_study(tmp_path, monkeypatch, per_class=2)
    with pytest.raises(DomainError, match="domain 'Original': class folder .* has 2 image"):
        dag_checks.folder_fingerprints(study, config)


def test_an_unprepared_study_has_no_leakage_reports_to_stop_on(tmp_path, monkeypatch):
    study, _ = folder_study(tmp_path, monkeypatch)
    assert dag_checks.preparation_outdated(study, "Original")  # no intake report yet
    assert dag_checks.current_leakage_report(study, "Original", "GANs") is None
    assert dag_checks.existing_leakage_error(study) is None


# ---------------------------------------------------------------- the report's menu


def test_every_compared_metric_has_a_heat_map_and_every_figure_a_place_and_a_caption():
    assert FIGURES[: len(COMPARED_METRICS)] == [f"heatmap_{metric}" for metric in COMPARED_METRICS]
    assert set(FIGURE_SUBCATEGORIES) == {*FIGURES, "volume_curve"}
    for name in FIGURE_SUBCATEGORIES:
        assert (REPO / "workflow" / "report" / f"{name}.rst").is_file(), name
    assert list(REPORT_CATEGORIES.values()) == ["1. Findings", "2. Tables", "3. Figures", "4. Fidelity", "5. Methods"]
