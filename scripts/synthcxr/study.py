"""The study a config describes: its domains and their roles, and every check across config keys.

Standard library only: the Snakefile builds the study while it builds the DAG (workflow/rules/common.smk,
``STUDY = Study.from_config(config)``). The JSON schema checks each key alone; ``Study.from_config`` checks
what the schema cannot say (how keys refer to each other) and raises one :class:`ConfigError` with the
message users see.
"""

import dataclasses
import re
from dataclasses import dataclass
from functools import cached_property

from synthcxr.classifier_config import checked_classifiers
from synthcxr.endpoints import primary_endpoint
from synthcxr.folders import SPLIT_MODES
from synthcxr.leakage import id_space_error, pair_id_spaces
from synthcxr.tables import MANIFEST_SPLIT_MODES

# Where a domain's images come from, each the key that says so in its settings: 'path' (the user's folder),
# 'manifest' (a label table and its images folder), 'demo' (phantoms) or 'generated' (a generator trained here).
ORIGINS = ("path", "manifest", "demo", "generated")
# The split modes each origin allows (config `split:`).
ALLOWED_SPLITS = {
    "path": SPLIT_MODES,
    "manifest": MANIFEST_SPLIT_MODES,
    "demo": ("random", "test"),
    "generated": ("random",),
}
# What prepare_domain writes for a domain.
PREPARED = {"images": "results/prepared/{}/images.npy", "manifest": "results/splits/{}.csv"}


class ConfigError(ValueError):
    """A config whose keys do not fit together; the message names the key and what is allowed."""


def prepared(kind, domains):
    """The paths of the prepared ``kind`` ('images' or 'manifest') of each of ``domains``, in their order."""
    return [PREPARED[kind].format(domain) for domain in domains]


def image_kind(settings):
    """'real' or 'synthetic', as a domain's settings say (a generated domain is synthetic by definition)."""
    return "synthetic" if "generated" in settings else settings.get("kind")


def domain_split(settings):
    """'random' (split here), 'folders' (given train/ and test/), 'manifest' or 'test' (an external test set)."""
    return settings.get("split", "random")


def folder_origin(settings):
    """Where a domain's images come from: one of ORIGINS."""
    return next(origin for origin in ORIGINS if origin in settings)


def check_domain_roles(domains):
    """Every domain says what it is; the split mode fits where its images come from.

    Raises
    ------
    ConfigError
        Listing the domains that say no kind, or naming the domain whose kind or split does not fit.
    """
    unsaid = [d for d in domains if "generated" not in domains[d] and "kind" not in domains[d]]
    if unsaid:
        raise ConfigError(
            f"domains {unsaid}: say what each domain's images are with kind: real or kind: synthetic "
            "(the first domain is no longer taken to be the real one)"
        )
    for domain, settings in domains.items():
        if "generated" in settings and settings.get("kind", "synthetic") != "synthetic":
            raise ConfigError(
                f"domains.{domain}.kind: a generated domain is synthetic; remove kind: {settings['kind']}"
            )
        origin, split = folder_origin(settings), domain_split(settings)
        if split not in ALLOWED_SPLITS[origin]:
            raise ConfigError(
                f"domains.{domain}.split: {split} does not apply to a {origin} domain; "
                f"allowed: {list(ALLOWED_SPLITS[origin])}"
            )


def study_reference(domains, reference):
    """The real training domain every other training domain is compared with: config ``reference``, or the
    only real training domain when it is None.

    Raises
    ------
    ConfigError
        When the study has no real training domain, when ``reference`` is None and there are several, or when
        ``reference`` is not one of them (saying what it is instead).
    """
    external = [d for d in domains if domain_split(domains[d]) == "test"]
    real_training = [d for d in domains if image_kind(domains[d]) == "real" and d not in external]
    if not real_training:
        real_external = [d for d in external if image_kind(domains[d]) == "real"]
        why = (
            f"; {real_external} are real but external test sets (split: test), never trained on"
            if real_external
            else ""
        )
        raise ConfigError(
            "reference: the study has no real training domain (kind: real, not split: test), but the models "
            f"of every other training domain are compared with those trained on one (the reference){why}. "
            "Add a domain of real images with kind: real, or set kind: real on a domain whose images are real"
        )
    if reference is None:
        if len(real_training) != 1:
            raise ConfigError(
                f"reference: required when there is not exactly one real training domain; name one of "
                f"the real training domains {real_training}"
            )
        return real_training[0]
    if reference not in real_training:
        if reference not in domains:
            why = "is not in domains"
        elif reference in external:
            why = "is an external test set (split: test)"
        else:
            why = "is synthetic"
        raise ConfigError(f"reference: '{reference}' {why}; name one of the real training domains {real_training}")
    return reference


