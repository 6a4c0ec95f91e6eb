"""Property-based contract of the public entry points (hypothesis, tiny random bundles).

Every example draws valid values for all arguments and, in most examples, replaces ONE argument by a
known-bad value. The contract: with a bad argument the call raises ValueError/TypeError whose message
names that argument; with valid arguments it returns a finite result of the documented shape and range.
Budget: examples per test are few and the deadline is off, so the file stays well under a minute on 2 cores.
"""
import warnings
import numpy as np, pytest, torch
from hypothesis import given, settings, HealthCheck, strategies as st

from imiebench.core import to_tensor
from imiebench.models import tiny, as_pipeline
from imiebench.ddim import ddim_encode, ddim_decode
from imiebench.diffedit import diffedit
from imiebench.emilie import ip2p_edit, EditSession
from imiebench.reed import vae_roundtrip, pixel_edit
from imiebench.elements.partition import partition
from imiebench.elements.model import encode_elements
from imiebench.elements.edit import move, resize
from imiebench.elements.decoders import decode_light
from imiebench.toy.elements import load_toy_elements
from imiebench.bench.format import load_bench

FUZZ = settings(max_examples=20, deadline=None, derandomize=True, database=None, suppress_health_check=list(HealthCheck))
SD, IP2P = tiny('sd'), tiny('ip2p')
IMG = np.random.default_rng(0).integers(0, 255, (16, 16, 3), dtype=np.uint8)

# valid values, in every accepted spelling
finite = st.floats(-20, 20, allow_nan=False) | st.integers(-20, 20) | st.floats(-20, 20).map(np.float32)
ratio = st.floats(0.3, 1.0) | st.sampled_from([np.float32(0.5), np.float64(0.75), 1])
steps_ok = st.integers(2, 4) | st.integers(2, 4).map(np.int64)
gen_ok = st.none() | st.integers(0, 2 ** 31) | st.integers(0, 99).map(lambda s: torch.Generator().manual_seed(s))
image_ok = st.sampled_from(['uint8', 'pil', 'float01', 'float01_batch1'])
# known-bad values (each must be refused by name)
bad_number = st.sampled_from([float('nan'), float('inf'), -float('inf'), None, 'x', True, [1.0]])
bad_steps = st.sampled_from([0, -1, 2.5, None, '3', True, float('nan')])
bad_ratio = st.sampled_from([0, -0.5, 1.5, float('nan'), None, 'half'])
bad_gen = st.sampled_from([np.random.default_rng(0), 'seed', 1.5, -1, object()])

def make_image(kind):
    if kind == 'uint8': return IMG
    if kind == 'pil':
        import PIL.Image; return PIL.Image.fromarray(IMG)
    t = torch.from_numpy(IMG).permute(2, 0, 1).float() / 255
    return t if kind == 'float01' else t[None]

def bad_image():
    return st.sampled_from([
        ('wrong size', np.zeros((15, 16, 3), np.uint8)), ('float array', np.zeros((16, 16, 3), np.float32)),
        ('nan tensor', torch.full((3, 16, 16), float('nan'))), ('range', torch.full((3, 16, 16), 3.0)),
        ('channels', np.zeros((16, 16, 4), np.uint8)), ('string', 'cat.png'), ('int tensor', torch.zeros(3, 16, 16, dtype=torch.int64))])

IMAGE_WORDS = ('image', 'array', 'tensor', 'PIL', 'multiple of')

def check_contract(call, bad: str|None, names=()):
    "Run `call`; a bad argument must give ValueError/TypeError naming it, good arguments a result."
    if bad is None:
        with warnings.catch_warnings():
            warnings.simplefilter('ignore')
            return call()
    with pytest.raises((ValueError, TypeError, FileNotFoundError)) as e: call()  # a str image is a path: a missing file is FileNotFoundError
    msg = str(e.value)
    assert any(n in msg for n in (bad, *names)), f"error for bad {bad!r} does not name it: {msg}"

def finite_images(x, n, hw=(16, 16)):
    assert isinstance(x, torch.Tensor) and x.shape == (n, 3, *hw), x.shape
    assert torch.isfinite(x).all() and x.min() >= -1 and x.max() <= 1

pick = lambda names: st.none() | st.sampled_from(names)  # which argument is bad (None, half of the examples: all good)

@FUZZ
@given(bad=pick(['image']), kind=image_ok, badimg=bad_image())
def test_to_tensor(bad, kind, badimg):
    img = badimg[1] if bad else make_image(kind)
    out = check_contract(lambda: to_tensor(img), bad, IMAGE_WORDS)
    if out is not None:
        finite_images(out, 1)
        assert torch.allclose(out, to_tensor(IMG), atol=1e-5)  # every accepted spelling is the same image

