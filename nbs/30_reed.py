# %% [markdown]
# # reed
#
# > REED-VAE (2025): **re**-**e**ncode **d**ecode training of the VAE decoder so that images survive many
# > encode→decode round trips; iterative evaluation; multi-method sessions (pixel edits between
# > diffusion edits) with the VAE as one argument; `accelerate` training with checkpoints and resumption.
#
# A VAE maps $x_0 \mapsto z \sim E(x_0) \mapsto x_1 = D(z)$. Editing pipelines do this once per edit,
# so after $n$ edits the image went through $n$ round trips and accumulates artifacts. REED trains
# the decoder $D$ (encoder $E$ frozen, so every diffusion model trained on $E$'s latents still works) on
# the $k$-fold round trip
#
# $x_j = D(z_j),\; z_j \sim E(x_{j-1}),\quad j = 1..k$ (paper Eq. 1),
#
# with three components (paper §4, Algorithm 1):
#
# - **IT** — iterative training: the loss is computed on $x_k$; gradients flow through the *last*
#   iteration only (appendix A.2: full backprop limited $k$ to ≈7 on an A100);
# - **FSL** — first-step loss: train $x_k$ against $x_1$ (what one round trip gives), not $x_0$;
#   validation and test metrics still use $x_0$;
# - **DI** — dynamic incrementation: start at $k_0$; after each validation round, if the validation loss
#   has not improved for `patience` rounds, $k \leftarrow k+1$; stop once $k > k_{max}$.
#
# Loss (paper Eq. 2, 3): $\mathcal L = \|x_k - x_t\|^2 + \lambda_{lpips}\,\mathrm{LPIPS}(x_k, x_t) + \lambda_{kl}\,\mathrm{KL}(E(x_k)\,\|\,\mathcal N(0, I))$,
# $x_t = x_1$ with FSL, else $x_0$. The KL is taken on the encoding of the *output* $x_k$: with the
# encoder frozen and gradients through the last iteration only, that is the one place where it
# reaches the decoder (the paper's "the output of the decoder indirectly impacts the next latent vector").
#
# **Constants.** The text extraction of the paper lost the values of $k_0$, $k_{max}$, $\lambda_{lpips}$ and
# $\lambda_{kl}$. We use $k_0=2$ (the paper says $k=1$ is "too trivial"), $k_{max}=25$ (the largest evaluated
# iteration), $\lambda_{kl}=10^{-6}$ (the value of the SD VAE recipe and of our toy VAE), $\lambda_{lpips}=0.1$
# (perceptual term a tenth of the pixel term: LPIPS values are ≈10× the MSE of a [-1,1] image at these
# error levels), patience 5 as in the paper (the toy benchmark uses 2 rounds of 20 steps: time). All are
# fields of `REEDConfig`.
#
# **LPIPS offline.** `lpips` ships its linear-layer weights, but the AlexNet/VGG backbone comes from
# torchvision's download server, unreachable here. `perceptual_loss()` uses real LPIPS when
# `lpips.LPIPS(net='alex')` loads (or a backbone is cached); otherwise it falls back to a **gradient
# proxy**: the L1 distance of horizontal and vertical finite differences at 3 scales (edges and fine
# texture: what round-trip blur destroys). `lpips_available()` says which is in use; metrics report
# `lpips=None` offline and use SSIM as the structural metric.

# %%
#| default_exp reed

# %%
#| export
from __future__ import annotations
import argparse, contextlib, dataclasses, json, math, os, sys, time, warnings
from dataclasses import dataclass, field, asdict
from pathlib import Path
from typing import Callable
import numpy as np, torch, torch.nn.functional as F
from tqdm.auto import tqdm
from diffusers import AutoencoderKL
from imiebench.core import to_tensor, to_uint8
from imiebench.models import Bundle
from imiebench.toyzoo import (HELDOUT_SEED, TRAIN_PHOTOS, HELDOUT_PHOTOS, load_photo, photo_crops, make_pool,
                              load_toy_vae, step_generator, zoo_dir, _zoo_path, _DTYPE_KW)
from imiebench.emilie import EditSession, SessionStep

# %%
#| hide
from fastcore.test import test_eq, test_close, test_fail
import matplotlib; matplotlib.use('Agg')
import matplotlib.pyplot as plt

# %% [markdown]
# ## Losses and metrics

# %%
#| export
_LPIPS = {}

