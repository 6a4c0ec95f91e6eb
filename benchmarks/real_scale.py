"""Real-scale benchmark (not a test): every method on every full-size architecture, random weights.

Each architecture runs in its own child process (peak RSS per architecture, memory freed between
them). Per method: wall time, UNet batch items (NFE) against the method's minimum, seconds per UNet
batch item ours vs the diffusers pipeline on the same weights (hooks on the one shared UNet), output
shapes and finiteness. Results: benchmarks/results/real_scale.json.

    OMP_NUM_THREADS=1 nice -n 5 .venv/bin/python benchmarks/real_scale.py            # all, 512², 2 steps
    .venv/bin/python benchmarks/real_scale.py --archs sd15 --steps 3 --size 512      # one architecture

Minimum NFE (batch items through the UNet): DiffEdit 2n + r·T (encode) + 2·r·T (decode with CFG);
EMILIE / InstructPix2Pix 3·T per edit. SDXL-class models run in bfloat16 by default (float32
weights alone would be 14 GB); the others in float32.
"""
from __future__ import annotations
import argparse, json, os, resource, subprocess, sys, time, warnings
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
from harness import UNetMeter, write_json, read_metrics
ARCHS = ('sd15', 'sd21', 'ip2p', 'sdxl', 'ip2p_xl')


def _rss_gib() -> float: return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2 ** 20


def _finite(t) -> bool:
    import torch, numpy as np
    return bool(torch.isfinite(torch.as_tensor(np.asarray(t) if not isinstance(t, torch.Tensor) else t).float()).all())


def _timed(meter, fn):
    s0 = meter.snap(); t0 = time.perf_counter(); out = fn(); wall = time.perf_counter() - t0
    return out, dict(wall_s=round(wall, 3), **meter.since(s0))


