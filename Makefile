# crewmux: `make run` starts the console, `make test` checks everything.
VENV   ?= .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed

.PHONY: run test lint bench test-fast test-snapshot-update clean agent-clis

$(STAMP): pyproject.toml
	@test -x $(PY) || python3 -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e '.[dev]'
	@touch $(STAMP)

run: $(STAMP)
	$(VENV)/bin/crewmux $(if $(ARGS),$(ARGS),console)

lint: $(STAMP)
	$(VENV)/bin/ruff check app backends tests bench
	$(VENV)/bin/mypy
	$(VENV)/bin/lint-imports

# The pinned real agent CLIs (app/agents/clis.json) in the git-ignored .agent-clis/; quick when present.
agent-clis: $(STAMP)
	$(PY) -m app.agents.install_clis

test: lint agent-clis
	$(PY) -m pytest -q -ra $(PYTEST_ARGS)

test-fast: $(STAMP)
	$(PY) -m pytest -q -x -m "not slow" $(PYTEST_ARGS)

test-snapshot-update: $(STAMP)
	$(PY) -m pytest -q tests/console --snapshot-update

bench: $(STAMP)
	$(PY) -m bench

clean:
	rm -rf $(VENV) .mypy_cache .ruff_cache .pytest_cache .agent-clis
