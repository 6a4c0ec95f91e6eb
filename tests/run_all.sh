#!/usr/bin/env bash
# Every test: the package is in sync with the notebooks, notebooks are clean, every notebook runs, pytest.
set -euo pipefail
cd "$(dirname "$0")/.."
V=.venv/bin
export PYTHONHASHSEED=0 MPLBACKEND=Agg HF_HUB_OFFLINE=1 TOKENIZERS_PARALLELISM=false
t0=$(date +%s)

echo "== nbdev_export leaves the package unchanged"
snap=$(mktemp -d); cp -r imiebench "$snap/"
$V/nbdev_export
if ! diff -r -q -x __pycache__ -x assets "$snap/imiebench" imiebench; then
  echo "FAIL: imiebench/ was not in sync with nbs/ (nbdev_export changed it; commit the exported files)"; exit 1
fi
rm -rf "$snap"

echo "== notebooks are cleaned"
before=$(cat nbs/*.ipynb | sha256sum)
$V/nbdev_clean
if [ "$before" != "$(cat nbs/*.ipynb | sha256sum)" ]; then
  echo "FAIL: nbdev_clean changed notebooks (commit the cleaned notebooks)"; exit 1
fi

echo "== README.md is generated from nbs/index.ipynb"
tmpd=$(mktemp -d)
$V/jupyter nbconvert --log-level WARN --to markdown nbs/index.ipynb --output-dir "$tmpd" --output README
if ! diff -q "$tmpd/README.md" README.md; then echo "FAIL: README.md is stale: run 'make readme' and commit it"; exit 1; fi
rm -rf "$tmpd"

echo "== ruff (ruff.toml): no undefined names, unused imports or unused locals in imiebench/, nbs/*.ipynb, tests/, benchmarks/ and scripts/"
$V/ruff check --no-cache --quiet imiebench nbs tests benchmarks scripts || { echo "FAIL: ruff findings above: fix them (for imiebench/: in the notebooks, then nbdev_export)"; exit 1; }

echo "== import-linter (.importlinter): the house's layers — methods never import the toy zoo, the bench, widgets or the CLI"
$V/lint-imports --no-cache || { echo "FAIL: an import breaks a layering contract above (.importlinter)"; exit 1; }

echo "== nbdev_test (every notebook; a traceback or stderr output outside tests/nb_output_allowlist.txt fails it)"
$V/python tests/nbdev_test_outputs.py --n_workers 2 --do_print

echo "== chromium for the browser test (Debian's package; never 'playwright install', which downloads a browser)"
if ! command -v chromium >/dev/null 2>&1 && ! command -v chromium-browser >/dev/null 2>&1; then
  SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends chromium
fi
command -v chromium >/dev/null 2>&1 || command -v chromium-browser >/dev/null 2>&1 \
  || { echo "FAIL: chromium is not on PATH and could not be installed; tests/test_browser.py needs it"; exit 1; }
$V/python -c "import playwright.sync_api" 2>/dev/null || $V/python -m pip install -q playwright

echo "== pytest"
$V/python -m pytest -q -n 2 --dist loadfile tests  # two processes (pytest-xdist), each test file in one of them; tests that launch accelerate take a free port (--main_process_port 0)
echo "test command took $(( $(date +%s) - t0 )) s"