def run_one(arch: str, size: int, steps: int, n: int, r: float, dtype_name: str) -> dict:
    import numpy as np, torch, PIL.Image
    from diffusers import StableDiffusionDiffEditPipeline, DDIMInverseScheduler, DDIMScheduler
    from imiebench.models import full_size, n_params
    from imiebench.diffedit import diffedit
    from imiebench.emilie import EditSession, ip2p_edit
    from imiebench.reed import roundtrips
    warnings.simplefilter('ignore')
    torch.set_num_threads(int(os.environ.get('OMP_NUM_THREADS', '1')))
    dtype = getattr(torch, dtype_name)
    t0 = time.perf_counter()
    if os.environ.get('REAL_SCALE_SMOKE'):  # tiny stand-ins of the same classes (a smoke run of this script in seconds)
        from imiebench.models import tiny
        b = tiny(dict(sd15='sd', sd21='sd', ip2p='ip2p', sdxl='sdxl', ip2p_xl='ip2p_xl')[arch],
                 prediction_type='v_prediction' if arch == 'sd21' else 'epsilon').to(dtype=dtype)
    else: b = full_size(arch, dtype=dtype)
    build_s = time.perf_counter() - t0
    meter = UNetMeter(b.unet)
    img = np.random.default_rng(0).integers(0, 255, (size, size, 3), dtype=np.uint8)
    pil = PIL.Image.fromarray(img)
    res = dict(arch=arch, dtype=dtype_name, size=size, steps=steps, xl=b.xl, kind=b.kind, prediction_type=b.prediction_type,
               params={k: int(v) for k, v in n_params(b).items()}, build_s=round(build_s, 1), vae_dtype=str(b.vae.dtype), methods={})
    g = lambda s=0: torch.Generator().manual_seed(s)
    M = res['methods']
    if b.kind == 'sd':
        out, st = _timed(meter, lambda: diffedit(b, img, 'a red circle', 'a blue square', r=r, num_inference_steps=steps, guidance_scale=5.0, n=n,
                                                  generator=g(), progress=False))
        M['diffedit_ours'] = st | dict(nfe_min=2 * n + int(r * steps) + 2 * int(r * steps), shape=list(out.image.shape),
                                       finite=_finite(out.image), mask_shape=list(out.mask.mask.shape))
        if not b.xl:  # diffusers' (deprecated) DiffEdit pipeline; its mask needs CFG (guidance_scale=1 fails inside generate_mask): 4n items
            pipe = b.pipeline(StableDiffusionDiffEditPipeline, inverse_scheduler=DDIMInverseScheduler.from_config(b.scheduler.config))
            pipe.scheduler = DDIMScheduler.from_config(b.scheduler.config)
            def dd():
                m = pipe.generate_mask(image=pil, target_prompt='a red circle', source_prompt='a blue square', num_maps_per_mask=n,
                                       guidance_scale=7.5, mask_encode_strength=0.5, generator=g())
                inv = pipe.invert(prompt='a blue square', image=pil, num_inference_steps=steps, inpaint_strength=r, guidance_scale=1.0,
                                  generator=g()).latents
                return pipe(prompt='a red circle', mask_image=m, image_latents=inv, inpaint_strength=r, num_inference_steps=steps,
                            guidance_scale=5.0, generator=g(), output_type='np').images
            out, st = _timed(meter, dd)
            M['diffedit_diffusers'] = st | dict(nfe_min=4 * n + int(r * steps) + 2 * int(r * steps), shape=list(np.asarray(out).shape), finite=_finite(out))
        else:  # no DiffEdit pipeline for SDXL: the per-call reference is diffusers' SDXL text-to-image pipeline
            pipe = b.pipeline(); pipe.scheduler = DDIMScheduler.from_config(b.scheduler.config)
            out, st = _timed(meter, lambda: pipe('a red circle', height=size, width=size, num_inference_steps=steps, guidance_scale=5.0,
                                                  generator=g(), output_type='np').images)
            M['sdxl_t2i_diffusers'] = st | dict(nfe_min=2 * steps, shape=list(np.asarray(out).shape), finite=_finite(out))
    else:
        def emilie():
            s = EditSession(b, img, mode='latent', num_inference_steps=steps, progress=False)
            s.edit('make the red circle blue')
            m = np.zeros((size, size), np.float32); m[size // 4: 3 * size // 4, size // 4: 3 * size // 4] = 1
            s.edit('make it green', mask=m)  # gradient control ('null', the default) inside the mask
            return s
        s, st = _timed(meter, emilie)
        M['emilie_ours'] = st | dict(edits=2, nfe_min=2 * 3 * steps, shape=list(s.image.shape), finite=_finite(s.history[-1].latents))
        out, st = _timed(meter, lambda: ip2p_edit(b, img, 'make the red circle blue', num_inference_steps=steps, generator=g(), progress=False).image)
        M['ip2p_ours'] = st | dict(nfe_min=3 * steps, shape=list(out.shape), finite=_finite(out))
        pipe = b.pipeline()
        kw = dict(height=size, width=size) if b.xl else {}
        out, st = _timed(meter, lambda: pipe('make the red circle blue', image=pil, num_inference_steps=steps, generator=g(),
                                              output_type='np', **kw).images)
        M['ip2p_diffusers'] = st | dict(nfe_min=3 * steps, shape=list(np.asarray(out).shape), finite=_finite(out))
    # REED: VAE round trips (encode + decode) at full size
    x = torch.from_numpy(img).permute(2, 0, 1)[None].float() / 127.5 - 1
    out, st = _timed(meter, lambda: roundtrips(b.vae, x.to(b.vae.dtype), n=2, at=(1, 2)))
    res['reed_roundtrips'] = dict(wall_s=st['wall_s'], metrics={k: {m: v for m, v in d.items() if v is not None} for k, d in out.items()},
                                  finite=all(np.isfinite(v) for d in out.values() for v in d.values() if v is not None))
    for k in ('diffedit', 'ip2p'):
        o, d = M.get(f'{k}_ours'), M.get(f'{k}_diffusers') or M.get('sdxl_t2i_diffusers')
        if o and d: res[f'{k}_s_per_item_ratio_ours_over_diffusers'] = round(o['s_per_item'] / d['s_per_item'], 3)
    res['peak_rss_gib'] = round(_rss_gib(), 2)
    return res


def _vm(key: str) -> float:
    "VmRSS / VmHWM of this process in GiB."
    for l in open('/proc/self/status'):
        if l.startswith(key): return int(l.split()[1]) / 2 ** 20
    return float('nan')


MEMORY_VARIANTS = ('baseline', 'attention_slicing_auto', 'attention_slicing_max', 'vae_slicing', 'bfloat16')

def _reset_peak():
    "Reset VmHWM (Linux: writing 5 to clear_refs), so each measurement's peak is its own."
    try: open('/proc/self/clear_refs', 'w').write('5')
    except OSError: pass


def run_memory(variant: str, size: int) -> dict:
    "What a memory switch costs on SD 1.5 at `size`²: one UNet call (batch 2, as one CFG step) and one VAE decode of 2 images."
    import torch
    from imiebench.models import full_size
    torch.set_num_threads(int(os.environ.get('OMP_NUM_THREADS', '1')))
    b = full_size('sd15', dtype=torch.bfloat16 if variant == 'bfloat16' else torch.float32)
    b.set_memory(attention_slicing={'attention_slicing_auto': 'auto', 'attention_slicing_max': 'max'}.get(variant),
                 vae_slicing=variant == 'vae_slicing')
    x = torch.randn(2, 4, size // 8, size // 8, generator=torch.Generator().manual_seed(0)).to(b.dtype)
    e = b.embed(['a red circle', ''])
    out = dict(variant=variant, size=size, weights_rss_gib=round(_vm('VmRSS'), 2))
    with torch.no_grad():
        _reset_peak(); r0 = _vm('VmRSS'); t0 = time.perf_counter(); y = b.predict(x, 500, e); out['unet_call_s'] = round(time.perf_counter() - t0, 2)
        out['unet_peak_extra_gib'] = round(_vm('VmHWM') - r0, 2); out['unet_finite'] = bool(torch.isfinite(y).all()); out['unet_shape'] = list(y.shape)
        del y; _reset_peak(); r0 = _vm('VmRSS'); t0 = time.perf_counter(); im = b.decode(x); out['vae_decode_s'] = round(time.perf_counter() - t0, 2)
        out['decode_peak_extra_gib'] = round(_vm('VmHWM') - r0, 2); out['decode_finite'] = bool(torch.isfinite(im).all())
    return out


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument('--archs', default=','.join(ARCHS)); ap.add_argument('--size', type=int, default=512)
    ap.add_argument('--xl-size', type=int, default=None, help='size for SDXL-class archs (default: --size)')
    ap.add_argument('--steps', type=int, default=2); ap.add_argument('--n', type=int, default=1, help='DiffEdit mask noise draws')
    ap.add_argument('--r', type=float, default=1.0); ap.add_argument('--dtype', default=None, help='default: float32, bfloat16 for SDXL-class')
    ap.add_argument('--out', default=str(ROOT / 'benchmarks/results/real_scale.json'))
    ap.add_argument('--one', default=None, help=argparse.SUPPRESS)
    ap.add_argument('--memory', action='store_true', help="what each memory switch costs (SD 1.5, one UNet call and one decode; "
                    "each variant in its own process) instead of the methods; results under 'memory' in --out")
    ap.add_argument('--one-memory', default=None, help=argparse.SUPPRESS)
    ap.add_argument('--variants', default=None, help=f"with --memory: some of {','.join(MEMORY_VARIANTS)}")
    a = ap.parse_args(argv)
    if a.one_memory:
        print('RESULT ' + json.dumps(run_memory(a.one_memory, a.size)), flush=True); return
    if a.one:
        xl = a.one.endswith('xl')
        r = run_one(a.one, (a.xl_size or a.size) if xl else a.size, a.steps, a.n, a.r, a.dtype or ('bfloat16' if xl else 'float32'))
        print('RESULT ' + json.dumps(r), flush=True); return
    out = Path(a.out); prev = read_metrics(out, {})
    runs = prev.get('runs', {})
    if a.memory:
        mem = prev.get('memory', {})
        for v in (a.variants.split(',') if a.variants else MEMORY_VARIANTS):
            p = subprocess.run([sys.executable, __file__, '--one-memory', v, '--size', str(a.size)], capture_output=True, text=True)
            line = [l for l in p.stdout.splitlines() if l.startswith('RESULT ')]
            mem[v] = json.loads(line[-1][7:]) if line else dict(error=(p.stderr or p.stdout)[-2000:])
            print(json.dumps(mem[v]), flush=True)
            mcmd = 'OMP_NUM_THREADS=1 nice -n 5 .venv/bin/python benchmarks/real_scale.py --memory --size ' + str(a.size)
            write_json(out, command=mcmd, fingerprint=None, metrics=prev | dict(memory=mem, memory_command=mcmd))  # random weights (models.full_size): no trained model
        return
    for arch in a.archs.split(','):
        cmd = [sys.executable, __file__, '--one', arch] + sum([[f'--{k.replace("_", "-")}', str(v)] for k, v in vars(a).items()
                                                              if k not in ('archs', 'out', 'one', 'memory', 'one_memory', 'variants') and v is not None], [])
        t0 = time.time(); p = subprocess.run(cmd, capture_output=True, text=True)
        line = [l for l in p.stdout.splitlines() if l.startswith('RESULT ')]
        runs[arch] = json.loads(line[-1][7:]) if line else dict(arch=arch, error=(p.stderr or p.stdout)[-2000:])
        runs[arch]['process_s'] = round(time.time() - t0, 1)
        print(json.dumps(runs[arch], indent=1), flush=True)
        out.parent.mkdir(parents=True, exist_ok=True)
        prev = read_metrics(out, {}); rcmd = 'OMP_NUM_THREADS=1 nice -n 5 .venv/bin/python benchmarks/real_scale.py ' + ' '.join(sys.argv[1:])
        write_json(out, command=rcmd, fingerprint=None, metrics=prev | dict(command=rcmd,  # random weights (models.full_size): no trained model
                                       machine='CPU, shared with two training processes (2 cores); times are indicative',
                                       threads=int(os.environ.get('OMP_NUM_THREADS', '1')), runs=runs))


if __name__ == '__main__':
    main()
