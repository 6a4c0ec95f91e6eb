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

# The docs site: every notebook executed and rendered to HTML in _docs/ (offline), with index.html (from
# nbs/index.ipynb) and contents.html (every page built so far). nbdev_docs needs a Quarto binary; PyPI's quarto-cli
# has no wheel and its build downloads Quarto, which fails without internet, so this target renders with nbconvert
# instead. Where Quarto is installed, `nbdev_docs` works too (settings.ini, nbs/_quarto.yml and nbs/nbdev.yml are in place).
# Maths: MathJax 2.7 from the jupyter-server-mathjax package (a dev requirement) is copied to _docs/mathjax/ and
# loaded by a relative URL, so pages render their maths offline (HTML-CSS output with the package's STIX-Web fonts
# when served over http; opened from file:// the browser refuses web fonts and MathJax uses the system's).
# Widgets in the pages still load their renderer from a CDN (not offline: they show nothing without a network).
# Links between notebooks (`[x](10_ddim.ipynb)`) point at their pages (.html).
# Figures are rendered inline (the kernel's own matplotlib backend: MPLBACKEND is unset for the kernel); the check
# fails the build when a notebook that draws has no figure in its page, or when a local link or image does not
# resolve (in a one-notebook build, links to pages not yet built are listed, not failed).
# One notebook: `make docs NBS=11_diffedit.ipynb`; another folder: `make docs DOCS=/tmp/site`.
NBS ?= *.ipynb
DOCS ?= _docs
MATHJAX_URL := mathjax/MathJax.js?config=TeX-AMS-MML_HTMLorMML-full,Safe,local/imiebench
docs: $(STAMP)
	mkdir -p $(DOCS)
	rm -rf $(DOCS)/mathjax && cp -r "$$($(PY) -c 'import jupyter_server_mathjax as m, pathlib; print(pathlib.Path(m.__file__).parent/"static")')" $(DOCS)/mathjax
	mkdir -p $(DOCS)/mathjax/config/local && printf '%s\n' \
	  'MathJax.Hub.Config({"HTML-CSS": {availableFonts: [], preferredFont: null, webFont: "STIX-Web", imageFont: null}});' \
	  'MathJax.Ajax.loadComplete("[MathJax]/config/local/imiebench.js");' > $(DOCS)/mathjax/config/local/imiebench.js
	cd nbs && env -u MPLBACKEND "$(abspath $(VENV))/bin/jupyter" nbconvert --log-level WARN --to html --execute \
	  --ExecutePreprocessor.timeout=600 --HTMLExporter.mathjax_url='$(MATHJAX_URL)' --output-dir "$(abspath $(DOCS))" $(NBS)
	sed -i -E 's/(href="[^":#]*)\.ipynb([#"])/\1.html\2/g' $(DOCS)/*.html
	$(PY) -c "import pathlib; d = pathlib.Path('$(DOCS)'); fs = sorted(p.name for p in d.glob('*.html') if p.name not in ('index.html', 'contents.html')); \
	  fs = (['index.html'] if (d / 'index.html').exists() else []) + fs; \
	  (d / 'contents.html').write_text('<!DOCTYPE html><meta charset=\"utf-8\"><title>imiebench: contents</title><h1>imiebench</h1><ul>' + ''.join(f'<li><a href=\"{f}\">{f[:-5]}</a></li>' for f in fs) + '</ul>')"
	$(PY) tests/check_docs_figures.py $(DOCS) $(if $(filter *.ipynb,$(NBS)),--all,$(NBS))
	@echo "docs: open $(DOCS)/contents.html"

train-zoo: $(STAMP)
	$(VENV)/bin/imiebench train-zoo
