"EMILIE's InstructPix2Pix loop: parity with diffusers' pipeline on identical weights, gradient control, bad input."
import numpy as np, torch, pytest, PIL.Image
from diffusers import EulerAncestralDiscreteScheduler, DDIMScheduler
from imiebench.models import tiny, make_scheduler
from imiebench.emilie import ip2p_edit, CONTROLS

@pytest.fixture(scope='module')
def setup():
    return tiny('ip2p', seed=5), np.random.default_rng(1).integers(0, 255, (16, 16, 3), dtype=np.uint8)

@pytest.mark.parametrize('sched_cls', [EulerAncestralDiscreteScheduler, DDIMScheduler])
def test_parity_with_diffusers(setup, sched_cls):
    b, img = setup
    s1, s2 = make_scheduler(sched_cls), make_scheduler(sched_cls)
    ours = ip2p_edit(b, img, 'make the red circle blue', num_inference_steps=5, scheduler=s1, generator=torch.Generator().manual_seed(0), progress=False)
    pipe = b.pipeline(); pipe.scheduler = s2
    theirs = pipe('make the red circle blue', image=PIL.Image.fromarray(img), num_inference_steps=5,
                  generator=torch.Generator().manual_seed(0), output_type='latent').images
    assert (ours.latents - theirs).abs().max() <= 1e-6 * theirs.abs().max() + 1e-4

def test_same_seed_same_edit(setup):
    b, img = setup
    run = lambda c: ip2p_edit(b, img, 'make it blue', num_inference_steps=4, mask=np.pad(np.ones((8, 8), bool), 4), control=c,
                              generator=torch.Generator().manual_seed(7), progress=False).latents
    for c in CONTROLS: assert torch.equal(run(c), run(c))

def test_blend_keeps_outside_exactly_in_latent_space(setup):
    b, img = setup
    m = np.zeros((16, 16), bool); m[:8, :8] = True
    r = ip2p_edit(b, img, 'make it blue', num_inference_steps=4, mask=m, control='blend', generator=torch.Generator().manual_seed(0), progress=False)
    src = b.encode(img)  # scaled
    outside = torch.ones(1, 4, 8, 8, dtype=torch.bool); outside[..., :4, :4] = False
    assert torch.allclose(r.latents[outside], src[outside], atol=1e-5)

BAD = [
    ('all-zero mask', dict(mask=np.zeros((16, 16), bool)), ValueError, 'all zeros'),
    ('mask size mismatch', dict(mask=np.ones((12, 12), bool)), ValueError, 'matches neither'),
    ('mask with 3 channels', dict(mask=np.ones((3, 16, 16), np.float32)), ValueError, 'shape'),
    ('instruction over the tokenizer limit', dict(instruction='a ' * 30), ValueError, 'over the tokenizer limit'),
    ('unknown control', dict(mask=np.ones((16, 16), bool), control='paint'), ValueError, "'paint'"),
    ('instruction not a string', dict(instruction=None), TypeError, 'str'),
]

@pytest.mark.parametrize('name,kw,exc,match', BAD, ids=[c[0] for c in BAD])
def test_bad_input(setup, name, kw, exc, match):
    b, img = setup
    args = dict(instruction='make it blue', num_inference_steps=2, progress=False) | kw
    with pytest.raises(exc, match=match): ip2p_edit(b, img, **args)

def test_caption_bundle_rejected():
    with pytest.raises(ValueError, match='instruction model'):
        ip2p_edit(tiny('sd'), np.zeros((16, 16, 3), np.uint8), 'make it blue', num_inference_steps=2, progress=False)


# --- the editing session ---------------------------------------------------------------------------
import gc, warnings
from imiebench.emilie import EditSession, MODES, rescale_factor

@pytest.fixture
def session(setup):
    b, img = setup
    return EditSession(b, img, num_inference_steps=3, progress=False)

@pytest.mark.parametrize('mode', MODES)
def test_session_save_load_exact(setup, tmp_path, mode):
    b, img = setup
    s = EditSession(b, img, mode=mode, num_inference_steps=3, progress=False)
    m = np.zeros((16, 16), np.float32); m[4:12, 4:12] = 1
    s.edit('make it blue'); s.edit('make the circle red', mask=m)
    s.edit('add a square', generator=torch.Generator().manual_seed(3))
    s2 = EditSession.load(s.save(tmp_path / 's.pt'), b, progress=False)
    assert len(s2) == 3 and s2.mode == mode
    for a, c in zip(s.images, s2.images): np.testing.assert_array_equal(a, c)
    np.testing.assert_array_equal(s2.history[1].mask, m)
    assert torch.equal(s.edit('make it green').latents, s2.edit('make it green').latents)

def test_session_generator_state_replays(session):
    g = torch.Generator().manual_seed(11)
    a = session.edit('make it blue', generator=g).latents
    st = session.undo()  # the recorded state is the generator's state *before* the edit
    g2 = torch.Generator(); g2.set_state(st.settings['generator_state'])
    assert torch.equal(a, session.edit('make it blue', generator=g2).latents)

def test_latent_mode_reuses_z0(setup):
    "Latent iteration conditions edit 2 on f·z0 of edit 1 — not on the re-encoded image (image mode)."
    b, img = setup
    lat, im = EditSession(b, img, num_inference_steps=3, progress=False), EditSession(b, img, mode='image', num_inference_steps=3, progress=False)
    for s in (lat, im): s.edit('make it blue'); s.edit('make it red')
    z0, i0 = lat.history[0].latents, lat.history[0].image
    assert torch.allclose(lat.history[1].cond, z0 * rescale_factor(b, z0, i0, 'global'))
    assert torch.allclose(im.history[1].cond, b.encode(im.history[0].image, scale=False))
    assert not torch.allclose(lat.history[1].cond, im.history[1].cond)