def _lpips_net():
    "The real LPIPS network, or None when its backbone cannot be loaded (offline)."
    if 'net' not in _LPIPS:
        try:
            import lpips
            with warnings.catch_warnings(), contextlib.redirect_stdout(open(os.devnull, 'w')):
                warnings.simplefilter('ignore'); _LPIPS['net'] = lpips.LPIPS(net='alex', verbose=False).eval().requires_grad_(False)
        except Exception as e: _LPIPS['net'], _LPIPS['why'] = None, f"{type(e).__name__}: {e}"[:200]
    return _LPIPS['net']

def lpips_available() -> bool:
    "True when real LPIPS (AlexNet backbone + shipped linear layers) loads."
    return _lpips_net() is not None

def gradient_proxy(x: torch.Tensor, y: torch.Tensor, # N×3×H×W in [-1, 1]
                   scales: int=3) -> torch.Tensor: # N: per-image distance
    "Offline stand-in for LPIPS: L1 distance of finite differences (dx, dy) at `scales` dyadic scales."
    d = 0
    for s in range(scales):
        if s: x, y = F.avg_pool2d(x, 2), F.avg_pool2d(y, 2)
        for dim in (-1, -2):
            d = d + (x.diff(dim=dim) - y.diff(dim=dim)).abs().mean((1, 2, 3))
    return d / scales

def perceptual_loss(x: torch.Tensor, y: torch.Tensor) -> torch.Tensor: # N: per-image
    "LPIPS(x, y) if its weights load, else `gradient_proxy` (see `lpips_available`)."
    net = _lpips_net()
    if net is None: return gradient_proxy(x, y)
    net.to(x.device); return net(x.float(), y.float()).flatten()

# %% [markdown]
# Metrics follow the paper's appendix A.4: images mapped to [0, 1] before MSE and PSNR; SSIM
# (scikit-image, 7×7 windows, per channel) on [0, 1] too.

# %%
#| export
def _as_images(x, what: str) -> torch.Tensor:
    t = to_tensor(x) if not isinstance(x, torch.Tensor) or x.ndim != 4 else x
    if t.ndim != 4 or t.shape[1] != 3: raise ValueError(f"{what}: expected N×3×H×W images, got shape {tuple(t.shape)}")
    return t.float()

def image_metrics(x, ref) -> dict: # mean over the batch: mse, psnr, ssim, lpips (None offline)
    "MSE/PSNR on [0,1], SSIM, and LPIPS (None when its weights are unavailable) of images `x` against `ref`."
    from skimage.metrics import structural_similarity
    x, ref = _as_images(x, 'x'), _as_images(ref, 'ref')
    if x.shape != ref.shape: raise ValueError(f"image shapes differ: {tuple(x.shape)} vs {tuple(ref.shape)}")
    a, b = (x.clamp(-1, 1) + 1) / 2, (ref.clamp(-1, 1) + 1) / 2
    mse = ((a - b) ** 2).mean((1, 2, 3))
    psnr = 10 * torch.log10(1 / mse.clamp_min(1e-10))
    ssim = [structural_similarity(p.permute(1, 2, 0).numpy(), q.permute(1, 2, 0).numpy(), channel_axis=2, data_range=1.0)
            for p, q in zip(a.cpu(), b.cpu())]
    with torch.no_grad(): lp = perceptual_loss(x, ref).mean().item() if lpips_available() else None
    return dict(mse=mse.mean().item(), psnr=psnr.mean().item(), ssim=float(np.mean(ssim)), lpips=lp)

# %% [markdown]
# ## One REED step
#
# `reed_loss` does the $k$ round trips of a batch. The posterior noise of every iteration is drawn
# for the whole batch from the step's generator *before* anything else, so that a batch split over
# processes sees exactly the noise it would see in one process (this is what makes the 1- and
# 2-process loss curves match). $x_1 \dots x_{k-1}$ are computed without gradients and clamped to
# [-1, 1] (they are images); $x_k$ is not clamped in the loss.

# %%
#| export
def _check_images(x: torch.Tensor, factor: int=4):
    if not isinstance(x, torch.Tensor): raise TypeError(f"expected a float tensor N×3×H×W in [-1,1], got {type(x).__name__}")
    if x.ndim != 4 or x.shape[1] != 3: raise ValueError(f"expected N×3×H×W images, got shape {tuple(x.shape)}")
    if x.shape[-1] % factor or x.shape[-2] % factor: raise ValueError(f"image size {tuple(x.shape[-2:])} is not a multiple of the VAE factor {factor}")
    if not x.is_floating_point(): raise TypeError(f"expected float images in [-1, 1], got dtype {x.dtype}")

def _vae_factor(vae) -> int: return 2 ** (len(vae.config.block_out_channels) - 1)

