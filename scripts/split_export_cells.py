"""Split every `#| export` / `#| exports` cell of the notebooks that defines more than one top-level function or class
into one cell per definition, so that each definition can be followed by its example (fastcore's notebooks: about one
definition per export cell).

    .venv/bin/python scripts/split_export_cells.py nbs/00_core.ipynb nbs/01_models.ipynb   # split, verify, write, clean
    .venv/bin/python scripts/split_export_cells.py --dry-run nbs/*.ipynb                   # split and verify; write nothing

A piece is a `def`/`class` with its decorators and the comment lines directly above it; module-level statements stay
with the definition they follow (statements before the first definition go with it); a run of imports is a cell of its
own. Every piece keeps the cell's `#|` directive lines; the first keeps the cell's id, the others get fresh ids. Cells
with one definition or none, and cells that do not parse as Python, are left as they are, so a second run changes
nothing.

Before writing a notebook, the modules nbdev exports from it (before and after the split, each into a temporary folder)
must be the same but for the `# %% ...` cell markers: the same syntax tree and the same non-blank lines, in order; the
one difference allowed is where nbdev puts the (same) `__all__`: after the cell of the `from __future__` import, which
the split can make an imports-only cell. A notebook that fails this check is not written, and the exit status is 1. A
written notebook is then cleaned with `nbdev_clean`. Then run `nbdev_export` to update the package (`git diff imiebench/`
shows cell markers only). Run it on notebooks nobody is editing at the time: the notebook is read, then rewritten.
"""
import argparse, ast, copy, json, os, re, sys, tempfile, uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DIRECTIVE = re.compile(r'^#\|\s*(\S+)')
EXPORT = ('export', 'exports')


def cell_text(c: dict) -> str:
    "A cell's source as one string."
    return ''.join(c['source']) if isinstance(c['source'], list) else c['source']


def split_directives(text: str) -> tuple[list[str], list[str]]:
    "(the leading `#|` directive lines, the remaining lines) of a cell's source."
    ls = text.splitlines()
    k = next((i for i, l in enumerate(ls) if not DIRECTIVE.match(l)), len(ls))
    return ls[:k], ls[k:]


def is_export(c: dict) -> bool:
    "A code cell whose directives include `#| export` or `#| exports`."
    return c['cell_type'] == 'code' and any(DIRECTIVE.match(l).group(1) in EXPORT for l in split_directives(cell_text(c))[0])


def _defs(tree: ast.Module) -> list[ast.stmt]:
    return [n for n in tree.body if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef))]


def pieces(body: list[str]) -> list[list[str]] | None:
    """The lines of each piece of a cell's body (directives removed), or None when the body defines fewer than two
    things or does not parse."""
    try: tree = ast.parse('\n'.join(body))
    except SyntaxError: return None
    if len(_defs(tree)) < 2: return None
    starts, has_def, has_import, prev_import, prev_end = [], False, False, False, 0  # what the piece being built holds so far
    for n in tree.body:
        is_def, is_import = isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)), isinstance(n, (ast.Import, ast.ImportFrom))
        first = min([n.lineno] + [d.lineno for d in getattr(n, 'decorator_list', [])]) - 1  # 0-based line of its first decorator
        while first > prev_end and body[first - 1].startswith('#'): first -= 1  # the comment lines directly above it
        if is_def:
            if has_def or has_import: starts.append(first)  # statements before the first definition go with it
            has_def, has_import = True, False
        elif is_import and not prev_import:  # a run of imports starts a piece of its own
            starts.append(first); has_def, has_import = False, True
        prev_import, prev_end = is_import, n.end_lineno
    bounds = sorted(set([0] + [s for s in starts if s > 0])) + [len(body)]
    out = []
    for a, b in zip(bounds, bounds[1:]):
        ls = body[a:b]
        while ls and not ls[0].strip(): ls = ls[1:]
        while ls and not ls[-1].strip(): ls = ls[:-1]
        if ls: out.append(ls)
    return out if len(out) > 1 else None


def _fresh_id(taken: set) -> str:
    while (i := uuid.uuid4().hex[:8]) in taken: pass
    taken.add(i); return i


def split_notebook(nb: dict) -> tuple[dict, list[str]]:
    "The notebook with its multi-definition export cells split, and one line per split cell (what became of it)."
    nb = copy.deepcopy(nb); taken = {c.get('id') for c in nb['cells']}; cells, said = [], []
    for i, c in enumerate(nb['cells']):
        ps = pieces(split_directives(cell_text(c))[1]) if is_export(c) else None
        if ps is None: cells.append(c); continue
        head = split_directives(cell_text(c))[0]
        for k, p in enumerate(ps):
            n = copy.deepcopy(c); n['outputs'] = []; n['execution_count'] = None
            if k: n['id'] = _fresh_id(taken)
            text = '\n'.join(head + p)
            n['source'] = text.splitlines(keepends=True)
            cells.append(n)
        said.append(f"cell {i} ({c.get('id')}): {len(ps)} cells")
    nb['cells'] = cells
    return nb, said


