# Two commands on a fresh machine with Python 3.11: `make run` and `make test`.
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
OUT ?= runs/japan-2030

.PHONY: run test lint bench clean chromium service-deps emulate-deps fuzz mutate

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip==24.3.1

$(VENV)/.runtime: $(BIN)/python requirements.lock pyproject.toml
	$(BIN)/python -m pip install --quiet -r requirements.lock
	$(BIN)/python -m pip install --quiet --no-deps -e .
	touch $@

$(VENV)/.test: $(VENV)/.runtime requirements-test.lock
	$(BIN)/python -m pip install --quiet -r requirements-test.lock
	touch $@

run: $(VENV)/.runtime
	$(BIN)/tsunagu run --out $(OUT)

lint: $(VENV)/.test
	$(BIN)/ruff check src tests benchmarks
	$(BIN)/ruff format --check src tests benchmarks
	$(BIN)/mypy

# The report test renders the page in headless Chromium when it is installed; installing it is
# best effort (the test checks the page's structure without it and is never skipped).
chromium:
	-command -v chromium >/dev/null 2>&1 || { apt-get update -qq && apt-get install -y -qq chromium >/dev/null; }

# The service tests need PostgreSQL (a throwaway cluster started by the fixture on loopback) and
# Chromium with its driver (the dashboard test); installed here when missing.
service-deps:
	-{ ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 && command -v chromium >/dev/null 2>&1 \
	  && command -v chromedriver >/dev/null 2>&1; } || { apt-get update -qq \
	  && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql chromium chromium-driver >/dev/null; }

# The emulation tests build network namespaces with iproute2's `ip` (run as root); installed
# here when missing.
emulate-deps:
	-command -v ip >/dev/null 2>&1 || { apt-get update -qq \
	  && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq iproute2 >/dev/null; }

test: $(VENV)/.test lint chromium service-deps emulate-deps
	$(BIN)/python -m pytest -n 2 -q

# Mutation testing of the central model modules (mutmut; not part of `make test`). One module
# at a time with its targeted tests; report in runs/mutate/report.md. MODULES=ran.pathloss …
# picks some; MUTATE_CHILDREN sets the parallel workers.
MUTATE_CHILDREN ?= 2
mutate: $(VENV)/.test
	nice -n 10 $(BIN)/python tools/mutate.py --max-children $(MUTATE_CHILDREN) $(MODULES)

bench: $(VENV)/.test
	$(BIN)/python -m benchmarks

clean:
	rm -rf $(VENV) runs .pytest_cache .mypy_cache .ruff_cache

# The fuzzing harness at ten times its CI size (>= 10,000 cases); counts per category at the end.
fuzz: $(VENV)/.test
	TSUNAGU_FUZZ_SCALE=10 $(BIN)/python -m pytest tests/fuzz -n 2 -q -p no:cacheprovider