@FUZZ
@given(bad=pick(['steps', 'r', 'guidance_scale', 'latents', 'prompt']), steps=steps_ok, r=ratio, g=finite,
       bs=bad_steps, br=bad_ratio, bg=bad_number)
def test_ddim_encode(bad, steps, r, g, bs, br, bg):
    z = SD.encode(IMG)
    kw = dict(num_inference_steps=steps, r=r, guidance_scale=g, prompt='a red circle', progress=False)
    if bad == 'steps': kw['num_inference_steps'] = bs
    if bad == 'r': kw['r'] = br
    if bad == 'guidance_scale': kw['guidance_scale'] = bg
    if bad == 'prompt': kw['prompt'] = 3
    lat = z[:, :3] if bad == 'latents' else z
    if bad is None and int(steps * float(r)) < 1: bad = 'r'  # r·steps < 1 gives no step: an error that names r
    tr = check_contract(lambda: ddim_encode(SD, lat, **kw), bad, ('ratio', 'channels'))
    if tr is not None: assert all(torch.isfinite(x).all() and x.shape == z.shape for x in tr.latents)

@FUZZ
@given(bad=pick(['steps', 'guidance_scale', 'eta', 'generator', 'mask', 'negative_prompt']), g=finite,
       eta=st.floats(0, 1) | st.just(np.float32(0.5)), gen=gen_ok, bs=bad_steps, bg=bad_number, bgen=bad_gen,
       mask=st.sampled_from(['none', 'latent', 'image']),
       badmask=st.sampled_from([np.ones((3, 1, 8, 8)), np.full((8, 8), np.nan), np.ones((5, 5)), np.full((8, 8), 2.0), 'm']))
def test_ddim_decode(bad, g, eta, gen, bs, bg, bgen, mask, badmask):
    z = SD.encode(IMG); tr = ddim_encode(SD, z, 4, 0.5, progress=False)
    m = {'none': None, 'latent': np.ones((8, 8), bool), 'image': np.ones((16, 16), np.float32)}[mask]
    kw = dict(num_inference_steps=4, r=0.5, guidance_scale=g, eta=eta, generator=gen, mask=m, progress=False)
    if bad == 'steps': kw['num_inference_steps'] = bs
    if bad == 'guidance_scale': kw['guidance_scale'] = bg
    if bad == 'eta': kw['eta'] = bg
    if bad == 'generator': kw['generator'] = bgen
    if bad == 'mask': kw['mask'] = badmask
    if bad == 'negative_prompt': kw['negative_prompt'] = None
    out = check_contract(lambda: ddim_decode(SD, tr, 'a red circle', **kw), bad)
    if out is not None: assert out.shape == z.shape and torch.isfinite(out).all()

@FUZZ
@given(bad=pick(['image', 'query', 'r', 'steps', 'guidance_scale', 'threshold', 'strength', 'n', 'generator', 'mask', 'b']),
       kind=image_ok, r=ratio, g=finite, th=st.floats(0, 1), strength=ratio, gen=gen_ok, badimg=bad_image(),
       bs=bad_steps, br=bad_ratio, bg=bad_number, bgen=bad_gen)
def test_diffedit(bad, kind, r, g, th, strength, gen, badimg, bs, br, bg, bgen):
    kw = dict(r=r, num_inference_steps=4, guidance_scale=g, threshold=th, mask_encode_strength=strength, n=2, generator=gen, progress=False)
    img, b, q = make_image(kind), SD, 'a red circle'
    if bad == 'image': img = badimg[1]
    if bad == 'query': q = ''
    if bad == 'r': kw['r'] = br
    if bad == 'steps': kw['num_inference_steps'] = bs
    if bad == 'guidance_scale': kw['guidance_scale'] = bg
    if bad == 'threshold': kw['threshold'] = bg if bg is not None else 1.5
    if bad == 'strength': kw['mask_encode_strength'] = br
    if bad == 'n': kw['n'] = bs
    if bad == 'generator': kw['generator'] = bgen
    if bad == 'mask': kw['mask'] = np.ones((2, 1, 16, 16)) if bgen is None else np.full((16, 16), np.nan)
    if bad == 'b': b = as_pipeline(SD)
    if bad is None and int(4 * float(r)) < 1: bad = 'r'
    res = check_contract(lambda: diffedit(b, img, q, **kw), bad,
                         {'image': IMAGE_WORDS, 'r': ('ratio',), 'strength': ('strength',), 'n': ('noise samples',),
                          'b': ('Bundle',), 'mask': ('mask',)}.get(bad, ()))
    if res is not None:
        finite_images(res.image, 1)
        assert res.mask.mask.shape == (1, 1, 8, 8) and set(res.mask.mask.unique().tolist()) <= {0.0, 1.0}

