"""Flow-matching (SD3-class) speed and memory on CPU (not a test): seconds per transformer call of our core
(`flow.flow_sample` → `sampling.denoise` + `CFG`) ÷ diffusers' `StableDiffusion3Pipeline` on the same weights and noise,
timed by hooks on the one shared transformer, and peak RSS with and without the memory switches (VAE slicing and
tiling, the transformer's feed-forward chunking). Each configuration runs in its own child process (its own peak RSS).
Results: benchmarks/results/flow_speed.json.

    OMP_NUM_THREADS=1 nice -n 5 .venv/bin/python benchmarks/flow_speed.py                       # tiny, 64², both switch settings
    OMP_NUM_THREADS=1 nice -n 5 .venv/bin/python benchmarks/flow_speed.py --model full --size 256 --switches off

The full-size model is SD3 Medium's published config with random weights (`flow.full_size('sd3', t5=False)`: T5-XXL,
4.9 B parameters, does not fit beside the rest on a 23 GB machine; its tokens are zeros, as diffusers without
`text_encoder_3`), float32, 2 steps with guidance 7 (batch 2 per call). Times on a shared 2-core machine are indicative.
"""
from __future__ import annotations
import argparse, json, os, resource, subprocess, sys, time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
from harness import write_json, command_line, weights_fingerprint  # noqa: E402


def _rss_gib() -> float: return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2 ** 20


class Meter:
    "Wall time of each forward of one module (pre/post hooks)."
    def __init__(self, m):
        self.times, self._t0 = [], None
        m.register_forward_pre_hook(lambda *a: setattr(self, '_t0', time.perf_counter()))
        m.register_forward_hook(lambda *a: self.times.append(time.perf_counter() - self._t0))


def child(model: str, size: int, steps: int, switches: bool) -> dict:
    import torch
    from imiebench.flow import tiny_sd3, full_size, flow_sample, flow_params
    torch.set_num_threads(1)
    t0 = time.perf_counter()
    b = tiny_sd3() if model == 'tiny' else full_size('sd3', t5=False)
    build_s = time.perf_counter() - t0
    if switches:
        b.vae.enable_slicing(); b.vae.enable_tiling(); b.transformer.enable_forward_chunking(chunk_size=1, dim=1)
    meter, f = Meter(b.transformer), b.vae_factor
    z = torch.randn(1, b.latent_channels, size // f, size // f, generator=torch.Generator().manual_seed(0))
    out = {}
    for who in ('diffusers', 'ours', 'diffusers2', 'ours2'):  # each twice, interleaved: the second pair is reported
        meter.times.clear(); t1 = time.perf_counter()
        if who.startswith('ours'):
            lat = flow_sample(b, 'a red square', '', 7.0, steps, latents=z.clone())
        else:
            lat = b.pipeline()('a red square', negative_prompt='', guidance_scale=7.0, num_inference_steps=steps, latents=z.clone(),
                               height=size, width=size, output_type='latent', max_sequence_length=b.max_sequence_length).images
        out[who] = dict(wall_s=time.perf_counter() - t1, calls=len(meter.times), s_per_call=sum(meter.times) / len(meter.times), latents=lat)
    t2 = time.perf_counter(); img = b.decode(out['ours2']['latents']); decode_s = time.perf_counter() - t2
    same = bool(torch.equal(out['ours2']['latents'], out['diffusers2']['latents']))
    res = dict(model=model, size=size, steps=steps, switches=switches, build_s=round(build_s, 1), params=flow_params(b),
               calls=out['ours2']['calls'], batch_per_call=2,
               s_per_call_ours=round(out['ours2']['s_per_call'], 4), s_per_call_diffusers=round(out['diffusers2']['s_per_call'], 4),
               ours_over_diffusers=round(out['ours2']['s_per_call'] / out['diffusers2']['s_per_call'], 3),
               first_pair_ratio=round(out['ours']['s_per_call'] / out['diffusers']['s_per_call'], 3),
               wall_s_ours=round(out['ours2']['wall_s'], 2), wall_s_diffusers=round(out['diffusers2']['wall_s'], 2),
               decode_s=round(decode_s, 2), bit_identical=same, finite=bool(torch.isfinite(img).all()), peak_rss_gib=round(_rss_gib(), 2))
    if model == 'tiny': res['fingerprint'] = weights_fingerprint(b.transformer, b.vae, *[m for m in b.text_encoders if m is not None])
    return res


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--model', choices=('tiny', 'full'), default='tiny')
    ap.add_argument('--size', type=int, default=None, help='image side in pixels (tiny: 64, full: 256)')
    ap.add_argument('--steps', type=int, default=2)
    ap.add_argument('--switches', choices=('both', 'on', 'off'), default='both')
    ap.add_argument('--child', action='store_true', help=argparse.SUPPRESS)
    a = ap.parse_args()
    size = a.size or (64 if a.model == 'tiny' else 256)
    if a.child:
        print(json.dumps(child(a.model, size, a.steps, a.switches == 'on'))); return
    runs = []
    for sw in (('off', 'on') if a.switches == 'both' else (a.switches,)):
        cmd = [sys.executable, __file__, '--child', '--model', a.model, '--size', str(size), '--steps', str(a.steps), '--switches', sw]
        p = subprocess.run(cmd, capture_output=True, text=True, env=os.environ | dict(OMP_NUM_THREADS='1'))
        if p.returncode: raise SystemExit(p.stderr[-3000:])
        runs.append(json.loads(p.stdout.strip().splitlines()[-1])); print(runs[-1])
    path = ROOT / 'benchmarks/results/flow_speed.json'
    prev = json.loads(path.read_text())['metrics'] if path.exists() else {}
    key = f"{a.model}_{size}"
    fp = runs[0].pop('fingerprint', None)
    for r in runs: r.pop('fingerprint', None)
    kept = [r for r in prev.get(key, []) if r['switches'] not in {r2['switches'] for r2 in runs}]  # a run of the other switch setting stays
    metrics = prev | {key: sorted(kept + runs, key=lambda r: r['switches'])}
    write_json('flow_speed.json', command=command_line(), fingerprint=fp, metrics=metrics)


if __name__ == '__main__':
    main()