def draw_noise(k: int, shape: tuple, generator: torch.Generator|None=None) -> torch.Tensor:
    "k×N×C×h×w standard normal noise: the posterior samples of k round trips."
    return torch.randn((k, *shape), generator=generator)

def reed_loss(vae: AutoencoderKL, x0: torch.Tensor, # N×3×H×W in [-1, 1]
              k: int, # encode→decode iterations
              noise: torch.Tensor|None=None, # k×N×C×h×w posterior noise (None: use the posterior mode)
              first_step: bool=True, # FSL: target x_1 instead of x_0 (needs k ≥ 2; k=1 uses x_0)
              lambda_lpips: float=0.1, lambda_kl: float=1e-6,
              full_backprop: bool=False, # gradients through all k iterations (the memory-hungry variant)
             ) -> tuple[torch.Tensor, dict]:
    "The REED training loss on x_k (gradient through the last iteration only unless `full_backprop`)."
    if k < 1: raise ValueError(f"k must be ≥ 1, got {k}")
    _check_images(x0, _vae_factor(vae))
    def rt(x, j):
        post = vae.encode(x).latent_dist
        z = post.mean if noise is None else post.mean + post.std * noise[j].to(x)
        return vae.decode(z).sample
    x, x1 = x0, None
    with torch.set_grad_enabled(full_backprop and torch.is_grad_enabled()):
        for j in range(k - 1):
            x = rt(x, j)
            if not full_backprop: x = x.clamp(-1, 1)
            if j == 0: x1 = x.detach().clamp(-1, 1)
    xk = rt(x, k - 1)
    target = x1 if (first_step and k >= 2) else x0
    mse = ((xk - target) ** 2).mean((1, 2, 3))
    per = perceptual_loss(xk, target) if lambda_lpips else torch.zeros_like(mse)
    kl = vae.encode(xk).latent_dist.kl() / xk[0].numel() if lambda_kl else torch.zeros_like(mse)
    loss = (mse + lambda_lpips * per + lambda_kl * kl).mean()
    return loss, dict(mse=mse.mean().item(), perceptual=per.mean().item(), kl=kl.mean().item())

# %% [markdown]
# ## The training loop
#
# nanoGPT-sized: one config dataclass, one function. `accelerate` gives devices, mixed precision
# (`'bf16'` works on CPU autocast) and multiple processes (DDP over gloo on CPU). The global batch
# of step $s$ is drawn from `step_generator(seed, s)`; process $r$ of $P$ trains on its contiguous
# $B/P$ slice, and DDP averages gradients, so the update equals the single-process one up to float
# summation order. Validation runs every `val_every` steps on a fixed set, identical on every process
# (so every process takes the same DI decision). A checkpoint (`last.pt`: decoder weights, optimizer,
# loop state — step, k, best, patience counter, curves) is written atomically every `ckpt_every` steps
# and at every validation round; re-running the same command resumes from it.

# %%
#| export
@dataclass
class REEDConfig:
    "Hyper-parameters of REED training (paper §4; see the notebook for the choice of each constant)."
    k: int = 2  # k_0: iterations at the start (the fixed k without DI)
    k_max: int = 25  # DI stops once k passes k_max
    dynamic: bool = True  # DI: increment k when validation has not improved for `patience` rounds
    patience: int = 5  # validation rounds without improvement before k ← k+1
    first_step: bool = True  # FSL
    lambda_lpips: float = 0.1
    lambda_kl: float = 1e-6
    full_backprop: bool = False
    steps: int = 2000  # hard cap on optimizer steps
    batch_size: int = 16  # global batch (split over processes)
    crop: int|None = 32  # train on random crops of this size (None: whole images); the VAE is convolutional
    lr: float = 1e-4
    warmup: int = 20
    grad_clip: float = 1.0
    val_every: int = 20  # steps per validation round
    ckpt_every: int = 20
    seed: int = 0
    sample: bool = True  # sample the posterior (paper) rather than its mode
    mixed_precision: str = 'no'  # 'no' | 'bf16' | 'fp16' (accelerate)
    cpu: bool = False  # force CPU
    time_budget: float|None = None  # seconds; stops early (not exactly reproducible on resume)
    def __post_init__(self):
        for n in ('k', 'k_max', 'patience', 'steps', 'batch_size', 'val_every', 'ckpt_every'):
            v = getattr(self, n)
            if not isinstance(v, int) or isinstance(v, bool): raise TypeError(f"REEDConfig.{n} must be an int, got {v!r}")
            if v < 1: raise ValueError(f"REEDConfig.{n} must be ≥ 1, got {v}")
        if self.k > self.k_max: raise ValueError(f"k={self.k} is larger than k_max={self.k_max}")
        if self.crop is not None and (self.crop < 8 or self.crop % 4): raise ValueError(f"crop must be None or a multiple of 4 ≥ 8, got {self.crop}")
        if self.lambda_lpips < 0 or self.lambda_kl < 0: raise ValueError("loss weights must be ≥ 0")
        if self.mixed_precision not in ('no', 'bf16', 'fp16'): raise ValueError(f"mixed_precision must be 'no', 'bf16' or 'fp16', got {self.mixed_precision!r}")