def check_group_pattern(domain, pattern):
    """A domain's ``group_pattern`` (or None) is a regular expression with exactly one capture group.

    Raises
    ------
    ConfigError
        Naming the domain, the pattern and what is wrong with it.
    """
    if pattern is None:
        return
    try:
        groups = re.compile(pattern).groups
    except re.error as error:
        raise ConfigError(f"domains.{domain}.group_pattern '{pattern}' is not a regular expression: {error}") from None
    if groups != 1:
        raise ConfigError(
            f"domains.{domain}.group_pattern '{pattern}' must have exactly one capture group, has {groups}"
        )


@dataclass(frozen=True, eq=False)
class Study:
    """The domains of a study and their roles, from a config the schema has validated (defaults filled in).

    Build it with :meth:`from_config`, which runs every cross-key check; the roles are computed from the
    fields. Lists are in study order (:meth:`order`) unless said otherwise.
    """

    classes: list
    # Settings of each domain, by name (config `domains:`), in the config's order.
    domains: dict
    # The real training domain every other training domain is compared with (config `reference:`).
    reference: str
    # The name of the training domain on the train splits of several domains (config `mixed.name`).
    mixed: str
    # config `mixed.members`, as given (mixed_members: in study order).
    mixed_setting: list
    seeds: list
    # config `volume` and `statistics`.
    volume: dict
    statistics: dict
    # The primary endpoint {metric, test}: statistics.primary with its defaults filled in (primary_endpoint()).
    primary: dict = None
    # The classifiers, each trained on every training domain (config `classifiers:`, checked; in its order).
    classifiers: dict = None

    @classmethod
    def from_config(cls, config, base_dir="."):
        """The study of a validated config, after every check across its keys; ``base_dir``: the folder relative
        paths of the config (a classifier's weights file) are read from.

        Raises
        ------
        ConfigError
            The first problem found, in the order: domain roles, reference, names and references between keys,
            primary endpoint. A classifier's problem: ClassifierError (also a ValueError), naming it.
        """
        check_domain_roles(config["domains"])
        study = cls(
            classes=config["classes"],
            domains=config["domains"],
            reference=study_reference(config["domains"], config.get("reference")),
            mixed=config["mixed"]["name"],
            mixed_setting=config["mixed"]["members"],
            seeds=config["seeds"],
            volume=config["volume"],
            statistics=config["statistics"],
            classifiers=checked_classifiers(config.get("classifiers"), base_dir),
        )
        study.check_references()
        return dataclasses.replace(study, primary=study.primary_endpoint())

    @property
    def classifier_names(self):
        return list(self.classifiers)

    @property
    def volume_classifier(self):
        """The classifier of the volume curve: the first alone (its trainings multiply with the parts)."""
        return self.classifier_names[0]

    # ------------------------------------------------------------------ one domain

    def image_kind(self, domain):
        """'real' or 'synthetic'."""
        return image_kind(self.domains[domain])

    def domain_split(self, domain):
        """'random', 'folders', 'manifest' or 'test' (an external test set)."""
        return domain_split(self.domains[domain])

    def folder_origin(self, domain):
        """'path', 'manifest', 'demo' or 'generated' (ORIGINS)."""
        return folder_origin(self.domains[domain])

    def domain_folder(self, domain):
        """The folder of a domain's images: the user's, or the one a rule of the workflow writes."""
        settings = self.domains[domain]
        return {
            "path": lambda: settings["path"],
            "manifest": lambda: settings["images"],
            "demo": lambda: f"results/demo/{domain}",
            "generated": lambda: f"results/generated/{domain}",
        }[folder_origin(settings)]()

    def order(self, domain):
        """Sort key of study order: tables and figures follow roles, never the order of `domains:`: the
        reference, other real training domains, synthetic training domains, then external test sets; by name
        within a group.
        """
        return (
            domain != self.reference,
            domain in self.external_test_domains,
            self.image_kind(domain) != "real",
            domain,
        )

    def generator_trained_on(self, domain):
        """{domain, split} of the real images a synthetic domain's generator learned from, or None (unknown)."""
        settings = self.domains.get(domain, {})
        if "generated" in settings:
            return {"domain": settings["generated"]["source"], "split": "train"}
        return settings.get("generator_trained_on")

    def fidelity_reference(self, domain):
        """The real domain a synthetic domain's fidelity is measured against, or None: the generated
        source, the `reference:` of a synthetic folder, else the domain its generator was trained on.
        """
        settings = self.domains[domain]
        if "generated" in settings:
            return settings["generated"]["source"]
        return settings.get("reference") or (self.generator_trained_on(domain) or {}).get("domain")

    def fidelity_reference_key(self, domain):
        """The config key that names fidelity_reference(domain), for messages."""
        settings = self.domains[domain]
        if "generated" in settings:
            return "generated.source"
        return "reference" if settings.get("reference") else "generator_trained_on.domain"

    def patient_id_space(self, domain):
        """The domain's `patient_id_space`, or None: its patient ids are then its own, compared with no other's."""
        return self.domains[domain].get("patient_id_space")

    def test_label(self, domain):
        """A test domain's label in tables and figures: external test sets are marked."""
        return f"{domain} (external)" if domain in self.external_test_domains else domain

    # ------------------------------------------------------------------ roles

    @cached_property
    def external_test_domains(self):
        """Domains with split: test, in the config's order: tested on, never trained on."""
        return [d for d in self.domains if self.domain_split(d) == "test"]

    @cached_property
    def real_training(self):
        """Real domains that are trained on, in the config's order."""
        return [d for d in self.domains if self.image_kind(d) == "real" and d not in self.external_test_domains]

    @cached_property
    def all_domains(self):
        """Every domain; each has a test split (an external test set has nothing else)."""
        return sorted(self.domains, key=self.order)

    @property
    def test_domains(self):
        return self.all_domains

    @cached_property
    def synthetic(self):
        return [d for d in self.all_domains if self.image_kind(d) == "synthetic"]

    @cached_property
    def mixed_members(self):
        """config `mixed.members` in study order (names not in domains last, by name)."""
        return sorted(
            self.mixed_setting,
            key=lambda d: self.order(d) if d in self.domains else (True,) * 3 + (d,),
        )

    @cached_property
    def train_domains(self):
        """Every training domain: the domains that are not external test sets, then Mixed if it has members."""
        return [d for d in self.all_domains if d not in self.external_test_domains] + (
            [self.mixed] if self.mixed_members else []
        )

    @cached_property
    def fidelity_domains(self):
        """Synthetic domains with a real reference to measure their fidelity against."""
        return [d for d in self.all_domains if self.fidelity_reference(d)]

    @cached_property
    def generated_domains(self):
        """Domains whose generator is trained here (config `generated:`)."""
        return [d for d in self.all_domains if self.folder_origin(d) == "generated"]

    @cached_property
    def volume_domains(self):
        return self.volume["domains"]

    @cached_property
    def volume_percents(self):
        """The parts of the volume curve that are trained again: 100% is the main training."""
        return sorted(p for p in self.volume["percents"] if p < 100)

    def train_sources(self, train):
        """The domains whose train splits a training domain trains on."""
        return self.mixed_members if train == self.mixed else [train]

    def generator_saw_test(self):
        """Training domain -> the test domains whose test images its (or a Mixed member's) generator saw."""
        seen = {}
        for train in self.train_domains:
            for source in self.train_sources(train):
                trained_on = self.generator_trained_on(source)
                if trained_on and trained_on["split"] == "all":
                    seen.setdefault(train, []).append(trained_on["domain"])
        return {train: sorted(set(tests), key=self.order) for train, tests in seen.items()}

    def unseen_external_test_domains(self):
        """Real external test sets that no generator learned from: the honest yardstick the findings lead with."""
        seen = {(self.generator_trained_on(d) or {}).get("domain") for d in self.domains}
        return [d for d in self.external_test_domains if self.image_kind(d) == "real" and d not in seen]

    # ------------------------------------------------------------------ leakage checks

    def leakage_pair_domains(self, train, test):
        """The domains whose manifests one leakage check reads: the training domain's sources and the test domain."""
        return list(dict.fromkeys([*self.train_sources(train), test]))

    def check_id_spaces(self, train, test):
        """The patient id spaces one leakage check's result depends on (leakage.pair_id_spaces)."""
        return pair_id_spaces(
            self.train_sources(train),
            test,
            {d: self.image_kind(d) for d in self.all_domains},
            {d: self.patient_id_space(d) for d in self.all_domains},
        )

    def leakage_pairs_across(self):
        """The (training domain, test domain) pairs whose test domain is none of the training's sources: no
        training reads their reports (only evaluations and tables do), so one job of check_leakage_across
        checks them all. A change to any domain re-evaluates every model anyway (each evaluation scores every
        test split), so that job rerunning whole costs seconds and reruns nothing more. A training's own pairs
        stay one check_leakage job each, since a rewritten report of its own reruns the training.
        """
        return [
            (train, test)
            for train in self.train_domains
            for test in self.test_domains
            if test not in self.train_sources(train)
        ]

    # ------------------------------------------------------------------ statistics

    def primary_endpoint(self):
        """The primary endpoint {metric, test} (statistics.primary, defaults filled in): tested apart from all
        other comparisons. Raises ConfigError naming the key."""
        try:
            return primary_endpoint(
                self.statistics.get("primary", {}),
                test_domains=self.test_domains,
                external=self.unseen_external_test_domains(),
                reference=self.reference,
            )
        except ValueError as error:
            raise ConfigError(str(error)) from None

    def bootstrap_settings(self, resamples):
        """Keyword arguments of the package's bootstrap functions, from the config's statistics section.

        ``resamples``: the key of the number of replicates (interval_resamples or comparison_resamples).
        """
        return {
            "n_boot": self.statistics[resamples],
            "alpha": self.statistics["alpha"],
            "seed": self.statistics["bootstrap_seed"],
            "min_groups_per_class": self.statistics["min_groups_per_class"],
        }

    # ------------------------------------------------------------------ checks across keys

    def check_references(self):
        """What the JSON schema cannot say: cross-references between keys. Raises ConfigError."""
        if self.mixed in self.domains:
            raise ConfigError(f"mixed.name '{self.mixed}' is also a name in domains; choose another")
        unknown = [m for m in self.mixed_members if m not in self.domains]
        if unknown:
            raise ConfigError(f"mixed.members {unknown} are not in domains; allowed: {self.all_domains}")
        external = [m for m in self.mixed_members if m in self.external_test_domains]
        if external:
            raise ConfigError(
                f"mixed.members {external}: an external test set (split: test) is never trained on; "
                f"allowed: {[d for d in self.all_domains if d not in self.external_test_domains]}"
            )
        self.check_generator_references()
        for domain in self.fidelity_domains:
            reference = self.fidelity_reference(domain)
            allowed = [
                d
                for d in self.all_domains
                if d != domain and "generated" not in self.domains[d] and d not in self.external_test_domains
            ]
            if reference not in allowed:
                raise ConfigError(
                    f"domains.{domain}.{self.fidelity_reference_key(domain)}: '{reference}' must be another "
                    "domain that is not generated and not an external test set (split: test): the fidelity "
                    f"of {domain} is measured against it; allowed: {allowed}"
                )
        unknown = [d for d in self.volume_domains if d not in self.train_domains]
        if unknown:
            raise ConfigError(f"volume.domains {unknown} are not training domains; allowed: {self.train_domains}")
        for domain, settings in self.domains.items():
            if "generated" in settings and "reference" in settings:
                raise ConfigError(
                    f"domains.{domain}: a generated domain is compared with its generated.source "
                    f"('{settings['generated']['source']}'); remove reference"
                )
            check_group_pattern(domain, settings.get("group_pattern"))
            message = id_space_error(domain, self.image_kind(domain), settings.get("patient_id_space"))
            if message:
                raise ConfigError(message)

    def check_generator_references(self):
        """generator_trained_on: only on a synthetic folder, naming another real domain. Raises ConfigError."""
        for domain, settings in self.domains.items():
            trained_on = settings.get("generator_trained_on")
            if trained_on is None:
                continue
            if "generated" in settings or self.image_kind(domain) != "synthetic":
                raise ConfigError(
                    f"domains.{domain}.generator_trained_on: only for a synthetic path or demo domain "
                    "(a generated domain's generator learns from its generated.source train split)"
                )
            real = [d for d in self.all_domains if self.image_kind(d) == "real"]
            if trained_on["domain"] not in real:
                raise ConfigError(
                    f"domains.{domain}.generator_trained_on.domain: '{trained_on['domain']}' is not a real "
                    f"domain of domains; allowed: {real}"
                )
