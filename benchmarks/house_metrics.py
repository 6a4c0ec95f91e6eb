"""The house in numbers, for the working tree or any commit (read with `git show`, nothing is checked out), so that
"before" and "after" come from this one script:

    .venv/bin/python benchmarks/house_metrics.py                  # the working tree (key 'worktree')
    .venv/bin/python benchmarks/house_metrics.py --rev 036719d    # a commit (key: its short hash; HEAD works too)

Writes benchmarks/results/house_metrics.json: `metrics` maps each measured commit to its numbers (entries from before
this layout, written by an earlier version of this script, are kept as they were). CI time on a fresh clone is not
measured here. What is counted, by pattern (a measure of the source, not of behaviour):

- modules: lines of every `imiebench/**/*.py` but `_modidx.py`; `modules_over_400_lines`.
- export cells: per notebook, the lines (with `#| export`) of each export cell that defines something; median / max per
  notebook, `notebooks_export_cell_median_over_20`; definitions per export cell.
- loops: a denoising loop is a line calling `.step(` on something other than an optimiser, LR schedule, EMA or grad
  scaler; a training loop is a line calling an optimiser's `.step(`; a CFG formula is an expression `u + w * (c - u)`.
- metric copies: per metric (psnr, ssim, lpips), each `def` whose name contains it, and for psnr each line computing
  `10 * log10` outside such a def (a PSNR written inline).
- metric implementations: the functions that compute a metric rather than call the core: psnr an inline `10 * log10`,
  ssim a call of scikit-image's `structural_similarity`, lpips a construction `lpips.LPIPS(` (a loader).
- method copies: per method, each function or class (any depth) whose name matches the method's pattern
  (`METHODS`) but the toy zoo's loaders (`NOT_METHOD`); `method_code_in_bench_toy` lists those in `bench/` and `toy/`,
  which should hold no method code.
- notebook asserts on committed files: non-export code cells that assert and read `benchmarks/results` (by path or
  through a reader: `harness.read_metrics`, `cli.result_metrics`, `cli.toy_rates`) or use a name
  bound (through any chain of assignments) to what such a read returned.
- zoo MB: the size of `imiebench/assets/zoo`.
"""
import argparse, ast, json, re, statistics, subprocess
from pathlib import Path
from harness import read_metrics, write_json, command_line

ROOT = Path(__file__).resolve().parents[1]
METHODS = dict(ddim=r'ddim', diffedit=r'diffedit', emilie=r'emilie|instruction_cond|ip2p_edit|editsession',
               blended=r'blend(?!_colou?r)', reed=r'reed|mixedsession|roundtrip', elements=r'element',
               mask_preparation=r'(prepare|prep|latent)_mask|mask_to_latent|resize_mask')  # name patterns (lower case)
# Not method code whatever the name: the toy zoo's loaders of shipped weights (`toy/` holds them by design), and the shapes
# oracle's colour of a blended pixel (`_blend_color`: an alpha blend, not blended diffusion; excluded in METHODS above).
NOT_METHOD = r'^_?(load|save)_toy_'
METRICS = ('psnr', 'ssim', 'lpips')


def git(*args: str) -> str:
    "stdout of a git command in the repository."
    return subprocess.run(['git', *args], cwd=ROOT, capture_output=True, text=True, check=True).stdout


def files(pattern: str, rev: str|None) -> dict[str, str]:
    "path -> text of the files matching `pattern` (tracked at `rev`, or in the working tree)."
    if rev is None: return {str(p.relative_to(ROOT)): p.read_text() for p in ROOT.glob(pattern)}
    rx = re.compile('^' + re.escape(pattern).replace(r'\*\*/', '(.*/)?').replace(r'\*', '[^/]*') + '$')
    return {n: git('show', f'{rev}:{n}') for n in git('ls-tree', '-r', '--name-only', rev).split() if rx.match(n)}


def where(py: dict[str, str], rx: str) -> list[str]:
    "'path:line' of every line of the modules matching regular expression `rx`."
    return sorted(f"{k}:{i + 1}" for k, v in py.items() for i, l in enumerate(v.splitlines()) if re.search(rx, l))


def definitions(py: dict[str, str]) -> list[tuple[str, str]]:
    "(module, name) of every function and class, at any depth, in the modules."
    out = []
    for k, v in py.items():
        try: t = ast.parse(v)
        except SyntaxError: continue
        out += [(k, n.name) for n in ast.walk(t) if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef))]
    return sorted(out)