@dataclass
class REEDResult:
    "A trained VAE (decoder finetuned) and its curves."
    vae: AutoencoderKL
    losses: list[float]  # training loss per step (mean over processes)
    ks: list[int]  # k used at each step
    val: list[tuple[int, int, float]]  # (step, k, validation loss vs x_0) per validation round
    steps: int
    seconds: float
    resumed_from: int = 0
    stopped: str = ''  # 'k_max' | 'steps' | 'time'
    config: REEDConfig|None = None

# %%
#| export
def _save_atomic(obj, path: Path):
    tmp = path.with_name(path.name + '.tmp'); torch.save(obj, tmp); os.replace(tmp, path)

def _crop(x: torch.Tensor, size: int|None, g: torch.Generator) -> torch.Tensor:
    if size is None or size >= x.shape[-1]: return x
    H, W = x.shape[-2:]
    ys = torch.randint(H - size + 1, (len(x),), generator=g); xs = torch.randint(W - size + 1, (len(x),), generator=g)
    return torch.stack([im[:, y:y + size, x_:x_ + size] for im, y, x_ in zip(x, ys.tolist(), xs.tolist())])

@torch.no_grad()
def validation_loss(vae: AutoencoderKL, x0: torch.Tensor, k: int, cfg: REEDConfig, batch: int=32) -> float:
    "The validation loss at k round trips, against x_0 (posterior mode, no KL): MSE + λ_lpips·perceptual."
    tot = 0.
    for c in x0.split(batch):
        l, _ = reed_loss(vae, c, k, None, first_step=False, lambda_lpips=cfg.lambda_lpips, lambda_kl=0.)
        tot += l.item() * len(c)
    return tot / len(x0)

