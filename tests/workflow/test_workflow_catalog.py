"""What the Snakemake workflow catalog reads: its metadata file, the licence and the citation file."""

import datetime
import tomllib

import yaml
from workflow_helpers import REPO


def test_the_catalog_metadata_states_how_the_workflow_is_used():
    usage = yaml.safe_load((REPO / ".snakemake-workflow-catalog.yml").read_text())["usage"]
    assert usage["software-stack-deployment"] == {"conda": True}
    assert usage["report"] is True
    assert set(usage["mandatory-flags"]) == {"desc", "flags"}
    # What it claims: every rule has a conda env (tests/workflow/test_envs.py) and the workflow has a report.
    assert (REPO / "envs" / "torch.yaml").exists() and (REPO / "workflow" / "report" / "workflow.rst").exists()
    # The catalog and snakedeploy look for workflow/Snakefile.
    assert 'include: "../Snakefile"' in (REPO / "workflow" / "Snakefile").read_text()


def test_the_licence_is_mit_and_the_citation_file_is_cff_1_2_0():
    licence = (REPO / "LICENSE").read_text()
    assert licence.startswith("MIT License") and "Copyright (c) 2026 synthcxr contributors" in licence
    citation = yaml.safe_load((REPO / "CITATION.cff").read_text())
    assert citation["cff-version"] == "1.2.0" and citation["license"] == "MIT" and citation["type"] == "software"
    # Required by the CFF 1.2.0 schema: message, title, authors (each a person or an entity with a name).
    assert citation["message"].strip() and citation["title"].strip()
    assert citation["authors"] and all(a.get("name") or a.get("family-names") for a in citation["authors"])
    # Keys of the CFF 1.2.0 schema only (a misspelt key makes the file invalid).
    assert set(citation) <= {
        "cff-version",
        "message",
        "title",
        "abstract",
        "type",
        "authors",
        "license",
        "keywords",
        "version",
        "date-released",
        "doi",
        "repository-code",
        "url",
        "identifiers",
        "references",
        "preferred-citation",
    }


def test_the_citation_states_the_version_of_pyproject_and_the_changelog():
    citation = yaml.safe_load((REPO / "CITATION.cff").read_text())
    version = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]["version"]
    assert citation["version"] == version
    assert f"\n## {version}\n" in (REPO / "CHANGELOG.md").read_text()
    datetime.date.fromisoformat(str(citation["date-released"]))  # YYYY-MM-DD, as the CFF schema requires