def method_copies(defs: list[tuple[str, str]]) -> dict[str, dict]:
    "Per method: its definitions ('module:name') and the modules they are in."
    out = {}
    for m, rx in METHODS.items():
        hits = [f'{k}:{n}' for k, n in defs if re.search(rx, n.lower()) and not re.search(NOT_METHOD, n.lower())]
        out[m] = dict(definitions=len(hits), modules=sorted({h.split(':')[0] for h in hits}), where=hits)
    return out


def inside_defs(py: dict[str, str], name_rx: str) -> set[str]:
    "'path:line' of every line inside a function whose name matches `name_rx` (its `def` line included)."
    out = set()
    for k, v in py.items():
        try: t = ast.parse(v)
        except SyntaxError: continue
        out |= {f"{k}:{i}" for n in ast.walk(t) if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef)) and re.search(name_rx, n.name.lower())
                for i in range(n.lineno, n.end_lineno + 1)}
    return out


def enclosing(py: dict[str, str], hits: list[str]) -> list[str]:
    "'path:function' (innermost; 'path:<module>' outside any) of each 'path:line' hit, once each."
    out = set()
    for h in hits:
        k, i = h.rsplit(':', 1); i = int(i)
        fs = [n for n in ast.walk(ast.parse(py[k])) if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef)) and n.lineno <= i <= n.end_lineno]
        out.add(f"{k}:{max(fs, key=lambda n: n.lineno).name if fs else '<module>'}")
    return sorted(out)


def metric_copies(py: dict[str, str]) -> dict[str, list[str]]:
    """Per metric: where it is defined (a `def` with its name in the function's name; for psnr also an inline `10 * log10`
    outside such a def: the formula inside `def psnr` is that definition, not a second one)."""
    out = {m: where(py, rf'def \w*{m}\w*\(') for m in METRICS}
    inline = set(where(py, r'10\s*\*\s*(np\.|torch\.|math\.)?log10')) - inside_defs(py, 'psnr')
    out['psnr'] = sorted(set(out['psnr']) | inline)
    return out


READERS = r'\b(read_metrics|result_metrics)\(\s*f?[\'"]|\btoy_rates\(\)'  # a committed file read through a reader (harness, cli): by its bare name, or the checkout's rates


def result_asserts(text: str) -> int:
    """Non-export code cells of a notebook that assert on a committed result file: cells that read `benchmarks/results`
    and assert, and cells that assert on a name bound (directly or through other names, line by line) to what such a
    read returned; a name bound again to something else is no longer counted."""
    n, tainted = 0, set()
    asserts = re.compile(r'\b(assert|test_eq|test_close|test_fail|test_ne)\b')
    mentions = lambda l, names: any(re.search(rf'\b{re.escape(x)}\b', l) for x in names)
    for c in json.loads(text)['cells']:
        s = ''.join(c['source'])
        if c['cell_type'] != 'code' or s.startswith('#| export'): continue
        reads = ('results' in s and ('benchmarks' in s or 'RESULTS' in s)) or bool(re.search(READERS, s))
        used = mentions(s, tainted)
        for l in s.splitlines():
            m = re.match(r'\s*([\w, ]+?)\s*=(?!=)(.*)', l)
            if not m: continue
            lhs = {x.strip() for x in m.group(1).split(',') if x.strip().isidentifier()}
            if re.search(r'benchmarks/results|RESULTS|' + READERS, m.group(2)) or mentions(m.group(2), tainted): tainted |= lhs; used = True
            else: tainted -= lhs
        if asserts.search(s) and (reads or used): n += 1
    return n


def export_defs(text: str) -> list[tuple[int, int]]:
    "(definitions, lines) of every export cell of a notebook that defines something."
    out = []
    for c in json.loads(text)['cells']:
        s = ''.join(c['source'])
        if c['cell_type'] != 'code' or not s.startswith('#| export'): continue
        try: t = ast.parse('\n'.join(l for l in s.splitlines() if not l.startswith('#|')))
        except SyntaxError: continue
        n = sum(isinstance(x, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)) for x in t.body)
        if n: out.append((n, len(s.splitlines())))
    return out


def zoo_mb(rev: str|None) -> float:
    "Size of imiebench/assets/zoo (MB) at `rev` or in the working tree."
    if rev is None: return round(sum(p.stat().st_size for p in (ROOT / 'imiebench/assets/zoo').rglob('*') if p.is_file()) / 1e6, 2)
    rows = [l.split() for l in git('ls-tree', '-r', '-l', rev, 'imiebench/assets/zoo').splitlines()]
    return round(sum(int(r[3]) for r in rows if r[3].isdigit()) / 1e6, 2)


