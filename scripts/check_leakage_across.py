"""Entry point of rule check_leakage_across: every (training domain, test domain) pair whose test domain is
none of the training's sources, in one job; each pair's report is the one rule check_leakage would write."""

from synthcxr.jobs import logged, write_json
from synthcxr.leakage import pair_report
from synthcxr.manifest import read_manifest

with logged(snakemake.log[0]):
    p = snakemake.params
    rows = {domain: read_manifest(path) for domain, path in zip(p.domains, snakemake.input.manifests, strict=True)}
    checked = []
    for pair in p.pairs:
        # Only the pair's own domains, in check_leakage's order: its domain_overlaps are compared among them.
        pair_rows = {domain: rows[domain] for domain in pair["domains"]}
        checked.append(pair_report(pair["train"], pair["test"], pair_rows, pair["sources"], pair["id_spaces"]))
    messages = [message for _, message in checked if message]
    # From the config, not a param (as in check_leakage): the setting decides whether the run stops.
    if messages and snakemake.config["leakage"] == "error":
        raise ValueError("\n\n".join(messages))
    for (report, message), path in zip(checked, snakemake.output, strict=True):
        write_json(report, path)
        train, test = report["train_domain"], report["test_domain"]
        for entry in report["shared_ids_other_space"]:
            print(
                f"information ({train} -> {test}): {entry['count']} patient id(s) occur in both {entry['domains']}, "
                "which the config does not put in one patient_id_space (same id, not the same patient by the config)"
            )
        for entry in report["domain_overlaps"]:
            shared = f"{entry['shared_images']} images ({entry['share']:.0%} of the smaller)"
            print(f"domains {entry['domains']} share {shared}")
        print(message or f"no test image of {test} is a copy of, or of a patient in, a training image of {train}")
