"""Leakage between domains, found from the split manifests before any training.

Standard library only. Three kinds, each reported (leakage JSON, metrics, summary) and, with
`leakage: error`, stopping the run:
- pixel copies: test images whose decoded pixels equal a training image of the model tested on them;
- shared patients: test images of one domain whose patient id (group_pattern) is a patient of another
  domain's training data, where both domains carry the same ``patient_id_space`` (the config says their ids
  name the same people); ids found in two domains of different spaces (or none) are listed as information
  ("same id, not the same patient by the config"), never as leakage;
- identical domains: two domains that share most of their images, whatever their split (the same
  folder twice, or a synthetic path mistyped as the real folder), which the first check cannot see
  when both are split alike.
"""

from itertools import combinations

# Two domains sharing at least this share of the smaller one's distinct images are one data set
# under two names: their cross-domain cells would compare a domain with itself. Half is far above
# chance (synthetic images never equal real ones pixel for pixel) and far below "the same folder".
IDENTICAL_SHARE = 0.5


def train_test_overlap(train_rows, test_rows):
    """Test images whose decoded pixels equal a training image's: leakage between the splits."""
    train_hashes = {row["pixel_hash"] for row in train_rows}
    return sorted(row["path"] for row in test_rows if row["pixel_hash"] in train_hashes)


def patient_overlap(train_rows, test_rows):
    """Test images whose patient (a group_pattern id, 'id:...') has images among ``train_rows``."""
    train_patients = {row["group"] for row in train_rows if row["group"].startswith("id:")}
    return sorted(row["path"] for row in test_rows if row["group"] in train_patients)


def shared_ids(train_rows, test_rows):
    """The patient ids (without 'id:') that occur both among ``train_rows`` and ``test_rows``, sorted."""
    train_patients = {row["group"] for row in train_rows if row["group"].startswith("id:")}
    return sorted({row["group"][3:] for row in test_rows if row["group"] in train_patients})


def same_patients(first, second, id_spaces):
    """Whether the config says domains ``first`` and ``second`` share patients: both carry the same
    ``patient_id_space`` (``id_spaces``: domain -> its space, None or absent without one)."""
    space = id_spaces.get(first)
    return space is not None and space == id_spaces.get(second)


def pair_id_spaces(sources, test, kinds, spaces):
    """The ``patient_id_space`` of each domain whose patients one check could compare, for check_leakage's
    param: the real sources other than ``test``, and ``test``; empty when there is no such source or
    ``test`` is synthetic.

    ``kinds``: domain -> 'real'/'synthetic'; ``spaces``: domain -> its space or None. Only what can change
    the check's result: a space given to a domain reruns the checks it matters to, never a check of a domain's
    own split (an input of its training), nor one whose other sources are synthetic.
    """
    others = [src for src in sources if src != test and kinds[src] == "real"]
    if not others or kinds[test] != "real":
        return {}
    return {domain: spaces.get(domain) for domain in [*others, test]}


def id_space_error(domain, kind, space):
    """The message refusing ``patient_id_space: space`` on ``domain`` of ``kind`` ('real'/'synthetic'), or None.

    Only real domains (trained on or external test sets) have patients; a synthetic image shows no one.
    """
    if space is None or kind == "real":
        return None
    return (
        f"domains.{domain}.patient_id_space: '{space}' on a synthetic domain; only real domains have patients "
        "(a generated or synthetic image shows no one, so its ids cannot name anyone's); remove the key"
    )


def domain_overlaps(rows_by_domain):
    """Every pair of domains sharing images (equal pixels, any split), largest share first.

    Each entry: domains (the pair), shared_images (distinct pixel contents in both), share (of the
    smaller domain's distinct contents), identical (share >= IDENTICAL_SHARE).
    """
    contents = {domain: {row["pixel_hash"] for row in rows} for domain, rows in rows_by_domain.items()}
    found = []
    for first, second in combinations(sorted(contents), 2):
        shared = len(contents[first] & contents[second])
        if shared:
            share = shared / min(len(contents[first]), len(contents[second]))
            found.append(
                {
                    "domains": [first, second],
                    "shared_images": shared,
                    "share": round(share, 4),
                    "identical": share >= IDENTICAL_SHARE,
                }
            )
    return sorted(found, key=lambda entry: (-entry["share"], entry["domains"]))


