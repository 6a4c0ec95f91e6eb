"""Sampler and guidance sweep of the shipped instruction UNet: oracle edit success and PSNR outside the ground-truth
change mask over samplers (`harness.SCHEDULERS`) and text/image guidance, on the gate's held-out pairs.

    OMP_NUM_THREADS=2 .venv/bin/python benchmarks/instruction_sweep.py [--n 100] [--steps 20] [--schedulers euler_a,euler,ddim,dpm] [--text 3] [--image 1.5]

Writes benchmarks/results/instruction_sweep.json (the previous sweep is kept there under `earlier` when `--keep-earlier NAME` names it).
"""
import argparse, itertools, json, time, torch
from harness import gate_instruction, write_json, command_line, read_metrics, toy_fingerprint

p = argparse.ArgumentParser(); p.add_argument('--n', type=int, default=100); p.add_argument('--steps', type=int, default=20)
p.add_argument('--schedulers', default='euler_a'); p.add_argument('--text', default='3,7.5,12'); p.add_argument('--image', default='1.0,1.5,2.5')
p.add_argument('--keep-earlier', default=None, help='keep the sweep already in the results file under this name')
a = p.parse_args(); torch.set_grad_enabled(False); rows = []
for sch, st, si in itertools.product(a.schedulers.split(','), map(float, a.text.split(',')), map(float, a.image.split(','))):
    t = time.time(); r = gate_instruction(a.n, steps=a.steps, text_cfg=st, image_cfg=si, scheduler=sch)
    r = {k: v for k, v in r.items() if k != 'success_per_edit'} | dict(seconds=round(time.time() - t)); rows.append(r); print(json.dumps(r), flush=True)
best = max(rows, key=lambda r: r['edit_success'])
earlier = {}
if a.keep_earlier:
    old = read_metrics('instruction_sweep.json')
    earlier = old.get('earlier', {}) | {a.keep_earlier: {k: v for k, v in old.items() if k != 'earlier'}}
write_json('instruction_sweep.json', command=command_line(), fingerprint=toy_fingerprint('ip2p'),
           metrics=dict(command=command_line(), runs=rows, best=best) | (dict(earlier=earlier) if earlier else {}))
print(f"SUMMARY: best success {best['edit_success']:.2f} with {best['scheduler']} at s_T {best['text_cfg']} s_I {best['image_cfg']} "
      f"(PSNR outside {best['psnr_outside_mask']:.1f} dB); "
      + ', '.join(f"{r['scheduler']} {r['text_cfg']}/{r['image_cfg']}: {r['edit_success']:.2f}/{r['psnr_outside_mask']:.1f}" for r in rows))
