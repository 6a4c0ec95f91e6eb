"""Size the main job's confirmatory run from a development-set run of the factorial arms.

For every primary test (`bench.factorial.FACTOR_CONTRASTS` × `PRIMARY_ENDPOINTS`) it estimates, on the development
records, the effect δ and the variance between cases (σ_b²) and between seeds of a case (σ_w²); then, for each design
(n cases × s seeds), the power at the Bonferroni level 0.05/6 to detect δ (and the declared smallest effects of
interest) and the main job's minutes from the measured seconds per unit. It writes `benchmarks/results/power_analysis.json`.

Usage (from the repository root, after a development run such as
`imiebench bench --set shapes --methods emilie,emilie_nomask,ip2p_mask,ip2p,emilie_blend,emilie_shared --seeds 0,1 --out runs/dev`):
  .venv/bin/python benchmarks/power_analysis.py runs/dev --seconds-per-unit 0.95
"""
from __future__ import annotations
import argparse, json, math, subprocess, sys
from pathlib import Path

import numpy as np
from harness import write_json

from imiebench.bench.records import load_records
from imiebench.bench.factorial import FACTOR_CONTRASTS, PRIMARY_ENDPOINTS, contrast_values, t_test, variance_components, power, cases_needed, detectable_effect

def total(n_with_value: float, frac: float) -> int|None:
    "Cases to run so that `n_with_value` have a value (None: no finite number; JSON has no infinity)."
    return math.ceil(n_with_value / frac) if np.isfinite(n_with_value) and frac > 0 else None

SMALLEST = {'retained_made': 0.05, 'masked_psnr_outside': 1.0}  # the smallest effects worth detecting (5 points of retention, 1 dB)

def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument('records', help="a development run's output folder (records.*.jsonl)")
    p.add_argument('--seconds-per-unit', type=float, default=0.95,
                   help="wall seconds of the main job per (case, seed, method) unit on 2 cores, all nine methods averaged (default: %(default)s)")
    p.add_argument('--methods', type=int, default=9, help='methods in the main job (default: %(default)s)')
    p.add_argument('--overhead', type=float, default=60., help='fixed seconds of a main-job run: loading, report (default: %(default)s)')
    p.add_argument('--out', default='power_analysis.json')
    a = p.parse_args(argv)
    recs = [r for r in load_records(Path(a.records)) if 'steps' in r]
    if not recs: sys.exit(f"no records in {a.records}")
    tests, n_dev = {}, len({r['case'] for r in recs})
    for c in FACTOR_CONTRASTS:
        for e in PRIMARY_ENDPOINTS:
            v = contrast_values(recs, c, e); t = t_test(v, c.name, e); sb, sw, s = variance_components(v)
            frac = t.n / n_dev  # cases with a value (retained_made: only cases where an earlier edit was made in every arm)
            designs = {f"{n}x{k}": dict(power_dev_effect=power(t.mean, sb, sw, max(2, round(n * frac)), k),
                                         power_smallest=power(SMALLEST[e], sb, sw, max(2, round(n * frac)), k),
                                         detectable_80=detectable_effect(sb, sw, max(2, round(n * frac)), k),
                                         minutes=(a.overhead + a.seconds_per_unit * a.methods * n * k) / 60)
                       for n in (40, 48, 56, 60, 80, 100, 120) for k in (1, 2, 3)}
            tests[f"{c.name}/{e}"] = dict(dev_effect=t.mean, dev_interval=[t.lo, t.hi], dev_n=t.n, fraction_of_cases_with_a_value=frac, sigma_b2=sb, sigma_w2=sw, seeds=s,
                                         cases_needed_dev_effect={k: total(cases_needed(t.mean, sb, sw, k), frac) for k in (1, 2, 3)},
                                         cases_needed_smallest={k: total(cases_needed(SMALLEST[e], sb, sw, k), frac) for k in (1, 2, 3)}, designs=designs)
            print(f"{c.name:>9} {e:<20} δ {t.mean:+.3f} [{t.lo:+.3f}, {t.hi:+.3f}]  σ_b² {sb:.4f} σ_w² {sw:.4f}  cases for 80 % (1/2/3 seeds): "
                  f"dev δ {list(tests[f'{c.name}/{e}']['cases_needed_dev_effect'].values())}, smallest {list(tests[f'{c.name}/{e}']['cases_needed_smallest'].values())}")
    commit = subprocess.run(['git', 'rev-parse', '--short', 'HEAD'], capture_output=True, text=True).stdout.strip()
    write_json(a.out, command='.venv/bin/python benchmarks/power_analysis.py ' + ' '.join(argv or sys.argv[1:]), fingerprint=None,  # records only, no model
               metrics=dict(command='.venv/bin/python benchmarks/power_analysis.py ' + ' '.join(argv or sys.argv[1:]), commit=commit,
                           development_run=dict(n_records=len(recs), methods=sorted({r['method'] for r in recs}),
                                                seeds=sorted({r['seed'] for r in recs}), cases=len({r['case'] for r in recs})),
                           alpha='0.05 / 6 (Bonferroni over the six primary tests; conservative for Holm)', smallest=SMALLEST, tests=tests))
    print(json.dumps({k: v['cases_needed_smallest'] for k, v in tests.items()}))

if __name__ == '__main__': main()
