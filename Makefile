# The two commands of the README: `make demo` and `make test`. Both share one .venv, made on first use:
# each command installs only its own extras into it (a stamp per set), so `make demo` stays small and quick,
# `make test` adds what the suite needs to what the demo installed, and neither rebuilds what the other made.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
DEMO := $(VENV)/.installed-demo
DOCS := $(VENV)/.installed-docs
TEST := $(VENV)/.installed-test
# The demo trains and draws (its figures are SVG, no matplotlib); the suite tests everything, the docs included.
$(DEMO): EXTRAS = demo
$(DOCS): EXTRAS = docs
# .installed-dev is the test stamp's old name, kept so `make .venv/.installed-dev` still sets up everything.
$(TEST) $(VENV)/.installed-dev: EXTRAS = demo,dev,browser,torch,docs,fast
# MathJax and the widget manager, fetched once from the npm registry so the built pages work offline.
VENDOR := docs/_static/vendor/.fetched

.PHONY: demo test docs lint typecheck bench clean python-version

# Checked before .venv is made: a venv of an old Python would fail later with a confusing error.
python-version:
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 10))' 2>/dev/null || { \
		echo "autograd-lite needs Python 3.10 or newer; '$(PYTHON)' is $$($(PYTHON) --version 2>/dev/null || echo "not found")." \
		"Run with PYTHON=python3.12 (or another 3.10+), e.g. make test PYTHON=python3.12" >&2; exit 2; }

# A .venv whose python does not run is rebuilt; one whose install failed half-way is removed (no stamp is
# written), so a later run starts clean instead of trusting a half-installed package. --no-compile: Python
# compiles what is imported when it is first imported, instead of pip compiling every module up front
# (about 50 MB and several seconds of the demo's .venv).
$(VENV)/.installed-%: pyproject.toml | python-version
	@$(BIN)/python -c 'import pip' 2>/dev/null || { rm -rf $(VENV); $(PYTHON) -m venv $(VENV) \
		&& $(BIN)/python -m pip install --quiet --no-compile --upgrade pip || { rm -rf $(VENV); exit 1; }; }
	$(BIN)/python -m pip install --quiet --no-compile -e '.[$(EXTRAS)]' || { rm -rf $(VENV); exit 1; }
	touch $@ $(if $(filter test,$*),$(DEMO) $(DOCS))

$(VENDOR): docs/vendor.py
	$(PYTHON) docs/vendor.py

demo: $(DEMO)
	$(BIN)/autograd-lite demo

test: $(TEST) $(VENDOR)
	$(BIN)/ruff check .
	$(BIN)/python -m mypy
	$(BIN)/python -m pytest

# The docs site, warnings as errors (a broken cross-reference fails); open docs/_build/html/index.html.
docs: $(DOCS) $(VENDOR)
	$(BIN)/python -m sphinx -W --keep-going -q -b html docs docs/_build/html

lint: $(TEST)
	$(BIN)/ruff check .

typecheck: $(TEST)
	$(BIN)/python -m mypy

bench: $(TEST)
	$(BIN)/python -m pip install --quiet -e '.[bench]'
	$(BIN)/python benchmarks/run.py

clean:
	rm -rf $(VENV) build *.egg-info .pytest_cache .ruff_cache .mypy_cache docs/_build docs/_static/vendor
