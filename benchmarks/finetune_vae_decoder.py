"""Decoder-only finetuning of the shipped toy VAE (for the round-trip gate), on CPU, resumable.

    OMP_NUM_THREADS=1 .venv/bin/python benchmarks/finetune_vae_decoder.py [--steps 1500] [--work runs/vae_decoder]

The encoder is frozen, so the latent space — and every UNet trained on it — is unchanged; only the decoder
(and post_quant_conv) learns, on the posterior *mode* (what the UNets were trained on and what every
caller decodes; the posterior std is ≈ 1/3 of the latents' own). Same data as the zoo's VAE stage (`train_vae`): pool renders (sources and
targets, training seeds) plus 25 % crops of the training photos. Re-running the command resumes from
`WORK/ckpt/last.pt`; the result goes to `WORK/vae` (float32). Gate it with
`benchmarks/toyzoo_gates.py --parts vae --vae WORK/vae`. `--detail-weight W` adds `train_vae`'s detail term
(matching each image's high-pass energy), so that texture the latent cannot place pixel for pixel is drawn rather
than averaged flat; `benchmarks/instruction_ceiling.py --vae WORK/vae` reads textures back. `--vary F` draws a
fraction F of the renders with render variation (`varied_renders`: jittered palette, warped geometry, softer edges).
`--latent-anchor W` trains the encoder too, holding the latent means of pool renders and photos at the shipped
encoder's with weight W (`train_vae(latent_anchor=, anchor_to=)`, also when starting from `--init`): unfamiliar renders
may move in latent space while the UNets' training data stays put.
"""
import argparse, json
from pathlib import Path
from diffusers import AutoencoderKL
from imiebench.toy.zoo import load_toy_vae, make_pool, load_photo, train_vae, TRAIN_PHOTOS
from imiebench.training import TrainConfig

p = argparse.ArgumentParser()
p.add_argument('--steps', type=int, default=1500); p.add_argument('--batch', type=int, default=32)
p.add_argument('--lr', type=float, default=1e-4); p.add_argument('--pool', type=int, default=8000)
p.add_argument('--work', default='runs/vae_decoder'); p.add_argument('--seed', type=int, default=3)
p.add_argument('--recon', default='mse', choices=('mse', 'log_mse'), help="'log_mse': mean per-image log MSE (mean PSNR)")
p.add_argument('--detail-weight', type=float, default=0.0); p.add_argument('--pool-seed', type=int, default=0)
p.add_argument('--vary', type=float, default=0.0, help="fraction of the renders drawn by `varied_renders` (render variation)")
p.add_argument('--latent-anchor', type=float, default=0.0, help='train the encoder too, holding the pool renders\' latents (weight)')
p.add_argument('--init', default=None, help='a VAE folder to start from (default: the shipped one)')
p.add_argument('--sample', action='store_true', help='decode posterior samples (the zoo VAE stage) instead of the mode')
a = p.parse_args(); work = Path(a.work)
pool = make_pool(a.pool, a.pool_seed, progress=False)
photos = [load_photo(n) for n in TRAIN_PHOTOS]
cfg = TrainConfig(steps=a.steps, batch_size=a.batch, lr=a.lr, warmup=50, ckpt_every=50, log_every=50, seed=a.seed)
res = train_vae(pool, photos, cfg, work / 'ckpt', init=AutoencoderKL.from_pretrained(a.init) if a.init else load_toy_vae(),
                decoder_only=not a.latent_anchor, decode_mode=not a.sample, recon=a.recon, detail_weight=a.detail_weight, vary=a.vary,
                latent_anchor=a.latent_anchor, anchor_to=load_toy_vae() if a.latent_anchor else None)
res.model.save_pretrained(work / 'vae')
(work / 'vae' / 'recipe.json').write_text(json.dumps(dict(vars(a), steps_run=res.steps, seconds=res.seconds,
    loss_first100=sum(res.losses[:100]) / 100, loss_last100=sum(res.losses[-100:]) / 100), indent=1))
print('decoder finetuned', res.steps, 'steps in', round(res.seconds), 's; loss', sum(res.losses[:100]) / 100, '->', sum(res.losses[-100:]) / 100)