def train_reed(train: torch.Tensor, # N×3×H×W in [-1, 1]: training images
               val: torch.Tensor, # M×3×H×W in [-1, 1]: validation images (DI and the curves)
               cfg: REEDConfig = REEDConfig(),
               vae: AutoencoderKL|None=None, # start from these weights (default: the toy zoo VAE); copied
               ckpt_dir: str|Path|None=None, # resumes from `last.pt` there
               progress: bool=True, accelerator=None) -> REEDResult:
    "REED: finetune the decoder on k-fold round trips with FSL and DI, on `accelerate` (Algorithm 1)."
    import copy
    from accelerate import Accelerator
    _check_images(train); _check_images(val)
    acc = accelerator or Accelerator(cpu=cfg.cpu, mixed_precision=cfg.mixed_precision)
    P, r = acc.num_processes, acc.process_index
    if cfg.batch_size % P: raise ValueError(f"batch_size={cfg.batch_size} must be divisible by the {P} processes")
    torch.manual_seed(cfg.seed)
    vae = copy.deepcopy(vae if vae is not None else load_toy_vae()).float()
    vae.encoder.requires_grad_(False); vae.quant_conv.requires_grad_(False)
    params = [p for p in vae.parameters() if p.requires_grad]  # decoder + post_quant_conv
    opt = torch.optim.AdamW(params, lr=cfg.lr, weight_decay=0.)
    sched = torch.optim.lr_scheduler.LambdaLR(opt, lambda s: min(1., (s + 1) / cfg.warmup))
    st = dict(step=0, k=cfg.k, best=math.inf, bad=0, losses=[], ks=[], val=[], stopped='')
    ckpt = Path(ckpt_dir) / 'last.pt' if ckpt_dir else None
    if ckpt is not None and ckpt.exists():
        d = torch.load(ckpt, map_location='cpu', weights_only=False)
        if d['config'] != asdict(cfg): warnings.warn(f"{ckpt} was written with another config; resuming with the new one")
        vae.load_state_dict(d['vae']); opt.load_state_dict(d['opt']); sched.load_state_dict(d['sched']); st = d['state']
    resumed = st['step']
    model, opt, sched = acc.prepare(vae, opt, sched)
    raw = acc.unwrap_model(model); dev = acc.device
    val = val.to(dev)
    per = cfg.batch_size // P
    def save():
        if ckpt is None: return
        if acc.is_main_process:
            ckpt.parent.mkdir(parents=True, exist_ok=True)
            _save_atomic(dict(vae=raw.state_dict(), opt=opt.state_dict(), sched=sched.state_dict(), state=st, config=asdict(cfg)), ckpt)
        acc.wait_for_everyone()
    t0 = time.time(); model.train()
    bar = tqdm(total=cfg.steps, initial=st['step'], desc='REED', disable=not (progress and acc.is_main_process))
    while not st['stopped']:
        if st['step'] >= cfg.steps: st['stopped'] = 'steps'; break
        if st['k'] > cfg.k_max: st['stopped'] = 'k_max'; break
        g = step_generator(cfg.seed, st['step'])
        idx = torch.randint(len(train), (cfg.batch_size,), generator=g)
        x = _crop(train[idx], cfg.crop, g)
        h = x.shape[-1] // _vae_factor(raw)
        noise = draw_noise(st['k'], (cfg.batch_size, raw.config.latent_channels, h, h), g) if cfg.sample else None
        sl = slice(r * per, (r + 1) * per)
        with acc.autocast():
            loss, parts = _ddp_loss(model, raw, x[sl].to(dev), st['k'], None if noise is None else noise[:, sl], cfg)
        if not torch.isfinite(loss): raise FloatingPointError(f"REED: loss is {loss.item()} at step {st['step']}")
        opt.zero_grad(set_to_none=True); acc.backward(loss)
        if cfg.grad_clip: acc.clip_grad_norm_(params, cfg.grad_clip)
        opt.step(); sched.step()
        st['losses'].append(acc.reduce(loss.detach().float().reshape(1), 'mean').item()); st['ks'].append(st['k'])
        st['step'] += 1; bar.update(); bar.set_postfix(loss=f"{st['losses'][-1]:.4f}", k=st['k'])
        if st['step'] % cfg.val_every == 0:
            model.eval(); v = validation_loss(raw, val, st['k'], cfg); model.train()
            st['val'].append((st['step'], st['k'], v))
            if v < st['best'] * (1 - 1e-3): st['best'], st['bad'] = v, 0
            else: st['bad'] += 1
            if cfg.dynamic and st['bad'] >= cfg.patience: st['k'] += 1; st['bad'] = 0; st['best'] = math.inf
        if cfg.time_budget is not None:
            over = torch.tensor([float(time.time() - t0 > cfg.time_budget)], device=dev)
            if acc.reduce(over, 'max').item() > 0: st['stopped'] = 'time'
        if st['step'] % cfg.ckpt_every == 0 or st['step'] % cfg.val_every == 0 or st['stopped']: save()
    save(); bar.close()
    out = copy.deepcopy(raw).eval().requires_grad_(False)
    return REEDResult(out, st['losses'], st['ks'], st['val'], st['step'], time.time() - t0, resumed, st['stopped'], cfg)

def _ddp_loss(model, raw, x, k, noise, cfg):
    "Run `reed_loss` through the (possibly DDP-wrapped) model's forward, so DDP syncs the gradients."
    if model is raw: return reed_loss(raw, x, k, noise, cfg.first_step, cfg.lambda_lpips, cfg.lambda_kl, cfg.full_backprop)
    fwd = raw.forward
    try:
        raw.forward = lambda x_: reed_loss(raw, x_, k, noise, cfg.first_step, cfg.lambda_lpips, cfg.lambda_kl, cfg.full_backprop)
        return model(x)
    finally: raw.forward = fwd

# %% [markdown]
# ## Data
#
# Training images: shapes-world renders (scene seeds below `HELDOUT_SEED`) and crops of the training
# photos; validation: other seeds below `HELDOUT_SEED` and other crops of the training photos; test
# (`toy_data(split='test')`): held-out scenes (seeds ≥ `HELDOUT_SEED`) and crops of the held-out
# photos (`chelsea`, `coffee`).

# %%
#| export
_SPLITS = {'train': (0, TRAIN_PHOTOS, 1), 'val': (500_000, TRAIN_PHOTOS, 2), 'test': (HELDOUT_SEED, HELDOUT_PHOTOS, 3)}

