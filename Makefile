# Edge AI Lab: `make lab` starts the course, `make test` runs every test.
# Both create .venv and install the project into it when needed.

PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
JUPYTER_ROOT := $(if $(filter 0,$(shell id -u)),--allow-root,)

.PHONY: lab test setup sandbox release grade-demo lint clean

$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[dev]"
	@touch $(STAMP)

setup: $(STAMP)

lab: $(STAMP)
	$(BIN)/jupyter lab --notebook-dir=notebooks $(JUPYTER_ROOT)

# The grading sandbox (bubblewrap): installed when missing and we are root with apt-get;
# otherwise the sandbox tests skip, saying why.
sandbox:
	@command -v bwrap >/dev/null || { [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null && \
	  { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq bubblewrap; } ; } || \
	  echo "note: bubblewrap is missing; install it (apt-get install bubblewrap) to test the grading sandbox"

test: $(STAMP) sandbox
	$(BIN)/python -m pytest --nbval-lax tests solutions

release: $(STAMP)
	$(BIN)/labkit release

lint: $(STAMP)
	$(BIN)/ruff check labkit tests benchmarks

clean:
	rm -rf $(VENV) .pytest_cache
