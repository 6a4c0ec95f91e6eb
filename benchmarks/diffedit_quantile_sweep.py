"""Choose DiffEdit's `extreme_quantile` on *training-range* edits (not the held-out ones the IoU benchmark reports):
mean IoU of the image-size mask against the ground-truth change mask for each quantile, from the same difference maps.

    OMP_NUM_THREADS=1 .venv/bin/python benchmarks/diffedit_quantile_sweep.py [--n 200]

Writes benchmarks/results/diffedit_quantile_sweep.json.
"""
import argparse
import numpy as np, torch, torch.nn.functional as F
from imiebench.toy.zoo import load_toy
from imiebench.toy.world import random_scene, random_edit
from imiebench.diffedit import diffedit_mask, rescale_map
from harness import iou, KINDS, write_json, command_line, toy_fingerprint

p = argparse.ArgumentParser(); p.add_argument('--n', type=int, default=200); p.add_argument('--qs', default='0.9,0.95,0.97,0.98,0.99,0.995,1.0')
a = p.parse_args(); torch.set_grad_enabled(False); b = load_toy('sd')
es = [random_edit(random_scene(np.random.default_rng(7_000_000 + i)), np.random.default_rng(8_000_000 + i)) for i in range(a.n)]  # training seeds
raws = [diffedit_mask(b, e.source_image, e.query_caption, e.ref_caption, generator=torch.Generator().manual_seed(0)).raw for e in es]
rows = {}
for q in map(float, a.qs.split(',')):
    v = [iou((F.interpolate(rescale_map(r, 'minmax', q), size=(64, 64), mode='bilinear', align_corners=False)[0, 0] > 0.5).numpy(), e.mask)
         for r, e in zip(raws, es)]
    rows[q] = dict(mean_iou=round(float(np.mean(v)), 4), object_edits=round(float(np.mean([x for x, e in zip(v, es) if e.kind in KINDS])), 4))
    print(q, rows[q], flush=True)
best = max(rows, key=lambda q: rows[q]['mean_iou'])
write_json('diffedit_quantile_sweep.json', command=command_line(), fingerprint=toy_fingerprint('sd'), metrics=dict(n=a.n, edits='training seeds', quantiles={str(q): r for q, r in rows.items()}, best=best, command=command_line()))
print(f"SUMMARY quantile sweep on {a.n} training-seed edits: best {best} ({rows[best]}); " + ', '.join(f"{q}: {r['mean_iou']:.3f}" for q, r in rows.items()))
