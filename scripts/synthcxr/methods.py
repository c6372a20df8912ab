"""The report's Methods page: design and statistics, rendered from the run's own settings.

The text is a Jinja template beside this module (methods.html.jinja2), so that it reads as prose; every
number in it comes from the config (its statistics section included; defaults in workflow/schemas/config.schema.yaml).
"""

from pathlib import Path

import jinja2

from synthcxr.catalog import LABELS
from synthcxr.summary_text import compared_metrics_text
from synthcxr.text import html_page

TEMPLATE = Path(__file__).with_name("methods.html.jinja2")


def render_methods(settings, template=TEMPLATE):
    """The Methods page as a standalone HTML document.

    ``settings``: the template's variables (domains, test_fraction, mixed_name, mixed_members, seeds,
    training, reference, n_boot_intervals, n_boot_comparisons, alpha, min_groups_per_class, primary). A variable
    the template needs but ``settings`` lacks is an error, not a blank.
    """
    environment = jinja2.Environment(undefined=jinja2.StrictUndefined, autoescape=True)
    body = environment.from_string(Path(template).read_text()).render(
        coverage=f"{100 * (1 - settings['alpha']):g}%",
        primary_metric=LABELS[settings["primary"]["metric"]],
        compared_metrics=compared_metrics_text(),
        **settings,
    )
    return html_page("Methods", body)
