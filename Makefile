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

.PHONY: help book test lint cpu cuda site outputs serve lab publish-report matrix bench clean

help:
	@echo "make book      build the site into _build/html (warnings are errors)"
	@echo "make test      lint, helper tests, every notebook on CPU (and CUDA if present), site tests"
	@echo "make outputs   re-execute every notebook and store its outputs"
	@echo "make serve     serve _build/html on http://localhost:$(PORT)"
	@echo "make lab       open the chapter notebooks in JupyterLab (this project's environment)"
	@echo "make publish-report  copy the reports of passing runs into book/verified/"
	@echo "make matrix    every chapter on each PyTorch release of tools/matrix.py (downloads GBs)"
	@echo "make bench     time the ways of each job into snippets/bench_results/cpu.json (QUICK=1: a short run)"

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

# The GitHub Actions workflows are linted offline: their schema (check-jsonschema's vendored
# copy of GitHub's) and zizmor's audits (settings in .github/zizmor.yml).
lint: $(STAMP)
	$(PY) -m ruff check snippets tests tools notebooks book/_ext
	$(PY) -m ruff format --check snippets tests tools book/_ext
	$(VENV)/bin/check-jsonschema --builtin-schema vendor.github-workflows .github/workflows/*.yml
	$(VENV)/bin/zizmor --offline --no-progress --quiet .github/workflows

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
	$(PY) tools/store_outputs.py $(NOTEBOOKS)

serve:
	@test -d _build/html || { echo "no _build/html: run make book first"; exit 1; }
	$(PYTHON) -m http.server $(PORT) --bind 127.0.0.1 --directory _build/html

# JupyterLab from .venv on notebooks/: the kernel is .venv's Python, where `snippets` is
# installed, so each notebook runs top to bottom from its own folder as nbval runs it.
# Extra JupyterLab options, e.g. make lab LAB_ARGS="--no-browser --port 8890"
LAB_ARGS ?=
lab: $(STAMP)
	cd notebooks && ../$(VENV)/bin/jupyter lab $(LAB_ARGS)

# Each pytest run writes _build/reports/<device>.json (tests/report_plugin.py); this copies the
# reports of runs that passed and compared every notebook into book/verified/, which the
# "Verified on" page is built from (tools/publish_report.py). REPORTS=folder publishes reports
# copied from another machine.
REPORTS ?= _build/reports
publish-report: $(STAMP)
	$(PY) tools/publish_report.py --from $(REPORTS)

# The version matrix (not part of make test: it downloads several GB): a virtual environment per
# PyTorch release under _build/matrix/ (kept, so a re-run only re-runs the tests), strict nbval
# on every chapter and the behaviour pins; results in book/verified/matrix.json and
# snippets/matrix_data.py. The releases are listed once, in tools/matrix.py;
# make matrix MATRIX_ARGS="--releases 2.14.1" runs some of them.
MATRIX_ARGS ?=
matrix:
	$(PYTHON) tools/matrix.py $(MATRIX_ARGS)

# The benchmark the performance chapter plots (snippets/bench.py): every way of each job,
# interleaved in one process. A full CPU run (about 2 minutes) writes snippets/bench_results/cpu.json and
# rewrites the numbers in the chapter's prose; then store its outputs:
# make outputs NOTEBOOKS=notebooks/09-performance.ipynb
# QUICK=1: fewer sizes and rounds (seconds), into _build/bench/. BENCH_ARGS="--device cuda" on a
# GPU writes snippets/bench_results/cuda.json next to the CPU results.
BENCH_ARGS ?=
bench: $(STAMP)
	$(PY) -m snippets.bench $(if $(QUICK),--quick,--update-prose) $(BENCH_ARGS)

clean:
	rm -rf _build .pytest_cache .ruff_cache .hypothesis
