# Two commands for a new user: `make demo` and `make test`. Both create the environment if missing.
# While working: `make test-fast` (unit tests and dry runs, a few minutes) and `make lint`.
VENV ?= .venv
PYTHON ?= python3
CORES ?= 2
BIN := $(VENV)/bin

.PHONY: demo test test-fast lint format bench dry-run clean

$(BIN)/.installed: requirements.txt requirements-dev.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements-dev.txt
	touch $@

demo: $(BIN)/.installed
	$(BIN)/snakemake --cores $(CORES)

dry-run: $(BIN)/.installed
	$(BIN)/snakemake --dry-run

test: $(BIN)/.installed
	$(BIN)/python -m pytest

# Everything but the tests marked slow (real snakemake runs, real training, the benchmark; see tests/conftest.py).
test-fast: $(BIN)/.installed
	$(BIN)/python -m pytest -m "not slow and not slurm"

lint: $(BIN)/.installed
	$(BIN)/ruff check .
	$(BIN)/snakemake --lint
	$(BIN)/snakefmt --check Snakefile workflow/

format: $(BIN)/.installed
	$(BIN)/snakefmt Snakefile workflow/

bench: $(BIN)/.installed
	$(BIN)/python scripts/benchmark.py

clean:
	rm -rf results .snakemake
