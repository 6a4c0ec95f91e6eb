"""GPU check of the SD3-class flow path at full size (prepared; run once when a device is lent — not run on CPU).

Builds SD3 Medium's published architecture with random weights (`flow.full_size('sd3')`, T5-XXL included, bfloat16),
then at 1024² and 28 steps with guidance 7: text-to-image through our core (`flow.flow_sample`) and through diffusers'
`StableDiffusion3Pipeline` on the same modules and noise (seconds per transformer call from CUDA-synchronised hooks,
bit-identity of the latents), flow inversion + reconstruction with Euler and FireFlow (8 steps, latent PSNR), and the
peak GPU memory of each. Writes $OUT/flow_full_size.json (or benchmarks/results/ when OUT is unset).

    python benchmarks/device/flow_full_size.py            # about 5 minutes on one H100/H200-class GPU
    python benchmarks/device/flow_full_size.py --size 512 --steps 4 --no-t5   # a quicker smoke run
"""
from __future__ import annotations
import argparse, json, math, os, sys, time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))


def main():
    import torch
    from imiebench.flow import full_size, flow_sample, flow_params
    from imiebench.flow_inversion import flow_invert, flow_reconstruct
    ap = argparse.ArgumentParser()
    ap.add_argument('--size', type=int, default=1024); ap.add_argument('--steps', type=int, default=28)
    ap.add_argument('--no-t5', action='store_true'); ap.add_argument('--dtype', default='bfloat16')
    a = ap.parse_args()
    dev, dt = torch.device('cuda'), getattr(torch, a.dtype)
    t0 = time.time(); b = full_size('sd3', dtype=dt, device=dev, t5=not a.no_t5); res = dict(build_s=round(time.time() - t0, 1), params=flow_params(b))
    times = []
    b.transformer.register_forward_pre_hook(lambda *x: (torch.cuda.synchronize(), times.append(-time.perf_counter())))
    b.transformer.register_forward_hook(lambda *x: (torch.cuda.synchronize(), times.append(times.pop() + time.perf_counter())))
    z = torch.randn(1, 16, a.size // 8, a.size // 8, generator=torch.Generator().manual_seed(0)).to(dev, dt)
    out = {}
    for who in ('diffusers', 'ours', 'diffusers_2', 'ours_2'):
        times.clear(); torch.cuda.reset_peak_memory_stats(); t1 = time.perf_counter()
        if who.startswith('ours'): lat = flow_sample(b, 'a red square', '', 7.0, a.steps, latents=z.clone())
        else: lat = b.pipeline()('a red square', negative_prompt='', guidance_scale=7.0, num_inference_steps=a.steps, latents=z.clone(),
                                 height=a.size, width=a.size, output_type='latent').images
        torch.cuda.synchronize()
        out[who] = dict(wall_s=round(time.perf_counter() - t1, 3), s_per_call=round(sum(times) / len(times), 5), calls=len(times),
                        peak_gib=round(torch.cuda.max_memory_allocated() / 2 ** 30, 2), lat=lat)
    res['t2i'] = {k: {kk: vv for kk, vv in v.items() if kk != 'lat'} for k, v in out.items()}
    res['bit_identical'] = bool(torch.equal(out['ours_2']['lat'], out['diffusers_2']['lat']))
    res['ours_over_diffusers_per_call'] = round(out['ours_2']['s_per_call'] / out['diffusers_2']['s_per_call'], 3)
    z0 = out['ours_2']['lat']; rng = float(z0.max() - z0.min())
    for s in ('euler', 'fireflow'):
        t1 = time.perf_counter(); up = flow_invert(b, z0, 'a red square', 8, s); rec = flow_reconstruct(b, up.final, 'a red square', 8, s)
        mse = float((rec.final.float() - z0.float()).pow(2).mean())
        res[f'inversion_{s}'] = dict(nfe=up.nfe + rec.nfe, wall_s=round(time.perf_counter() - t1, 2), latent_psnr=round(10 * math.log10(rng ** 2 / max(mse, 1e-20)), 2))
    res |= dict(size=a.size, steps=a.steps, dtype=a.dtype, t5=not a.no_t5, device=torch.cuda.get_device_name())
    dst = Path(os.environ.get('OUT') or ROOT / 'benchmarks/results') / 'flow_full_size.json'
    dst.write_text(json.dumps(res, indent=1)); print(json.dumps(res, indent=1))


if __name__ == '__main__':
    main()