def exported(nb_path: Path) -> dict[str, str]:
    "relative path -> text of every module nbdev exports from the notebook (into a temporary folder next to it)."
    from nbdev.export import nb_export, black_format
    with tempfile.TemporaryDirectory(dir=nb_path.parent.parent) as d:
        lib = Path(d, 'lib'); lib.mkdir()
        nb_export(str(nb_path), lib_path=str(lib), procs=[black_format])
        return {str(p.relative_to(lib)): p.read_text() for p in sorted(lib.rglob('*.py'))}


def _parts(text: str) -> tuple[list[str], str, list, int]:
    "(non-blank lines but cell markers and `__all__`, the syntax tree without `__all__`, the `__all__` value(s), where it stands)."
    tree, ls = ast.parse(text), text.splitlines()
    alls = [n for n in tree.body if isinstance(n, ast.Assign) and any(isinstance(t, ast.Name) and t.id == '__all__' for t in n.targets)]
    drop = {i for n in alls for i in range(n.lineno - 1, n.end_lineno)}
    at = tree.body.index(alls[0]) if alls else -1
    tree.body = [n for n in tree.body if n not in alls]
    return [l for i, l in enumerate(ls) if i not in drop and l.strip() and not l.startswith('# %%')], ast.dump(tree), [ast.literal_eval(n.value) for n in alls], at


def compare(a: str, b: str) -> str|None:
    """Whether two module texts differ only by their `# %%` cell markers and blank lines: 'same', or 'same, __all__
    moved' where nbdev puts the same `__all__` elsewhere (after the cell of `from __future__` imports, which a split can
    leave shorter), else None."""
    pa, pb = _parts(a), _parts(b)
    if pa[:3] != pb[:3]: return None
    return 'same' if pa[3] == pb[3] else 'same, __all__ moved'


def write_nb(nb: dict, path: Path):
    path.write_text(json.dumps(nb, indent=1, ensure_ascii=False) + '\n')


def process(path: Path, dry_run: bool = False) -> bool:
    "Split one notebook, verify it, write it and clean it (`dry_run`: not write); False when the check refuses it."
    nb = json.loads(path.read_text()); path = path.relative_to(ROOT) if path.is_relative_to(ROOT) else path
    new, said = split_notebook(nb)
    if not said: print(f"{path}: nothing to split"); return True
    for s in said: print(f"{path}: {s}")
    with tempfile.TemporaryDirectory() as d:  # both versions at one path (the notebook's own name), so only the cells differ
        tmp = Path(d, 'nbs', path.name); tmp.parent.mkdir()
        write_nb(nb, tmp); before = exported(tmp)
        write_nb(new, tmp); after = exported(tmp)
    same = {k: compare(before[k], after[k]) for k in sorted(set(before) & set(after))}
    bad = sorted(set(before) ^ set(after)) + [k for k, v in same.items() if v is None]
    if bad or not before:
        print(f"{path}: NOT written: the exported module(s) would change beyond cell markers: {bad or 'nothing is exported'}", file=sys.stderr)
        return False
    ok = f"{len(nb['cells'])} -> {len(new['cells'])} cells; exported {', '.join(f'{k} ({v})' for k, v in same.items())}"
    if dry_run: print(f"{path}: would be written ({ok})"); return True
    write_nb(new, path)
    from nbdev.clean import nbdev_clean
    nbdev_clean(fname=str(path))
    print(f"{path}: written ({ok})")
    return True


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split('\n\n')[0], formatter_class=argparse.RawDescriptionHelpFormatter, epilog=__doc__)
    p.add_argument('notebooks', nargs='+', type=Path, metavar='NB', help='notebooks (.ipynb) to split in place')
    p.add_argument('--dry-run', action='store_true', help='split and verify, but write nothing')
    a = p.parse_args(argv)
    nbs = [n.resolve() for n in a.notebooks]
    missing = [str(n) for n in nbs if n.suffix != '.ipynb' or not n.is_file()]
    if missing: p.error(f"not a notebook file: {', '.join(missing)}")
    os.chdir(ROOT)  # nbdev's settings.ini
    ok = [process(n, a.dry_run) for n in nbs]
    return 0 if all(ok) else 1


if __name__ == '__main__':
    sys.exit(main())
