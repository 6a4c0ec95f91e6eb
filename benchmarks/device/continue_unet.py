"""Continue training a shipped toy UNet on a GPU (fresh optimizer, short warm-up, EMA), e.g.

    python3 benchmarks/device/continue_unet.py ip2p 150 $OUT     # kind, seconds, output folder (fp16 UNet)

Environment: DEVICE (cuda), NP (pool size, 60000), WORKERS (16), BS (256), LR (2e-4), EMA (0.999; 0 = none),
SEED (1), P_IDENTITY (ip2p only: fraction of identity pairs with the empty instruction), POOL_SEED (0: the first scene seed),
KINDS and NK (add a second pool of NK edits of only these comma-separated kinds, e.g. KINDS=recolor,reshape, to oversample them),
CKPT (a checkpoint folder: the run resumes from it). Runs on CPU too (DEVICE=cpu).
"""
import os, sys
from imiebench.toy.zoo import load_toy, make_pool, train_caption_unet, train_instruction_unet
from imiebench.training import TrainConfig
kind, budget, out = sys.argv[1], float(sys.argv[2]), sys.argv[3]
dev = os.environ.get('DEVICE', 'cuda')
b = load_toy(kind, device=dev)
nw, seed0 = int(os.environ.get('WORKERS', 16)), int(os.environ.get('POOL_SEED', 0))
pool = make_pool(int(os.environ.get('NP', 60_000)), seed0, workers=nw, progress=False)
if os.environ.get('KINDS'):
    pool = pool + make_pool(int(os.environ['NK']), seed0 + 1_000_000, workers=nw, progress=False, kinds=os.environ['KINDS'].split(','))
recipe = train_instruction_unet if kind == 'ip2p' else train_caption_unet
cfg = TrainConfig(steps=20_000, batch_size=int(os.environ.get('BS', 256)), lr=float(os.environ.get('LR', 2e-4)), warmup=50,
                  ema_decay=float(os.environ.get('EMA', 0.999)) or None, time_budget=budget, seed=int(os.environ.get('SEED', 1)))
extra = dict(p_identity=float(os.environ['P_IDENTITY'])) if kind == 'ip2p' and os.environ.get('P_IDENTITY') else {}
res = recipe(pool, b.vae, b.text_encoder, cfg, ckpt_dir=os.environ.get('CKPT'), device=dev, init=b.unet, **extra)
print(kind, 'continued for', res.steps, 'steps, final loss', sum(res.losses[-100:]) / 100, 'in', round(res.seconds), 's')
res.model.half().save_pretrained(f'{out}/unet_{kind}')
