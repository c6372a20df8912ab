#!/usr/bin/env bash
# The GPU check (issue 27, item 4), ready to run on a GPU node from the repository root, after `make`:
#   tools/benchmark/gpu_check.sh            # about 6 minutes; each step has its own time limit
# Where torch sees a GPU: its name, CUDA's start-up in a job, `make bench` on it (training throughputs; GPU a/b
# goal >= 10) and a small packed study through the local executor (tools/benchmark/packed.py: the share of each
# packed submission's time outside the training and evaluation loops). Where it sees none: a message, exit status 0.
# A measurement, not a test: it exits 0 also when a step fails or runs out of time (the step says so).
# BENCH_ARGS and PACKED_ARGS replace the sizes below.
set -uo pipefail
cd "$(dirname "$0")/../.." || exit 1
VENV=${VENV:-.venv}
PYTHON="$VENV/bin/python"
BENCH_ARGS=${BENCH_ARGS:-"--images 400 --epochs 2 --min-side 512 --max-side 1024 --skip-compile --skip-parallel"}
PACKED_ARGS=${PACKED_ARGS:-"--domains 2 --per-class 200 --seeds 3 --epochs 5"}

no_gpu() {
    echo "gpu_check: no GPU here ($1): nothing measured. Run it on a GPU node."
    exit 0
}
# Without an NVIDIA device file, or with every GPU hidden, there is none: said at once, without importing torch.
[ "${CUDA_VISIBLE_DEVICES-unset}" = "" ] && no_gpu "CUDA_VISIBLE_DEVICES is empty"
compgen -G "/dev/nvidia[0-9]*" >/dev/null || no_gpu "no /dev/nvidia0"
# Then the workflow's own test (synthcxr.train.pick_device): a GPU is one that torch can use.
# Its name on stdout only: a warning on stderr (a driver torch cannot use) must not pass for a GPU's name.
errors=$(mktemp)
name_of_gpu='import torch; print(torch.cuda.get_device_name(0) if torch.cuda.is_available() else "")'
gpu=$("$PYTHON" -c "$name_of_gpu" 2>"$errors")
status=$?
if [ $status -ne 0 ]; then
    echo "gpu_check: cannot import torch from $PYTHON (run make first): nothing measured."
    tail -n 3 "$errors"
    rm -f "$errors"
    exit 0
fi
[ -s "$errors" ] && { echo "gpu_check: torch said, while looking for a GPU:"; tail -n 3 "$errors"; }
rm -f "$errors"
[ -z "$gpu" ] && no_gpu "torch.cuda.is_available() is False"

started=$(date +%s)
echo "== GPU check, $(date -u '+%Y-%m-%d %H:%M UTC') on $(hostname)"
echo "GPU: $gpu"
command -v nvidia-smi >/dev/null && nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader

step() {  # step <seconds> <what> <command...>: run with a time limit, say how it ended
    local limit=$1 what=$2
    shift 2
    echo
    echo "== $what (limit ${limit} s)"
    timeout "$limit" "$@"
    local code=$?
    [ $code -eq 124 ] && echo "gpu_check: $what ran out of its ${limit} s"
    [ $code -ne 0 ] && [ $code -ne 124 ] && echo "gpu_check: $what failed (exit status $code)"
    return 0
}

# What every job that uses the GPU pays on top of its CPU start: CUDA's start-up, at its first tensor on the GPU.
step 30 "CUDA start-up" "$PYTHON" -c 'import time, torch
started = time.perf_counter()
torch.zeros(1, device="cuda")
torch.cuda.synchronize()
print(f"CUDA start-up (first tensor on the GPU, after import torch): {time.perf_counter() - started:.2f} s")'
# make bench: the CPU pipelines and, with the GPU present, the same on the GPU (its table prints GPU a/b).
step 220 "make bench" make bench VENV="$VENV" ARGS="$BENCH_ARGS"
# shellcheck disable=SC2086  # PACKED_ARGS is a list of options
step 200 "packed study" "$PYTHON" -m tools.benchmark.packed --device cuda $PACKED_ARGS
echo
echo "GPU: $gpu; the check took $(($(date +%s) - started)) s (goal: under 8 minutes)"
exit 0
