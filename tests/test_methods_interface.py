"""One method interface: every method's `check_inputs` runs before any model, `output_type` has diffusers' meanings on every
entry point (the default keeps the workbench's tensor in [-1, 1]), one mask preparation (`core.prepare_mask`) behaves for each
caller as its own code did, `MixedSession` lives with EMILIE (the old `toy` path warns), and EMILIE's split keeps its names."""
import importlib, pathlib, warnings
import numpy as np, pytest, torch
from imiebench.core import OUTPUT_TYPES, resize_mask, to_mask
from imiebench.models import tiny
from imiebench.ddim import ddim_encode, ddim_decode
from imiebench.diffedit import diffedit
from imiebench.blended import blended_latent
from imiebench.emilie import ip2p_edit, EditSession, MixedSession

IMG = np.random.default_rng(0).integers(0, 255, (16, 16, 3), dtype=np.uint8)
MASK = np.zeros((16, 16), np.float32); MASK[:, :8] = 1
g = lambda: torch.Generator().manual_seed(0)

@pytest.fixture(scope='module')
def sd(): return tiny('sd')

@pytest.fixture(scope='module')
def ip(): return tiny('ip2p', seed=5)

@pytest.fixture(scope='module')
def traj(sd): return ddim_encode(sd, sd.encode(IMG), num_inference_steps=6, r=0.5, progress=False)

def _edits(sd, ip, traj):
    "name → fn(**kw) for each method entry point, on tiny weights, seeded."
    return {
        'ddim_decode': lambda **kw: ddim_decode(sd, traj, 'a red circle', num_inference_steps=6, r=0.5, progress=False, **kw),
        'diffedit': lambda **kw: diffedit(sd, IMG, 'a red circle', r=0.5, num_inference_steps=6, n=2, generator=g(), progress=False, **kw),
        'blended_latent': lambda **kw: blended_latent(sd, IMG, 'a red circle', MASK, num_inference_steps=3, generator=g(), progress=False, **kw),
        'ip2p_edit': lambda **kw: ip2p_edit(ip, IMG, 'make it blue', num_inference_steps=3, generator=g(), progress=False, **kw),
    }

def _images(out): return out if isinstance(out, torch.Tensor) else out.image
def _latents(out): return out if isinstance(out, torch.Tensor) else out.latents

@pytest.mark.parametrize('name', ['diffedit', 'blended_latent', 'ip2p_edit'])
def test_output_type_meanings(sd, ip, traj, name):
    run = _edits(sd, ip, traj)[name]
    ref = run()  # the default: N×3×H×W in [-1, 1], as before
    assert ref.output_type is None and ref.image.shape == (1, 3, 16, 16) and ref.image.min() >= -1 and ref.image.max() <= 1
    outs = {ot: run(output_type=ot) for ot in OUTPUT_TYPES}
    for ot, o in outs.items(): assert torch.equal(o.latents, ref.latents), ot  # the same edit whatever is asked
    torch.testing.assert_close(outs['pt'].image, (ref.image / 2 + 0.5).clamp(0, 1), atol=1e-6, rtol=0)
    assert outs['np'].image.shape == (1, 16, 16, 3) and outs['np'].image.dtype == np.float32
    np.testing.assert_allclose(outs['np'].image, outs['pt'].image.permute(0, 2, 3, 1).numpy(), atol=1e-6)
    assert len(outs['pil'].image) == 1 and outs['pil'].image[0].size == (16, 16)
    assert torch.equal(outs['latent'].image, ref.latents)  # diffusers' 'latent': the latents, no decode
    assert 'latents' in repr(outs['latent'])

def test_ddim_decode_output_type(sd, traj):
    run = _edits(sd, None, traj)['ddim_decode']
    z = run()  # the default is 'latent': the scaled x_0, as before
    assert torch.equal(z, run(output_type='latent')) and z.shape == (1, 4, 8, 8)
    assert torch.equal(run(output_type=None), sd.decode(z))
    torch.testing.assert_close(run(output_type='pt'), (sd.decode(z) / 2 + 0.5).clamp(0, 1), atol=1e-6, rtol=0)

