# The two commands a newcomer needs: `make run` and `make test`.
# `make run` installs what serving needs; `make test` (and `make dev`) add the test and lint tools.
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
RUNTIME_STAMP := $(VENV)/.installed-runtime
DEV_STAMP     := $(VENV)/.installed-dev

.PHONY: install dev run test proto bench lint docker helm-lint clean

install: $(RUNTIME_STAMP)

dev: $(DEV_STAMP)

$(PY):
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip

$(RUNTIME_STAMP): pyproject.toml | $(PY)
	$(PY) -m pip install --quiet -e .
	touch $@

# The dev extra includes the runtime dependencies: it satisfies both stamps.
$(DEV_STAMP): pyproject.toml | $(PY)
	$(PY) -m pip install --quiet -e '.[dev]'
	touch $@ $(RUNTIME_STAMP)

run: install
	$(VENV)/bin/bws-gateway serve

test: dev
	$(PY) -m pytest

proto: dev
	$(PY) protos/generate.py

lint: dev
	$(VENV)/bin/ruff check gateway templates_store bws_cli bws_proto tests bench helm protos/generate.py
	$(VENV)/bin/hadolint Dockerfile

bench: dev
	$(PY) bench/bench_search.py
	$(PY) bench/bench_service.py
	$(PY) bench/bench_engine.py
	$(PY) bench/calibrate.py
	$(PY) bench/bench_rest.py

# Needs a container engine (none runs on the development machines).
docker:
	docker build -t bws-gateway:$$(grep -m1 '^version' pyproject.toml | cut -d'"' -f2) .

helm-lint: dev
	$(PY) helm/lint.py

clean:
	rm -rf $(VENV) data .pytest_cache