def leakage_error(train, leaked, patients=None, identical=(), examples=5):
    """One message naming every leak found for training domain ``train``, or None.

    ``leaked`` / ``patients``: test domain -> its test images that are pixel copies of / share a
    patient with ``train``'s training images; ``identical``: entries of :func:`domain_overlaps`
    at or above IDENTICAL_SHARE that involve ``train``'s sources.
    """
    found = [
        f"{len(paths)} test image(s) of domain '{test}' are exact copies of training images of '{train}', "
        f"e.g. {paths[:examples]}"
        for test, paths in leaked.items()
        if paths
    ]
    found += [
        f"{len(paths)} test image(s) of domain '{test}' are of patients in the training data of '{train}', "
        f"e.g. {paths[:examples]}"
        for test, paths in (patients or {}).items()
        if paths
    ]
    found += [
        f"domains '{entry['domains'][0]}' and '{entry['domains'][1]}' share {entry['shared_images']} images "
        f"({entry['share']:.0%} of the smaller; the same images under two names?)"
        for entry in identical
    ]
    return f"leakage: {'; '.join(found)} (set leakage: report to continue)" if found else None


def pair_report(train, test, rows_by_domain, sources, id_spaces):
    """What rule check_leakage finds for training domain ``train`` and test domain ``test``.

    ``rows_by_domain``: each domain's manifest rows; ``sources``: the domains ``train`` learns from (itself,
    or Mixed's members); ``id_spaces``: each domain's ``patient_id_space`` (None without one): patient ids
    are compared only between domains of the same space. Returns ``(report, message)``: the leakage JSON and
    :func:`leakage_error`'s message (None without leaks).

    Every entry of ``test_images``, ``test_images_of_training_patients`` and every ``domain_overlaps``
    entry with ``identical: true`` is a leak; ``shared_ids_other_space`` is information only.
    """
    train_rows = {source: [row for row in rows_by_domain[source] if row["split"] == "train"] for source in sources}
    test_rows = [row for row in rows_by_domain[test] if row["split"] == "test"]
    leaked = {test: train_test_overlap([row for src in sources for row in train_rows[src]], test_rows)}
    # Another domain's training data, by patient where the config says the two share patients (a domain's
    # own split is group-aware, or given), else by pixels only.
    others = [src for src in sources if src != test]
    by_patient = [src for src in others if same_patients(src, test, id_spaces)]
    patients = {test: patient_overlap([row for src in by_patient for row in train_rows[src]], test_rows)}
    other_space = [
        {"domains": [src, test], "ids": ids, "count": len(ids)}
        for src in others
        if src not in by_patient and (ids := shared_ids(train_rows[src], test_rows))
    ]
    overlaps = domain_overlaps(rows_by_domain)
    message = leakage_error(train, leaked, patients, [entry for entry in overlaps if entry["identical"]])
    report = {
        "train_domain": train,
        "test_domain": test,
        "sources": sources,
        "test_images": leaked,
        "test_images_of_training_patients": patients,
        "domain_overlaps": overlaps,
        "patient_id_spaces": dict(id_spaces),
        "compared_by_patient": [[src, test] for src in by_patient],
        "compared_by_pixels_only": [[src, test] for src in others if src not in by_patient],
        "shared_ids_other_space": other_space,
    }
    return report, message


def report_findings(report, examples=3):
    """Each leak a leakage report (the JSON of rule check_leakage) holds, one line each; [] for none.

    Leaks are every path listed under ``test_images`` and ``test_images_of_training_patients`` (test domain ->
    paths) and every ``domain_overlaps`` entry with ``identical: true``; other keys are information only.
    """
    kinds = (
        ("test_images", "exact copies of training images"),
        ("test_images_of_training_patients", "of patients in the training data"),
    )
    found = [
        f"{len(paths)} test image(s) of domain '{test}' are {what}, e.g. {paths[:examples]}"
        for key, what in kinds
        for test, paths in (report.get(key) or {}).items()
        if paths
    ]
    found += [
        f"domains '{entry['domains'][0]}' and '{entry['domains'][1]}' share {entry['shared_images']} images"
        for entry in report.get("domain_overlaps") or []
        if entry.get("identical")
    ]
    return found
