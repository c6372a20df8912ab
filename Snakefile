# Cross-domain utility of synthetic chest X-rays: train one CNN per domain, test it on every domain.
# Research use only, not for diagnosis. See README.md.
from snakemake.utils import min_version, validate

min_version("9.0")


# A config file given with --configfile replaces this default as a whole (no merging of domain tables).
if not config:

    configfile: "config/config.yaml"


validate(config, "workflow/schemas/config.schema.yaml")


include: "workflow/rules/common.smk"
include: "workflow/rules/data.smk"
include: "workflow/rules/train.smk"
include: "workflow/rules/evaluate.smk"
include: "workflow/rules/summary.smk"
include: "workflow/rules/generate.smk"
include: "workflow/rules/report.smk"
include: "workflow/rules/volume.smk"


rule all:
    default_target: True
    input:
        final_outputs(),
        fidelity_outputs(),
        volume_outputs(),


# Every rule exists now: each entry script's content joins its rule's code param (see common.smk).
add_entry_script_digests()
