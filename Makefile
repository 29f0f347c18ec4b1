# crewmux: `make run` starts the console, `make test` checks everything.
VENV   ?= .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed

.PHONY: run test lint bench test-fast test-snapshot-update clean agent-clis

# The first install takes ~30 s: say so, and let pip show each package as it goes.
$(STAMP): pyproject.toml
	@echo "crewmux: installing into $(VENV) (first run only, about half a minute)..."
	@test -x $(PY) || { echo "crewmux: [1/3] creating $(VENV)"; python3 -m venv $(VENV); }
	@echo "crewmux: [2/3] updating pip"
	@$(PY) -m pip install -q --upgrade pip
	@echo "crewmux: [3/3] installing crewmux and its dependencies"
	@{ $(PY) -m pip install -e '.[dev]' 2>&1; echo $$? > $(VENV)/.pip-status; } \
	  | grep -iE --line-buffered '^(Collecting|Installing|Successfully|error)'; \
	  test "$$(cat $(VENV)/.pip-status)" = 0 || { echo "crewmux: pip failed (its errors are above)"; exit 1; }
	@echo "crewmux: installed"
	@touch $(STAMP)

# Byte-compiled first (quick when up to date): with PYTHONDONTWRITEBYTECODE set, every start
# would compile crewmux's own modules again (~0.1 s of CPU and ~2 MiB more at start).
run: $(STAMP)
	@$(PY) -m compileall -q app backends > /dev/null
	$(VENV)/bin/crewmux $(if $(ARGS),$(ARGS),console)

lint: $(STAMP)
	$(VENV)/bin/ruff check app backends tests bench
	$(VENV)/bin/mypy
	$(VENV)/bin/lint-imports

# The pinned real agent CLIs (app/agents/clis.json) in the git-ignored .agent-clis/; quick when present.
agent-clis: $(STAMP)
	$(PY) -m app.agents.install_clis

# Tests run in TEST_WORKERS processes (pytest-xdist; much of a test's time is waiting on real
# processes, tmux and ptys): on 2 cores, 2 workers left a third of the CPU idle (426 s) and 3 keep
# it ~86 % busy (348 s); later, with more real-CLI tests, 4 workers took 351 s against 409 s for 3
# (back to back, same machine); work-stealing keeps all busy to the end. TEST_WORKERS=0: one process.
TEST_WORKERS ?= 4
XDIST := $(if $(filter 0,$(TEST_WORKERS)),-p no:xdist,-n $(TEST_WORKERS) --dist worksteal)

test: lint agent-clis
	$(PY) -m pytest -q -ra $(XDIST) $(PYTEST_ARGS)

test-fast: $(STAMP)
	$(PY) -m pytest -q -x -m "not slow" $(XDIST) $(PYTEST_ARGS)

test-snapshot-update: $(STAMP)
	$(PY) -m pytest -q tests/console --snapshot-update

bench: $(STAMP)
	$(PY) -m bench

clean:
	rm -rf $(VENV) .mypy_cache .ruff_cache .pytest_cache .agent-clis
