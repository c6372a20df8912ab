"""The test profile: profiles/slurm with only what this one-node test cluster needs changed."""

from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parents[2]


def derive_test_profile(directory, name="slurm"):
    """Write <directory>/config.yaml from profiles/<name>/config.yaml and return <directory>.

    ``name``: "slurm", or "slurm-module" (the same for a workflow that imports synthcxr as a module).

    Changes, each for a reason of the test machine, not of the workflow:
    - no conda: channels are unreachable here (the envs are checked statically in test_envs.py);
    - squeue for job status: without accounting storage sacct fails and the main process would wait forever;
    - short status-check waits and latency-wait: the filesystem is local;
    - memory and cores that fit the 2-CPU test node: one thread per job (the profile gives a training 4), so
      the node runs two GPU submissions at once, one on each of its two GPUs, as a real GPU node does.
    Everything else (executor, GPU requests and limit, groups and their packing, retries, requeue) is the
    real profile.
    """
    profile = yaml.safe_load((REPO / "profiles" / name / "config.yaml").read_text())
    profile.pop("software-deployment-method")
    profile.update(
        {
            "slurm-status-command": "squeue",
            "slurm-init-seconds-before-status-checks": 1,
            "latency-wait": 5,
            "cores": 2,
            "slurm-keep-successful-logs": True,
        }
    )
    profile["set-threads"] = dict.fromkeys(profile["set-threads"], 1)
    profile["default-resources"]["mem_mb"] = 500
    for resources in profile["set-resources"].values():
        resources["mem_mb"] = 1000
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "config.yaml").write_text(yaml.safe_dump(profile, sort_keys=False))
    return directory
