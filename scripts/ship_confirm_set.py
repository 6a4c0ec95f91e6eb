"""Write the main job's confirmatory set `shapes_confirm` into the package (`imiebench/assets/bench/shapes_confirm`).

    .venv/bin/python scripts/ship_confirm_set.py --n 32

Its scenes are drawn from `bench.sets.CONFIRM_SEED`, a seed range no result had read when the analysis in
`bench.factorial` was declared; `--n` comes from the power analysis (`benchmarks/power_analysis.py`). Refuses to
overwrite a shipped set (delete it first, knowingly: a confirmatory set is read once).
"""
import argparse, sys
from imiebench.bench.format import bench_dir, load_bench
from imiebench.bench.sets import CONFIRM_SEED, make_shapes_set

p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
p.add_argument('--n', type=int, required=True, help='cases (scenes), from the power analysis')
a = p.parse_args()
if a.n < 2: sys.exit(f"--n must be at least 2, got {a.n}")
out = bench_dir() / 'shapes_confirm'
if out.exists(): sys.exit(f"{out} exists: a confirmatory set is written once (delete it first if you mean to replace it)")
make_shapes_set(out, n=a.n, seed=CONFIRM_SEED, name='shapes_confirm')
print(load_bench('shipped:shapes_confirm'))
