"""The rendered docs: every notebook that draws with matplotlib must show at least one image in its HTML, and every
local link, image and script of a page must resolve to a file of the site.

    .venv/bin/python tests/check_docs_figures.py [_docs] [--all | notebook names ...]   (run by `make docs`)
Prints figures per notebook; exits 1 when a drawing notebook's page has none (e.g. rendered under MPLBACKEND=Agg) or
when a local link does not resolve. With notebook names (a one-notebook build) a link to the page of another
notebook in nbs/ that is not built yet is listed, not failed; with --all (the whole site) every link must resolve.
"""
import json, re, sys
from pathlib import Path
from urllib.parse import unquote, urlsplit

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

LINK = re.compile(r'<(?:a|img|script|link|iframe|source)\b[^>]*?\s(?:href|src)\s*=\s*["\']([^"\']*)["\']', re.I)

def local_links(html: str) -> list:
    "The local targets (no scheme, no host, not a bare #anchor) of a page's links, images and scripts, without query or fragment."
    out = []
    for url in LINK.findall(html):
        u = urlsplit(url.strip())
        if u.scheme or u.netloc or not u.path: continue  # http(s):, data:, mailto:, javascript:, //host, '#x', '?x'
        out.append(unquote(u.path))
    return out

def broken_links(docs: Path, # the site's folder
                 pages: list, # the pages (paths) whose links are checked
                 nbs: Path=ROOT / 'nbs', # the notebooks' folder: a missing `X.html` with an `X.ipynb` there is "not built"
                ) -> tuple:
    "(broken, not_built): lists of (page name, target) for local links that do not resolve to a file."
    broken, not_built = [], []
    for page in pages:
        for target in dict.fromkeys(local_links(page.read_text(errors='replace'))):
            path = (page.parent / target).resolve()
            if path.is_file(): continue
            stem = Path(target).stem
            row = (page.name, target)
            (not_built if path.parent == docs.resolve() and path.suffix == '.html' and (nbs / (stem + '.ipynb')).exists()
             else broken).append(row)
    return broken, not_built

def main(docs='_docs', *names):
    docs = Path(docs); full = '--all' in names; names = [n for n in names if n != '--all']
    pages = sorted(docs.glob('*.html')) if not names else [docs / (Path(n).stem + '.html') for n in names]
    bad, rows = [], []
    for page in pages:
        nb = ROOT / 'nbs' / (page.stem + '.ipynb')
        if not nb.exists() or not page.exists(): continue
        n, d = figures(page.read_text(errors='replace')), draws(nb)
        rows.append(f"{page.stem}: {n} figure(s){' (draws)' if d else ''}")
        if d and n == 0: bad.append(page.stem)
    print('\n'.join(rows))
    linked = sorted({p for p in [*pages, docs / 'contents.html', docs / 'index.html'] if p.is_file()})
    broken, not_built = broken_links(docs, linked)
    if full: broken, not_built = broken + not_built, []
    if not_built: print("links to pages not built in this run (`make docs` builds them all): "
                        + ', '.join(f'{p} -> {t}' for p, t in not_built))
    fails = ([f"no figure in the rendered page of {', '.join(bad)}, which draw(s) with matplotlib"] if bad else []) + \
            ([f"{len(broken)} local link(s) do not resolve in {docs}: " + ', '.join(f'{p} -> {t}' for p, t in broken)] if broken else [])
    for f in fails: print('FAIL:', f)
    if fails: sys.exit(1)
    print(f"links: every local link of {len(linked)} page(s) resolves" + (" (or names a page not built yet)" if not_built else ''))

if __name__ == '__main__': main(*sys.argv[1:])
