"""Ship a trained REED VAE folder (one written by `benchmarks/reed_bench.py --parts long`) into the zoo as an int8 decoder delta,
then evaluate the *shipped* (quantised) weights exactly as the long runs are evaluated, record the run in zoo.json and the
int8 evaluation in the run's entry of benchmarks/results/reed_runs.json.

    OMP_NUM_THREADS=1 .venv/bin/python scripts/ship_reed_vae.py runs/<run>     # <run>: the entry's `run` field
"""
import json, sys
from pathlib import Path
ROOT = Path(__file__).resolve().parents[1]
import torch
from diffusers import AutoencoderKL
from imiebench.toy.reed import save_toy_reed_vae, load_toy_reed_vae, toy_data
from imiebench.toy.zoo import load_toy_vae, zoo_dir
sys.path.insert(0, str(ROOT / 'benchmarks')); from harness import RESULTS, read_metrics, upsert_run, toy_fingerprint, reed_evaluate as evaluate  # the long runs' own evaluation

run = Path(sys.argv[1]); torch.set_grad_enabled(False)
runs = [r for r in read_metrics(RESULTS / 'reed_runs.json', []) if r['run'] == run.name]
if not runs: raise SystemExit(f"{run.name}: no entry with this `run` in benchmarks/results/reed_runs.json")
res = runs[0]
vae = AutoencoderKL.from_pretrained(run / 'vae').eval()
base = load_toy_vae().state_dict()
assert all(torch.equal(v, base[k]) for k, v in vae.state_dict().items() if k.startswith(('encoder.', 'quant_conv.'))), 'encoder changed'
save_toy_reed_vae(vae)
sc, ph = toy_data(24, 0, 'test'), toy_data(0, 24, 'test')
shipped, van = evaluate(load_toy_reed_vae(), sc, ph), evaluate(load_toy_vae(), sc, ph)  # both here (a run may have been evaluated on a GPU)
d = {s: (round(shipped[s]['1']['psnr'] - van[s]['1']['psnr'], 2), round(shipped[s]['25']['psnr'] - van[s]['25']['psnr'], 2))
     for s in ('scenes', 'photos')}
zj = zoo_dir() / 'zoo.json'; z = json.loads(zj.read_text())
z['reed_vae'] = dict(run=run.name, config=res['config'], steps=res['REED']['train']['steps'], final_k=res['REED']['train']['final_k'],
                     change_at_1_gain_at_25_float=res['summary']['change_at_1_gain_at_25'], change_at_1_gain_at_25_shipped_int8=d,
                     note='decoder-only REED finetuning of the zoo VAE (benchmarks/reed_bench.py --parts long), shipped with scripts/ship_reed_vae.py')
zj.write_text(json.dumps(z, indent=1))
upsert_run(RESULTS / 'reed_runs.json', res | dict(int8=dict(change_at_1_gain_at_25={k: list(v) for k, v in d.items()}, device='cpu',
                                                           command=f'OMP_NUM_THREADS=1 .venv/bin/python scripts/ship_reed_vae.py runs/{run.name}')),
           fingerprint=toy_fingerprint('sd', 'reed_vae'), command=f'OMP_NUM_THREADS=1 .venv/bin/python scripts/ship_reed_vae.py runs/{run.name}')
print(f"SUMMARY shipped {run.name}: (change at 1, gain at 25) vs vanilla after int8 = {d} dB (float: {res['summary']['change_at_1_gain_at_25']})")
