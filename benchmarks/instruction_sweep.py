"""Guidance sweep of the shipped instruction UNet (the gate is at s_T 7.5, s_I 1.5): oracle edit success and
PSNR outside the ground-truth change mask over text/image guidance, on the gate's held-out pairs.

    OMP_NUM_THREADS=1 .venv/bin/python benchmarks/instruction_sweep.py [--n 100] [--steps 20]

Writes benchmarks/results/instruction_sweep.json.
"""
import argparse, json, time, torch
from harness import gate_instruction, write_json, command_line

p = argparse.ArgumentParser(); p.add_argument('--n', type=int, default=100); p.add_argument('--steps', type=int, default=20)
p.add_argument('--text', default='3,7.5,12'); p.add_argument('--image', default='1.0,1.5,2.5')
a = p.parse_args(); torch.set_grad_enabled(False); rows = []
for st in map(float, a.text.split(',')):
    for si in map(float, a.image.split(',')):
        t = time.time(); r = gate_instruction(a.n, steps=a.steps, text_cfg=st, image_cfg=si)
        r = r | dict(seconds=round(time.time() - t)); rows.append(r); print(json.dumps(r), flush=True)
best = max(rows, key=lambda r: r['edit_success'])
write_json('instruction_sweep.json', dict(command=command_line(), runs=rows, best=best))
print(f"SUMMARY: best success {best['edit_success']:.2f} at s_T {best['text_cfg']} s_I {best['image_cfg']} (PSNR outside {best['psnr_outside_mask']:.1f} dB); "
      + ', '.join(f"{r['text_cfg']}/{r['image_cfg']}: {r['edit_success']:.2f}/{r['psnr_outside_mask']:.1f}" for r in rows))
