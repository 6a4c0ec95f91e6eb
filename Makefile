# Two commands do all set-up (see README):  `make bench`  runs the main job,  `make test`  runs every test.
# Both create the local virtual environment .venv if it is missing.
SHELL := /bin/bash
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
OUT ?= out

.PHONY: venv bench test docs export readme train-zoo

$(STAMP): setup.py settings.ini Makefile
	@test -x $(PY) || python3 -m venv $(VENV)
	# torch/torchvision pinned as a pair (CUDA build; runs on CPU); everything else from settings.ini
	$(PY) -m pip install -q torch==2.14.1 torchvision==0.29.1
	$(PY) -m pip install -q -e '.[dev]'
	@touch $@

venv: $(STAMP)

bench: $(STAMP)
	$(VENV)/bin/imiebench bench --out $(OUT)

test: $(STAMP)
	bash tests/run_all.sh

export: $(STAMP)
	$(VENV)/bin/nbdev_export && $(VENV)/bin/nbdev_clean && $(MAKE) readme

# README.md is generated from nbs/index.ipynb (nbdev_readme needs a Quarto binary, which cannot be installed offline)
readme: $(STAMP)
	$(VENV)/bin/jupyter nbconvert --log-level WARN --to markdown nbs/index.ipynb --output-dir . --output README

docs: $(STAMP)
	$(PY) -m pip install -q quarto-cli
	PATH=$(abspath $(VENV))/bin:$$PATH $(VENV)/bin/nbdev_docs

train-zoo: $(STAMP)
	$(VENV)/bin/imiebench train-zoo
