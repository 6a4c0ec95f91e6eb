"""IMIE-Bench main job in bfloat16 (`--precision bfloat16`, the default) against float32: wall time and how many step
outcomes change, from two finished runs of the same set and seeds.

    OMP_NUM_THREADS=1 .venv/bin/accelerate launch --multi_gpu --num_processes 2 --num_machines 1 --mixed_precision no \
      --dynamo_backend no -m imiebench.cli bench --device cpu --out out/fp32/bench --precision float32     # (and `time` it)
    make bench OUT=out/bf16                                                                               # bfloat16
    .venv/bin/python benchmarks/bench_precision.py out/fp32/bench out/bf16/bench --seconds 971 689

Writes benchmarks/results/bench_precision.json.
"""
import argparse, csv, json
from pathlib import Path
from harness import write_json, command_line

p = argparse.ArgumentParser(); p.add_argument('fp32'); p.add_argument('bf16')
p.add_argument('--seconds', type=float, nargs=2, default=None, help='wall time of each run (seconds), as measured by `time`')
a = p.parse_args()
rows = lambda d: {(r['method'], r['seed'], r['case'], r['step']): r for r in csv.DictReader(open(Path(d) / 'steps.csv'))}
A, B = rows(a.fp32), rows(a.bf16)
keys = sorted(set(A) & set(B))
if not keys: raise SystemExit("the two runs share no (method, seed, case, step): run both on the same set and seeds")
rep_a, rep_b = (json.loads((Path(d) / 'report.json').read_text()) for d in (a.fp32, a.bf16))
out = dict(command=command_line(), steps_compared=len(keys), methods={})
for m in sorted({k[0] for k in keys}):
    ks = [k for k in keys if k[0] == m]
    same = sum(A[k]['success'] == B[k]['success'] for k in ks) / len(ks)
    d_psnr = sum(abs(float(A[k]['psnr_input']) - float(B[k]['psnr_input'])) for k in ks) / len(ks)
    fs = lambda r: r['methods'][m]['final_success']
    out['methods'][m] = dict(step_outcome_unchanged=round(same, 4), mean_abs_delta_psnr_input_db=round(d_psnr, 3),
                             final_success_fp32=round(fs(rep_a)['mean'], 3), final_success_bf16=round(fs(rep_b)['mean'], 3),
                             bf16_interval=[round(fs(rep_b)['lo'], 3), round(fs(rep_b)['hi'], 3)],
                             seconds_per_edit_fp32=round(rep_a['methods'][m]['seconds_per_edit']['mean'], 3),
                             seconds_per_edit_bf16=round(rep_b['methods'][m]['seconds_per_edit']['mean'], 3))
    print(m, out['methods'][m], flush=True)
if a.seconds: out |= dict(wall_s=dict(fp32=a.seconds[0], bf16=a.seconds[1]), speedup=round(a.seconds[0] / a.seconds[1], 2))
write_json('bench_precision.json', command=command_line(), fingerprint=None, metrics=out)  # reads two runs' records (their weights: each report.json)
print('SUMMARY:', json.dumps({k: v for k, v in out.items() if k != 'methods'}))
