# Two commands do all set-up (see README):  `make bench`  runs the main job,  `make test`  runs every test.
# Both create the local virtual environment .venv if it is missing.
SHELL := /bin/bash
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
OUT ?= out

.PHONY: venv lab bench test docs export readme train-zoo

$(STAMP): setup.py settings.ini
	@test -x $(PY) || python3 -m venv $(VENV)
	# torch/torchvision pinned as a pair (CUDA build; runs on CPU); everything else from settings.ini
	$(PY) -m pip install -q torch==2.14.1 torchvision==0.29.1
	$(PY) -m pip install -q -e '.[dev]'
	@touch $@

venv: $(STAMP)

# JupyterLab on the notebooks, with the .venv's Python as the `python3` kernel every notebook names.
lab: $(STAMP)
	$(VENV)/bin/jupyter lab nbs

# The main job: IMIE-Bench on the shipped toy zoo (imiebench bench; `imiebench demo` is the short demo).
# Two single-threaded processes split the cases (the toy models are small, so one thread each is enough;
# every unit draws its own noise, so the two-process and one-process runs agree up to float rounding in batched UNet calls). One process: `.venv/bin/imiebench bench`.
BENCH_PROCS ?= 2
bench: $(STAMP)
	OMP_NUM_THREADS=1 $(VENV)/bin/accelerate launch --multi_gpu --num_processes $(BENCH_PROCS) --num_machines 1 --mixed_precision no \
	  --dynamo_backend no -m imiebench.cli bench --device cpu --out $(OUT)/bench

test: $(STAMP)
	bash tests/run_all.sh

export: $(STAMP)
	$(VENV)/bin/nbdev_export && $(VENV)/bin/nbdev_clean && $(MAKE) readme

# README.md is generated from nbs/index.ipynb (nbdev_readme needs a Quarto binary, which cannot be installed offline)
readme: $(STAMP)
	$(VENV)/bin/jupyter nbconvert --log-level WARN --to markdown nbs/index.ipynb --output-dir . --output README

# The docs site: every notebook executed and rendered to HTML in _docs/ (offline).
# nbdev_docs needs a Quarto binary; PyPI's quarto-cli has no wheel and its build downloads Quarto,
# which fails without internet, so this target renders with nbconvert instead. Where Quarto is
# installed, `nbdev_docs` works too (settings.ini, nbs/_quarto.yml and nbs/nbdev.yml are in place).
# Figures are rendered inline (the kernel's own matplotlib backend: MPLBACKEND is unset for the kernel); the check
# fails the build when a notebook that draws has no figure in its page. One notebook: `make docs NBS=11_diffedit.ipynb`.
NBS ?= *.ipynb
docs: $(STAMP)
	mkdir -p _docs
	cd nbs && env -u MPLBACKEND ../$(VENV)/bin/jupyter nbconvert --log-level WARN --to html --execute \
	  --ExecutePreprocessor.timeout=600 --output-dir ../_docs $(NBS)
	$(PY) tests/check_docs_figures.py _docs $(if $(filter *.ipynb,$(NBS)),,$(NBS))
	$(PY) -c "import pathlib; fs = sorted(p.name for p in pathlib.Path('_docs').glob('*.html') if p.name != 'index.html'); \
	  pathlib.Path('_docs/contents.html').write_text('<h1>imiebench</h1><ul>' + ''.join(f'<li><a href=\"{f}\">{f[:-5]}</a></li>' for f in ['index.html'] + fs) + '</ul>')"
	@echo "docs: open _docs/contents.html"

train-zoo: $(STAMP)
	$(VENV)/bin/imiebench train-zoo
