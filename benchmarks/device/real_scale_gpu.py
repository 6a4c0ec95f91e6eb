"""Real-scale GPU timing (one run, ≤ 10 min): seconds per edit and peak GPU memory in float16, ours vs diffusers' pipelines
on the same random full-size weights. SD 1.5 (DiffEdit) and InstructPix2Pix (EMILIE / IP2P) at 512², SDXL-InstructPix2Pix at 1024².

    python3 benchmarks/device/real_scale_gpu.py --out $OUT/real_scale_gpu.json     (see real_scale_gpu.sh)

Settings (override with flags): DiffEdit T=50 DDIM steps, encoding ratio r=0.5, n=10 mask draws (the paper's defaults);
EMILIE / IP2P T=50 Euler-ancestral steps. Each measurement follows one short warm-up run of the same code path.
"""
from __future__ import annotations
import argparse, json, sys, time, warnings
from pathlib import Path
sys.path.insert(0, str(Path(__file__).resolve().parents[2])); sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
import numpy as np, torch, PIL.Image
from harness import UNetMeter


CUDA = torch.cuda.is_available()
DEV = 'cuda' if CUDA else 'cpu'

def _gib(x): return round(x / 2 ** 30, 2) if CUDA else None

def timed(fn, meter):
    if CUDA: torch.cuda.synchronize(); torch.cuda.reset_peak_memory_stats()
    s0 = meter.snap(); t0 = time.perf_counter(); out = fn()
    if CUDA: torch.cuda.synchronize()
    return out, dict(s=round(time.perf_counter() - t0, 3), peak_gib=_gib(CUDA and torch.cuda.max_memory_allocated()), **meter.since(s0))


def finite(x) -> bool: return bool(torch.isfinite(torch.as_tensor(np.asarray(x) if not isinstance(x, torch.Tensor) else x).float()).all())


def run(arch, size, a, res):
    from diffusers import StableDiffusionDiffEditPipeline, DDIMInverseScheduler, DDIMScheduler
    from imiebench.models import full_size
    from imiebench.diffedit import diffedit
    from imiebench.emilie import EditSession
    t0 = time.perf_counter()
    if a.smoke:  # CPU check of this script's code paths on tiny stand-ins (float32)
        from imiebench.models import tiny
        b = tiny(dict(sd15='sd', ip2p='ip2p', ip2p_xl='ip2p_xl')[arch]); size = 32
    else: b = full_size(arch, dtype=torch.float16, device=DEV)
    build = time.perf_counter() - t0
    meter = UNetMeter(b.unet); img = np.random.default_rng(0).integers(0, 255, (size, size, 3), dtype=np.uint8); pil = PIL.Image.fromarray(img)
    g = lambda: torch.Generator(DEV).manual_seed(0)
    R = res[arch] = dict(size=size, build_s=round(build, 1), vae_dtype=str(b.vae.dtype), weights_gib=_gib(CUDA and torch.cuda.memory_allocated()))
    if b.kind == 'sd':
        T, r, n = a.diffedit_steps, a.r, a.n
        ours = lambda T: diffedit(b, img, 'a red circle', 'a blue square', r=r, num_inference_steps=T, n=n, generator=g(), progress=False).image
        pipe = b.pipeline(StableDiffusionDiffEditPipeline, inverse_scheduler=DDIMInverseScheduler.from_config(b.scheduler.config))
        pipe.scheduler = DDIMScheduler.from_config(b.scheduler.config)
        def theirs(T):
            m = pipe.generate_mask(image=pil, target_prompt='a red circle', source_prompt='a blue square', num_maps_per_mask=n, generator=g())
            inv = pipe.invert(prompt='a blue square', image=pil, num_inference_steps=T, inpaint_strength=r, generator=g()).latents
            return pipe(prompt='a red circle', mask_image=m, image_latents=inv, inpaint_strength=r, num_inference_steps=T, generator=g(),
                        output_type='np').images
        for name, fn in (('diffedit_ours', ours), ('diffedit_diffusers', theirs)):
            fn(2); out, st = timed(lambda: fn(T), meter); R[name] = st | dict(steps=T, r=r, n=n, finite=finite(out))
    else:
        T = a.emilie_steps
        def ours(T):
            s = EditSession(b, img, mode='latent', num_inference_steps=T, progress=False); s.edit('make the red circle blue'); return s.history[-1].latents
        pipe = b.pipeline(); kw = dict(height=size, width=size) if b.xl else {}
        theirs = lambda T: pipe('make the red circle blue', image=pil, num_inference_steps=T, guidance_scale=7.5, generator=g(), output_type='np', **kw).images
        for name, fn in (('emilie_ours', ours), ('ip2p_diffusers', theirs)):
            fn(2); out, st = timed(lambda: fn(T), meter); R[name] = st | dict(steps=T, finite=finite(out))
    b = pipe = None  # free the weights before the next architecture
    if CUDA: torch.cuda.empty_cache()
    print(json.dumps({arch: R}), flush=True)


def main():
    ap = argparse.ArgumentParser(); ap.add_argument('--out', default='real_scale_gpu.json')
    ap.add_argument('--archs', default='sd15:512,ip2p:512,ip2p_xl:1024')
    ap.add_argument('--diffedit-steps', type=int, default=50); ap.add_argument('--r', type=float, default=0.5); ap.add_argument('--n', type=int, default=10)
    ap.add_argument('--emilie-steps', type=int, default=50); ap.add_argument('--smoke', action='store_true', help='tiny models on CPU')
    a = ap.parse_args(); warnings.simplefilter('ignore')
    if not CUDA and not a.smoke: sys.exit('needs a CUDA GPU (or --smoke for a CPU check of the code paths)')
    res = dict(device=torch.cuda.get_device_name() if CUDA else 'cpu (smoke)', torch=torch.__version__, dtype='float16', args=vars(a))
    for item in a.archs.split(','):
        arch, size = item.split(':')
        try: run(arch, int(size), a, res)
        except Exception as e: res[arch] = dict(error=f'{type(e).__name__}: {e}'); print(res[arch], flush=True)
        Path(a.out).write_text(json.dumps(res, indent=1))


if __name__ == '__main__':
    main()