def toy_data(n_scenes: int, n_photos: int, split: str='train', size: int=64) -> torch.Tensor: # (n_scenes+n_photos)×3×size×size
    "Deterministic REED data: shapes renders then photo crops, in [-1, 1]."
    if split not in _SPLITS: raise ValueError(f"split must be one of {list(_SPLITS)}, got {split!r}")
    if n_scenes < 0 or n_photos < 0 or n_scenes + n_photos < 1: raise ValueError(f"need at least one image, got n_scenes={n_scenes}, n_photos={n_photos}")
    seed, photos, gseed = _SPLITS[split]
    xs = []
    if n_scenes:
        pool = make_pool((n_scenes + 1) // 2, seed=seed, size=size, progress=False)
        xs.append(to_tensor(np.concatenate([pool.src, pool.tgt])[:n_scenes]))
    if n_photos: xs.append(photo_crops([load_photo(p) for p in photos], n_photos, size=size, generator=torch.Generator().manual_seed(gseed)))
    return torch.cat(xs)

# %% [markdown]
# ## Iterative evaluation
#
# `roundtrips` encodes (posterior mode) and decodes $n$ times, *quantizing to uint8 between round
# trips* as a real editing pipeline does (each edit hands a PNG-like image to the next), and records
# metrics against $x_0$ at the requested iterations. `edit_roundtrips` alternates a pair of inverse pixel
# edits $f, f^{-1}$ with the round trips (paper §5: "inverse edit operations" back and forth); following
# appendix A.3 the metric at iteration $n$ compares with iteration 1 or 2 of the same direction, so only
# the accumulated degradation counts.

# %%
#| export
@torch.no_grad()
def vae_roundtrip(vae: AutoencoderKL, x: torch.Tensor, quantize: bool=True, batch: int=64) -> torch.Tensor:
    "One encode (mode) → decode round trip of N×3×H×W images in [-1,1]; clamped (and uint8-quantized)."
    _check_images(x, _vae_factor(vae))
    p = next(vae.parameters())
    out = torch.cat([vae.decode(vae.encode(c.to(p)).latent_dist.mode()).sample.float().cpu() for c in x.split(batch)]).clamp(-1, 1)
    return torch.round((out + 1) * 127.5) / 127.5 - 1 if quantize else out

def _check_at(at, n):
    at = sorted(set(int(a) for a in at))
    if not at or at[0] < 1 or at[-1] > n: raise ValueError(f"evaluation iterations {at} must lie in 1..n={n}")
    return at

def roundtrips(vae: AutoencoderKL, x: torch.Tensor, n: int=25, at=(1, 5, 15, 25), quantize: bool=True,
               progress: bool=False) -> dict[int, dict]:
    "Metrics of n successive round trips against x_0, at the iterations `at`."
    if n < 1: raise ValueError(f"n must be ≥ 1, got {n}")
    at = _check_at(at, n); out, y = {}, x
    for i in tqdm(range(1, n + 1), desc='round trips', disable=not progress):
        y = vae_roundtrip(vae, y, quantize)
        if i in at: out[i] = image_metrics(y, x)
    return out

def hflip(x: torch.Tensor) -> torch.Tensor: return x.flip(-1)
def brighten(x: torch.Tensor, d: float=0.2) -> torch.Tensor: return x + d
def darken(x: torch.Tensor, d: float=0.2) -> torch.Tensor: return x - d

def edit_roundtrips(vae: AutoencoderKL, x: torch.Tensor, n: int=25, at=(5, 15, 25),
                    edits: tuple[Callable, Callable]=(hflip, hflip), # f and its inverse, alternated
                    quantize: bool=True, progress: bool=False) -> dict[int, dict]:
    "n edit round trips (apply f or f⁻¹, then encode→decode); iteration i is compared with iteration 1 or 2 of the same parity."
    if n < 2: raise ValueError(f"n must be ≥ 2 (a pair of inverse edits), got {n}")
    at = _check_at(at, n); out, y, first = {}, x, {}
    for i in tqdm(range(1, n + 1), desc='edit round trips', disable=not progress):
        y = vae_roundtrip(vae, edits[(i - 1) % 2](y).clamp(-1, 1), quantize)
        first.setdefault(i % 2, y)
        if i in at: out[i] = image_metrics(y, first[i % 2])
    return out

# %% [markdown]
# ## The REED toy VAE in the zoo

# %%
#| export
def save_vae(vae: AutoencoderKL, path, dtype=torch.float16) -> Path:
    "Save a VAE as a diffusers `AutoencoderKL` folder (fp16 safetensors by default)."
    import copy
    path = Path(path); copy.deepcopy(vae).to('cpu', dtype).save_pretrained(path, safe_serialization=True); return path

def load_toy_reed_vae(device='cpu', root=None) -> AutoencoderKL:
    "The shipped REED toy VAE (decoder finetuned from `load_toy_vae()` with IT+FSL+DI; encoder identical)."
    return AutoencoderKL.from_pretrained(_zoo_path('reed_vae', root), **{_DTYPE_KW: torch.float32}).to(device).eval()

# %% [markdown]
# ## Multi-method sessions
#
# `MixedSession` is an `EditSession` whose VAE is an argument (`vae=`: swapped into the bundle with
# `dataclasses.replace`) and which also takes **pixel edits**: `pixel(op, **kw)` applies a conventional
# operation to the current image and records a `SessionStep` whose image is the edited image and whose
# latents are `b.encode(image)`, so the next diffusion edit goes through the VAE. Use `mode='image'` for a
# pipeline of independent tools (every diffusion edit encodes the previous image); in `'latent'` mode the
# pixel edit still forces one decode→encode.

# %%
#| export
def _box(box, H, W, what='box'):
    if len(box) != 4: raise ValueError(f"{what} must be (y0, x0, y1, x1), got {box!r}")
    y0, x0, y1, x1 = (int(v) for v in box)
    if not (0 <= y0 < y1 <= H and 0 <= x0 < x1 <= W): raise ValueError(f"{what} {box!r} is empty or outside the {H}×{W} image")
    return y0, x0, y1, x1

def _gauss(x: torch.Tensor, sigma: float) -> torch.Tensor:
    r = max(1, int(math.ceil(3 * sigma))); t = torch.arange(-r, r + 1, dtype=x.dtype)
    k = torch.exp(-t ** 2 / (2 * sigma ** 2)); k = k / k.sum()
    x = F.pad(x, (r, r, r, r), mode='reflect')
    x = F.conv2d(x, k.view(1, 1, 1, -1).repeat(3, 1, 1, 1), groups=3)
    return F.conv2d(x, k.view(1, 1, -1, 1).repeat(3, 1, 1, 1), groups=3)

def _op_crop_paste(x, src, dst): # copy the box `src` to top-left corner `dst`
    H, W = x.shape[-2:]; y0, x0, y1, x1 = _box(src, H, W, 'src')
    dy, dx = int(dst[0]), int(dst[1]); h, w = y1 - y0, x1 - x0
    if not (0 <= dy and dy + h <= H and 0 <= dx and dx + w <= W): raise ValueError(f"dst {dst!r} puts the {h}×{w} patch outside the image")
    out = x.clone(); out[..., dy:dy + h, dx:dx + w] = x[..., y0:y1, x0:x1]; return out

def _op_paste_image(x, other, box): # paste `other` (any image, resized to the box) into `box`
    H, W = x.shape[-2:]; y0, x0, y1, x1 = _box(box, H, W)
    o = to_tensor(other).float()
    o = F.interpolate(o, size=(y1 - y0, x1 - x0), mode='bilinear', antialias=True, align_corners=False)
    out = x.clone(); out[..., y0:y1, x0:x1] = o; return out

PIXEL_OPS = {
    'brightness': lambda x, delta=0.1: x + 2 * delta,  # delta in [0,1] units
    'contrast': lambda x, factor=1.2: (x - x.mean((-1, -2), keepdim=True)) * factor + x.mean((-1, -2), keepdim=True),
    'color_shift': lambda x, rgb=(0.05, 0., -0.05): x + 2 * torch.tensor(rgb, dtype=x.dtype).view(1, 3, 1, 1),
    'blur': lambda x, sigma=1.0: _gauss(x, sigma),
    'sharpen': lambda x, amount=0.5, sigma=1.0: x + amount * (x - _gauss(x, sigma)),
    'crop_paste': _op_crop_paste,
    'paste_image': _op_paste_image,
}

def pixel_edit(image, op: str, **kw) -> np.ndarray: # H×W×3 uint8
    "Apply a conventional (non-diffusion) edit from `PIXEL_OPS` to one image; result clamped and quantized."
    if op not in PIXEL_OPS: raise ValueError(f"unknown pixel op {op!r}; expected one of {sorted(PIXEL_OPS)}")
    x = to_tensor(image).float()
    if len(x) != 1: raise ValueError(f"pixel_edit takes one image, got a batch of {len(x)}")
    try: y = PIXEL_OPS[op](x, **kw)
    except TypeError as e: raise TypeError(f"pixel op {op!r}: {e}") from None
    return to_uint8(y.clamp(-1, 1))[0]

class MixedSession(EditSession):
    "An `EditSession` with pixel edits between diffusion edits, and the VAE (vanilla or REED) as an argument."
    def __init__(self, b: Bundle, image, vae: AutoencoderKL|None=None, # None: the bundle's own VAE
                 mode: str='image', **kw):
        if vae is not None:
            if not isinstance(vae, AutoencoderKL): raise TypeError(f"vae must be a diffusers AutoencoderKL, got {type(vae).__name__}")
            if vae.config.latent_channels != b.vae.config.latent_channels:
                raise ValueError(f"vae has {vae.config.latent_channels} latent channels, the bundle's UNet expects {b.vae.config.latent_channels}")
            b = dataclasses.replace(b, vae=vae.to(b.device, b.vae.dtype), _cache=b._cache)
        super().__init__(b, image, mode=mode, **kw)

    def __repr__(self): return f"MixedSession(mode={self.mode!r}, {len(self)} steps: {[s.instruction for s in self.history]})"

    def pixel(self, op: str, **kw) -> SessionStep:
        "Apply a pixel edit to the current image; the step's latents are the VAE encoding of the result."
        im = pixel_edit(self.image, op, **kw)
        z = self.b.encode(im).detach().cpu()
        desc = f"[pixel] {op}" + (f" {', '.join(f'{k}={v}' for k, v in kw.items() if k != 'other')}" if kw else '')
        step = SessionStep(desc, desc, None, z, z / self.b.vae.config.scaling_factor, im, dict(kind='pixel', op=op, **{k: v for k, v in kw.items() if k != 'other'}))
        self.history.append(step); return step

# %% [markdown]
# ## Command line
#
# `python -m imiebench.reed --out DIR [--ckpt-dir DIR] [options]` trains on `toy_data` and saves the VAE
# folder; the same command under `accelerate launch --cpu --num_processes 2 -m imiebench.reed ...` trains
# on two processes (same global batch). Killed and re-run with the same arguments, it resumes from
# `--ckpt-dir/last.pt`. `--losses FILE` writes the curves as JSON (main process).

# %%
#| export
def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog='imiebench train-reed', description="REED training of the toy VAE's decoder (accelerate-aware).")
    p.add_argument('--out', help='save the trained VAE folder here')
    p.add_argument('--ckpt-dir', help='checkpoint folder (resume from last.pt there)')
    p.add_argument('--losses', help='write the loss/k/validation curves as JSON here')
    p.add_argument('--n-train', type=int, default=1024, help='training images (3/4 scenes, 1/4 photo crops)')
    p.add_argument('--n-val', type=int, default=32)
    p.add_argument('--no-progress', action='store_true')
    d = REEDConfig()
    for f in dataclasses.fields(REEDConfig):
        name = '--' + f.name.replace('_', '-'); v = getattr(d, f.name)
        if isinstance(v, bool): p.add_argument(name, type=lambda s: s.lower() in ('1', 'true', 'yes'), default=v, metavar='BOOL')
        elif f.name == 'crop': p.add_argument(name, type=lambda s: None if s.lower() == 'none' else int(s), default=v)
        elif f.name == 'time_budget': p.add_argument(name, type=float, default=v)
        else: p.add_argument(name, type=type(v), default=v)
    return p

