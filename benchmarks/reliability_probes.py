"""Reliability probes: bad input, saved state, threads and long sessions against the public entry points.

Every probe is a call with a known expectation:
- `expect='error'` (invalid input): a ValueError/TypeError (or a warning, where the documented answer is a warning)
  whose message names the argument is a *clear error*; a returned result is *silent wrong*; any other exception
  (AttributeError, RuntimeError, an error from inside numpy/torch/diffusers, or one that names nothing) is a *crash*.
- `expect='ok'` (valid input): a result that passes the probe's own check is *correct*; one that fails it is *silent
  wrong*; an exception is a *crash* (a valid value refused counts here too).
The probes run on tiny random bundles (`models.tiny`) and the toy zoo; the same script runs against an older copy of
the package (PYTHONPATH=that copy) to give the before/after numbers.

Usage:
  python benchmarks/reliability_probes.py --label after [--sessions 100 --session-steps 2] [--out benchmarks/results/reliability.json]
"""
from __future__ import annotations
import argparse, gc, io, json, os, shutil, tempfile, threading, time, warnings
from collections import Counter
from pathlib import Path

import numpy as np, torch
from harness import read_json, write_json

RESULTS: list[dict] = []

def _classify_error(e: BaseException, names) -> str:
    msg = str(e)
    if 'weights_only' in msg: return 'crash'  # an error that recommends unsafe loading is no clear error
    if isinstance(e, (ValueError, TypeError, FileNotFoundError)) and any(n.lower() in msg.lower() for n in names): return 'clear_error'
    return 'crash'

def probe(cat: str, name: str, fn, expect: str, names=()):
    "Run one probe and record its outcome."
    t0 = time.time(); detail = ''
    with warnings.catch_warnings(record=True) as ws:
        warnings.simplefilter('always')
        try:
            out = fn()
            if expect == 'error':
                warned = [str(w.message) for w in ws if any(n.lower() in str(w.message).lower() for n in names)
                          and not issubclass(w.category, (DeprecationWarning, FutureWarning))]
                outcome = 'clear_error' if warned else 'silent_wrong'; detail = warned[0][:160] if warned else 'returned a result'
            else:
                outcome = 'correct' if out in (True, None) else 'silent_wrong'; detail = '' if out in (True, None) else str(out)[:160]
        except Exception as e:
            outcome = _classify_error(e, names) if expect == 'error' else 'crash'
            detail = f"{type(e).__name__}: {str(e)[:160]}"
    RESULTS.append(dict(category=cat, probe=name, expect=expect, outcome=outcome, detail=detail, s=round(time.time() - t0, 3)))

