# Two commands for a new user: `make demo` and `make test`. Both create the environment if missing.
# While working: `make test-fast` (unit tests and dry runs, a few minutes) and `make lint`.
VENV ?= .venv
PYTHON ?= python3
CORES ?= 2
BIN := $(VENV)/bin
# make test and make test-fast: one pytest-xdist worker per CPU, each taking a whole test module at a time, modules
# with SLURM tests first (tests/conftest.py orders them and shares the tiny studies and the cluster). The SLURM
# module mostly waits for the cluster and the dry runs for one process each, so a second worker fills the idle
# core (measured on one 2-core machine: 18.9 minutes in two workers, 22.9 in one process). TEST_ARGS adds pytest
# options; make test PARALLEL= runs in one process.
PARALLEL ?= -n logical --dist loadscope --no-loadscope-reorder
TEST_ARGS ?=
# What a missing or old Python needs, named in the messages of check-python.
PYTHON_NEEDED := 3.11

.PHONY: demo test test-fast lint format bench bench-scale bench-jobs gpu-check dry-run clean check-python

# Stops at once, before anything is installed, when $(PYTHON) is missing, older than $(PYTHON_NEEDED),
# or cannot create a virtual environment (Debian and Ubuntu ship venv and ensurepip separately).
check-python:
	@version=$$($(PYTHON) -c 'import sys; print("%d.%d" % sys.version_info[:2])' 2>/dev/null) || { \
	    echo "make: '$(PYTHON)' was not found. synthcxr needs Python >= $(PYTHON_NEEDED):" \
	         "install it (Debian/Ubuntu: apt install python$(PYTHON_NEEDED) python$(PYTHON_NEEDED)-venv)" \
	         "and run make again, naming it if needed: make demo PYTHON=python$(PYTHON_NEEDED)" >&2; exit 1; }; \
	major=$${version%%.*}; minor=$${version#*.}; \
	if [ "$$major" -lt 3 ] || { [ "$$major" -eq 3 ] && [ "$$minor" -lt 11 ]; }; then \
	    echo "make: synthcxr needs Python >= $(PYTHON_NEEDED), but $(PYTHON) is Python $$version." \
	         "Install Python $(PYTHON_NEEDED) or newer (Debian/Ubuntu: apt install python$(PYTHON_NEEDED)" \
	         "python$(PYTHON_NEEDED)-venv) and run: make demo PYTHON=python$(PYTHON_NEEDED)" >&2; exit 1; \
	fi; \
	if ! $(PYTHON) -c 'import ensurepip, venv' >/dev/null 2>&1; then \
	    echo "make: $(PYTHON) (Python $$version) cannot create a virtual environment: its venv or" \
	         "ensurepip module is missing. Install it (Debian/Ubuntu: apt install python$$version-venv)" \
	         "and run make again." >&2; exit 1; \
	fi

$(BIN)/.installed: requirements.txt requirements-dev.txt | check-python
	@echo "Installing into $(VENV): about 6 GB, most of it the CUDA build of torch (pip shows its progress)."
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --upgrade pip
	$(BIN)/python -m pip install -r requirements-dev.txt
	touch $@

demo: $(BIN)/.installed
	$(BIN)/snakemake --cores $(CORES)

dry-run: $(BIN)/.installed
	$(BIN)/snakemake --dry-run

test: $(BIN)/.installed
	$(BIN)/python -m pytest $(PARALLEL) $(TEST_ARGS)

# Everything but the tests marked slow (real snakemake runs, real training, the benchmark; see tests/conftest.py).
test-fast: $(BIN)/.installed
	$(BIN)/python -m pytest $(PARALLEL) -m "not slow and not slurm" $(TEST_ARGS)

lint: $(BIN)/.installed
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/snakemake --lint
	$(BIN)/snakefmt --check Snakefile workflow/

format: $(BIN)/.installed
	$(BIN)/snakefmt Snakefile workflow/

# Developer tools (tools/benchmark/), not part of `make test`. ARGS passes options, e.g. ARGS="--images 2000".
bench: $(BIN)/.installed
	$(BIN)/python -m tools.benchmark.throughput $(ARGS)

bench-scale: $(BIN)/.installed
	$(BIN)/python -m tools.benchmark.scale $(ARGS)

# The demo twice, side by side: one evaluation job per model (the workflow) and one per model and test split.
bench-jobs: $(BIN)/.installed
	$(BIN)/python -m tools.benchmark.demo_jobs $(ARGS)

# On a GPU node: make bench and a small packed study on the GPU; says so and exits 0 where there is no GPU.
gpu-check: $(BIN)/.installed
	VENV=$(VENV) tools/benchmark/gpu_check.sh

clean:
	rm -rf results .snakemake
