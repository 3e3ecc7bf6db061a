# The two quick-start commands: `make demo` and `make test`; the benchmark suite:
# `make bench-quick` (minutes) and `make bench` (the default size), which add the
# `bench` extra (LightGBM) to the same environment; BENCH_ARGS passes arguments to
# benchmarks/run.py, e.g. `make bench-quick BENCH_ARGS="--check"` or "reader neural".
# Each creates (or reuses) the virtual environment in $(VENV) and installs what it needs,
# at the versions recorded in $(CONSTRAINTS) (`make lock` updates them).
# torch is pinned to the CPU build these machines hold; GPU users override it, e.g.
#   make test TORCH_SPEC="torch==2.13.0 --index-url https://download.pytorch.org/whl/cu126"
# Maintainers: `make lint`, `make docs`, `make lock` (CONTRIBUTING.md).
PYTHON ?= python3
VENV ?= .venv
TORCH_SPEC ?= torch==2.13.0
EXTRAS ?= test,mlflow,optim,tune,export,daskml,jobqueue,xrootd,sim
DEMO_DIR ?= demo-output
PYTEST_ARGS ?= -n 2
BENCH_ARGS ?=
# Coverage of skcal, summarised in one line after the tests; `make test COV_ARGS=` skips it.
COV_ARGS ?= --cov --cov-report=
CONSTRAINTS ?= constraints.txt
# `make lock` keeps the recorded versions that still fit; `make lock LOCK_ARGS=--upgrade`
# moves every package to its newest allowed version.
LOCK_ARGS ?=
LOCK_PYTHON ?= 3.11
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
DEV_STAMP := $(VENV)/.installed-dev
BENCH_STAMP := $(VENV)/.installed-bench
PIP := $(BIN)/python -m pip
comma := ,

.PHONY: demo test bench bench-quick lint docs lock clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(PIP) install --quiet --upgrade "pip>=24"

$(STAMP): pyproject.toml $(CONSTRAINTS) | $(BIN)/python
	$(PIP) install --quiet $(TORCH_SPEC)
	$(PIP) install --quiet -c $(CONSTRAINTS) -e ".[$(EXTRAS)]"
	touch $@

$(DEV_STAMP): $(STAMP)
	$(PIP) install --quiet -c $(CONSTRAINTS) -e ".[$(EXTRAS),dev]"
	touch $@

$(BENCH_STAMP): $(STAMP)
	$(PIP) install --quiet -c $(CONSTRAINTS) -e ".[$(EXTRAS),bench]"
	touch $@

demo: $(STAMP)
	$(BIN)/skcal demo --output-dir $(DEMO_DIR)

test: $(STAMP)
	$(BIN)/python -m pytest $(PYTEST_ARGS) $(COV_ARGS)
	@if [ -n "$(strip $(COV_ARGS))" ]; then \
	  echo "coverage of skcal: $$($(BIN)/python -m coverage report --format=total)% of lines" \
	    "(per file: $(BIN)/python -m coverage report)"; fi

bench: $(BENCH_STAMP)
	$(BIN)/python benchmarks/run.py $(BENCH_ARGS)

bench-quick: $(BENCH_STAMP)
	$(BIN)/python benchmarks/run.py --quick $(BENCH_ARGS)

lint: $(DEV_STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

docs: $(DEV_STAMP)
	$(BIN)/mkdocs build --strict

# Resolves pyproject.toml's dependencies with the extras of the set-up, the benchmarks'
# (bench) and the maintainers' tools, for Python $(LOCK_PYTHON), from the package sources that pip is
# configured with here (pip config: find-links, extra-index-url). torch is resolved at
# the version of TORCH_SPEC, afresh each time (--upgrade-package torch: the local CPU
# build wins over PyPI's CUDA one, whose nvidia-* dependencies stay out of the lock), and
# recorded without its local label (+cpu), so that a GPU build of that version fits too.
lock: $(DEV_STAMP)
	fl="$$($(PIP) config get global.find-links 2>/dev/null)"; \
	ei="$$($(PIP) config get global.extra-index-url 2>/dev/null)"; \
	printf '%s\n' "$(firstword $(TORCH_SPEC))" | $(BIN)/uv pip compile pyproject.toml - \
	  $(foreach e,$(sort $(subst $(comma), ,$(EXTRAS)) bench),--extra $(e)) --extra dev \
	  --python-version $(LOCK_PYTHON) --index-strategy unsafe-best-match \
	  $$(for u in $$fl; do printf -- '--find-links %s ' "$$u"; done) \
	  $$(for u in $$ei; do printf -- '--extra-index-url %s ' "$$u"; done) \
	  --upgrade-package torch --custom-compile-command "make lock" --quiet $(LOCK_ARGS) \
	  -o $(CONSTRAINTS)
	sed -i 's/^torch==\([0-9.]*\)+[A-Za-z0-9.]*/torch==\1/' $(CONSTRAINTS)

clean:
	rm -rf $(VENV) $(DEMO_DIR) .pytest_cache site .coverage .coverage.*

