"""synthcxr: measure how useful synthetic chest X-rays are for pneumonia classification.

The workflow's rules call thin entry points in ``scripts/``; the logic lives here so that it can be
unit-tested without Snakemake. Research use only, not for diagnosis.
"""
