"""Train the toy instruction UNet (InstructPix2Pix recipe) with checkpoints and fp16 EMA snapshots, resumable.

    OMP_NUM_THREADS=1 .venv/bin/python scripts/train_instruction_unet.py runs/ip2p_caption --init caption
    OMP_NUM_THREADS=1 .venv/bin/python scripts/train_instruction_unet.py runs/ip2p_scratch --init scratch

--init caption: every weight from the shipped caption UNet, `conv_in` widened with the image channels
(`ip2p_unet_from`, --image-init copy|zero); scratch: a fresh UNet; shipped: continue the shipped
instruction UNet; a .safetensors path: continue from those weights (a committed milestone, scripts/save_milestone.py;
its .json's runs are recorded in args.json as `init_runs`, so that curves and the zoo count the samples before).
--edit-weight W weights the loss 1 + W inside each pair's change (`edit_weight_map`, mean 1 per image).
--latent-cache DIR keeps the rendered pool (`cached_pool`) and its VAE latents there (keyed by the pool options and the
VAE's weights), so a restart neither re-renders nor re-encodes the pool.
--time-budget S fits the run (and its cosine decay) into S seconds of training: fitted after 40 steps and again every 250
from the speed since the last fit (so a start under load does not size the run for good); a resumed run gets what is left.
The run resumes from OUT/ckpt/last.pt when present; snapshots `OUT/ckpt/keep_<step>.safetensors`
(EMA weights, fp16) are what `benchmarks/instruction_curve.py` evaluates.
"""
import argparse, hashlib, json, torch
from pathlib import Path
from imiebench.toy.zoo import (load_toy, zoo_dir, make_pool, cached_pool, train_instruction_unet, ip2p_unet_from, toy_unet_model, instruction_latents,
                              InstructionRecipe)
from imiebench.training import TrainConfig
from save_milestone import load_snapshot

R = InstructionRecipe()  # the zoo's recipe: the defaults here
p = argparse.ArgumentParser()
p.add_argument('out'); p.add_argument('--init', default=R.init)
p.add_argument('--image-init', default=R.image_init); p.add_argument('--steps', type=int, default=20_000)
p.add_argument('--batch-size', type=int, default=32); p.add_argument('--lr', type=float, default=2e-4)
p.add_argument('--conv-in-lr-mult', type=float, default=R.conv_in_lr_mult); p.add_argument('--p-identity', type=float, default=R.p_identity)
p.add_argument('--n-pool', type=int, default=40_000); p.add_argument('--n-hard', type=int, default=R.n_hard)
p.add_argument('--hard-kinds', default=','.join(R.hard_kinds)); p.add_argument('--keep-every', type=int, default=500)
p.add_argument('--seed', type=int, default=0); p.add_argument('--workers', type=int, default=1)
p.add_argument('--edit-weight', type=float, default=R.edit_weight); p.add_argument('--latent-cache', default=None)
p.add_argument('--cache-only', action='store_true', help='fill --latent-cache and stop')
p.add_argument('--warmup', type=int, default=100)
p.add_argument('--time-budget', type=float, default=None,
               help='seconds: fit --steps (and the cosine schedule) so that the run ends within this time; refitted every 250 steps')
a = p.parse_args()
out = Path(a.out); out.mkdir(parents=True, exist_ok=True)
init_runs = []  # the runs that made a snapshot --init, oldest first (from its .json, written by scripts/save_milestone.py)
if a.init.endswith('.safetensors'):
    meta = Path(a.init).with_suffix('.json')
    if not meta.exists(): raise SystemExit(f"--init {a.init} has no {meta.name} saying which runs made it (scripts/save_milestone.py writes one)")
    m = json.loads(meta.read_text()); init_runs = m.get('runs', [dict(run=m['run'], steps=m['step'], samples=m['samples'])])
elif a.init == 'shipped': init_runs = json.loads((zoo_dir() / 'zoo.json').read_text())['ip2p'].get('runs', [])  # (scripts/ship_instruction_unet.py)
(out / 'args.json').write_text(json.dumps(vars(a) | dict(init_runs=init_runs), indent=1))
sd, ip = load_toy('sd'), load_toy('ip2p')
if a.init == 'caption': init = ip2p_unet_from(sd.unet.float(), image_init=a.image_init)
elif a.init == 'scratch': torch.manual_seed(a.seed); init = toy_unet_model(8, sd.text_encoder.config.hidden_size)
elif a.init == 'shipped': init = ip.unet.float()
else: init = load_snapshot(Path(a.init), sd.unet)  # fp16 weights, or an int8 delta (the committed milestones)
def render(n, seed, kinds=None):
    "The pool's edits: rendered once and kept in --latent-cache when given."
    if a.latent_cache: return cached_pool(Path(a.latent_cache), n, seed, a.workers, kinds, progress=False)
    return make_pool(n, seed, workers=a.workers, progress=False, kinds=kinds)
pool = render(a.n_pool, 0)
if a.n_hard: pool = pool + render(a.n_hard, 1_000_000, tuple(a.hard_kinds.split(',')))
latents = None
if a.latent_cache:
    key = hashlib.sha1(json.dumps([a.n_pool, a.n_hard, a.hard_kinds, pool.src.shape[1:]]).encode()
                       + b''.join(v.float().numpy().tobytes()[:4096] for k, v in sd.vae.state_dict().items()
                               if k.startswith(('encoder.', 'quant_conv.')))).hexdigest()[:12]  # the latents depend on the encoder alone
    f = Path(a.latent_cache) / f'instruction_latents_{key}.pt'
    if f.exists(): latents = torch.load(f)
    else:
        latents = instruction_latents(sd.vae.float(), pool); f.parent.mkdir(parents=True, exist_ok=True)
        torch.save(latents, f.with_suffix('.tmp')); f.with_suffix('.tmp').replace(f)
if a.cache_only: raise SystemExit(0)
cfg = TrainConfig(steps=a.steps, batch_size=a.batch_size, lr=a.lr, warmup=a.warmup, time_budget=a.time_budget, ema_decay=0.999, seed=a.seed,
                  ckpt_every=250, keep_every=a.keep_every)
res = train_instruction_unet(pool, sd.vae.float(), sd.text_encoder.float(), cfg, ckpt_dir=out / 'ckpt', device='cpu',
                             init=init, p_identity=a.p_identity, conv_in_lr_mult=a.conv_in_lr_mult,
                             edit_weight=a.edit_weight, latents=latents, progress=False)
res.model.half().save_pretrained(out / 'unet')
print('done', res.steps, 'steps', sum(res.losses[-100:]) / 100)
