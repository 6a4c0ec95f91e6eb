"""The house in numbers: module sizes, denoising loops, training loops, classifier-free-guidance formulas and metric
definitions in the package; definitions and lines per export cell in each notebook; notebook asserts that read committed
result files; the size of the shipped toy zoo — for the working tree or any commit.

    .venv/bin/python benchmarks/house_metrics.py            # the working tree
    .venv/bin/python benchmarks/house_metrics.py 1386137    # a commit (read with `git show`, nothing is checked out)

Writes benchmarks/results/house_metrics.json (keyed by the commit, or 'worktree').
A denoising loop is a line that calls a scheduler's `.step(` inside a `for` over timesteps (counted as lines calling
`.step(` on something other than an optimiser, LR schedule, EMA or grad scaler); a training loop is a line calling an
optimiser's `.step(`; a CFG formula is an expression `u + w * (c - u)`; a metric definition is a `def` whose name contains
`psnr` or `ssim`, or a line computing `10 * log10` (a PSNR written inline); a notebook assert on a committed file is a
non-export code cell that reads `benchmarks/results` and asserts (`assert`, `test_eq`, `test_close`, ...).
"""
import ast, json, re, statistics, subprocess, sys
from pathlib import Path
from harness import read_json, write_json

ROOT = Path(__file__).resolve().parents[1]
rev = sys.argv[1] if len(sys.argv) > 1 else None

def files(pattern: str) -> dict[str, str]:
    "path -> text of the tracked files matching `pattern` (at `rev`, or in the working tree)."
    if rev is None: return {str(p.relative_to(ROOT)): p.read_text() for p in ROOT.glob(pattern)}
    names = subprocess.run(['git', 'ls-tree', '-r', '--name-only', rev], cwd=ROOT, capture_output=True, text=True, check=True).stdout.split()
    rx = re.compile('^' + re.escape(pattern).replace(r'\*\*/', '(.*/)?').replace(r'\*', '[^/]*') + '$')
    return {n: subprocess.run(['git', 'show', f'{rev}:{n}'], cwd=ROOT, capture_output=True, text=True, check=True).stdout for n in names if rx.match(n)}

py = {k: v for k, v in files('imiebench/**/*.py').items() if not k.endswith('_modidx.py')}
lines = {k: len(v.splitlines()) for k, v in py.items()}
loops = sorted(f"{k}:{i + 1}" for k, v in py.items() for i, l in enumerate(v.splitlines())
               if '.step(' in l and not re.search(r'\b(opt|optim|optimizer|sched|lr_sched|ema|scaler)\s*\.step\(', l))
cfg = re.compile(r'(\w+) \+ (\w+) \* \((\w+) - \1\)')
cfgs = sorted(f"{k}:{i + 1}" for k, v in py.items() for i, l in enumerate(v.splitlines()) if cfg.search(l))
train_loops = sorted(f"{k}:{i + 1}" for k, v in py.items() for i, l in enumerate(v.splitlines()) if re.search(r'\b(opt|optim|optimizer)\.step\(', l))
metric_defs = sorted(f"{k}:{i + 1}" for k, v in py.items() for i, l in enumerate(v.splitlines())
                     if re.search(r'def \w*(psnr|ssim)\w*\(', l) or re.search(r'10\s*\*\s*(np\.|torch\.|math\.)?log10', l))

def result_asserts(text: str) -> int:
    "Non-export code cells of a notebook that read a committed result file and assert."
    n = 0
    for c in json.loads(text)['cells']:
        s = ''.join(c['source'])
        if c['cell_type'] == 'code' and not s.startswith('#| export') and 'benchmarks' in s and 'results' in s \
           and re.search(r'\b(assert|test_eq|test_close|test_fail|test_ne)\b', s): n += 1
    return n

def zoo_mb() -> float:
    "Size of imiebench/assets/zoo (MB) at `rev` or in the working tree."
    if rev is None: return round(sum(p.stat().st_size for p in (ROOT / 'imiebench/assets/zoo').rglob('*') if p.is_file()) / 1e6, 2)
    out = subprocess.run(['git', 'ls-tree', '-r', '-l', rev, 'imiebench/assets/zoo'], cwd=ROOT, capture_output=True, text=True, check=True).stdout
    return round(sum(int(l.split()[3]) for l in out.splitlines() if l.split()[3].isdigit()) / 1e6, 2)

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

nbs = files('nbs/*.ipynb')
per_nb = {Path(k).stem: export_defs(v) for k, v in nbs.items()}
cells = [d for v in per_nb.values() for d in v]
cell_lines = {k: dict(median=statistics.median(l for _, l in v), max=max(l for _, l in v)) for k, v in sorted(per_nb.items()) if v}
big = max(lines, key=lines.get)
res = dict(modules=len(py), largest_module=big, largest_module_lines=lines[big], modules_over_400_lines=sorted(k for k, n in lines.items() if n > 400),
           denoising_loops=loops, cfg_formulas=cfgs, export_cells=len(cells),
           defs_per_export_cell_median=statistics.median(n for n, _ in cells), defs_per_export_cell_mean=round(statistics.mean(n for n, _ in cells), 2),
           export_cell_lines_median=statistics.median(l for _, l in cells),
           export_cell_lines_by_notebook=cell_lines,
           notebooks_export_cell_median_over_20=sorted(k for k, v in cell_lines.items() if v['median'] > 20),
           training_loops=train_loops, metric_definitions=metric_defs,
           notebook_asserts_on_result_files=sum(result_asserts(v) for v in nbs.values()), zoo_mb=zoo_mb())
key = rev or 'worktree'
write_json('house_metrics.json', (read_json('house_metrics.json', {}) or {}) | {key: res})
print(key, json.dumps(res, indent=1))
