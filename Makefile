# The two quick-start commands: `make demo` and `make test`.
# Both create (or reuse) the virtual environment in $(VENV) and install what they need.
# GPU users: `make test TORCH_SPEC="torch==2.13.0 --index-url https://download.pytorch.org/whl/cu126"`.
PYTHON ?= python3
VENV ?= .venv
TORCH_SPEC ?= torch==2.13.0
DEMO_DIR ?= demo-output
BIN := $(VENV)/bin

.PHONY: demo test clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade "pip>=24"

$(VENV)/.installed-%: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet $(TORCH_SPEC)
	$(BIN)/python -m pip install --quiet -e ".[$*]"
	rm -f $(VENV)/.installed-*
	touch $@

demo: $(VENV)/.installed-test
	$(BIN)/python examples/quickstart.py --output-dir $(DEMO_DIR)

test: $(VENV)/.installed-test
	$(BIN)/python -m pytest -n 2 --dist loadgroup

clean:
	rm -rf $(VENV) $(DEMO_DIR) .pytest_cache
