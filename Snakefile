# Cross-domain utility of synthetic chest X-rays: train one CNN per domain, test it on every domain.
# Research use only, not for diagnosis. See README.md.
import sys
from pathlib import Path

import yaml
from snakemake.sourcecache import LocalSourceFile
from snakemake.utils import min_version, validate

min_version("9.0")

# This checkout's own folder, also when another workflow uses it as a module (workflow.basedir is then
# the importing workflow's folder). The job scripts import the synthcxr package from it: it must be local.
if not isinstance(workflow.current_basedir, LocalSourceFile):
    raise WorkflowError(
        f"synthcxr must be used from a local checkout, not from "
        f"{workflow.current_basedir.get_path_or_uri(secret_free=True)} (its scripts import the synthcxr "
        f"package from the checkout): clone the repository and give the module the path of its Snakefile"
    )
CHECKOUT = Path(workflow.current_basedir.get_path_or_uri(secret_free=False))
sys.path.insert(0, str(CHECKOUT / "scripts"))
from synthcxr.config_values import typed

# The default config, read from the working directory unless a --configfile is given: that replaces it
# as a whole (no merging of domain tables). --config key=value overrides apply on top of either.
# (Used as a module with `config: config`, Snakemake skips this and takes the importing workflow's config.)
if not workflow.overwrite_configfiles:

    configfile: "config/config.yaml"


# --config 'seeds=[3]' arrives as text (["3"]): give such values the types the schema asks for.
SCHEMA = "workflow/schemas/config.schema.yaml"
config.update(typed(dict(config), yaml.safe_load((CHECKOUT / SCHEMA).read_text())))
validate(config, SCHEMA)


# The rule files in pipeline order.
include: "workflow/rules/common.smk"
include: "workflow/rules/domains.smk"
include: "workflow/rules/prepare.smk"
include: "workflow/rules/leakage.smk"
include: "workflow/rules/train.smk"
include: "workflow/rules/evaluate.smk"
include: "workflow/rules/volume.smk"
include: "workflow/rules/fidelity.smk"
include: "workflow/rules/summarize.smk"
include: "workflow/rules/figures.smk"
include: "workflow/rules/report.smk"


rule all:
    default_target: True
    input:
        final_outputs(),
        model_outputs(),
        fidelity_outputs(),
        volume_outputs(),


# Every rule exists now: each rule's code param gets the digests of its entry script and the modules it runs.
add_code_digests()