@pytest.mark.parametrize('name', ['ddim_decode', 'diffedit', 'blended_latent', 'ip2p_edit'])
def test_bad_output_type_names_it(sd, ip, traj, name):
    with pytest.raises(ValueError, match=r"output_type must be one of \('pil', 'np', 'pt', 'latent'\)"):
        _edits(sd, ip, traj)[name](output_type='png')

@pytest.mark.parametrize('module', ['ddim', 'diffedit', 'blended', 'emilie_edit'])
def test_every_method_checks_its_inputs_before_a_model_runs(sd, ip, traj, module, monkeypatch):
    "Each method module has a `check_inputs`; a bad argument fails there, before the first UNet or VAE call."
    assert callable(importlib.import_module(f'imiebench.{module}').check_inputs)
    for b in (sd, ip):
        for m in (b.unet, b.vae): monkeypatch.setattr(m, 'forward', lambda *a, **k: pytest.fail('a model ran before the inputs were checked'))
    run = {'ddim': lambda: ddim_decode(sd, traj, 'x', num_inference_steps=6, r=0.5, eta=2.0),
           'diffedit': lambda: diffedit(sd, IMG, 'x', guidance_scale=float('nan')),
           'blended': lambda: blended_latent(sd, IMG, 'x', np.ones((12, 12))),
           'emilie_edit': lambda: ip2p_edit(ip, IMG, 'x', control='paint')}[module]
    with pytest.raises(ValueError, match={'ddim': 'eta', 'diffedit': 'guidance_scale', 'blended': 'matches neither', 'emilie_edit': 'control'}[module]):
        run()

# ---------------------------------------------------------------- one mask preparation, each caller as before
def test_mask_at_image_size_is_the_area_resized_latent_mask(sd, ip, traj):
    "Each caller resizes an image-size mask by area to the latents, as its own code did: the same result as the latent-size mask."
    lat = resize_mask(to_mask(MASK), (8, 8))
    assert torch.equal(ddim_decode(sd, traj, 'x', num_inference_steps=6, r=0.5, mask=MASK, progress=False),
                       ddim_decode(sd, traj, 'x', num_inference_steps=6, r=0.5, mask=lat, progress=False))
    d = lambda m: diffedit(sd, IMG, 'x', r=0.5, num_inference_steps=6, mask=m, progress=False)
    a, b = d(MASK), d(lat)
    assert torch.equal(a.latents, b.latents) and torch.equal(a.mask.mask, lat) and torch.equal(a.mask.mask_image, to_mask(MASK))
    assert torch.equal(blended_latent(sd, IMG, 'x', MASK, num_inference_steps=3, generator=g(), progress=False).latents,
                       blended_latent(sd, IMG, 'x', lat, num_inference_steps=3, generator=g(), progress=False).latents)
    for c in ('null', 'literal', 'blend'):
        e = lambda m: ip2p_edit(ip, IMG, 'make it blue', num_inference_steps=3, mask=m, control=c, generator=g(), progress=False).latents
        assert torch.equal(e(MASK), e(lat)), c

def test_mask_errors_per_caller(sd, ip, traj):
    bad_size, three = np.ones((12, 12), bool), np.ones((3, 1, 16, 16), bool)
    calls = {'ddim_decode': lambda m: ddim_decode(sd, traj, 'x', num_inference_steps=6, r=0.5, mask=m, progress=False),
             'diffedit': lambda m: diffedit(sd, IMG, 'x', r=0.5, num_inference_steps=6, mask=m, progress=False),
             'blended_latent': lambda m: blended_latent(sd, IMG, 'x', m, num_inference_steps=3, progress=False),
             'ip2p_edit': lambda m: ip2p_edit(ip, IMG, 'x', num_inference_steps=3, mask=m, progress=False)}
    for name, call in calls.items():
        with pytest.raises(ValueError, match=r'matches neither the image \(16, 16\) nor the latents \(8, 8\)'): call(bad_size)
        with pytest.raises(ValueError, match='mask has a batch of 3, expected 1 or 1'): call(three)
    with pytest.raises(ValueError, match='all zeros'): calls['ip2p_edit'](np.zeros((16, 16)))  # EMILIE: nothing would be edited
    z = calls['ddim_decode'](np.zeros((16, 16)))  # DDIM's mask guidance: an empty mask keeps x_0 (the trajectory's start)
    assert torch.equal(z, traj.latents[0])

