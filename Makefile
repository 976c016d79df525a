# Edge AI Lab: `make lab` starts the course, `make test` runs every test.
# Both create .venv and install the project into it when needed.

PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
JUPYTER_ROOT := $(if $(filter 0,$(shell id -u)),--allow-root,)

.PHONY: lab test test-fast setup system-deps release grade-demo lint clean

$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[dev]"
	@touch $(STAMP)

setup: $(STAMP)

lab: $(STAMP)
	$(BIN)/jupyter lab --notebook-dir=notebooks $(JUPYTER_ROOT)

# System packages the tests use: bubblewrap (the grading sandbox), Chromium and its driver
# (the JupyterLab browser test). Installed when missing and we are root with apt-get;
# otherwise those tests skip, saying why.
SYSTEM_PACKAGES := bubblewrap chromium chromium-driver
system-deps:
	@missing=""; command -v bwrap >/dev/null || missing="$$missing bubblewrap"; \
	command -v chromium >/dev/null || missing="$$missing chromium"; \
	command -v chromedriver >/dev/null || missing="$$missing chromium-driver"; \
	if [ -n "$$missing" ]; then \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing; \
	  else echo "note: missing system packages:$$missing (apt-get install them to run every test)"; fi; \
	fi

test: $(STAMP) system-deps
	$(BIN)/python -m pytest tests labkit --doctest-modules

# The everyday tier: unit tests and doctests, no notebook runs, browsers or sandboxes.
test-fast: $(STAMP)
	$(BIN)/python -m pytest tests labkit --doctest-modules -m "not slow"

release: $(STAMP)
	$(BIN)/labkit release

lint: $(STAMP)
	$(BIN)/ruff check labkit tests benchmarks

clean:
	rm -rf $(VENV) .pytest_cache
