"""The README is a short front door; the rest lives in docs/. Its links work and its examples are right."""

import re
from pathlib import Path

import pytest
import yaml
from workflow_helpers import REPO

from synthcxr.splits import group_keys

DOCS = [REPO / "README.md", *sorted((REPO / "docs").glob("*.md"))]
KERMANY_SAMPLE = REPO.parent / "shared" / "data" / "kermany-sample"
# Kermany's names: NORMAL images are IM-<patient>-<image> or NORMAL2-IM-<patient>-<image>,
# PNEUMONIA images person<patient>_<bacteria|virus>_<image>.
KERMANY_NAMES = {
    "NORMAL/IM-0117-0001.jpeg": "id:IM-0117",
    "NORMAL/NORMAL2-IM-1427-0001.jpeg": "id:NORMAL2-IM-1427",
    "PNEUMONIA/person1008_virus_1691.jpeg": "id:person1008",
    "PNEUMONIA/person1008_bacteria_2939.jpeg": "id:person1008",
}


def anchor(heading):
    """GitHub's anchor of a Markdown heading."""
    return re.sub(r"[^\w\- ]", "", heading.strip().lower()).replace(" ", "-")


def test_readme_front_page_is_under_200_lines_with_a_table_of_contents():
    readme = (REPO / "README.md").read_text()
    assert len(readme.splitlines()) < 200
    assert "## Contents" in readme and "Research use only" in readme
    for heading in ("Install", "Using your own data", "Running on SLURM", "What comes out", "Documentation"):
        assert f"## {heading}" in readme and f"(#{anchor(heading)})" in readme, heading
    assert "about 6 GB" in readme and "Python >= 3.11" in readme


@pytest.mark.parametrize("page", DOCS, ids=[p.name for p in DOCS])
def test_links_between_pages_and_to_headings_resolve(page):
    text = page.read_text()
    for target in re.findall(r"\]\(([^)\s]+)\)", text):
        if target.startswith(("http://", "https://")):
            continue
        path, _, fragment = target.partition("#")
        linked = (page.parent / path).resolve() if path else page
        assert linked.exists(), f"{page.name}: {target}"
        if fragment and linked.suffix == ".md":
            headings = re.findall(r"^#+ (.+)$", linked.read_text(), re.M)
            assert fragment in {anchor(h) for h in headings}, f"{page.name}: {target}"


def group_patterns():
    """Every group_pattern the README, the docs and config/study.yaml show, with where it stands."""
    found = [
        (
            "config/study.yaml",
            yaml.safe_load((REPO / "config" / "study.yaml").read_text())["domains"]["Original"]["group_pattern"],
        )
    ]
    for page in DOCS:
        found += [(page.name, pattern) for pattern in re.findall(r"group_pattern: '([^']+)'", page.read_text())]
    return found


def test_group_pattern_examples_capture_kermany_patient_ids_of_both_classes():
    patterns = group_patterns()
    assert {"README.md", "data.md"} <= {where for where, _ in patterns}
    for where, pattern in patterns:
        keys = group_keys(list(KERMANY_NAMES), ["unused"] * len(KERMANY_NAMES), pattern)
        assert keys == list(KERMANY_NAMES.values()), where


def test_group_pattern_examples_match_every_image_of_the_kermany_sample():
    if not KERMANY_SAMPLE.is_dir():
        pytest.skip(f"the Kermany sample is absent ({KERMANY_SAMPLE})")
    paths = [str(p.relative_to(KERMANY_SAMPLE)) for p in sorted(KERMANY_SAMPLE.glob("*/*.png"))]
    assert {Path(p).parts[0] for p in paths} == {"NORMAL", "PNEUMONIA"}
    for where, pattern in group_patterns():
        keys = group_keys(paths, paths, pattern)
        unmatched = [p for p, key in zip(paths, keys) if not key.startswith("id:")]
        assert not unmatched, (where, unmatched[:5])


def test_the_readme_yaml_example_is_config_study_yaml_verbatim():
    """The README names config/study.yaml for its example: every key it shows has the file's value (issue 23)."""
    readme = (REPO / "README.md").read_text()
    block = readme.split("as in `config/study.yaml`")[1].split("```yaml\n")[1].split("```")[0]
    example = yaml.safe_load(block)
    study = yaml.safe_load((REPO / "config" / "study.yaml").read_text())
    assert example == {key: study[key] for key in example}
