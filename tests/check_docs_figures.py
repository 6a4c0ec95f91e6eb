"""Figures in the rendered docs: every notebook that draws with matplotlib must show at least one image in its HTML.

    .venv/bin/python tests/check_docs_figures.py [_docs] [notebook names ...]   (run by `make docs`)
Prints figures per notebook; exits 1 when a drawing notebook's page has none (e.g. rendered under MPLBACKEND=Agg).
"""
import json, re, sys
from pathlib import Path

ROOT = Path(__file__).parents[1]
DRAWS = re.compile(r'^\s*(import matplotlib\.pyplot|from matplotlib import pyplot)|\bplt\.(subplots|figure|imshow|plot)\(|\.strip\(\)\s*$', re.M)

def draws(nb: Path) -> bool:
    "Does a code cell (not `#| notest`, not `#| export`) of the notebook draw a matplotlib figure?"
    cells = json.loads(nb.read_text())['cells']
    return any(c['cell_type'] == 'code' and DRAWS.search(''.join(c['source'])) and not re.search(r'^#\|\s*(notest|export|eval:\s*false)', ''.join(c['source']), re.M)
               for c in cells)

def figures(html: str) -> int:
    "Number of embedded raster images in a rendered notebook page."
    return len(re.findall(r'<img[^>]+src="data:image/(png|jpeg)', html))

def main(docs='_docs', *names):
    docs = Path(docs); pages = sorted(docs.glob('*.html')) if not names else [docs / (Path(n).stem + '.html') for n in names]
    bad, rows = [], []
    for page in pages:
        nb = ROOT / 'nbs' / (page.stem + '.ipynb')
        if not nb.exists() or not page.exists(): continue
        n, d = figures(page.read_text(errors='replace')), draws(nb)
        rows.append(f"{page.stem}: {n} figure(s){' (draws)' if d else ''}")
        if d and n == 0: bad.append(page.stem)
    print('\n'.join(rows))
    if bad: print(f"FAIL: no figure in the rendered page of {', '.join(bad)}, which draw(s) with matplotlib"); sys.exit(1)

if __name__ == '__main__': main(*sys.argv[1:])