def test_mask_size_fix_as_suggested(ip):
    "The size error's suggestion, followed literally, gives a mask the method takes."
    import re
    from imiebench import core  # the suggestion names core.resize_mask / core.to_mask
    with pytest.raises(ValueError) as e: ip2p_edit(ip, IMG, 'x', num_inference_steps=2, mask=np.ones((12, 12), bool), progress=False)
    fix = re.search(r'e\.g\. (core\.resize_mask\(core\.to_mask\(mask\), \(\d+, \d+\)\))', str(e.value)).group(1)
    fixed = eval(fix, {'core': core, 'mask': np.ones((12, 12), bool)})  # the user's mask, resized as the message says
    assert ip2p_edit(ip, IMG, 'x', num_inference_steps=2, mask=fixed, progress=False).latents.shape == (1, 4, 8, 8)

# ---------------------------------------------------------------- MixedSession with the method; EMILIE's names
def test_mixed_session_moved_with_a_warning(ip):
    import imiebench.toy.reed as toy_reed
    with pytest.warns(FutureWarning, match='imiebench.emilie.MixedSession'): old = toy_reed.MixedSession
    assert old is MixedSession and issubclass(MixedSession, EditSession)
    with pytest.raises(AttributeError, match='NoSuchThing'): toy_reed.NoSuchThing
    s = MixedSession(ip, IMG, vae=tiny('sd', seed=3).vae, num_inference_steps=2, progress=False)
    s.pixel('brightness', delta=0.1); s.edit('')
    assert s.mode == 'image' and len(s) == 2 and s.history[0].settings['kind'] == 'pixel'

def test_emilie_keeps_its_public_names():
    "EMILIE is split by concern (`emilie_edit`, `emilie_io`, `emilie`); every name `imiebench.emilie` exported before still is."
    import imiebench.emilie as e
    before = ['CONTROLS', 'DISPLAY_SIDE', 'MODES', 'RESCALES', 'NOISES', 'MAX_SEED', 'SESSION_FORMAT', 'IP2PResult', 'display_scale',
              'image_png', 'image_row', 'image_html', 'ip2p_edit', 'instruction_mask', 'rescale_factor', 'next_condition',
              'SessionStep', 'weights_fingerprint', 'join_instructions', 'preview_steps', 'EditSession']
    assert [n for n in before if n not in e.__all__ or not hasattr(e, n)] == []
    from imiebench.reed import pixel_edit, PIXEL_OPS  # REED's names too, now from `pixel`
    from imiebench import pixel
    assert pixel_edit is pixel.pixel_edit and PIXEL_OPS is pixel.PIXEL_OPS

def test_method_modules_under_400_lines():
    root = pathlib.Path(importlib.import_module('imiebench').__file__).parent
    sizes = {m: len((root / f'{m}.py').read_text().splitlines()) for m in
             ('ddim', 'diffedit', 'blended', 'emilie', 'emilie_edit', 'emilie_io', 'reed', 'pixel')}
    assert max(sizes.values()) < 400, sizes

def test_session_save_load_through_emilie_io(ip, tmp_path):
    s = EditSession(ip, IMG, num_inference_steps=2, progress=False); s.edit('make it blue'); s.pixel('blur', sigma=1.0)
    with warnings.catch_warnings():
        warnings.simplefilter('error', UserWarning)  # the same weights: no warning about other weights
        s2 = EditSession.load(s.save(tmp_path / 'a.session'), ip, progress=False)
    assert [x.instruction for x in s2.history] == ['make it blue', '[pixel] blur sigma=1.0'] and np.array_equal(s2.image, s.image)