@FUZZ
@given(bad=pick(['image', 'instruction', 'steps', 'guidance_scale', 'image_guidance_scale', 'generator', 'mask', 'scheduler', 'b']),
       kind=image_ok, steps=steps_ok, g=finite, gi=finite, gen=gen_ok, control=st.sampled_from(['blend', 'null', 'literal']),
       mask=st.sampled_from(['none', 'image', 'latent']), badimg=bad_image(), bs=bad_steps, bg=bad_number, bgen=bad_gen)
def test_ip2p_edit(bad, kind, steps, g, gi, gen, control, mask, badimg, bs, bg, bgen):
    m = {'none': None, 'image': np.pad(np.ones((8, 8)), 4), 'latent': np.pad(np.ones((4, 4), bool), 2)}[mask]
    kw = dict(num_inference_steps=steps, guidance_scale=g, image_guidance_scale=gi, generator=gen, mask=m, control=control, progress=False)
    img, b, ins = make_image(kind), IP2P, 'make it blue'
    if bad == 'image': img = badimg[1]
    if bad == 'instruction': ins = None
    if bad == 'steps': kw['num_inference_steps'] = bs
    if bad == 'guidance_scale': kw['guidance_scale'] = bg
    if bad == 'image_guidance_scale': kw['image_guidance_scale'] = bg
    if bad == 'generator': kw['generator'] = bgen
    if bad == 'mask': kw['mask'] = np.ones((2, 16, 16)) if bgen is None else np.zeros((16, 16))
    if bad == 'scheduler': kw['scheduler'] = 'euler'
    if bad == 'b': b = as_pipeline(IP2P)
    res = check_contract(lambda: ip2p_edit(b, img, ins, **kw), bad,
                         {'image': IMAGE_WORDS, 'b': ('Bundle',), 'mask': ('mask',), 'scheduler': ('scheduler',)}.get(bad, ()))
    if res is not None: finite_images(res.image, 1); assert res.latents.shape == (1, 4, 8, 8)

@FUZZ
@given(bad=pick(['steps', 'guidance_scale', 'image_guidance_scale', 'mask', 'generator', 'control']),
       mode=st.sampled_from(['latent', 'image', 'concat']), g=finite, gen=gen_ok, bs=bad_steps, bg=bad_number, bgen=bad_gen)
def test_session_edit(bad, mode, g, gen, bs, bg, bgen):
    s = EditSession(IP2P, IMG, mode=mode, num_inference_steps=2, progress=False)
    kw = dict(guidance_scale=g)
    if bad == 'steps': kw['num_inference_steps'] = bs
    if bad == 'guidance_scale': kw['guidance_scale'] = bg
    if bad == 'image_guidance_scale': kw['image_guidance_scale'] = bg
    if bad == 'mask': kw['mask'] = np.zeros((8, 8))
    if bad == 'control': kw['control'] = 'everywhere'
    if bad == 'generator': kw['generator'] = bgen
    elif not isinstance(gen, torch.Generator) and gen is not None: kw['generator'] = gen % 1000
    step = check_contract(lambda: s.edit('make it blue', **kw), bad, ('seed',) if bad == 'generator' else ())
    if step is None: assert len(s) == 0; return  # nothing recorded by a refused edit
    assert len(s) == 1 and step.image.shape == (16, 16, 3) and step.image.dtype == np.uint8 and torch.isfinite(step.latents).all()
    with pytest.raises(ValueError): s.image[0, 0] = 0  # history is read-only

@FUZZ
@given(bad=pick(['x', 'quantize', 'batch']), v=st.floats(-1, 1), n=st.integers(1, 3))
def test_vae_roundtrip(bad, v, n):
    x = torch.full((n, 3, 16, 16), v)
    kw = {}
    if bad == 'x': x = [x * 3, x.masked_fill(x >= -2, float('nan')), x.int(), x[:, :2]][n % 4] if n % 4 != 1 else x * 3 + 3.5
    if bad == 'quantize': kw['quantize'] = 'yes'
    if bad == 'batch': kw['batch'] = 0
    out = check_contract(lambda: vae_roundtrip(SD.vae, x, **kw), bad, ('images', 'range', 'NaN', 'float'))
    if out is not None: finite_images(out, n)

