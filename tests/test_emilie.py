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
    ours = ip2p_edit(b, img, 'make the red circle blue', steps=5, scheduler=s1, generator=torch.Generator().manual_seed(0), progress=False)
    pipe = b.pipeline(); pipe.scheduler = s2
    theirs = pipe('make the red circle blue', image=PIL.Image.fromarray(img), num_inference_steps=5,
                  generator=torch.Generator().manual_seed(0), output_type='latent').images
    assert (ours.latents - theirs).abs().max() <= 1e-6 * theirs.abs().max() + 1e-4

def test_same_seed_same_edit(setup):
    b, img = setup
    run = lambda c: ip2p_edit(b, img, 'make it blue', steps=4, mask=np.pad(np.ones((8, 8), bool), 4), control=c,
                              generator=torch.Generator().manual_seed(7), progress=False).latents
    for c in CONTROLS: assert torch.equal(run(c), run(c))

def test_blend_keeps_outside_exactly_in_latent_space(setup):
    b, img = setup
    m = np.zeros((16, 16), bool); m[:8, :8] = True
    r = ip2p_edit(b, img, 'make it blue', steps=4, mask=m, control='blend', generator=torch.Generator().manual_seed(0), progress=False)
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
    args = dict(instruction='make it blue', steps=2, progress=False) | kw
    with pytest.raises(exc, match=match): ip2p_edit(b, img, **args)

def test_caption_bundle_rejected():
    with pytest.raises(ValueError, match='instruction model'):
        ip2p_edit(tiny('sd'), np.zeros((16, 16, 3), np.uint8), 'make it blue', steps=2, progress=False)
