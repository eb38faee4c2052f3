# The two commands a newcomer needs: `make run` (the main job) and `make test`.
# Both create the virtual environment and install everything on first use.
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: run demo test lint bench install clean

$(STAMP): pyproject.toml
	python3 -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e ".[dev]"
	$(PY) -m solvers.lns.tabu  # compile the LNS's tabu kernel into numba's cache once
	$(PY) -m solvers.bounds.knapsack_bound  # and the knapsack bound's kernel
	$(PY) -m solvers.workflow.exact_search  # and the workflow exact search's kernel
	touch $(STAMP)

install: $(STAMP)

# The main job: the service on http://127.0.0.1:8000 (SQLite under ./data, local process pool).
run: $(STAMP)
	$(VENV)/bin/allocator serve --host 127.0.0.1 --port 8000

# Every solver compared on the bundled example; JSON and HTML reports go to out/ (the
# default of `compare`), replaced on each run (--force).
demo: $(STAMP)
	$(VENV)/bin/allocator compare examples/mixed.json --time-limit 10 --force \
		--out out/mixed.plan.json

test: $(STAMP)
	$(PY) -m pytest

lint: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy
	$(VENV)/bin/lint-imports

bench: $(STAMP)
	$(PY) -m pip install -q -e ".[bench]"
	$(PY) -m bench.gap

clean:
	rm -rf $(VENV) out
