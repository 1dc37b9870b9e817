# The two commands a newcomer needs: `make run` and `make test`.
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed

.PHONY: install run test proto bench lint docker helm-lint clean

install: $(STAMP)

$(STAMP): pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

run: install
	$(PY) -m gateway

test: install
	$(PY) -m pytest

proto: install
	$(PY) protos/generate.py

lint: install
	$(VENV)/bin/ruff check gateway templates_store bws_cli tests bench helm protos/generate.py
	$(VENV)/bin/hadolint Dockerfile

bench: install
	$(PY) bench/bench_search.py
	$(PY) bench/bench_service.py
	$(PY) bench/bench_engine.py
	$(PY) bench/calibrate.py
	$(PY) bench/bench_rest.py

# Needs a container engine (none runs on the development machines).
docker:
	docker build -t bws-gateway:$$(grep -m1 '^version' pyproject.toml | cut -d'"' -f2) .

helm-lint: install
	$(PY) helm/lint.py

clean:
	rm -rf $(VENV) data .pytest_cache