# ---------------------------------------------------------------------------------------------------------------
def run_probes(tmp: Path):
    from imiebench.models import tiny, make_scheduler, as_pipeline
    from imiebench.core import to_tensor, to_uint8
    from imiebench.ddim import ddim_encode, ddim_decode
    from imiebench.diffedit import diffedit, diffedit_mask
    from imiebench.emilie import ip2p_edit, EditSession
    from imiebench import reed
    from imiebench.elements.partition import partition
    from imiebench.elements.model import encode_elements
    from imiebench.elements.edit import move, resize
    from imiebench.elements.decoders import decode_light
    from imiebench.toy.elements import load_toy_elements
    from imiebench.bench import format as bench
    from diffusers import PNDMScheduler, LMSDiscreteScheduler, DPMSolverMultistepScheduler, UniPCMultistepScheduler, \
        EulerDiscreteScheduler
    SD, IP = tiny('sd'), tiny('ip2p')
    rng = np.random.default_rng(0)
    IMG = rng.integers(0, 255, (16, 16, 3), dtype=np.uint8)
    F01 = torch.from_numpy(IMG).permute(2, 0, 1).float() / 255
    G = lambda s=0: torch.Generator().manual_seed(s)
    close = lambda a, b, tol=2e-3: bool((a - b).abs().max() < tol) or f"max |diff| {float((a - b).abs().max()):.3g}"
    Z = SD.encode(IMG); TR = ddim_encode(SD, Z, 4, 0.5, progress=False)
    ip = lambda **kw: ip2p_edit(**(dict(b=IP, image=IMG, instruction='make it blue', steps=2, generator=G(), progress=False) | kw))
    de = lambda **kw: diffedit(**(dict(b=SD, image=IMG, query='a red circle', steps=4, n=2, generator=G(), progress=False) | kw))
    dd = lambda **kw: ddim_decode(**(dict(b=SD, start=TR, prompt='a red circle', steps=4, r=0.5, progress=False) | kw))
    REF_IP, REF_DE = ip().image, de().image

    # 1. image range: float tensors in [0, 1] (diffusers' convention) must be the same image as the uint8 array
    for k, v in dict(chw=F01, nchw=F01[None]).items():
        probe('image_range', f'ip2p_edit float [0,1] {k}', lambda v=v: close(ip(image=v).image, REF_IP), 'ok')
        probe('image_range', f'diffedit float [0,1] {k}', lambda v=v: close(de(image=v).image, REF_DE), 'ok')
        probe('image_range', f'encode float [0,1] {k}', lambda v=v: close(SD.encode(v), Z), 'ok')
        probe('image_range', f'EditSession float [0,1] {k}', lambda v=v: bool(np.abs(EditSession(IP, v, steps=2, progress=False).original.astype(int) - IMG).max() <= 1), 'ok')
        probe('image_range', f'partition float [0,1] {k}', lambda v=v: bool((partition(v, n=4).labels == partition(IMG, n=4).labels).all()), 'ok')
    dark = torch.full((3, 16, 16), 0.2)  # a dark image in [0, 1]; read as [-1, 1] it would be light grey
    probe('image_range', 'dark float [0,1] → uint8 51', lambda: bool(to_uint8(to_tensor(dark))[0].max() == 51), 'ok')
    for nm, x in [('NaN', torch.full((1, 3, 16, 16), float('nan'))), ('range 0..255', torch.full((1, 3, 16, 16), 200.)),
                  ('int tensor', torch.zeros(1, 3, 16, 16, dtype=torch.int64))]:
        probe('image_range', f'ip2p_edit image {nm}', lambda x=x: ip(image=x), 'error', ('NaN', 'range', 'float', 'image'))
        probe('image_range', f'diffedit image {nm}', lambda x=x: de(image=x), 'error', ('NaN', 'range', 'float', 'image'))
    for nm, x in [('NaN', torch.full((1, 3, 16, 16), float('nan'))), ('range 0..255', torch.full((1, 3, 16, 16), 200.)),
                  ('3-D', torch.zeros(3, 16, 16))]:
        probe('image_range', f'reed.vae_roundtrip {nm}', lambda x=x: reed.vae_roundtrip(SD.vae, x), 'error', ('NaN', 'range', 'images', 'N×3×H×W'))
        probe('image_range', f'reed.roundtrips {nm}', lambda x=x: reed.roundtrips(SD.vae, x, n=2, at=(1, 2)), 'error', ('NaN', 'range', 'images', 'N×3×H×W'))

    # 2. numbers: every float parameter finite, steps integers ≥ 1, numpy scalars accepted
    nan, inf = float('nan'), float('inf')
    for v in (nan, inf, -inf):
        probe('numbers', f'ip2p_edit guidance_scale={v}', lambda v=v: ip(guidance_scale=v), 'error', ('guidance_scale',))
        probe('numbers', f'ip2p_edit image_guidance_scale={v}', lambda v=v: ip(image_guidance_scale=v), 'error', ('image_guidance_scale',))
        probe('numbers', f'diffedit guidance_scale={v}', lambda v=v: de(guidance_scale=v), 'error', ('guidance_scale',))
        probe('numbers', f'diffedit threshold={v}', lambda v=v: de(threshold=v), 'error', ('threshold',))
        probe('numbers', f'diffedit_mask clamp_ratio={v}', lambda v=v: diffedit_mask(SD, IMG, 'a red circle', n=2, steps=4, rescale='mean', clamp_ratio=v), 'error', ('clamp_ratio',))
        probe('numbers', f'ddim_decode guidance_scale={v}', lambda v=v: dd(guidance_scale=v), 'error', ('guidance_scale',))
        probe('numbers', f'ddim_decode eta={v}', lambda v=v: dd(eta=v), 'error', ('eta',))
        probe('numbers', f'ddim_encode guidance_scale={v}', lambda v=v: ddim_encode(SD, Z, 4, 0.5, guidance_scale=v, progress=False), 'error', ('guidance_scale',))
        probe('numbers', f'pixel_edit brightness delta={v}', lambda v=v: reed.pixel_edit(IMG, 'brightness', delta=v), 'error', ('delta',))
        probe('numbers', f'pixel_edit blur sigma={v}', lambda v=v: reed.pixel_edit(IMG, 'blur', sigma=v), 'error', ('sigma',))
        probe('numbers', f'partition beta={v}', lambda v=v: partition(IMG, n=4, beta=v), 'error', ('beta',))
    for s in (0, -1, 2.5, None):
        probe('numbers', f'ip2p_edit steps={s}', lambda s=s: ip(steps=s), 'error', ('steps',))
        probe('numbers', f'diffedit steps={s}', lambda s=s: de(steps=s), 'error', ('steps',))
        probe('numbers', f'ddim_decode steps={s}', lambda s=s: dd(steps=s), 'error', ('steps',))
        probe('numbers', f'reed.roundtrips n={s}', lambda s=s: reed.roundtrips(SD.vae, torch.zeros(1, 3, 16, 16), n=s, at=(1,)), 'error', ('n ', 'n=', 'n must'))
    probe('numbers', 'pixel_edit blur sigma=0', lambda: reed.pixel_edit(IMG, 'blur', sigma=0), 'error', ('sigma',))
    probe('numbers', 'ddim_decode eta=1.5', lambda: dd(eta=1.5), 'error', ('eta',))
    probe('numbers', 'diffedit r=np.float32(0.5)', lambda: bool(torch.isfinite(de(r=np.float32(0.5)).image).all()), 'ok')
    probe('numbers', 'ddim_decode r=np.float32(0.5)', lambda: close(dd(r=np.float32(0.5)), dd()), 'ok')
    probe('numbers', 'ip2p_edit guidance np.float32', lambda: close(ip(guidance_scale=np.float32(7.5)).image, REF_IP), 'ok')
    probe('numbers', 'ip2p_edit steps=np.int64(2)', lambda: close(ip(steps=np.int64(2)).image, REF_IP), 'ok')
    probe('numbers', 'partition n=np.int64(4)', lambda: bool(partition(IMG, n=np.int64(4)).labels.max() < 4), 'ok')

    # 3. masks, latents and prompts
    probe('masks_latents', 'ip2p_edit mask batch 2 for 1 image', lambda: ip(mask=np.ones((2, 1, 16, 16))), 'error', ('mask', 'batch'))
    probe('masks_latents', 'ddim_decode mask batch 3 for 1 latent', lambda: dd(mask=torch.ones(3, 1, 8, 8)), 'error', ('mask', 'batch'))
    probe('masks_latents', 'ddim_decode mask NaN', lambda: dd(mask=torch.full((1, 1, 8, 8), nan)), 'error', ('mask', 'NaN'))
    probe('masks_latents', 'ddim_decode mask 5×5', lambda: dd(mask=torch.ones(1, 1, 5, 5)), 'error', ('mask',))
    probe('masks_latents', 'ddim_decode mask values 0..2', lambda: dd(mask=torch.full((1, 1, 8, 8), 2.)), 'error', ('mask', '[0, 1]'))
    probe('masks_latents', 'ddim_decode prompt=None', lambda: dd(prompt=None), 'error', ('prompt',))
    probe('masks_latents', 'ddim_decode negative_prompt=3', lambda: dd(negative_prompt=3), 'error', ('negative_prompt', 'prompt'))
    probe('masks_latents', 'ddim_decode latents NaN', lambda: dd(start=torch.full((1, 4, 8, 8), nan)), 'error', ('start', 'latents', 'NaN'))
    probe('masks_latents', 'ddim_decode latents 3 channels', lambda: dd(start=torch.zeros(1, 3, 8, 8)), 'error', ('start', 'latents', 'channels'))
    probe('masks_latents', 'ddim_encode latents 3-D', lambda: ddim_encode(SD, torch.zeros(4, 8, 8), 4, 0.5, progress=False), 'error', ('latents',))
    probe('masks_latents', 'ddim_encode latents int', lambda: ddim_encode(SD, torch.zeros(1, 4, 8, 8, dtype=torch.int64), 4, 0.5, progress=False), 'error', ('latents',))
    probe('masks_latents', 'decode latents NaN', lambda: SD.decode(torch.full((1, 4, 8, 8), nan)), 'error', ('latents', 'NaN'))
    probe('masks_latents', 'decode latents 8 channels', lambda: SD.decode(torch.zeros(1, 8, 8, 8)), 'error', ('latents', 'channels'))
    probe('masks_latents', 'ip2p_edit image_latents NaN', lambda: ip(image=None, image_latents=torch.full((1, 4, 8, 8), nan)), 'error', ('image_latents', 'NaN'))
    probe('masks_latents', 'ip2p_edit source_latents wrong size', lambda: ip(mask=np.ones((16, 16)), source_latents=torch.zeros(1, 4, 4, 4)), 'error', ('source_latents',))
    probe('masks_latents', 'diffedit_mask noise wrong shape', lambda: diffedit_mask(SD, IMG, 'a red circle', n=2, steps=4, noise=torch.zeros(1, 4, 8, 8)), 'error', ('noise',))
    probe('masks_latents', 'ip2p_edit instruction=None', lambda: ip(instruction=None), 'error', ('instruction',))
    probe('masks_latents', 'diffedit reference=None', lambda: de(reference=None), 'error', ('reference',))

    # 4. generators, bundles, schedulers
    probe('generators_bundles', 'ip2p_edit generator=int seed', lambda: close(ip(generator=0).image, REF_IP, 1e-6), 'ok')
    probe('generators_bundles', 'diffedit generator=int seed', lambda: close(de(generator=0).image, REF_DE, 1e-6), 'ok')
    for nm, g in [('numpy Generator', np.random.default_rng(0)), ('str', 'seed'), ('float', 1.5)]:
        probe('generators_bundles', f'ip2p_edit generator={nm}', lambda g=g: ip(generator=g), 'error', ('generator',))
        probe('generators_bundles', f'diffedit generator={nm}', lambda g=g: de(generator=g), 'error', ('generator',))
    probe('generators_bundles', 'ip2p_edit with a diffusers pipeline', lambda: ip(b=as_pipeline(IP)), 'error', ('Bundle',))
    probe('generators_bundles', 'diffedit with a diffusers pipeline', lambda: de(b=as_pipeline(SD)), 'error', ('Bundle',))
    probe('generators_bundles', 'ddim_decode with a diffusers pipeline', lambda: dd(b=as_pipeline(SD)), 'error', ('Bundle',))
    probe('generators_bundles', 'EditSession with a diffusers pipeline', lambda: EditSession(as_pipeline(IP), IMG), 'error', ('Bundle',))
    probe('generators_bundles', 'ip2p_edit scheduler="euler"', lambda: ip(scheduler='euler'), 'error', ('scheduler',))
    for cls in (PNDMScheduler, LMSDiscreteScheduler, DPMSolverMultistepScheduler, UniPCMultistepScheduler, EulerDiscreteScheduler):
        def dd_trap(cls=cls):
            b = tiny('sd'); b.scheduler = make_scheduler(cls); return close(diffedit(b, IMG, 'a red circle', steps=4, n=2, generator=G(), progress=False).image, REF_DE, 1e-5)
        probe('generators_bundles', f'diffedit on a {cls.__name__}-configured bundle (clip_sample trap)', dd_trap, 'ok')
        def ddec_trap(cls=cls):
            b = tiny('sd'); b.scheduler = make_scheduler(cls)
            tr = ddim_encode(b, Z, 4, 0.5, progress=False); return close(ddim_decode(b, tr, 'a red circle', 4, 0.5, progress=False), dd(), 1e-5)
        probe('generators_bundles', f'ddim encode/decode on a {cls.__name__}-configured bundle', ddec_trap, 'ok')

    # 5. sessions: copies out, NaN/steps never recorded, save/load
    def write_into(attr):
        s = EditSession(IP, IMG, steps=2, progress=False); s.edit('make it blue')
        before = [a.copy() for a in s.images]
        try:
            a = {'image': lambda: s.image, 'images[0]': lambda: s.images[0], 'images[-1]': lambda: s.images[-1],
                 'step.image': lambda: s.history[-1].image}[attr]()
            a[:] = 0
        except ValueError: pass  # read-only: refused, history intact
        same = all(np.array_equal(x, y) for x, y in zip(before, s.images))
        return True if same else f"writing into .{attr} changed the history"
    for attr in ('image', 'images[0]', 'images[-1]', 'step.image'): probe('sessions', f'write into {attr}', lambda attr=attr: write_into(attr), 'ok')
    for mode in ('latent', 'image'):
        for kw in (dict(guidance_scale=nan), dict(image_guidance_scale=inf), dict(steps=0), dict(steps=-2), dict(steps=2.5)):
            def rec(kw=kw, mode=mode):
                s = EditSession(IP, IMG, mode=mode, steps=2, progress=False)
                try: s.edit('make it blue', **kw)
                except Exception:
                    if len(s): return f"recorded a step with {kw}"  # a recorded NaN/noise step is a silent wrong, error or not
                    raise
                return f"recorded a step with {kw}"
            probe('sessions', f'{mode} session edit {kw}', rec, 'error', tuple(kw))
    def roundtrip(mode):
        s = EditSession(IP, IMG, mode=mode, steps=2, progress=False); s.edit('make it blue'); s.edit('add a square', mask=np.pad(np.ones((8, 8)), 4))
        p = s.save(tmp / f'rt_{mode}.session'); s2 = EditSession.load(p, IP, progress=False)
        return bool(torch.equal(s.edit('make it red').latents, s2.edit('make it red').latents)) or 'continuation differs'
    for mode in ('latent', 'image', 'concat'): probe('sessions', f'save→load→continue bit-exact ({mode})', lambda mode=mode: roundtrip(mode), 'ok')
    def sched_roundtrip():
        s = EditSession(IP, IMG, steps=2, progress=False, scheduler=make_scheduler(EulerDiscreteScheduler)); s.edit('make it blue')
        s2 = EditSession.load(s.save(tmp / 'sched.session'), IP, progress=False)
        return bool(torch.equal(s.edit('make it red').latents, s2.edit('make it red').latents)) or 'the saved scheduler was not restored'
    probe('sessions', 'scheduler saved and restored', sched_roundtrip, 'ok')
    # corrupted files
    s = EditSession(IP, IMG, steps=2, progress=False); s.edit('make it blue'); good = s.save(tmp / 'good.session'); raw = good.read_bytes()
    def corrupt(name, data): q = tmp / name; q.write_bytes(data); return q
    flipped = bytearray(raw); flipped[len(raw) * 3 // 4] ^= 0x08
    import PIL.Image; png = io.BytesIO(); PIL.Image.fromarray(IMG).save(png, format='PNG')
    files = {'truncated (half)': corrupt('t.session', raw[:len(raw) // 2]), 'truncated (last 10 bytes)': corrupt('t2.session', raw[:-10]),
             'flipped byte': corrupt('f.session', bytes(flipped)), 'empty': corrupt('e.session', b''),
             'JSON file': corrupt('j.session', b'{"mode": "latent"}'), 'PNG file': corrupt('p.session', png.getvalue())}
    torch.save({'something': 1}, tmp / 'other.pt'); files['torch file of something else'] = tmp / 'other.pt'
    from safetensors.torch import save_file
    save_file({k: v.contiguous() for k, v in list(IP.vae.state_dict().items())[:3]}, tmp / 'w.safetensors'); files['model weights (safetensors)'] = tmp / 'w.safetensors'
    for nm, q in files.items():
        probe('session_files', f'load {nm}', lambda q=q: EditSession.load(q, IP, progress=False), 'error',
              ('truncated', 'checksum', 'corrupt', 'empty', 'JSON', 'PNG', 'not a saved EditSession', 'weights'))
    def other_weights(change):
        b2 = tiny('ip2p')
        if change == 'middle layer':
            ps = list(b2.unet.parameters()); ps[len(ps) // 2].data.add_(1e-3)
        elif change == 'dtype': b2.to(dtype=torch.float64)
        return EditSession.load(good, b2, progress=False)
    for ch in ('middle layer', 'dtype'):
        probe('session_files', f'load with other weights ({ch})', lambda ch=ch: other_weights(ch), 'error', ('other weights', 'dtype', 'fingerprint'))

    # 6. threads: concurrent edits on one bundle
    def threads(fn, n=4):
        seq = [fn(i) for i in range(n)]; out, errs = [None] * n, []
        def run(i):
            try: out[i] = fn(i)
            except Exception as e: errs.append(e)
        ts = [threading.Thread(target=run, args=(i,)) for i in range(n)]
        [t.start() for t in ts]; [t.join() for t in ts]
        if errs: raise errs[0]
        return all(torch.equal(a, b) for a, b in zip(seq, out)) or 'threaded results differ from sequential'
    for k in range(3):
        probe('threads', f'4 threads ip2p_edit on one bundle (#{k})', lambda: threads(lambda i: ip(generator=G(i), steps=3).latents), 'ok')
        probe('threads', f'4 threads diffedit on one bundle (#{k})', lambda: threads(lambda i: de(generator=G(i)).latents), 'ok')
        probe('threads', f'4 threads sessions on one bundle (#{k})', lambda: threads(lambda i: EditSession(IP, IMG, steps=2, seed=i, progress=False).edit('make it blue').latents), 'ok')

    # 7. elements and bench loaders
    toy = load_toy_elements()
    big = rng.integers(0, 255, (128, 128, 3), dtype=np.uint8)
    probe('elements_bench', 'decode_light on a 128×128 canvas', lambda: decode_light(toy, encode_elements(toy.encoder, big, n=16, beta=16.)), 'error', ('canvas', '64'))
    probe('elements_bench', 'decode_light with a string', lambda: decode_light(toy, 'els'), 'error', ('Elements', 'els'))
    el = encode_elements(toy.encoder, rng.integers(0, 255, (64, 64, 3), dtype=np.uint8), n=16, beta=16.)
    i0 = int(np.flatnonzero(el.alive)[0])
    probe('elements_bench', 'decode_light 64×64', lambda: bool(decode_light(toy, el).shape == (1, 3, 64, 64)), 'ok')
    probe('elements_bench', 'move dy=nan', lambda: move(el, [i0], nan, 0), 'error', ('dy',))
    probe('elements_bench', 'resize scale=inf', lambda: resize(el, [i0], inf), 'error', ('scale',))
    own = tmp / 'bench_cwd'; own.mkdir(); shutil.copytree(bench.bench_dir() / 'shapes', own / 'shapes')
    man = json.loads((own / 'shapes' / 'manifest.json').read_text()); man['cases'] = man['cases'][7:9]
    (own / 'shapes' / 'manifest.json').write_text(json.dumps(man)); want = [c['id'] for c in man['cases']]
    cwd = os.getcwd()
    def own_set(src):
        os.chdir(own)
        try:
            with warnings.catch_warnings(): warnings.simplefilter('ignore'); got = [c.id for c in bench.load_bench(src).cases]
        finally: os.chdir(cwd)
        return got == want or f"loaded {got[:2]}… instead of the folder's {want}"
    probe('elements_bench', "load_bench('shapes') with ./shapes present", lambda: own_set('shapes'), 'ok')
    probe('elements_bench', "load_bench(Path('shapes')) with ./shapes present", lambda: own_set(Path('shapes')), 'ok')
    probe('elements_bench', 'load_bench(3)', lambda: bench.load_bench(3), 'error', ('src', 'path', 'str'))
    probe('elements_bench', 'load_bench max_cases=1.5', lambda: bench.load_bench('shapes', max_cases=1.5), 'error', ('max_cases',))

# ---------------------------------------------------------------------------------------------------------------
def rss_mb() -> float:
    with open('/proc/self/statm') as f: return int(f.read().split()[1]) * os.sysconf('SC_PAGE_SIZE') / 2 ** 20

def session_memory(n: int, steps: int, modes=('latent', 'image', 'concat')) -> dict:
    "Memory (RSS) and time per edit over an n-edit session on the toy zoo's InstructPix2Pix model."
    from imiebench.toy.zoo import load_toy
    from imiebench.emilie import EditSession
    from imiebench.toy.world import random_scene, render
    b = load_toy('ip2p'); img = render(random_scene(np.random.default_rng(3)))
    words = ['make the red circle blue', 'make it green', 'add a yellow square', 'turn the square into a triangle']
    out = {}
    for mode in modes:
        s = EditSession(b, img, mode=mode, steps=steps, progress=False); s.edit(words[0]); gc.collect()
        r0, t0, marks = rss_mb(), time.time(), {}
        for i in range(1, n):
            s.edit(words[i % len(words)] + ('' if i % 7 else f' {i}'))  # some prompts new each time: the cache is capped
            if i + 1 in (10, 50, 100, n):
                hist = sum(x.image.nbytes + (x.mask.nbytes if x.mask is not None else 0) + x.latents.numel() * x.latents.element_size()
                           + x.cond.numel() * x.cond.element_size() for x in s.history)
                gc.collect(); marks[i + 1] = dict(edits=i + 1, rss_mb=round(rss_mb(), 1), rss_growth_mb=round(rss_mb() - r0, 2),
                                                  history_kb_per_edit=round(hist / len(s) / 1024, 1), prompt_cache=len(b._cache),
                                                  s_per_edit=round((time.time() - t0) / i, 3), finite=bool(np.isfinite(s.image).all()))
        out[mode] = list(marks.values())
    return out

def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    ap.add_argument('--label', default='after'); ap.add_argument('--out', default='benchmarks/results/reliability.json')
    ap.add_argument('--sessions', type=int, default=0, help='also measure an n-edit session (0: skip)')
    ap.add_argument('--session-steps', type=int, default=2, help='denoising steps per edit in the session measurement')
    a = ap.parse_args(argv)
    torch.set_num_threads(1)
    import imiebench
    with tempfile.TemporaryDirectory() as d: run_probes(Path(d))
    counts = Counter(r['outcome'] for r in RESULTS)
    by_cat = {}
    for r in RESULTS: by_cat.setdefault(r['category'], Counter())[r['outcome']] += 1
    res = dict(label=a.label, package=str(Path(imiebench.__file__).parent), probes=len(RESULTS), counts=dict(counts),
               by_category={k: dict(v) for k, v in by_cat.items()},
               failures=[r for r in RESULTS if r['outcome'] in ('silent_wrong', 'crash')], all=RESULTS)
    if a.sessions: res['session_memory'] = dict(edits=a.sessions, steps_per_edit=a.session_steps, modes=session_memory(a.sessions, a.session_steps))
    old = read_json(a.out, {})
    old[a.label] = res; write_json(a.out, old, default=str)
    print(json.dumps(dict(label=a.label, probes=len(RESULTS), counts=dict(counts), by_category=res['by_category']), indent=1))
    print(f"{a.label}: {len(RESULTS)} probes: {counts['clear_error']} clear error, {counts['correct']} correct, "
          f"{counts['silent_wrong']} silent wrong, {counts['crash']} crash")

if __name__ == '__main__': main()
