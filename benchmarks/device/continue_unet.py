"""Continue training a shipped toy UNet on a GPU (fresh optimizer, short warm-up, EMA), e.g.

    python3 benchmarks/device/continue_unet.py ip2p 150 $OUT     # kind, seconds, output folder (fp16 UNet)
"""
import os, sys, torch
from imiebench.toyzoo import (load_toy, make_pool, train_caption_unet, train_instruction_unet, TrainConfig)
kind, budget, out = sys.argv[1], float(sys.argv[2]), sys.argv[3]
dev = os.environ.get('DEVICE', 'cuda')
b = load_toy(kind, device=dev)
pool = make_pool(int(os.environ.get('NP', 60_000)), 0, workers=int(os.environ.get('WORKERS', 16)), progress=False)
recipe = train_instruction_unet if kind == 'ip2p' else train_caption_unet
cfg = TrainConfig(steps=20_000, batch_size=int(os.environ.get('BS', 256)), lr=2e-4, warmup=50, ema_decay=0.999, time_budget=budget, seed=1)
res = recipe(pool, b.vae, b.text_encoder, cfg, device=dev, init=b.unet)
print(kind, 'continued for', res.steps, 'steps, final loss', sum(res.losses[-100:]) / 100, 'in', round(res.seconds), 's')
res.model.half().save_pretrained(f'{out}/unet_{kind}')
