"""REED on a 16-channel VAE: round-trip drift of the toy zoo's 4-channel VAE and a 16-channel toy VAE of FLUX.1's latent
layout (imiebench.toy.vae16), each before and after a short REED finetune, on held-out shapes-world scenes.

    OMP_NUM_THREADS=1 .venv/bin/python benchmarks/reed_16ch.py [--parts train,reed,drift] [--vae-budget 840] [--reed-budget 240] [--n-scenes 100]

`train`: the 16-channel VAE, widened from the zoo VAE (`widen_vae`: the same mode round trip to start with) and trained with
the zoo's VAE recipe (`train_vae16`) for --vae-budget seconds, checkpointed (runs/reed_16ch/ckpt_vae16: a second call resumes);
saved to runs/reed_16ch/vae16 (5.5 MB in fp16: the package does not ship it). `reed`: the same REED finetune (the shipped REED
decoder's recipe, --reed-budget seconds) of both VAEs, saved to runs/reed_16ch/reed4, reed16. `drift`: PSNR against the
input after each of 1..25 quantised round trips (posterior mode) of --n-scenes held-out renders (the sources and targets of pool
edits with seeds REED16_SEED.., a range nothing else uses), per VAE a mean with a 95 % bootstrap interval over cases (a pool
seed: its source and target), and the paired differences 16 − 4 channels and REED − vanilla.
Prints JSON plus one summary line; writes benchmarks/results/reed_16ch.json.
"""
import argparse, dataclasses, json, os, time
os.environ.setdefault('OMP_NUM_THREADS', '1'); os.environ.setdefault('HF_HUB_OFFLINE', '1')
from pathlib import Path
import numpy as np, torch
from diffusers import AutoencoderKL
torch.set_num_threads(int(os.environ['OMP_NUM_THREADS']))
from imiebench.core import to_tensor
from imiebench.training import TrainConfig
from imiebench.reed import REEDConfig, train_reed
from imiebench.toy.zoo import HELDOUT_SEED, load_toy_vae, make_pool
from imiebench.toy.zoo_train import cached_pool
from imiebench.toy.reed import toy_data
from imiebench.toy.vae16 import widen_vae, train_vae16
from imiebench.bench.report import bootstrap_ci
from harness import write_json, command_line, weights_fingerprint
from reed_bench import roundtrips_each

OUT = 'reed_16ch.json'
WORK = Path('runs/reed_16ch')
REED16_SEED = HELDOUT_SEED + 6_000_000  # held-out scenes of this benchmark; reed_bench's fresh range is + 5,000,000, the benches stay below + 300,000
TRIPS = tuple(range(1, 26))
NAMES = ('4ch', '16ch', '4ch+REED', '16ch+REED')

def vae_config(budget=840.):
    """The 16-channel VAE's training, minutes on one thread: batch 16, AdamW at 5e-5 (the zoo's later VAE stages ran at 1e-4, batch 32;
    a widened VAE starts at its optimum and larger steps first undo it), 20 warm-up steps, cosine over the length fitted to `budget`,
    the returned weights an EMA (0.99)."""
    return TrainConfig(steps=100_000, batch_size=16, lr=5e-5, warmup=20, ckpt_every=25, time_budget=budget, seed=0, ema_decay=0.99)

def train(res, budget, n_pool):
    cfg = vae_config(budget)
    pool = cached_pool(WORK, n_pool, 0, progress=False)
    t0 = time.time()
    r = train_vae16(pool, [], cfg, WORK / 'ckpt_vae16', init=widen_vae(load_toy_vae()), progress=False)
    r.model.save_pretrained(WORK / 'vae16')
    res["train_vae16"] = dict(command=command_line(), init='widen_vae(load_toy_vae()): the zoo VAE widened to 16 channels, the same posterior-mode round trip at step 0',
                              recipe='toy.vae16.train_vae16 (recipes.train_vae: shapes renders only, half with render variation, the posterior mode decoded) then set_shift_scale',
                              pool=dict(n=n_pool, seed=0), config=dataclasses.asdict(r.config), steps=r.steps, seconds=round(time.time() - t0, 1),
                              loss_first25=float(np.mean(r.losses[:25])), loss_last25=float(np.mean(r.losses[-25:])),
                              shift_factor=r.model.config.shift_factor, scaling_factor=r.model.config.scaling_factor,
                              params=sum(p.numel() for p in r.model.parameters()))
    print(f"SUMMARY train: 16-channel VAE {r.steps} steps in {time.time() - t0:.0f} s, loss {res['train_vae16']['loss_first25']:.4f} -> {res['train_vae16']['loss_last25']:.4f}", flush=True)

def reed_config(budget):
    """The shipped REED decoder's recipe (the zoo's `reed_vae` entry: IT+FSL+DI on the posterior mode, FSL target from the starting
    decoder, anchor 3, LPIPS weight 0.3, EMA 0.99, batch 8, SGD 3e-3), time-boxed to `budget` seconds."""
    from imiebench.toy.zoo import zoo_dir
    cfg = json.loads((zoo_dir() / 'zoo.json').read_text())['reed_vae']['config']
    return REEDConfig(**cfg | dict(time_budget=budget, ckpt_every=20))

