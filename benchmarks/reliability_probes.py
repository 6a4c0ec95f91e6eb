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
  python benchmarks/reliability_probes.py --probes surfaces --label surfaces_after  # the runner, sessions, CLI, loaders, widgets, elements
  (the `before` halves: the same with PYTHONPATH at a checkout of the older commit, e.g. `git worktree add /tmp/before 0019a4a`)
"""
from __future__ import annotations
import argparse, gc, io, json, os, shutil, tempfile, threading, time, warnings
from collections import Counter
from pathlib import Path

import numpy as np, torch
from harness import read_metrics, write_json, toy_fingerprint

RESULTS: list[dict] = []

def _classify_error(e: BaseException, names) -> str:
    msg = str(e)
    if 'weights_only' in msg: return 'crash'  # an error that recommends unsafe loading is no clear error
    if isinstance(e, (ValueError, TypeError, FileNotFoundError)) and any(n.lower() in msg.lower() for n in names): return 'clear_error'
    return 'crash'

def probe(cat: str, name: str, fn, expect: str, names=(),
          errors=(), # further exception types that are a clear error here when they name the problem (e.g. RuntimeError for a folder in use)
         ):
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
            named = any(n.lower() in str(e).lower() for n in names)
            outcome = ('clear_error' if errors and isinstance(e, errors) and named else _classify_error(e, names)) if expect == 'error' else 'crash'
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
    ip = lambda **kw: ip2p_edit(**(dict(b=IP, image=IMG, instruction='make it blue', num_inference_steps=2, generator=G(), progress=False) | kw))
    de = lambda **kw: diffedit(**(dict(b=SD, image=IMG, query='a red circle', num_inference_steps=4, n=2, generator=G(), progress=False) | kw))
    dd = lambda **kw: ddim_decode(**(dict(b=SD, start=TR, prompt='a red circle', num_inference_steps=4, r=0.5, progress=False) | kw))
    REF_IP, REF_DE = ip().image, de().image

    # 1. image range: float tensors in [0, 1] (diffusers' convention) must be the same image as the uint8 array
    for k, v in dict(chw=F01, nchw=F01[None]).items():
        probe('image_range', f'ip2p_edit float [0,1] {k}', lambda v=v: close(ip(image=v).image, REF_IP), 'ok')
        probe('image_range', f'diffedit float [0,1] {k}', lambda v=v: close(de(image=v).image, REF_DE), 'ok')
        probe('image_range', f'encode float [0,1] {k}', lambda v=v: close(SD.encode(v), Z), 'ok')
        probe('image_range', f'EditSession float [0,1] {k}', lambda v=v: bool(np.abs(EditSession(IP, v, num_inference_steps=2, progress=False).original.astype(int) - IMG).max() <= 1), 'ok')
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
        probe('numbers', f'diffedit_mask clamp_ratio={v}', lambda v=v: diffedit_mask(SD, IMG, 'a red circle', n=2, num_inference_steps=4, rescale='mean', clamp_ratio=v), 'error', ('clamp_ratio',))
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
    probe('masks_latents', 'diffedit_mask noise wrong shape', lambda: diffedit_mask(SD, IMG, 'a red circle', n=2, num_inference_steps=4, noise=torch.zeros(1, 4, 8, 8)), 'error', ('noise',))
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
            b = tiny('sd'); b.scheduler = make_scheduler(cls); return close(diffedit(b, IMG, 'a red circle', num_inference_steps=4, n=2, generator=G(), progress=False).image, REF_DE, 1e-5)
        probe('generators_bundles', f'diffedit on a {cls.__name__}-configured bundle (clip_sample trap)', dd_trap, 'ok')
        def ddec_trap(cls=cls):
            b = tiny('sd'); b.scheduler = make_scheduler(cls)
            tr = ddim_encode(b, Z, 4, 0.5, progress=False); return close(ddim_decode(b, tr, 'a red circle', 4, 0.5, progress=False), dd(), 1e-5)
        probe('generators_bundles', f'ddim encode/decode on a {cls.__name__}-configured bundle', ddec_trap, 'ok')

    # 5. sessions: copies out, NaN/steps never recorded, save/load
    def write_into(attr):
        s = EditSession(IP, IMG, num_inference_steps=2, progress=False); s.edit('make it blue')
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
                s = EditSession(IP, IMG, mode=mode, num_inference_steps=2, progress=False)
                try: s.edit('make it blue', **kw)
                except Exception:
                    if len(s): return f"recorded a step with {kw}"  # a recorded NaN/noise step is a silent wrong, error or not
                    raise
                return f"recorded a step with {kw}"
            probe('sessions', f'{mode} session edit {kw}', rec, 'error', tuple(kw))
    def roundtrip(mode):
        s = EditSession(IP, IMG, mode=mode, num_inference_steps=2, progress=False); s.edit('make it blue'); s.edit('add a square', mask=np.pad(np.ones((8, 8)), 4))
        p = s.save(tmp / f'rt_{mode}.session'); s2 = EditSession.load(p, IP, progress=False)
        return bool(torch.equal(s.edit('make it red').latents, s2.edit('make it red').latents)) or 'continuation differs'
    for mode in ('latent', 'image', 'concat'): probe('sessions', f'save→load→continue bit-exact ({mode})', lambda mode=mode: roundtrip(mode), 'ok')
    def sched_roundtrip():
        s = EditSession(IP, IMG, num_inference_steps=2, progress=False, scheduler=make_scheduler(EulerDiscreteScheduler)); s.edit('make it blue')
        s2 = EditSession.load(s.save(tmp / 'sched.session'), IP, progress=False)
        return bool(torch.equal(s.edit('make it red').latents, s2.edit('make it red').latents)) or 'the saved scheduler was not restored'
    probe('sessions', 'scheduler saved and restored', sched_roundtrip, 'ok')
    # corrupted files
    s = EditSession(IP, IMG, num_inference_steps=2, progress=False); s.edit('make it blue'); good = s.save(tmp / 'good.session'); raw = good.read_bytes()
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
        probe('threads', f'4 threads sessions on one bundle (#{k})', lambda: threads(lambda i: EditSession(IP, IMG, num_inference_steps=2, seed=i, progress=False).edit('make it blue').latents), 'ok')

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
# Surfaces: the runner, sessions, the command line, the loaders, the widgets, elements, DiffEdit and blended latent
# diffusion, probed the way an adversarial user would (`--probes surfaces`). Every import is inside a probe, so the
# same function runs against an older copy of the package: a probe whose API did not exist there counts as what it
# does (usually a crash: an ImportError or a TypeError for an unknown argument).

def _tiny_set(name: str='tiny', ids=('c0', 'c1'), size: int=16, n_steps: int=2, seed: int=0, mask_first: bool=True):
    "A hand-built BenchSet of random size×size images, each case `n_steps` instructions (the first masked)."
    from imiebench.bench.format import BenchCase, BenchSet, BenchStep
    rng = np.random.default_rng(seed); m = np.zeros((size, size), np.float32); m[size // 4:3 * size // 4, size // 4:3 * size // 4] = 1
    words = ('make it blue', 'add a red square', 'turn it green')
    return BenchSet(name, [BenchCase(cid, rng.integers(0, 255, (size, size, 3), dtype=np.uint8), 'a red circle',
                                     [BenchStep(words[k % 3], mask=m.copy() if mask_first and k == 0 else None) for k in range(n_steps)])
                           for cid in ids])

def _same_stats(rep: dict, ref: dict, cols=('psnr_input_final', 'psnr_prev', 'clip_instruction')):
    "True when two reports give the same methods and the same mean and n for `cols` (else what differs)."
    if sorted(rep['methods']) != sorted(ref['methods']): return f"methods {sorted(rep['methods'])} vs a fresh run's {sorted(ref['methods'])}"
    for m in ref['methods']:
        for c in cols:
            a, b = rep['methods'][m][c], ref['methods'][m][c]
            if a['n'] != b['n'] or not np.isclose(a['mean'], b['mean'], rtol=1e-3, equal_nan=True):
                return f"{m} {c}: mean {a['mean']:.4g} over {a['n']} cases vs a fresh run's {b['mean']:.4g} over {b['n']}"
    return True

def run_surface_probes(tmp: Path):
    import contextlib, dataclasses, fcntl, subprocess, sys
    from imiebench.models import tiny
    from imiebench.bench.scores import toy_scorer
    SD, IP = tiny('sd'), tiny('ip2p')
    ENV = dict(ip2p=IP, sd=SD, scorer=toy_scorer('cpu'))
    rng = np.random.default_rng(1)
    IMG = rng.integers(0, 255, (16, 16, 3), dtype=np.uint8)
    F01 = torch.from_numpy(IMG).permute(2, 0, 1).float() / 255
    n_dirs = iter(range(10 ** 6))
    def T(name: str) -> Path:  # a fresh folder under tmp
        p = tmp / f"{name}_{next(n_dirs)}"; p.mkdir(parents=True); return p
    def cfg(**kw):
        from imiebench.bench.methods import BenchConfig
        return BenchConfig(**(dict(methods=('ip2p',), seeds=(0,), steps=1, mask_n=2, save_images=False, precision='float32') | kw))
    def rb(bench, out, **kw):
        from imiebench.bench.runner import run_bench
        return run_bench(bench, out, cfg(**kw), progress=False, **ENV)
    S2 = _tiny_set()
    nan = float('nan')

    # 1. runner: resume, other sets, configuration, lock, file names
    def half_line():
        out = T('half'); rb(S2, out)
        f = out / 'records.0.jsonl'; f.write_bytes(f.read_bytes() + b'{"method": "ip2p", "seed": 1, "ca')  # a crash mid-write
        rep = rb(S2, out, seeds=(0, 1))
        lines = [ln for ln in f.read_text().split('\n') if ln]
        try: recs = [json.loads(ln) for ln in lines]
        except ValueError: return f"a record was glued to the fragment: {[ln[:50] for ln in lines if not ln.endswith('}')][:1]}"
        units = sorted((r['seed'], r['case']) for r in recs)
        if units != [(0, 'c0'), (0, 'c1'), (1, 'c0'), (1, 'c1')]: return f"records for units {units}"
        return _same_stats(rep, rb(S2, T('half_ref'), seeds=(0, 1)))
    probe('runner', 'resume after a half-written record line', half_line, 'ok')
    def other_set(change):
        out = T('other'); rb(S2, out)
        rb(_tiny_set(seed=5) if change == 'content' else _tiny_set(ids=('d0', 'd1')), out)
    probe('runner', 'resume into a folder of another set of the same name (same ids, other images)', lambda: other_set('content'), 'error', ('another run', 'differ'))
    probe('runner', 'resume into a folder of another set of the same name (other ids)', lambda: other_set('ids'), 'error', ('another run', 'another set'))
    def fewer(what):
        out = T('fewer'); rb(S2, out, seeds=(0, 1), methods=('ip2p', 'emilie'))
        kw = dict(seeds=(1,)) if what == 'seeds' else dict(methods=('emilie',)) if what == 'methods' else dict(max_cases=1) if what == 'max_cases' else {}
        from imiebench.bench.format import BenchSet
        bench = BenchSet('tiny', S2.cases[:1]) if what == 'cases' else S2
        full = dict(seeds=(0, 1), methods=('ip2p', 'emilie')) | kw
        return _same_stats(rb(bench, out, **full), rb(bench, T('fewer_ref'), **full))
    for what in ('seeds', 'cases', 'max_cases', 'methods'):
        probe('runner', f'resume with fewer {what}: the report covers exactly the current configuration', lambda w=what: fewer(w), 'ok')
    def again():
        out = T('again'); a = rb(S2, out); return _same_stats(rb(S2, out), a)
    probe('runner', 'resume a finished run: the same report', again, 'ok')
    def garbage_middle():
        out = T('garbage'); rb(S2, out); f = out / 'records.0.jsonl'; ls = f.read_text().split('\n')
        f.write_text('\n'.join([ls[0], 'not json at all'] + ls[1:]))
        with warnings.catch_warnings(): warnings.simplefilter('ignore'); rep = rb(S2, out)
        return _same_stats(rep, rb(S2, T('garbage_ref')))
    probe('runner', 'a line of garbage in the records: skipped, the report complete', garbage_middle, 'ok')
    probe('runner', 'seeds=(0, 0)', lambda: rb(S2, T('s00'), seeds=(0, 0)), 'error', ('seeds',))
    probe('runner', 'duplicate case ids', lambda: rb(_tiny_set(ids=('c0', 'c0')), T('dup')), 'error', ('case id',))
    probe('runner', 'case id an int', lambda: rb(_tiny_set(ids=(7, 8)), T('intid')), 'error', ('case id',))
    def lock_held():
        out = T('lock'); fd = os.open(out / '.lock', os.O_RDWR | os.O_CREAT)
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)  # what filelock takes: another runner holds the folder
        try: return rb(S2, out)
        finally: fcntl.flock(fd, fcntl.LOCK_UN); os.close(fd)
    probe('runner', 'a second runner on a folder in use (lock held)', lock_held, 'error', ('in use',), errors=(RuntimeError,))
    def names(ids, seeds=(0,), n_steps=1):
        root = T('names'); out = root / 'deep' / 'er' / 'out'; out.mkdir(parents=True)
        rb(_tiny_set('names', ids, n_steps=n_steps), out, seeds=seeds, save_images=True)
        outside = [str(p) for p in root.rglob('*') if p != out and p not in out.parents and out not in p.parents]
        if outside: return f"wrote outside the output folder: {outside[:2]}"
        pngs = list((out / 'images').rglob('*.png')) if (out / 'images').exists() else []
        want = len(ids) * len(seeds) * n_steps
        return len(pngs) == want or f"{len(pngs)} image files for {want} (case, seed, step) images: some overwrote others"
    probe('runner', "image names: case id '../../../../../x' stays in the output folder", lambda: names(('../../../../../x',)), 'ok')
    probe('runner', "image names: case id '../x' with two seeds: one file each", lambda: names(('../x',), seeds=(0, 1)), 'ok')
    probe('runner', "image names: an absolute case id", lambda: names((str(tmp / 'abs_escape'),)), 'ok')
    probe('runner', "image names: ids 'a/b', 'a_b' and 'A_B'", lambda: names(('a/b', 'a_b', 'A_B')), 'ok')
    probe('runner', 'image names: a unicode id', lambda: names(('café ü 图',)), 'ok')
    probe('runner', 'image names: the empty id', lambda: names(('',)), 'ok')
    probe('runner', 'image names: a 300-character id', lambda: names(('x' * 300,)), 'ok')
    probe('runner', 'seeds=(2**62,) (no generator takes 1000·seed)', lambda: rb(S2, T('bigseed'), seeds=(2 ** 62,)), 'error', ('seed',))
    probe('runner', 'seeds=(2**53,)', lambda: bool(rb(S2, T('seed53'), seeds=(2 ** 53,))['methods']['ip2p']['psnr_prev']['n'] == 2), 'ok')
    probe('runner', 'seeds=(np.int64(3),)', lambda: bool(rb(S2, T('npseed'), seeds=(np.int64(3),))['seeds'] == [3]), 'ok')
    probe('runner', 'seeds=(True,)', lambda: rb(S2, T('boolseed'), seeds=(True,)), 'error', ('seed',))
    probe('runner', 'BenchConfig max_cases=0', lambda: cfg(max_cases=0), 'error', ('max_cases',))
    probe('runner', 'BenchConfig max_cases=True', lambda: cfg(max_cases=True), 'error', ('max_cases',))
    probe('runner', 'BenchConfig steps=nan', lambda: cfg(steps=nan), 'error', ('steps',))
    probe('runner', 'BenchConfig methods=()', lambda: cfg(methods=()), 'error', ('methods',))
    probe('runner', 'max_cases larger than the set', lambda: bool(rb(S2, T('maxc'), max_cases=10 ** 6)['n_cases'] == 2), 'ok')
    def out_file():
        f = tmp / 'a_file'; f.write_text('x'); return rb(S2, f)
    probe('runner', 'out is an existing file', out_file, 'error', ('out',))
    def run_bad(**kw):
        from imiebench.bench.runner import run_bench
        a = dict(bench=S2, out=T('bad'), cfg=cfg(), progress=False) | ENV | kw; return run_bench(**a)
    probe('runner', 'cfg a dict', lambda: run_bad(cfg=dict(seeds=(0,))), 'error', ('cfg',))
    probe('runner', 'bench=3', lambda: run_bad(bench=3), 'error', ('bench',))
    probe('runner', "scorer='toy' (a string)", lambda: run_bad(scorer='toy'), 'error', ('scorer',))
    probe('runner', "device='gpu9'", lambda: run_bad(device='gpu9'), 'error', ('device',))
    probe('runner', 'ip2p= a caption bundle', lambda: run_bad(ip2p=SD), 'error', ('ip2p', 'instruction'))
    def bad_case(what):
        b = _tiny_set(ids=('c0',)); c = b.cases[0]
        if what == 'no steps': c.steps = []
        elif what == 'float image': c.image = c.image.astype(np.float32) / 255
        elif what == 'grey image': c.image = c.image[..., 0]
        elif what == 'instruction None': c.steps[1].instruction = None
        elif what == 'mask 8×8': c.steps[0].mask = np.ones((8, 8), np.float32)
        return rb(b, T('badcase'))
    for what, nm in (('no steps', ('steps',)), ('float image', ('image',)), ('grey image', ('image',)),
                     ('instruction None', ('instruction',)), ('mask 8×8', ('mask',))):
        probe('runner', f'a hand-built case with {what}', lambda w=what: bad_case(w), 'error', nm + ('c0',))
    def mixed_shapes():
        from imiebench.bench.format import BenchSet
        b = BenchSet('mixed', _tiny_set(ids=('a',), n_steps=1).cases + _tiny_set(ids=('b',), size=24, n_steps=3).cases)
        rep = rb(b, T('mixed'), methods=('ip2p', 'emilie'))
        return all(rep['methods'][m]['psnr_prev']['n'] == 2 for m in ('ip2p', 'emilie')) or 'a case is missing'
    probe('runner', 'cases of different sizes and step counts in one run', mixed_shapes, 'ok')
    def twelve():
        rep = rb(_tiny_set(size=12), T('twelve'), methods=('ip2p', 'emilie', 'blended', 'diffedit'), steps=2)
        return sorted(rep['methods']) == ['blended', 'diffedit', 'emilie', 'ip2p'] or f"report of {sorted(rep['methods'])}"
    probe('runner', '12×12 images, every kind of method (factor-2 VAE)', twelve, 'ok')
    def changed(what):
        out = T('changed'); rb(S2, out)
        if what == 'steps': return rb(S2, out, steps=2)
        from imiebench.bench.runner import run_bench
        return run_bench(S2, out, cfg(), progress=False, ip2p=tiny('ip2p', seed=1), sd=SD, scorer=ENV['scorer'])
    probe('runner', 'resume with other steps', lambda: changed('steps'), 'error', ('settings', 'steps'))
    probe('runner', 'resume with other weights', lambda: changed('weights'), 'error', ('weights',))
    probe('runner', 'diffedit with steps=1', lambda: rb(S2, T('de1'), methods=('diffedit',)), 'error', ('too few', 'steps='))

    # 2. sessions
    from imiebench.emilie import EditSession
    S = lambda **kw: EditSession(**(dict(b=IP, image=IMG, num_inference_steps=1, progress=False) | kw))
    def factor4(b):
        from diffusers import AutoencoderKL
        torch.manual_seed(0)
        vae = AutoencoderKL(in_channels=3, out_channels=3, down_block_types=('DownEncoderBlock2D',) * 3, up_block_types=('UpDecoderBlock2D',) * 3,
                            block_out_channels=(8, 16, 16), layers_per_block=1, latent_channels=4, norm_num_groups=4, sample_size=32)
        return dataclasses.replace(b, vae=vae, _cache=b._cache)
    def load_other_factor():
        s = S(); s.edit('make it blue'); p = s.save(T('f4') / 'a.session')
        with warnings.catch_warnings(): warnings.simplefilter('ignore'); return EditSession.load(p, factor4(IP), progress=False)
    probe('sessions', 'load under a model with another VAE factor', load_other_factor, 'error', ('VAE factor', 'latents'))
    def history_inplace():
        s, twin = S(), S(); st = s.edit('make it blue'); twin.edit('make it blue')
        st.latents.mul_(3); st.cond.zero_(); s.history[-1].latents.add_(1)
        return bool(torch.equal(s.edit('make it red').latents, twin.edit('make it red').latents)) or 'an in-place write changed the next edit'
    probe('sessions', 'step.latents.mul_() / cond.zero_() do not rewrite history', history_inplace, 'ok')
    probe('sessions', 'seed=2**64', lambda: S(seed=2 ** 64), 'error', ('seed',))
    probe('sessions', 'seed=-1', lambda: S(seed=-1), 'error', ('seed',))
    probe('sessions', 'seed=1.0', lambda: S(seed=1.0), 'error', ('seed',))
    probe('sessions', 'seed=True', lambda: S(seed=True), 'error', ('seed',))
    def max_seed():
        s = S(seed=2 ** 63 - 1); s.edit('make it blue'); s.edit('make it red'); return bool(np.isfinite(s.image.astype(float)).all())
    probe('sessions', 'seed=2**63-1, two edits', max_seed, 'ok')
    probe('sessions', 'seed=np.int64(5) is seed 5', lambda: bool(torch.equal(S(seed=np.int64(5)).edit('make it blue').latents, S(seed=5).edit('make it blue').latents)), 'ok')
    probe('sessions', 'edit(generator=2**64)', lambda: S().edit('make it blue', generator=2 ** 64), 'error', ('generator', 'seed'))
    probe('sessions', 'edit(generator=-1)', lambda: S().edit('make it blue', generator=-1), 'error', ('generator', 'seed'))
    def concat_flat():
        b = tiny('ip2p'); calls = [0]; orig = b.n_tokens
        def counted(t): calls[0] += 1; return orig(t)
        object.__setattr__(b, 'n_tokens', counted)
        s = EditSession(b, IMG, mode='concat', num_inference_steps=1, progress=False); per = []
        with warnings.catch_warnings():
            warnings.simplefilter('ignore')
            for i in range(60):
                c0 = calls[0]; s.edit(['make it blue', 'add a red square', 'turn it green'][i % 3]); per.append(calls[0] - c0)
        lim = b.tokenizer.model_max_length
        if max(orig(st.prompt) for st in s.history) > lim: return 'a prompt over the tokenizer limit'
        return max(per[40:]) <= max(per[5:15]) + 1 or f"tokenizer calls per edit grow: {per[5:15]} … {per[-10:]}"
    probe('sessions', "concat: an edit's cost stays flat over 60 edits", concat_flat, 'ok')
    def shared():
        s = S(noise='shared', seed=7)
        for w in ('make it blue', 'make it red', 'add a red square'): s.edit(w)
        if [st.settings['seed'] for st in s.history] != [7, 7, 7]: return f"seeds {[st.settings['seed'] for st in s.history]}"
        s2 = EditSession.load(s.save(T('shared') / 's.session'), IP, progress=False)
        return (s2.noise == 'shared' and torch.equal(s.edit('make it green').latents, s2.edit('make it green').latents)) or 'shared noise lost on load'
    probe('sessions', "noise='shared': one seed every edit, kept by save/load", shared, 'ok')
    probe('sessions', "noise='SHARED'", lambda: S(noise='SHARED'), 'error', ('noise',))
    probe('sessions', 'undo with no edit', lambda: S().undo(), 'error', ('nothing to undo', 'undo'))
    def undo_redo():
        s = S(); s.edit('make it blue'); a = s.edit('make it red').latents; s.undo()
        return bool(torch.equal(a, s.edit('make it red').latents)) or 'the redone edit differs'
    probe('sessions', 'undo then the same edit: bit-exact', undo_redo, 'ok')
    def undo_all_save():
        s = S(); s.edit('make it blue'); s.undo(); s2 = EditSession.load(s.save(T('undo') / 's.session'), IP, progress=False)
        return (len(s2) == 0 and np.array_equal(s2.image, s.original)) or f"{len(s2)} steps after load"
    probe('sessions', 'undo every edit, save, load', undo_all_save, 'ok')
    probe('sessions', '12×12 image (factor-2 VAE)', lambda: S(image=IMG[:12, :12]).edit('make it blue').image.shape == (12, 12, 3), 'ok')
    probe('sessions', '13×13 image', lambda: S(image=IMG[:13, :13]), 'error', ('multiple', 'size'))
    probe('sessions', 'a unicode instruction', lambda: bool(np.isfinite(S().edit('mäke it blüe 🎨').latents).all()), 'ok')
    probe('sessions', 'the empty instruction', lambda: bool(np.isfinite(S().edit('').latents).all()), 'ok')
    probe('sessions', 'an instruction over the token limit', lambda: S().edit(' '.join(['blue'] * 40)), 'error', ('tokens', 'instruction'))
    probe('sessions', 'an all-zero mask', lambda: S().edit('make it blue', mask=np.zeros((16, 16))), 'error', ('mask',))
    probe('sessions', 'a NaN mask', lambda: S().edit('make it blue', mask=np.full((16, 16), nan)), 'error', ('mask', 'NaN'))
    probe('sessions', 'a mask of another size', lambda: S().edit('make it blue', mask=np.ones((8, 8))), 'error', ('mask',))
    probe('sessions', 'an unknown setting', lambda: S().edit('make it blue', foo=1), 'error', ('unknown setting', 'foo'))
    probe('sessions', 'a batch of two images', lambda: S(image=np.stack([IMG, IMG])), 'error', ('one image', 'batch'))
    def save_to(kind):
        s = S(); s.edit('make it blue'); d = T('saveto')
        return s.save(d if kind == 'folder' else d / 'missing' / 'a.session')
    probe('sessions', 'save onto an existing folder', lambda: save_to('folder'), 'error', ('folder', 'directory', 'path'))
    probe('sessions', 'save into a missing folder', lambda: save_to('missing'), 'error', ('folder', 'directory', 'path', 'missing'))
    probe('sessions', 'load a folder', lambda: EditSession.load(T('loadfolder'), IP, progress=False), 'error', ('folder', 'directory', 'not a saved'))

    # 3. the command line: a bad option exits 2 with a usage line naming it, never a traceback; a good command exits 0
    cwd = os.getcwd(); work = T('cli'); os.chdir(work)
    FILE = work / 'a_file'; FILE.write_text('x')
    SAFE_BENCH = ['--set', 'shapes', '--n-cases', '1', '--seeds', '0', '--steps', '1', '--methods', 'ip2p', '--no-images',
                  '--precision', 'float32', '--device', 'cpu', '--out', str(work / 'b')]
    SAFE_DEMO = ['--n', '1', '--steps', '1', '--out', str(work / 'demo')]
    SAFE_ZOO = ['--stages', 'assemble', '--work', str(work / 'zw'), '--out', str(work / 'zoo')]  # never the package's zoo
    SAFE_REED = ['--steps', '1', '--n-train', '4', '--n-val', '4', '--batch-size', '2', '--no-progress', '--val-every', '1']
    def run_main(argv):
        from imiebench.cli import main
        err, out = io.StringIO(), io.StringIO()
        with contextlib.redirect_stderr(err), contextlib.redirect_stdout(out):
            try: code = 0 if main(list(argv)) is None else 1  # what the console script exits with
            except SystemExit as e: code = e.code if isinstance(e.code, int) else (0 if e.code is None else 1)
            except Exception as e: raise RuntimeError(f"traceback ({type(e).__name__}: {str(e)[:120]})") from None
        return code, err.getvalue()
    def cli_error(argv):
        code, err = run_main(argv)
        if code == 2 and 'usage:' in err: raise ValueError(err.strip().splitlines()[-1])
        if code == 0: return 'exit 0'
        raise RuntimeError(f"exit {code}: {err.strip()[-160:]}")
    def cli_help(argv):
        code, _ = run_main(argv); return code == 0 or f"exit {code}"
    probe('cli', 'no subcommand', lambda: cli_error([]), 'error', ('required', 'cmd', 'invalid choice'))
    probe('cli', 'unknown subcommand', lambda: cli_error(['benchmark']), 'error', ('invalid choice', 'benchmark'))
    probe('cli', '--help exits 0', lambda: cli_help(['--help']), 'ok')
    probe('cli', 'bench --help exits 0', lambda: cli_help(['bench', '--help']), 'ok')
    bench_bad = [('--steps', 'nan'), ('--steps', '0'), ('--steps', '-3'), ('--steps', '1.5'), ('--steps', 'inf'), ('--seeds', '0,0'),
                 ('--seeds', ''), ('--seeds', '1e3'), ('--seeds', '-1'), ('--seeds', str(10 ** 30)), ('--seeds', str(2 ** 62)),
                 ('--out', str(FILE)), ('--out', str(FILE / 'sub')), ('--set', 'no_such_set'), ('--set', ''), ('--turns', 'sideways'),
                 ('--methods', 'emilie,foo'), ('--methods', 'ip2p,ip2p'), ('--methods', ','), ('--batch', '0'), ('--n-cases', '0'),
                 ('--n-cases', '-1'), ('--device', 'gpu9'), ('--precision', 'fp8'), ('--captions', 'x'), ('--bogus', '1')]
    for opt, v in bench_bad:
        probe('cli', f'bench {opt} {v!r}', lambda o=opt, v=v: cli_error(['bench', *SAFE_BENCH, o, v]), 'error', (opt,))
    demo_bad = [('--n', '0'), ('--steps', 'inf'), ('--seed', '-1'), ('--out', str(FILE)), ('--seed', str(10 ** 30)), ('--device', 'gpu9')]
    for opt, v in demo_bad:
        probe('cli', f'demo {opt} {v!r}', lambda o=opt, v=v: cli_error(['demo', *SAFE_DEMO, o, v]), 'error', (opt,))
    zoo_bad = [('--steps-scale', 'nan'), ('--steps-scale', '0'), ('--steps-scale', '-1'), ('--time-budget', 'inf'), ('--time-budget', '0'),
               ('--stages', 'assemble,bogus'), ('--stages', ''), ('--render-vary', '1.5'), ('--n-pool', '0'), ('--workers', '0'),
               ('--out', str(FILE)), ('--batch-size', '-2')]
    for opt, v in zoo_bad:
        probe('cli', f'train-zoo {opt} {v!r}', lambda o=opt, v=v: cli_error(['train-zoo', *SAFE_ZOO, o, v]), 'error', (opt,))
    reed_bad = [('--lr', 'nan'), ('--lr', '0'), ('--k', '0'), ('--ema-decay', '1'), ('--crop', '7'), ('--losses', str(work)),
                ('--losses', str(FILE / 'x.json')), ('--n-train', '0'), ('--seed', str(10 ** 30)), ('--time-budget', '-1'),
                ('--dynamic', 'maybe'), ('--out', str(FILE)), ('--bogus', '1')]
    for opt, v in reed_bad:
        probe('cli', f'train-reed {opt} {v!r}', lambda o=opt, v=v: cli_error(['train-reed', *SAFE_REED, o, v]), 'error', (opt,))
    def sub(args, timeout=600):
        env = dict(os.environ, OMP_NUM_THREADS='1')
        return subprocess.run([sys.executable, '-c', 'import sys; from imiebench.cli import main; sys.exit(main())', *args],
                              capture_output=True, text=True, cwd=work, env=env, timeout=timeout)
    def sub_ok(args, want: Path):
        r = sub(args)
        if r.returncode != 0 or 'Traceback' in r.stderr: raise RuntimeError(f"exit {r.returncode}: {r.stderr.strip()[-200:]}")
        return want.exists() or f"exit 0 but no {want}"
    def sub_error(args):
        r = sub(args)
        if r.returncode == 2 and 'usage:' in r.stderr and 'Traceback' not in r.stderr: raise ValueError(r.stderr.strip().splitlines()[-1])
        if r.returncode == 0: return 'exit 0'
        raise RuntimeError(f"exit {r.returncode}: {r.stderr.strip()[-160:]}")
    probe('cli', 'console: bench (1 case, 1 step) exits 0', lambda: sub_ok(['bench', *SAFE_BENCH[:-1], str(work / 'ok_bench')], work / 'ok_bench' / 'report.md'), 'ok')
    probe('cli', 'console: bench --turns independent exits 0', lambda: sub_ok(['bench', *SAFE_BENCH[:-1], str(work / 'ok_ind'), '--turns', 'independent'], work / 'ok_ind' / 'report.md'), 'ok')
    probe('cli', 'console: demo (1 scene, 1 step) exits 0', lambda: sub_ok(['demo', *SAFE_DEMO[:-1], str(work / 'ok_demo')], work / 'ok_demo' / 'demo.json'), 'ok')
    probe('cli', 'console: train-reed (1 step) exits 0', lambda: sub_ok(['train-reed', *SAFE_REED, '--cpu', 'true', '--out', str(work / 'ok_reed')], work / 'ok_reed'), 'ok')
    probe('cli', 'console: bench --steps nan exits 2', lambda: sub_error(['bench', *SAFE_BENCH, '--steps', 'nan']), 'error', ('--steps',))
    probe('cli', 'console: train-reed --lr inf exits 2', lambda: sub_error(['train-reed', *SAFE_REED, '--lr', 'inf']), 'error', ('--lr',))
    os.chdir(cwd)

    # 4. loaders
    import PIL.Image
    from imiebench.bench import format as F
    def written_set(mutate=None, name='w'):
        "save_bench of a 2-case tiny set (16×16), then `mutate(folder, manifest)`; returns the folder."
        d = T(name); F.save_bench(_tiny_set(ids=('c0', 'c1')), d)
        if mutate:
            man = json.loads((d / 'manifest.json').read_text()); mutate(d, man); (d / 'manifest.json').write_text(json.dumps(man))
        return d
    def grey16(d, man, key='image'):
        a = (np.arange(256, dtype=np.uint16).reshape(16, 16) * 257)
        PIL.Image.fromarray(a).save(d / 'g16.png'); assert PIL.Image.open(d / 'g16.png').mode.startswith('I')
        if key == 'image': man['cases'][0]['image'] = 'g16.png'
        else: man['cases'][0]['steps'][0]['mask'] = 'g16.png'
    probe('loaders', 'load_bench: a 16-bit image', lambda: F.load_bench(written_set(grey16), min_steps=1), 'error', ('mode', '16-bit'))
    probe('loaders', 'load_bench: a 16-bit mask', lambda: F.load_bench(written_set(lambda d, m: grey16(d, m, 'mask')), min_steps=1), 'error', ('mode', '16-bit'))
    W = written_set()
    for mc in (-1, 0, True, 1.0, '1'):
        probe('loaders', f'load_bench max_cases={mc!r}', lambda mc=mc: F.load_bench(W, min_steps=1, max_cases=mc), 'error', ('max_cases',))
    probe('loaders', 'load_bench max_cases=np.int64(1)', lambda: len(F.load_bench(W, min_steps=1, max_cases=np.int64(1))) == 1, 'ok')
    probe('loaders', 'load_bench max_cases=10**9', lambda: len(F.load_bench(W, min_steps=1, max_cases=10 ** 9)) == 2, 'ok')
    def set_id(v):
        def mut(d, man): man['cases'][0]['id'] = v
        return mut
    for nm, v in (('null', None), ('a list', ['c0']), ('a number', 5), ('a duplicate', 'c1')):
        probe('loaders', f'load_bench: an id that is {nm}', lambda v=v: F.load_bench(written_set(set_id(v)), min_steps=1), 'error', ('id',))
    probe('loaders', 'load_bench: an image path that is a number', lambda: F.load_bench(written_set(lambda d, m: m['cases'][0].update(image=5)), min_steps=1), 'error', ('image',))
    def not_utf8():
        d = written_set(); (d / 'manifest.json').write_bytes((d / 'manifest.json').read_bytes().replace(b'a red circle', b'a r\xe9d circle'))
        return F.load_bench(d, min_steps=1)
    probe('loaders', 'load_bench: a manifest that is not UTF-8', not_utf8, 'error', ('manifest', 'JSON', 'UTF-8'))
    probe('loaders', 'load_bench: no cases', lambda: F.load_bench(written_set(lambda d, m: m.update(cases=[])), min_steps=1), 'error', ('cases',))
    probe('loaders', 'load_bench(b"shapes")', lambda: F.load_bench(b'shapes'), 'error', ('src',))
    probe('loaders', 'load_bench min_steps=-1', lambda: F.load_bench(W, min_steps=-1), 'error', ('min_steps',))
    def latin1_file():
        def mut(d, man):
            name = os.fsdecode(b'caf\xe9.png'); (d / 'images' / 'c0.png').rename(d / 'images' / name); man['cases'][0]['image'] = 'images/' + name
        b = F.load_bench(written_set(mut), min_steps=1)
        return bool(np.array_equal(b.cases[0].image, _tiny_set().cases[0].image)) or 'other pixels'
    probe('loaders', 'load_bench: an image file whose name is not UTF-8', latin1_file, 'ok')
    def roundtrip(ids):
        b = _tiny_set(ids=ids); d = T('rt'); F.save_bench(b, d / 'set'); b2 = F.load_bench(d / 'set', min_steps=1)
        if [c.id for c in b2.cases] != list(ids): return f"ids {[c.id for c in b2.cases]}"
        if not all(np.array_equal(x.image, y.image) for x, y in zip(b.cases, b2.cases)): return 'an image of another case'
        inside = all((d / 'set') in p.parents for p in d.rglob('*') if p.is_file())
        return inside or 'a file outside the set folder'
    probe('loaders', "save_bench ids 'a/b', 'a_b', 'A_B', 'a\\\\b'", lambda: roundtrip(('a/b', 'a_b', 'A_B', 'a\\b')), 'ok')
    probe('loaders', "save_bench ids '..', '.', '', ' '", lambda: roundtrip(('..', '.', '', ' ')), 'ok')
    probe('loaders', 'save_bench unicode and surrogate ids', lambda: roundtrip(('café', '图像', 'caf\udce9')), 'ok')
    probe('loaders', 'save_bench into an existing file', lambda: F.save_bench(_tiny_set(), FILE), 'error', ('out',))
    probe('loaders', 'save_bench out=5', lambda: F.save_bench(_tiny_set(), 5), 'error', ('out',))
    from imiebench.bench import formats as FM
    MB = FM.demo_magicbrush(T('mb'), n=3, size=64)
    def mb_copy(mutate):
        d = T('mbc'); shutil.rmtree(d); shutil.copytree(MB, d); mutate(d); return d
    def mb16(d):
        sid = next(p.name for p in (d / 'images').iterdir()); a = (np.arange(64 * 64, dtype=np.uint16).reshape(64, 64) * 16)
        PIL.Image.fromarray(a).save(d / 'images' / sid / f"{sid}-input.png"); return a
    def mb16_load():
        d = T('mb16'); shutil.rmtree(d); shutil.copytree(MB, d); a = mb16(d)
        c = FM.load_magicbrush(d).cases[0]
        return bool(np.array_equal(c.image[..., 0], (a >> 8).astype(np.uint8))) or 'not scaled by >> 8'
    probe('loaders', 'MagicBrush: a 16-bit input image is scaled, not clipped', mb16_load, 'ok')
    for mc in (-1, 0, True):
        probe('loaders', f'MagicBrush max_cases={mc!r}', lambda mc=mc: FM.load_magicbrush(MB, max_cases=mc), 'error', ('max_cases',))
    def mb_dup(d):
        s = json.loads((d / 'edit_sessions.json').read_text()); k, v = next(iter(s.items()))
        (d / 'edit_sessions.json').write_text('{' + ', '.join(f"{json.dumps(k)}: {json.dumps(v)}" for _ in range(2)) + '}')
    probe('loaders', 'MagicBrush: a session id twice', lambda: FM.load_magicbrush(mb_copy(mb_dup)), 'error', ('duplicate',))
    def mb_turn(field, value):
        def mut(d):
            s = json.loads((d / 'edit_sessions.json').read_text()); next(iter(s.values()))[0][field] = value
            (d / 'edit_sessions.json').write_text(json.dumps(s))
        return mut
    probe('loaders', 'MagicBrush: an empty instruction', lambda: FM.load_magicbrush(mb_copy(mb_turn('instruction', ''))), 'error', ('instruction',))
    probe('loaders', 'MagicBrush: a mask name that is a number', lambda: FM.load_magicbrush(mb_copy(mb_turn('mask', 3))), 'error', ('mask',))
    def mb_black(d):
        s = json.loads((d / 'edit_sessions.json').read_text()); sid, turns = next(iter(s.items()))
        PIL.Image.fromarray(np.zeros((64, 64), np.uint8)).save(d / 'images' / sid / turns[0]['mask'])
    probe('loaders', 'MagicBrush: an empty mask', lambda: FM.load_magicbrush(mb_copy(mb_black)), 'error', ('mask',))
    probe('loaders', 'MagicBrush size=12', lambda: FM.load_magicbrush(MB, size=12), 'error', ('size',))
    probe('loaders', 'MagicBrush size=True', lambda: FM.load_magicbrush(MB, size=True), 'error', ('size',))
    probe('loaders', "MagicBrush masks='none'", lambda: FM.load_magicbrush(MB, masks='none'), 'error', ('masks',))
    probe('loaders', 'MagicBrush root=5', lambda: FM.load_magicbrush(5), 'error', ('root',))
    MBP = FM.demo_magicbrush(T('mbp'), form='parquet', n=3, size=64)
    probe('loaders', 'MagicBrush parquet: the demo loads', lambda: len(FM.load_magicbrush_parquet(MBP)) == 3, 'ok')
    def pq_copy(change):
        import pyarrow as pa, pyarrow.parquet as pq
        d = T('pq'); shutil.rmtree(d); shutil.copytree(MBP, d); f = sorted((d / 'data').glob('*.parquet'))[0]; t = pq.read_table(f)
        if change == 'null id':
            ids = t.column('img_id').to_pylist(); ids[0] = None
            t = t.set_column(t.schema.get_field_index('img_id'), 'img_id', pa.array(ids, pa.string()))
        elif change == 'turn twice':
            k = t.column('turn_index').to_pylist(); k[-1] = k[-2]
            t = t.set_column(t.schema.get_field_index('turn_index'), 'turn_index', pa.array(k, pa.int32()))
        pq.write_table(t, f)
        if change == 'latin-1 name': shutil.copy(f, d / 'data' / os.fsdecode(b'test-caf\xe9.parquet')); f.unlink()
        return d
    probe('loaders', 'MagicBrush parquet: a null img_id', lambda: FM.load_magicbrush_parquet(pq_copy('null id')), 'error', ('img_id',))
    probe('loaders', 'MagicBrush parquet: a turn twice', lambda: FM.load_magicbrush_parquet(pq_copy('turn twice')), 'error', ('turn_index',))
    probe('loaders', 'MagicBrush parquet: a file name that is not UTF-8', lambda: FM.load_magicbrush_parquet(pq_copy('latin-1 name')), 'error', ('UTF-8',))
    probe('loaders', "MagicBrush parquet split=''", lambda: FM.load_magicbrush_parquet(MBP, split=''), 'error', ('split',))
    probe('loaders', 'MagicBrush parquet src=5', lambda: FM.load_magicbrush_parquet(5), 'error', ('src',))
    PIE = FM.demo_pie_bench(T('pie'), n=2)
    def pie_copy(mutate):
        d = T('piec'); shutil.rmtree(d); shutil.copytree(PIE, d); mp = json.loads((d / 'mapping_file.json').read_text())
        r = mutate(d, mp); (d / 'mapping_file.json').write_text(r if isinstance(r, str) else json.dumps(mp)); return d
    def pie_field(k, v):
        def mut(d, mp): next(iter(mp.values()))[k] = v
        return mut
    probe('loaders', 'PIE-Bench: an empty RLE mask', lambda: FM.load_pie_bench(pie_copy(pie_field('mask', []))), 'error', ('mask',))
    probe('loaders', 'PIE-Bench: an RLE of floats', lambda: FM.load_pie_bench(pie_copy(pie_field('mask', [1.5, 3.0]))), 'error', ('mask',))
    probe('loaders', 'PIE-Bench: an RLE of odd length', lambda: FM.load_pie_bench(pie_copy(pie_field('mask', [1, 3, 5]))), 'error', ('mask',))
    probe('loaders', 'PIE-Bench: an RLE run past the image', lambda: FM.load_pie_bench(pie_copy(pie_field('mask', [512 * 512 + 5, 3]))), 'error', ('mask',))
    probe('loaders', 'PIE-Bench: an image_path that is a number', lambda: FM.load_pie_bench(pie_copy(pie_field('image_path', 7))), 'error', ('image_path',))
    def pie_dup(d, mp):
        k, v = next(iter(mp.items())); return '{' + ', '.join(f"{json.dumps(k)}: {json.dumps(v)}" for _ in range(2)) + '}'
    probe('loaders', 'PIE-Bench: a case key twice', lambda: FM.load_pie_bench(pie_copy(pie_dup)), 'error', ('duplicate',))
    probe('loaders', "PIE-Bench editing_types='12'", lambda: FM.load_pie_bench(PIE, editing_types='12'), 'error', ('editing_types',))
    probe('loaders', "PIE-Bench editing_types=['1', '12']", lambda: FM.load_pie_bench(PIE, editing_types=['1', '12']), 'error', ('editing_types',))
    probe('loaders', 'PIE-Bench editing_types=[True]', lambda: FM.load_pie_bench(PIE, editing_types=[True]), 'error', ('editing_types',))
    probe('loaders', 'PIE-Bench editing_types=[1] (an int id)', lambda: [c.id for c in FM.load_pie_bench(PIE, editing_types=[1]).cases] == [k for k in json.loads((PIE / 'mapping_file.json').read_text()) if k.startswith('1')], 'ok')
    probe('loaders', 'PIE-Bench max_cases=True', lambda: FM.load_pie_bench(PIE, max_cases=True), 'error', ('max_cases',))
    probe('loaders', "PIE-Bench use_masks='yes'", lambda: FM.load_pie_bench(PIE, use_masks='yes'), 'error', ('use_masks',))
    probe('loaders', 'PIE-Bench size=16', lambda: FM.load_pie_bench(PIE, size=16).cases[0].image.shape == (16, 16, 3), 'ok')
    def pie16():
        a = (np.arange(512 * 512, dtype=np.uint32).reshape(512, 512) % 65536).astype(np.uint16)
        def mut(d, mp): PIL.Image.fromarray(a).save(d / 'annotation_images' / next(iter(mp.values()))['image_path'], format='PNG')
        c = FM.load_pie_bench(pie_copy(mut)).cases[0]
        return bool(np.array_equal(c.image[..., 0], (a >> 8).astype(np.uint8))) or 'not scaled by >> 8'
    probe('loaders', 'PIE-Bench: a 16-bit image is scaled, not clipped', pie16, 'ok')
    probe('loaders', 'decode_pie_mask: runs of length 0 only', lambda: FM.decode_pie_mask([3, 0, 9, 0], (8, 8)), 'error', ('no pixel', 'mask'))
    probe('loaders', 'load_pie_bench(5)', lambda: FM.load_pie_bench(5), 'error', ('src',))

    # 5. widgets
    from imiebench.widgets import wire
    def brush_same(x):
        from imiebench.widgets.brush import MaskBrush
        return bool(np.array_equal(MaskBrush(x).image, S(image=x).original)) or 'MaskBrush and EditSession read the tensor differently'
    probe('widgets', 'MaskBrush and EditSession read a [0,1] float tensor alike (3×H×W)', lambda: brush_same(F01), 'ok')
    probe('widgets', 'MaskBrush and EditSession read a [0,1] float tensor alike (1×3×H×W)', lambda: brush_same(F01[None]), 'ok')
    def brush(**kw):
        from imiebench.widgets.brush import MaskBrush
        return MaskBrush(IMG, **kw)
    probe('widgets', 'MaskBrush a soft mask', lambda: brush(mask=np.full((16, 16), .5)), 'error', ('binary', 'mask'))
    probe('widgets', 'MaskBrush a 1×1×H×W bool tensor mask', lambda: bool(brush(mask=torch.ones(1, 1, 16, 16, dtype=torch.bool)).mask.all()), 'ok')
    probe('widgets', 'MaskBrush brush_size=0', lambda: brush(brush_size=0), 'error', ('brush_size',))
    probe('widgets', 'MaskBrush brush_size=2.5', lambda: brush(brush_size=2.5), 'error', ('brush_size',))
    from imiebench.toy.elements import load_toy_elements
    from imiebench.elements.model import encode_elements
    toy = load_toy_elements()
    IMG64 = np.asarray(PIL.Image.fromarray(IMG).resize((64, 64), PIL.Image.NEAREST))
    el = encode_elements(toy.encoder, IMG64, n=16, beta=16.)
    i0 = int(np.flatnonzero(el.alive)[0])
    big = np.repeat(np.repeat(IMG64, 2, 0), 2, 1)
    def ew():
        from imiebench.widgets.elements import element_widget
        return element_widget(el, big)
    probe('widgets', 'element_widget: centroids at the image scale (128×128 image of 64×64 elements)',
          lambda: bool(np.allclose(np.array(ew().centroids), el.centroids * 2 - .5, atol=1e-6)) or 'centroids not at 2× scale', 'ok')
    def drag():
        w = ew(); wire.frontend_message(w, dict(op='move', id=i0, dx=8., dy=0.))
        return (w.error == '' and len(w.edits) == 1 and w.edits[0].dx == 4.) or f"edits {w.edits}, error {w.error!r}"
    probe('widgets', 'element_widget: a drag of 8 image px is 4 canvas px', drag, 'ok')
    def delete_all(then):
        w = ew()
        for i in np.flatnonzero(el.alive): wire.frontend_message(w, dict(op='delete', id=int(i)))
        if then == 'browser':
            wire.frontend_message(w, dict(op='move', id=-1, dx=1., dy=0.))
            return ('deleted' in w.error and not any(w.alive)) or f"error {w.error!r}"
        return w.move(i0, 1., 1.)
    probe('widgets', 'element_widget: delete all, then a move from the browser', lambda: delete_all('browser'), 'ok')
    probe('widgets', 'element_widget: delete all, then .move()', lambda: delete_all('python'), 'error', ('deleted',))
    def editor_delete_all():
        from imiebench.widgets.elements import element_editor
        box = element_editor(toy, IMG64)
        for _ in range(10_000):
            if box.controls['id'].value is None: break
            box.apply('delete')
        r = box.apply('move'); status = box.children[-1].value
        d = box.decode()
        return (r is None and d is None and 'deleted' in status) or f"move → {r}, status {status!r}"
    probe('widgets', 'element_editor: delete all, then move and decode', editor_delete_all, 'ok')
    def ec(**kw):
        from imiebench.widgets.explorers import ExplorerCache
        return ExplorerCache(**(dict(b=SD, image=IMG, query='a red circle', steps=4, n=2) | kw))
    probe('widgets', 'ExplorerCache(memo=0)', lambda: ec(memo=0), 'error', ('memo',))
    probe('widgets', 'ExplorerCache(memo=True)', lambda: ec(memo=True), 'error', ('memo',))
    def memo1():
        c = ec(memo=1); a = c.edit(r=.5); c.edit(r=.5, guidance_scale=3.); a2 = c.edit(r=.5)
        return (len(c._decoded) <= 1 and torch.equal(a.image, a2.image) and c.counts['decode'] == 3) or f"{len(c._decoded)} kept, counts {c.counts}"
    probe('widgets', 'ExplorerCache(memo=1) keeps one and recomputes the same', memo1, 'ok')
    probe('widgets', 'ExplorerCache on a 12×12 image', lambda: ec(image=IMG[:12, :12]).edit(r=.5).image.shape == (1, 3, 12, 12), 'ok')
    def widget_redo(noise):
        from imiebench.widgets.session import session_widget
        s = S(noise=noise); w = session_widget(s); c = w.controls
        for t in ('make it blue', 'make it red'): c['text'].value = t; c['run'].click()
        c['undo'].click(); c['run'].click()
        return (len(s) == 2 and w.counts['redone'] == 1) or f"{len(s)} edits, counts {w.counts}"
    probe('widgets', "session_widget: undo then the same edit re-uses the step (noise='fresh')", lambda: widget_redo('fresh'), 'ok')
    probe('widgets', "session_widget: undo then the same edit re-uses the step (noise='shared')", lambda: widget_redo('shared'), 'ok')
    def rect(**kw):
        from imiebench.widgets.session import rect_mask
        return rect_mask(**(dict(size=(16, 16), ys=(4, 8), xs=(0, 4)) | kw))
    probe('widgets', 'rect_mask ys=(5, 2)', lambda: rect(ys=(5, 2)), 'error', ('ys',))
    probe('widgets', 'rect_mask size=(0, 5)', lambda: rect(size=(0, 5)), 'error', ('size',))
    def editor_canvas():
        from imiebench.widgets.editor import ElementEditor
        return ElementEditor(IMG, [[1., 1.]], canvas=(0, 4))
    probe('widgets', 'ElementEditor canvas=(0, 4)', editor_canvas, 'error', ('canvas',))

    # 6. elements
    from imiebench.elements import edit as E
    from imiebench.elements.decoders import decode_light
    from imiebench.elements.partition import partition, from_labels
    from imiebench.elements.model import make_elements, overlay
    H, Wd = el.image_size
    probe('elements', 'move entirely off the canvas', lambda: E.move(el, [i0], 1000., 0.), 'error', ('canvas',))
    dy_half = -float(el.centroids[i0, 0])
    probe('elements', 'move partly off the canvas (clip=False)', lambda: E.move(el, [i0], dy_half, 0.), 'error', ('clip', 'canvas'))
    def part_off():
        e2 = E.move(el, [i0], dy_half, 0., clip=True); fp = e2.footprints([i0])[0]; c = e2.centroids[i0]
        return (fp.any() and 0 <= c[0] <= H and 0 <= c[1] <= Wd) or f"footprint {fp.sum()} px, centroid {c}"
    probe('elements', 'move partly off the canvas (clip=True): cut at the edge', part_off, 'ok')
    probe('elements', 'resize to 1e-6', lambda: E.resize(el, [i0], 1e-6), 'error', ('pixel', 'scale'))
    probe('elements', 'resize to 0', lambda: E.resize(el, [i0], 0), 'error', ('scale',))
    probe('elements', 'resize by nan', lambda: E.resize(el, [i0], nan), 'error', ('scale',))
    def grow_one():
        e2 = E.resize(el, [i0], 100., clip=True); fp = e2.footprints([i0])[0]
        others = [k for k in np.flatnonzero(e2.alive) if k != i0 and (e2.footprints([k])[0] & fp).any()]
        return (fp.any() and not others) or f"footprint {fp.sum()} px, overlapping alive {others}"
    probe('elements', 'resize one element past the whole canvas (clip=True)', grow_one, 'ok')
    probe('elements', 'resize one element past the whole canvas (clip=False)', lambda: E.resize(el, [i0], 100.), 'error', ('clip', 'canvas'))
    def grow_all(k):
        ids = np.flatnonzero(el.alive); e2 = E.resize(el, ids, k, center=(H / 2, Wd / 2), clip=True)
        fp = e2.footprints(ids)
        return bool(all(f.any() for f in fp)) or 'an element lost every pixel'
    probe('elements', 'resize every element ×1.2 about the centre (clip=True)', lambda: grow_all(1.2), 'ok')
    probe('elements', 'resize every element ×3 about the centre: corner elements leave the canvas', lambda: grow_all(3.), 'error', ('entirely off',))
    ALL = np.flatnonzero(el.alive)
    def delete_all_el():
        e2 = E.delete(el, ALL); return (not e2.alive.any() and (e2.label_map() == -1).all()) or 'an element survived'
    probe('elements', 'delete every element', delete_all_el, 'ok')
    probe('elements', 'delete every element, then move one', lambda: E.move(E.delete(el, ALL), [i0], 1., 1.), 'error', ('deleted',))
    probe('elements', 'delete every element, then decode', lambda: decode_light(toy, E.delete(el, ALL)), 'error', ('no alive', 'alive element'))
    probe('elements', 'delete every element, then overlay', lambda: overlay(IMG64, E.delete(el, ALL)).shape == (256, 256, 3), 'ok')
    probe('elements', 'an empty element set (every pixel dropped)', lambda: make_elements(from_labels(-np.ones((16, 16), int))), 'error', ('no element', 'element'))
    probe('elements', 'partition of a blank image: the √N×√N grid', lambda: bool(len(np.unique(partition(np.full((32, 32, 3), 128, np.uint8), n=16).labels)) == 16), 'ok')
    probe('elements', 'partition of a blank image, n=15', lambda: partition(np.full((32, 32, 3), 128, np.uint8), n=15), 'error', ('square', 'n'))
    probe('elements', 'partition of a 17×23 image', lambda: partition(rng.integers(0, 255, (17, 23, 3), dtype=np.uint8), n=16).labels.shape == (17, 23), 'ok')
    probe('elements', 'partition of an 8×8 image, n=4', lambda: bool(partition(rng.integers(0, 255, (8, 8, 3), dtype=np.uint8), n=4).labels.max() < 4), 'ok')
    probe('elements', 'partition of a 7×7 image', lambda: partition(rng.integers(0, 255, (7, 7, 3), dtype=np.uint8), n=4), 'error', ('small', 'size'))
    probe('elements', 'encode and decode a blank image', lambda: decode_light(toy, encode_elements(toy.encoder, np.full((64, 64, 3), 90, np.uint8))).shape == (1, 3, 64, 64), 'ok')
    probe('elements', 'move ids=[] is a no-op', lambda: bool(np.array_equal(E.move(el, [], 3., 3.).centroids, el.centroids)), 'ok')
    probe('elements', 'move ids=[i, i] moves it once', lambda: bool(np.allclose(E.move(el, [i0, i0], 1., 1., clip=True).centroids, E.move(el, [i0], 1., 1., clip=True).centroids)), 'ok')
    probe('elements', 'move dy=True', lambda: E.move(el, [i0], True, 0.), 'error', ('dy',))
    probe('elements', 'move by numpy float32', lambda: E.move(el, [i0], np.float32(1.), np.float32(0.), clip=True).centroids[i0, 0] == el.centroids[i0, 0] + 1, 'ok')
    probe('elements', "apply_edits id 'x'", lambda: E.apply_edits(el, [dict(op='move', id='x', dy=1, dx=1)]), 'error', ('id',))
    probe('elements', "apply_edits op 'warp'", lambda: E.apply_edits(el, [dict(op='warp', id=i0)]), 'error', ('op',))
    probe('elements', 'ElementEdit dx=nan', lambda: E.ElementEdit('move', i0, dx=nan), 'error', ('dx',))
    def compose_sizes():
        el32 = encode_elements(toy.encoder, IMG64[:32, :32], n=16, beta=16.); return E.compose(el, el32, [0])
    probe('elements', 'compose elements of canvases of two sizes', compose_sizes, 'error', ('canvas', 'size'))
    probe('elements', 'pixel_move with an empty mask', lambda: bool(np.array_equal(E.pixel_move(IMG64, np.zeros((64, 64)), 3, 3), IMG64)), 'ok')

    # 7. DiffEdit and blended latent diffusion on tiny bundles
    from imiebench.diffedit import diffedit
    from imiebench.blended import blended_latent
    G = lambda: torch.Generator().manual_seed(0)
    probe('diffedit_blended', 'diffedit steps=1: the message names the real cause', lambda: diffedit(SD, IMG, 'a red circle', num_inference_steps=1, n=2, progress=False), 'error', ('too few',))
    probe('diffedit_blended', 'diffedit steps=1, r=1 with a mask', lambda: diffedit(SD, IMG, 'a red circle', num_inference_steps=1, r=1.0, mask=np.ones((16, 16)), progress=False).image.shape == (1, 3, 16, 16), 'ok')
    probe('diffedit_blended', 'diffedit on 12×12 (factor-2 VAE)', lambda: diffedit(SD, IMG[:12, :12], 'a red circle', num_inference_steps=4, n=2, generator=G(), progress=False).image.shape == (1, 3, 12, 12), 'ok')
    probe('diffedit_blended', 'blended_latent on 12×12 (factor-2 VAE)', lambda: blended_latent(SD, IMG[:12, :12], 'a red circle', None, num_inference_steps=2, generator=G(), progress=False).image.shape == (1, 3, 12, 12), 'ok')
    probe('diffedit_blended', 'blended_latent on 12×12 with a 12×12 mask', lambda: blended_latent(SD, IMG[:12, :12], 'a red circle', np.pad(np.ones((6, 6)), 3), num_inference_steps=2, generator=G(), progress=False).image.shape == (1, 3, 12, 12), 'ok')
    probe('diffedit_blended', 'blended_latent on 13×13', lambda: blended_latent(SD, IMG[:13, :13], 'a red circle', None, num_inference_steps=2, progress=False), 'error', ('multiple', 'size'))
    probe('diffedit_blended', 'blended_latent num_inference_steps=0', lambda: blended_latent(SD, IMG, 'a red circle', None, num_inference_steps=0, progress=False), 'error', ('steps',))
    probe('diffedit_blended', 'blended_latent guidance nan', lambda: blended_latent(SD, IMG, 'a red circle', None, num_inference_steps=2, guidance_scale=nan, progress=False), 'error', ('guidance_scale',))
    probe('diffedit_blended', 'blended_latent with an all-zero mask: the VAE round trip of the input',
          lambda: bool(torch.allclose(blended_latent(SD, IMG, 'a red circle', np.zeros((16, 16)), num_inference_steps=2, generator=G(), progress=False).image, SD.decode(SD.encode(IMG)), atol=1e-5)) or 'not the round trip', 'ok')
    probe('diffedit_blended', 'blended_latent with a NaN mask', lambda: blended_latent(SD, IMG, 'a red circle', np.full((16, 16), nan), num_inference_steps=2, progress=False), 'error', ('mask', 'NaN'))
    probe('diffedit_blended', 'blended_latent with 3 generators for 1 image', lambda: blended_latent(SD, IMG, 'a red circle', None, num_inference_steps=2, generator=[G(), G(), G()], progress=False), 'error', ('generator',))
    def run_method_seed():
        from imiebench.bench.methods import run_method
        return run_method('ip2p', _tiny_set(ids=('c0',)).cases[0], 2 ** 62, cfg(), IP, SD)
    probe('diffedit_blended', 'run_method with seed 2**62', run_method_seed, 'error', ('seed',))

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
        s = EditSession(b, img, mode=mode, num_inference_steps=steps, progress=False); s.edit(words[0]); gc.collect()
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
    ap.add_argument('--probes', default='core', choices=('core', 'surfaces'),
                    help="'core': bad input, saved state, threads (`run_probes`); 'surfaces': the runner, sessions, the command line, "
                         "loaders, widgets, elements, DiffEdit/blended (`run_surface_probes`)")
    ap.add_argument('--sessions', type=int, default=0, help='also measure an n-edit session (0: skip)')
    ap.add_argument('--session-steps', type=int, default=2, help='denoising steps per edit in the session measurement')
    a = ap.parse_args(argv)
    torch.set_num_threads(1)
    import imiebench
    with tempfile.TemporaryDirectory() as d: (run_surface_probes if a.probes == 'surfaces' else run_probes)(Path(d))
    counts = Counter(r['outcome'] for r in RESULTS)
    by_cat = {}
    for r in RESULTS: by_cat.setdefault(r['category'], Counter())[r['outcome']] += 1
    import sys
    cmd = ' '.join(['.venv/bin/python', 'benchmarks/reliability_probes.py', *(sys.argv[1:] if argv is None else argv)])
    res = dict(label=a.label, probe_set=a.probes, command=cmd, package=str(Path(imiebench.__file__).parent), probes=len(RESULTS), counts=dict(counts),
               by_category={k: dict(v) for k, v in by_cat.items()},
               failures=[r for r in RESULTS if r['outcome'] in ('silent_wrong', 'crash')], all=RESULTS)
    if a.sessions: res['session_memory'] = dict(edits=a.sessions, steps_per_edit=a.session_steps, modes=session_memory(a.sessions, a.session_steps))
    old = read_metrics(a.out, {})
    old[a.label] = res; write_json(a.out, command=cmd, fingerprint=toy_fingerprint('ip2p', 'elements'), metrics=old, default=str)
    print(json.dumps(dict(label=a.label, probes=len(RESULTS), counts=dict(counts), by_category=res['by_category']), indent=1))
    print(f"{a.label}: {len(RESULTS)} probes: {counts['clear_error']} clear error, {counts['correct']} correct, "
          f"{counts['silent_wrong']} silent wrong, {counts['crash']} crash")

if __name__ == '__main__': main()
