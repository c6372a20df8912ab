# Two commands for a new user: `make demo` and `make test`. Both create the environment if missing.
VENV ?= .venv
PYTHON ?= python3
CORES ?= 2
BIN := $(VENV)/bin

.PHONY: demo test lint format bench bench-scale dry-run clean

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

lint: $(BIN)/.installed
	$(BIN)/snakemake --lint
	$(BIN)/snakefmt --check Snakefile workflow/

format: $(BIN)/.installed
	$(BIN)/snakefmt Snakefile workflow/

# Developer tools (tools/benchmark/), not part of `make test`. ARGS passes options, e.g. ARGS="--images 2000".
bench: $(BIN)/.installed
	$(BIN)/python -m tools.benchmark.throughput $(ARGS)

bench-scale: $(BIN)/.installed
	$(BIN)/python -m tools.benchmark.scale $(ARGS)

clean:
	rm -rf results .snakemake