def train_reed_cli(argv: list[str]|None=None) -> REEDResult:
    "Entry point of `imiebench train-reed` / `python -m imiebench.reed`."
    a = _parser().parse_args(argv)
    cfg = REEDConfig(**{f.name: getattr(a, f.name) for f in dataclasses.fields(REEDConfig)})
    if a.n_train < 1 or a.n_val < 1: raise ValueError("--n-train and --n-val must be ≥ 1")
    n_ph = a.n_train // 4
    train = toy_data(a.n_train - n_ph, n_ph, 'train'); val = toy_data(a.n_val - a.n_val // 4, a.n_val // 4, 'val')
    res = train_reed(train, val, cfg, ckpt_dir=a.ckpt_dir, progress=not a.no_progress)
    from accelerate.state import PartialState
    if PartialState().is_main_process:
        if a.out: save_vae(res.vae, a.out, torch.float32)
        if a.losses: Path(a.losses).write_text(json.dumps(dict(losses=res.losses, ks=res.ks, val=res.val, steps=res.steps,
                                                               resumed_from=res.resumed_from, stopped=res.stopped)))
        print(f"REED: {res.steps} steps (resumed from {res.resumed_from}), final k={res.ks[-1] if res.ks else cfg.k}, "
              f"stopped: {res.stopped}, {res.seconds:.1f}s")
    return res

def main(): train_reed_cli(sys.argv[1:])

if __name__ == '__main__' and '__file__' in globals() and 'get_ipython' not in globals(): main()  # not when a notebook runs this cell