@FUZZ
@given(op=st.sampled_from(['brightness', 'contrast', 'color_shift', 'blur', 'sharpen']), good=st.booleans(),
       v=st.floats(-2, 2, allow_nan=False) | st.floats(-2, 2).map(np.float32), bv=bad_number, sigma=st.floats(0.3, 4.0))
def test_pixel_edit(op, good, v, bv, sigma):
    p = {'brightness': 'delta', 'contrast': 'factor', 'color_shift': 'rgb', 'blur': 'sigma', 'sharpen': 'amount'}[op]
    val = (v if op not in ('color_shift', 'blur') else (v, 0, -v) if op == 'color_shift' else sigma) if good else \
          ((bv, 0, 0) if op == 'color_shift' else bv)
    out = check_contract(lambda: pixel_edit(IMG, op, **{p: val}), None if good else p, (op,))
    if out is not None: assert out.shape == IMG.shape and out.dtype == np.uint8

TOY = load_toy_elements()
EL = encode_elements(TOY.encoder, (np.random.default_rng(1).integers(0, 255, (64, 64, 3)).astype(np.uint8)), n=16, beta=16.)

@FUZZ
@given(bad=pick(['n', 'beta', 'beta_c', 'iters', 'image']), n=st.sampled_from([4, 9, 16, np.int64(16)]),
       beta=st.floats(0, 100), beta_c=st.floats(0, 1), badimg=bad_image(), bn=bad_number, bs=bad_steps)
def test_partition(bad, n, beta, beta_c, badimg, bn, bs):
    img, kw = IMG, dict(n=n, beta=beta, beta_c=beta_c)
    if bad == 'n': kw['n'] = 5 if bn is None else bn
    if bad == 'beta': kw['beta'] = -1.0 if bn is None else bn
    if bad == 'beta_c': kw['beta_c'] = 1.5 if bn is None else bn
    if bad == 'iters': kw['iters'] = bs
    if bad == 'image': img = badimg[1]
    p = check_contract(lambda: partition(img, **kw), bad, {'image': IMAGE_WORDS, 'n': ('query points', 'square')}.get(bad, ()))
    if p is not None: assert p.labels.shape == (16, 16) and p.labels.max() < int(n)

@FUZZ
@given(bad=pick(['dy', 'dx', 'scale', 'ids', 'els']), dy=st.floats(-3, 3), dx=st.floats(-3, 3), scale=st.floats(0.8, 1.2),
       bn=bad_number, op=st.sampled_from(['move', 'resize']))
def test_element_edits_and_decode(bad, dy, dx, scale, bn, op):
    ids = [int(np.flatnonzero(EL.alive)[0])]
    if bad == 'ids': ids = ['a'] if bn is None else [10 ** 6]
    if op == 'resize' and bad in ('dy', 'dx'): bad = 'scale'
    if op == 'move' and bad == 'scale': bad = 'dy'
    def call():
        if bad == 'els': return decode_light(TOY, 'elements' if bn is None else [])
        el = move(EL, ids, bn if bad == 'dy' else dy, bn if bad == 'dx' else dx, clip=True) if op == 'move' else \
             resize(EL, ids, bn if bad == 'scale' else scale, clip=True)  # a corner element edited a little reaches past the edge: cut there
        return decode_light(TOY, el)
    out = check_contract(call, bad, {'ids': ('element id',), 'els': ('Elements',)}.get(bad, ()))
    if out is not None: finite_images(out, 1, (64, 64))

@FUZZ
@given(src=st.sampled_from(['shapes', 'shipped:shapes', 'shipped:photos', 'photos']) | st.text(max_size=12) | st.integers(),
       max_cases=st.sampled_from([1, 2, None, 0, 1.5, 'all']))
def test_load_bench(src, max_cases):
    good_src = src in ('shapes', 'shipped:shapes', 'shipped:photos', 'photos')
    good_mc = max_cases in (1, 2, None) and not isinstance(max_cases, float)
    try: out = load_bench(src, max_cases=max_cases, min_steps=0)
    except FileNotFoundError as e: assert not good_src and 'manifest' in str(e); return
    except (ValueError, TypeError) as e:
        assert not (good_src and good_mc), e
        assert any(k in str(e) for k in ('max_cases', 'src', 'shipped', 'JSON', 'format', 'manifest')), e; return
    assert good_src and good_mc and 0 < len(out.cases) <= (max_cases or 10 ** 6)
