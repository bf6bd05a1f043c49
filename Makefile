# The two commands of the README: `make demo` and `make test`. Each sets up .venv on first use.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-dev
EXTRAS := dev,browser,torch

.PHONY: demo test lint typecheck bench clean python-version

# Checked before .venv is made: a venv of an old Python would fail later with a confusing error.
python-version:
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 10))' 2>/dev/null || { \
		echo "autograd-lite needs Python 3.10 or newer; '$(PYTHON)' is $$($(PYTHON) --version 2>/dev/null || echo "not found")." \
		"Run with PYTHON=python3.12 (or another 3.10+), e.g. make test PYTHON=python3.12" >&2; exit 2; }

# A .venv whose python does not run, or whose install failed half-way (no stamp), is rebuilt, never reused.
$(STAMP): pyproject.toml | python-version
	@$(BIN)/python -c 'import pip' 2>/dev/null || { rm -rf $(VENV); $(PYTHON) -m venv $(VENV); }
	$(BIN)/python -m pip install --quiet --upgrade pip || { rm -rf $(VENV); exit 1; }
	$(BIN)/python -m pip install --quiet -e '.[$(EXTRAS)]' || { rm -rf $(VENV); exit 1; }
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/autograd-lite demo

test: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/python -m mypy
	$(BIN)/python -m pytest

lint: $(STAMP)
	$(BIN)/ruff check .

typecheck: $(STAMP)
	$(BIN)/python -m mypy

bench: $(STAMP)
	$(BIN)/python -m pip install --quiet -e '.[$(EXTRAS),bench]'
	$(BIN)/python benchmarks/run.py

clean:
	rm -rf $(VENV) build *.egg-info .pytest_cache .ruff_cache .mypy_cache
