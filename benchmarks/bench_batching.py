"""IMIE-Bench throughput: every method's units (case, seed) edited together (`run_units`, as `run_bench` does) against
one unit at a time, on the shipped toy zoo, with the largest pixel difference between the two.

    OMP_NUM_THREADS=1 .venv/bin/python benchmarks/bench_batching.py [--cases 8] [--seeds 0,1,2]

Writes benchmarks/results/bench_batching.json.
"""
import argparse, time, warnings
import numpy as np, torch
from imiebench.bench.format import load_bench
from imiebench.bench.methods import BenchConfig, DEFAULT_METHODS, run_units
from imiebench.bench.runner import chunk_units
from imiebench.toy.zoo import load_toy
from harness import write_json, command_line, toy_fingerprint

p = argparse.ArgumentParser(); p.add_argument('--cases', type=int, default=8); p.add_argument('--seeds', default='0,1,2')
p.add_argument('--methods', default=','.join(DEFAULT_METHODS)); a = p.parse_args()
torch.set_grad_enabled(False); warnings.filterwarnings('ignore')
cfg = BenchConfig(seeds=tuple(int(s) for s in a.seeds.split(',')))
bench = load_bench('shapes', max_cases=a.cases); cases = {c.id: c for c in bench.cases}
ip, sd = load_toy('ip2p'), load_toy('sd')
res = {}
for m in a.methods.split(','):
    units = [(m, s, c.id) for c in bench.cases for s in cfg.seeds]
    t0 = time.perf_counter(); batched = {}
    for ch in chunk_units(units, cases, cfg.batch):
        for u, ims in zip(ch, run_units(m, [(cases[c], s) for _, s, c in ch], cfg, ip, sd)): batched[u] = ims
    tb = time.perf_counter() - t0
    t0 = time.perf_counter(); diff = 0
    for u in units:
        ims = run_units(m, [(cases[u[2]], u[1])], cfg, ip, sd)[0]
        diff = max(diff, max(int(np.abs(x.astype(int) - y.astype(int)).max()) for x, y in zip(ims, batched[u])))
    t1 = time.perf_counter() - t0
    res[m] = dict(units=len(units), batched_s=round(tb, 2), one_at_a_time_s=round(t1, 2), speedup=round(t1 / tb, 2), max_pixel_diff=diff)
    print(m, res[m], flush=True)
tot_b, tot_1 = sum(r['batched_s'] for r in res.values()), sum(r['one_at_a_time_s'] for r in res.values())
out = dict(cases=a.cases, seeds=list(cfg.seeds), steps=cfg.steps, precision=cfg.precision, methods=res, total_speedup=round(tot_1 / tot_b, 2))
write_json('bench_batching.json', command=command_line(), fingerprint=toy_fingerprint('ip2p'), metrics=out)
print(f"SUMMARY: batched {tot_b:.0f} s vs one unit at a time {tot_1:.0f} s: {tot_1 / tot_b:.2f}x; largest pixel difference {max(r['max_pixel_diff'] for r in res.values())}")
