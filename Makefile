# Two commands do all set-up on a fresh clone:  make book   and   make test
# Both create .venv and install the pinned requirements on first use.

PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed
PORT   ?= 8000
JOBS   ?= 2
# Extra pytest arguments, e.g. make test PYTEST_ARGS="-x -k gather"
PYTEST_ARGS ?=

.PHONY: help book test lint cpu cuda site outputs serve clean

help:
	@echo "make book      build the site into _build/html (warnings are errors)"
	@echo "make test      lint, helper tests, every notebook on CPU (and CUDA if present), site tests"
	@echo "make outputs   re-execute every notebook and store its outputs"
	@echo "make serve     serve _build/html on http://localhost:$(PORT)"

$(STAMP): requirements.txt pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements.txt
	$(PY) -m pip install --quiet --no-deps --editable .
	touch $@

book: $(STAMP)
	$(VENV)/bin/jupyter-book build . -W --keep-going

test: lint cpu cuda site
	@echo "make test: all checks passed"

lint: $(STAMP)
	$(PY) -m ruff check snippets tests notebooks
	$(PY) -m ruff format --check snippets tests

# Helper tests, doctests and every notebook cell on the CPU. --dist loadfile keeps each
# notebook on one worker (nbval's cells depend on each other).
cpu: $(STAMP)
	TORCH_DEVICE=cpu $(PY) -m pytest -n $(JOBS) --dist loadfile -m "not site" \
		tests snippets notebooks $(PYTEST_ARGS)

# The same notebooks again on CUDA, when this machine has a GPU.
cuda: $(STAMP)
	@if $(PY) -c "import torch, sys; sys.exit(0 if torch.cuda.is_available() else 1)"; then \
		TORCH_DEVICE=cuda $(PY) -m pytest -n $(JOBS) --dist loadfile -m "not site" \
			tests snippets notebooks $(PYTEST_ARGS); \
	else echo "cuda: no GPU visible to torch, CUDA leg not run on this machine"; fi

site: $(STAMP)
	$(PY) -m pytest -m site tests/site $(PYTEST_ARGS)

outputs: $(STAMP)
	$(PY) tests/tools/store_outputs.py $(NOTEBOOKS)

serve:
	@test -d _build/html || { echo "no _build/html: run make book first"; exit 1; }
	$(PYTHON) -m http.server $(PORT) --bind 127.0.0.1 --directory _build/html

clean:
	rm -rf _build .pytest_cache .ruff_cache .hypothesis