def test_rescale_channel_differs_from_global(setup):
    b, img = setup
    s = EditSession(b, img, num_inference_steps=3, progress=False); st = s.edit('make it blue')
    g, c = (rescale_factor(b, st.latents, st.image, h) for h in ('global', 'channel'))
    assert g.shape == (1, 1, 1, 1) and c.shape == (1, 4, 1, 1) and not torch.allclose(c, g.expand_as(c))
    with pytest.raises(ValueError, match='all zeros'): rescale_factor(b, torch.zeros_like(st.latents), st.image, 'global')

SESSION_BAD = [
    ('mask of another size', lambda s: s.edit('x', mask=np.ones((8, 8))), ValueError, 'does not match the image size'),
    ('mask with 3 channels', lambda s: s.edit('x', mask=np.ones((16, 16, 3))), ValueError, 'mask'),
    ('all-zero mask', lambda s: s.edit('x', mask=np.zeros((16, 16))), ValueError, 'all zeros'),
    ('NaN in the mask', lambda s: s.edit('x', mask=np.full((16, 16), np.nan)), ValueError, 'NaN'),
    ('undo past the original', lambda s: s.undo(), ValueError, 'nothing to undo'),
    ('instruction over the tokenizer limit', lambda s: s.edit('a ' * 40), ValueError, 'over the tokenizer limit'),
    ('instruction not a string', lambda s: s.edit(3), TypeError, 'str'),
    ('unknown setting', lambda s: s.edit('x', guidance=2.), TypeError, 'unknown setting'),
]

@pytest.mark.parametrize('name,fn,exc,match', SESSION_BAD, ids=[c[0] for c in SESSION_BAD])
def test_session_bad_input_loses_nothing(session, name, fn, exc, match):
    session.edit('make it blue'); before = [i.copy() for i in session.images]
    if name == 'undo past the original': session.undo(); before = before[:1]
    with pytest.raises(exc, match=match): fn(session)
    assert len(session.images) == len(before) and all((a == c).all() for a, c in zip(session.images, before))

def test_session_bad_construction(setup):
    b, img = setup
    with pytest.raises(ValueError, match='instruction model'): EditSession(tiny('sd'), img)
    with pytest.raises(ValueError, match="'pixels'"): EditSession(b, img, mode='pixels')
    with pytest.raises(ValueError, match="'mean'"): EditSession(b, img, rescale='mean')
    with pytest.raises(ValueError, match='batch of 2'): EditSession(b, np.stack([img, img]))
    with pytest.raises(ValueError, match='multiple of'): EditSession(b, img[:15])

def test_load_other_weights_warns_and_bad_files(session, tmp_path):
    session.edit('make it blue'); p = session.save(tmp_path / 's.pt')
    with pytest.warns(UserWarning, match='other weights'):
        s2 = EditSession.load(p, tiny('ip2p', seed=99), progress=False)
    np.testing.assert_array_equal(s2.image, session.image)  # the images are kept
    with pytest.raises(FileNotFoundError): EditSession.load(tmp_path / 'missing.pt', session.b)
    torch.save({'something': 1}, tmp_path / 'other.pt')
    with pytest.raises(ValueError, match='not a saved EditSession'): EditSession.load(tmp_path / 'other.pt', session.b)

def test_long_session_does_not_leak(session):
    "Many edit/undo cycles: the number of live tensors and the embedding cache stay bounded."
    def live():
        gc.collect()
        with warnings.catch_warnings(): warnings.simplefilter('ignore'); return sum(isinstance(o, torch.Tensor) for o in gc.get_objects())
    for i in range(3): session.edit(f'make it blue'); session.undo()
    n0 = live()
    for i in range(25): session.edit('make it blue' if i % 2 else 'make it red'); session.undo()
    assert live() <= n0 + 5 and len(session) == 0
    assert len(session.b._cache) <= session.b.max_cache

def test_session_widget_drives_the_session(setup):
    from imiebench.widgets.session import session_widget
    b, img = setup
    w = session_widget(EditSession(b, img, num_inference_steps=2, progress=False)); c = w.controls
    c['text'].value = 'make it blue'; c['run'].click(); assert len(w.session) == 1 and w.session.history[0].mask is None
    c['mask_from'].value = 'rectangle'; c['xs'].value = (0, 8); c['s_t'].value = 3.0; c['run'].click()
    st = w.session.history[-1]
    assert st.mask[:, :8].min() == 1 and st.mask[:, 8:].max() == 0 and st.settings['guidance_scale'] == 3.0
    c['text'].value = 'a ' * 40; c['run'].click(); assert len(w.session) == 2 and 'tokenizer limit' in c['status'].value
    assert c['strip'].value[:4] == b'\x89PNG'
    from imiebench.widgets.wire import frontend_update, pack_mask
    m = np.zeros((16, 16), bool); m[8:, :] = True
    c['text'].value = 'make it red'; frontend_update(c['brush'], mask_bits=pack_mask(m)); c['mask_from'].value = 'brush'; c['run'].click()
    assert len(w.session) == 3 and (w.session.history[-1].mask == m).all()
