"""What the instruction gate can reach at most with a given VAE: held-out edit success of the VAE round trip of each
edit's *target* (a perfect instruction UNet that returned the target's latent), per edit kind; how the
background textures of held-out textured scenes read back after one round trip; and, per texture, how much of the
input's detail the round trip keeps (high-pass correlation: mean highpass(decoded)·highpass(input) / mean highpass(input)²,
held-out scenes re-rendered with each texture).

    OMP_NUM_THREADS=1 .venv/bin/python benchmarks/instruction_ceiling.py [--vae DIR --name NAME --made-by "..."] [--n 200]

Adds one entry per VAE (`--name`, default 'shipped') to benchmarks/results/instruction_ceiling.json.
"""
import argparse, collections
import numpy as np, torch
from diffusers import AutoencoderKL
from harness import heldout_edits, upsert_run, command_line, weights_fingerprint
from imiebench.toy.world import random_scene, render
from imiebench.toy.oracle import edit_success, oracle
from imiebench.toy.zoo import HELDOUT_SEED, load_toy_vae, images_to_tensor, highpass

p = argparse.ArgumentParser(); p.add_argument('--vae', default=None); p.add_argument('--name', default='shipped')
p.add_argument('--n', type=int, default=200); p.add_argument('--made-by', default=None, help='how the --vae was made (recorded)')
a = p.parse_args(); torch.set_grad_enabled(False)
vae = AutoencoderKL.from_pretrained(a.vae, torch_dtype=torch.float32).eval() if a.vae else load_toy_vae()

def decode_trip(x): return torch.cat([vae.decode(vae.encode(c).latent_dist.mode()).sample for c in x.split(100)]).clamp(-1, 1)
def round_trip(images): return ((decode_trip(images_to_tensor(images, 'cpu')) + 1) * 127.5).round().byte().permute(0, 2, 3, 1).numpy()

edits = heldout_edits(a.n)
ok = [edit_success(im, e) for im, e in zip(round_trip(np.stack([e.target_image for e in edits])), edits)]
kinds = collections.defaultdict(list)
for o, e in zip(ok, edits): kinds[e.kind].append(o)
scenes = [random_scene(np.random.default_rng(HELDOUT_SEED + 20_000 + i), textured=True) for i in range(a.n)]
read = collections.Counter((s.texture, oracle(im, s).texture) for im, s in zip(round_trip(np.stack([render(s) for s in scenes])), scenes))
plain = [random_scene(np.random.default_rng(HELDOUT_SEED + 20_000 + i), textured=False) for i in range(40)]
detail = {}
for t in ('stripes', 'checks', 'noise'):
    x = images_to_tensor(np.stack([render(s.replace(texture=t)) for s in plain]), 'cpu'); h = highpass(x)
    detail[t] = round(float((highpass(decode_trip(x)) * h).mean() / h.pow(2).mean()), 3)
entry = dict(key=a.name, vae=a.vae or 'the shipped zoo VAE', made_by=a.made_by, n=a.n, edit_success=float(np.mean(ok)),
             per_kind={k: float(np.mean(v)) for k, v in sorted(kinds.items())},
             texture_read_back={f'{t} -> {r}': c for (t, r), c in sorted(read.items())},
             highpass_correlation=detail, command=command_line())
upsert_run('instruction_ceiling.json', entry, fingerprint=weights_fingerprint(vae))
print(entry)
