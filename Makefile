# The README's two commands: `make run` and `make test`. Everything else is a helper for them.
SHELL := /bin/bash
PYTHON ?= python3
UV_VERSION := 0.13.8
UV := .tools/bin/uv
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: run test check install web test-deps lint typecheck pytest pytest-quick clean

run: install web
	$(UV) run --frozen confide serve --host $(HOST) --port $(PORT)

test: install web test-deps lint typecheck pytest

# Daily work: lint, types and every test but the slow and browser ones (a few minutes here).
check: install web lint typecheck pytest-quick

# uv is bootstrapped into .tools/ so that a fresh machine needs nothing but python3.
$(UV):
	$(PYTHON) -m venv .tools
	.tools/bin/pip install --quiet uv==$(UV_VERSION)

# Bytecode is compiled at install (the dependencies' by uv, the workspace's editable sources
# by compileall): where Python may not write it, a restart would compile every module again.
install: $(UV)
	$(UV) sync --frozen --all-packages --compile-bytecode
	.venv/bin/python -m compileall -q crypto/src server/src clients/python/src

# The web app is built only once it exists; npm ci keeps to package-lock.json.
web:
	@if [ -f clients/web/package.json ]; then \
		cd clients/web && npm ci --no-audit --no-fund && npm run build; \
	fi

# System packages the tests use for real parts (a browser, a TURN server).
test-deps:
	bash deploy/dev/install-test-deps.sh

lint: install
	$(UV) run --frozen ruff check .
	$(UV) run --frozen ruff format --check .

typecheck: install
	$(UV) run --frozen mypy

# The full suite, with coverage per package and the slowest tests named.
pytest: install
	$(UV) run --frozen pytest --cov --cov-report= --durations=25 $(PYTEST_ARGS)
	$(UV) run --frozen python deploy/dev/coverage_by_package.py

pytest-quick: install
	$(UV) run --frozen pytest -m "not slow and not browser" --durations=10 $(PYTEST_ARGS)

clean:
	rm -rf .venv .tools clients/web/node_modules clients/web/dist