def reed(res, budget):
    tr, va = toy_data(768, 256, 'train'), toy_data(24, 8, 'val')
    cfg, out = reed_config(budget), res.setdefault('reed', {})
    for name, vae in (('4ch', load_toy_vae()), ('16ch', AutoencoderKL.from_pretrained(WORK / 'vae16'))):
        r = train_reed(tr, va, cfg, vae, ckpt_dir=WORK / f'ckpt_reed_{name}', progress=False)
        r.vae.save_pretrained(WORK / f'reed{name[:-2]}')
        out[name] = dict(steps=r.steps, seconds=round(r.seconds, 1), final_k=r.ks[-1], stopped=r.stopped, val=r.val)
        print(f"reed {name}: {r.steps} steps, final k {r.ks[-1]}", flush=True)
    out['config'] = dataclasses.asdict(cfg); out['data'] = "toy_data(768, 256, 'train'), validation toy_data(24, 8, 'val')"

def heldout_scenes(n):
    "`n` held-out renders (sources then targets of n/2 pool edits from REED16_SEED) and each image's case (its pool seed)."
    if n < 2 or n % 2: raise ValueError(f"n_scenes must be an even number >= 2, got {n}")
    pool = make_pool(n // 2, seed=REED16_SEED, progress=False)
    return to_tensor(np.concatenate([pool.src, pool.tgt])), [REED16_SEED + i % (n // 2) for i in range(n)]

def vaes():
    return {'4ch': load_toy_vae(), '16ch': AutoencoderKL.from_pretrained(WORK / 'vae16').eval(),
            '4ch+REED': AutoencoderKL.from_pretrained(WORK / 'reed4').eval(), '16ch+REED': AutoencoderKL.from_pretrained(WORK / 'reed16').eval()}

def ci(cases, values):
    by = {}
    for c, v in zip(cases, values): by.setdefault(c, []).append(float(v))
    i = bootstrap_ci(by)
    return dict(mean=round(i.mean, 3), ci=[round(i.lo, 3), round(i.hi, 3)], n_cases=i.n)

def drift(res, n_scenes):
    x, cases = heldout_scenes(n_scenes); vs = vaes(); t0 = time.time()
    per = {name: roundtrips_each(v, x, 25, TRIPS) for name, v in vs.items()}
    curves = {name: {str(k): ci(cases, p[k]) for k in TRIPS} for name, p in per.items()}
    pairs = {'16ch - 4ch': ('16ch', '4ch'), '16ch+REED - 4ch+REED': ('16ch+REED', '4ch+REED'),
             '4ch+REED - 4ch': ('4ch+REED', '4ch'), '16ch+REED - 16ch': ('16ch+REED', '16ch')}
    paired = {p: {str(k): ci(cases, per[a][k] - per[b][k]) for k in (1, 5, 15, 25)} for p, (a, b) in pairs.items()}
    res['drift'] = dict(what='PSNR (dB, images in [-1, 1] mapped to [0, 1]) of x_k against x_0 after k = 1..25 quantised encode→decode round trips '
                             '(posterior mode); mean over images per case, 95 % percentile bootstrap interval (2,000 resamples) over cases',
                        scenes=f'{n_scenes} shapes-world renders: sources and targets of the pool edits with seeds {REED16_SEED}..{REED16_SEED + n_scenes // 2 - 1} '
                               '(REED16_SEED = HELDOUT_SEED + 6,000,000); a case is a pool seed (its source and target)',
                        n_images=n_scenes, n_cases=n_scenes // 2, curves=curves, paired=paired, seconds=round(time.time() - t0, 1),
                        latent_channels={k: v.config.latent_channels for k, v in vs.items()})
    res['fingerprints'] = {k: weights_fingerprint(v) for k, v in vs.items()}
    c = lambda n, k: curves[n][str(k)]['mean']
    print("SUMMARY drift: PSNR at 1 / 25 trips: " + ', '.join(f"{n} {c(n, 1):.2f} / {c(n, 25):.2f}" for n in NAMES) +
          f" dB; 16ch − 4ch at 25: {paired['16ch - 4ch']['25']['mean']:+.2f} {paired['16ch - 4ch']['25']['ci']}", flush=True)
    return vs

def save(res, vs=None):
    write_json(OUT, command=command_line(), fingerprint=weights_fingerprint(*vs.values()) if vs else None, metrics=res)

if __name__ == '__main__':
    ap = argparse.ArgumentParser()
    ap.add_argument('--parts', default='train,reed,drift')
    ap.add_argument('--vae-budget', type=float, default=840., help='seconds of 16-channel VAE training (train)')
    ap.add_argument('--reed-budget', type=float, default=240., help='seconds of REED per VAE (reed)')
    ap.add_argument('--n-scenes', type=int, default=100, help='held-out renders (even; drift)')
    ap.add_argument('--n-pool', type=int, default=2000, help='training pool edits (train)')
    ap.add_argument('--work', default=str(WORK), help='checkpoints and the trained VAEs')
    a = ap.parse_args(); WORK = Path(a.work); WORK.mkdir(parents=True, exist_ok=True)
    part = WORK / 'parts.json'  # the parts measured so far in this folder (train, reed), kept for the drift part's file
    res = json.loads(part.read_text()) if part.exists() else {}
    res['env'] = dict(threads=os.environ['OMP_NUM_THREADS'], torch=torch.__version__)
    parts = a.parts.split(','); vs = None
    if 'train' in parts: train(res, a.vae_budget, a.n_pool); part.write_text(json.dumps(res, indent=1, default=str))
    if 'reed' in parts: reed(res, a.reed_budget); part.write_text(json.dumps(res, indent=1, default=str))
    if 'drift' in parts: vs = drift(res, a.n_scenes); save(res, vs)
    print(json.dumps({k: v for k, v in res.items() if k in ('train_vae16', 'reed', 'env')}, default=str)[:2000])
