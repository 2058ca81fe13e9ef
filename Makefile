# The two commands of the README: `make run` (the console with its demo mesh) and
# `make test` (lint, types, layer contracts, the test suite). Both create .venv first.
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: run mesh test lint bench bundle clean

$(STAMP): pyproject.toml
	python3 -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e '.[dev]'
	touch $(STAMP)

# The console as a folder that runs without Python (dist/qewd-console/qewd-console).
bundle: $(STAMP)
	$(PY) -m pip install -q 'pyinstaller>=6'
	$(VENV)/bin/pyinstaller --noconfirm --distpath dist --workpath build/pyinstaller \
		build_spec/qewd-console.spec

run: $(STAMP)
	$(VENV)/bin/qewd-console

mesh: $(STAMP)
	$(VENV)/bin/qewd-node mesh examples/mesh.toml

lint: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check node_runtime qewd_console
	$(VENV)/bin/mypy
	$(VENV)/bin/lint-imports

test: lint
	QT_QPA_PLATFORM=offscreen $(VENV)/bin/pytest -q

bench: $(STAMP)
	$(PY) bench/bench_dispatch.py
	$(PY) bench/bench_mesh.py

clean:
	rm -rf $(VENV) data build dist .pytest_cache .mypy_cache .ruff_cache