def notebook_numbers(nbs: dict[str, str]) -> dict:
    "Export-cell sizes per notebook and the notebook asserts on committed result files."
    per_nb = {Path(k).stem: export_defs(v) for k, v in nbs.items()}
    cells = [d for v in per_nb.values() for d in v]
    by_nb = {k: dict(cells=len(v), median=statistics.median(l for _, l in v), max=max(l for _, l in v)) for k, v in sorted(per_nb.items()) if v}
    return dict(export_cells=len(cells), defs_per_export_cell_median=statistics.median(n for n, _ in cells),
                defs_per_export_cell_mean=round(statistics.mean(n for n, _ in cells), 2),
                export_cell_lines_median=statistics.median(l for _, l in cells), export_cell_lines_by_notebook=by_nb,
                notebooks_export_cell_median_over_20=sorted(k for k, v in by_nb.items() if v['median'] > 20),
                notebook_asserts_on_result_files=sum(result_asserts(v) for v in nbs.values()))


def measure(rev: str|None) -> dict:
    "Every number above, at commit `rev` (None: the working tree)."
    py = {k: v for k, v in files('imiebench/**/*.py', rev).items() if not k.endswith('_modidx.py')}
    lines = {k: len(v.splitlines()) for k, v in py.items()}
    big = max(lines, key=lines.get)
    loops = [x for x in where(py, r'\.step\(') if not re.search(r'\b(opt|optim|optimizer|sched|lr_sched|ema|scaler)\s*\.step\(',
                                                                 py[x.rsplit(':', 1)[0]].splitlines()[int(x.rsplit(':', 1)[1]) - 1])]
    copies = method_copies(definitions(py))
    metrics = metric_copies(py)
    impl = {m: enclosing(py, where(py, rx)) for m, rx in dict(psnr=r'10\s*\*\s*(np\.|torch\.|math\.)?log10',
                                                             ssim=r'\bstructural_similarity\(', lpips=r'\blpips\.LPIPS\(').items()}
    return dict(modules=len(py), largest_module=big, largest_module_lines=lines[big],
                modules_over_400_lines={k: n for k, n in sorted(lines.items()) if n > 400},
                denoising_loops=loops, training_loops=where(py, r'\b(opt|optim|optimizer)\.step\('),
                cfg_formulas=where(py, r'(\w+) \+ (\w+) \* \((\w+) - \1\)'),
                metric_copies=metrics, metric_definitions_count={m: len(v) for m, v in metrics.items()},
                metric_implementations=impl, metric_implementations_count={m: len(v) for m, v in impl.items()},
                method_copies={m: dict(definitions=v['definitions'], modules=v['modules']) for m, v in copies.items()},
                method_code_in_bench_toy=sorted(w for v in copies.values() for w in v['where'] if w.startswith(('imiebench/bench/', 'imiebench/toy/'))),
                zoo_mb=zoo_mb(rev)) | notebook_numbers(files('nbs/*.ipynb', rev))


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split('\n')[0], formatter_class=argparse.RawDescriptionHelpFormatter, epilog=__doc__)
    p.add_argument('--rev', default=None, help='a commit (hash, tag, HEAD); default: the working tree')
    p.add_argument('--out', default='house_metrics.json', help='result file (a bare name goes to benchmarks/results/)')
    a = p.parse_args(argv)
    key = git('rev-parse', '--short=7', a.rev).strip() if a.rev else 'worktree'
    res = measure(a.rev)
    write_json(a.out, command=command_line(), fingerprint=None, metrics=(read_metrics(a.out, {}) or {}) | {key: res})  # no model
    print(key, json.dumps(res, indent=1))
    print(f"{key}: {len(res['modules_over_400_lines'])} modules over 400 lines, export-cell median {res['export_cell_lines_median']} lines "
          f"({len(res['notebooks_export_cell_median_over_20'])} notebooks over 20), {len(res['denoising_loops'])} denoising / "
          f"{len(res['training_loops'])} training loops, metric definitions {res['metric_definitions_count']} "
          f"(implementations {res['metric_implementations_count']}), "
          f"{len(res['method_code_in_bench_toy'])} method definitions in bench/toy, {res['notebook_asserts_on_result_files']} notebook asserts on result files, zoo {res['zoo_mb']} MB")
    return res


if __name__ == '__main__':
    main()
