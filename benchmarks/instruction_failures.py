"""What the instruction UNet does with recolor and reshape instructions (40 held-out scenes each, s_T 3, s_I 1.5, 20 steps):
is the named property right, unchanged, something else, or is the object gone; and how many pass the oracle's full check.

    OMP_NUM_THREADS=2 .venv/bin/python benchmarks/instruction_failures.py

Writes benchmarks/results/instruction_failures.json.
"""
import numpy as np, torch, PIL.Image, collections
from imiebench.toy.zoo import load_toy
from imiebench.toy.world import random_scene, random_edit
from imiebench.toy.oracle import oracle, edit_success
from harness import write_json, command_line
torch.set_grad_enabled(False)
rng = lambda s: np.random.default_rng(s)
pipe = load_toy('ip2p').pipeline(); counts = {}
for kind in ('recolor', 'reshape'):
    edits = [random_edit(random_scene(rng(60_000 + i)), rng(70_000 + i), kinds=(kind,)) for i in range(40)]
    ims = pipe([e.instruction for e in edits], image=[PIL.Image.fromarray(e.source_image) for e in edits], num_inference_steps=20,
               guidance_scale=3.0, image_guidance_scale=1.5, output_type='np', generator=torch.Generator().manual_seed(0)).images
    c = collections.Counter()
    for a, e in zip((ims * 255).round().astype(np.uint8), edits):
        v = oracle(a, e.target).objects[e.obj_index]; o_src = e.source.objects[e.obj_index]; o_tgt = e.target.objects[e.obj_index]
        if kind == 'recolor': c['ok' if v.color == o_tgt.color else ('unchanged' if v.color == o_src.color else ('gone' if not v.present else 'other'))] += 1
        else: c['ok' if v.shape == o_tgt.shape else ('unchanged' if v.shape == o_src.shape else ('gone' if not v.present else 'other'))] += 1
        c['success'] += edit_success(a, e)
    print(kind, dict(c), edits[0].instruction, edits[1].instruction); counts[kind] = dict(c)
write_json('instruction_failures.json', dict(command=command_line(), n_per_kind=40, text_cfg=3.0, image_cfg=1.5, steps=20, counts=counts,
           meaning="ok: the named property is right; success: the oracle's full check (shape, size, position too); unchanged: the old value; gone: the object is missing"))
