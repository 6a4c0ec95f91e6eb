"DiffEdit and DDIM: parity with diffusers' StableDiffusionDiffEditPipeline on identical (tiny random) weights, and bad input."
import numpy as np, torch, pytest, PIL.Image
from diffusers import StableDiffusionDiffEditPipeline, DDIMInverseScheduler
from imiebench.models import tiny
from imiebench.diffedit import diffedit_mask, diffedit, diffusers_mask_draws
from imiebench.ddim import ddim_encode, ddim_decode

@pytest.fixture(scope='module')
def setup():
    b = tiny('sd', seed=2)
    pipe = b.pipeline(StableDiffusionDiffEditPipeline, inverse_scheduler=DDIMInverseScheduler.from_config(b.scheduler.config))
    imgs = list(np.random.default_rng(0).integers(0, 255, (3, 32, 32, 3), dtype=np.uint8))
    return b, pipe, imgs

def test_mask_parity(setup):
    b, pipe, imgs = setup
    q, r = 'a red circle', 'a blue square'
    m_d = pipe.generate_mask(image=[PIL.Image.fromarray(a) for a in imgs], target_prompt=[q] * 3, source_prompt=[r] * 3,
                             num_maps_per_mask=4, generator=torch.Generator().manual_seed(0), output_type='np')
    lat, noise = diffusers_mask_draws(b, imgs, 4, torch.Generator().manual_seed(0))
    ours = diffedit_mask(b, imgs, q, r, n=4, guidance_scale=7.5, rescale='batch', latents=lat, noise=noise)
    assert (ours.mask[:, 0].numpy() == np.asarray(m_d)).mean() >= 0.99
    per_image = diffedit_mask(b, imgs, q, r, n=4, guidance_scale=7.5, rescale='mean', latents=lat, noise=noise)
    assert torch.equal(per_image.raw, ours.raw) and not torch.equal(per_image.soft, ours.soft)

def test_invert_and_decode_parity(setup):
    b, pipe, imgs = setup
    img = PIL.Image.fromarray(imgs[0]); g = lambda: torch.Generator().manual_seed(1)
    inv = pipe.invert(prompt='a blue square', image=img, num_inference_steps=10, inpaint_strength=0.6, generator=g()).latents
    z0 = b.vae.encode(torch.from_numpy(imgs[0]).permute(2, 0, 1)[None].float() / 127.5 - 1).latent_dist.sample(g()) * b.vae.config.scaling_factor
    tr = ddim_encode(b, z0, 10, 0.6, prompt='a blue square', guidance_scale=7.5, progress=False)
    ours = torch.stack(list(reversed(tr.latents[1:])), 1)
    assert (ours - inv).abs().max() <= 2e-5 * inv.abs().max() + 1e-5  # float32 round-off (depends on the thread count)
    mask = torch.zeros(1, 1, 16, 16); mask[..., 4:12, 4:12] = 1
    out_d = pipe(prompt='a red circle', mask_image=mask, image_latents=inv, inpaint_strength=0.6, num_inference_steps=10,
                 negative_prompt='a blue square', generator=g(), output_type='latent').images
    out_o = ddim_decode(b, tr, 'a red circle', 10, 0.6, guidance_scale=7.5, mask=mask, blend='diffusers', negative_prompt='a blue square', progress=False)
    assert torch.allclose(out_o, out_d, atol=1e-4)
    # the deliberate difference: matching-t blending returns the background to x_0 exactly
    out_m = ddim_decode(b, tr, 'a red circle', 10, 0.6, guidance_scale=7.5, mask=mask, negative_prompt='a blue square', progress=False)
    bg = (mask == 0).expand_as(out_m)
    assert torch.allclose(out_m[bg], z0[bg], atol=1e-6) and not torch.allclose(out_d[bg], z0[bg], atol=1e-3)

def test_seeded_runs_repeat(setup):
    b, _, imgs = setup
    run = lambda: diffedit(b, imgs[0], 'a red circle', 'a blue square', r=0.5, num_inference_steps=8, n=2, mode='no_encoding',
                           generator=torch.Generator().manual_seed(3), progress=False).image
    assert torch.equal(run(), run())

BAD = [
    ('r > 1', dict(r=1.5), ValueError, r'\(0, 1\]'),
    ('r = 0', dict(r=0.0), ValueError, r'\(0, 1\]'),
    ('threshold > 1', dict(threshold=2.0), ValueError, r'threshold'),
    ('n < 1', dict(n=0), ValueError, r'n \(noise samples\)'),
    ('empty query', dict(query=' '), ValueError, r'query is empty'),
    ('mask size mismatch', dict(mask=np.ones((20, 20), bool)), ValueError, r'matches neither'),
    ('unknown mode', dict(mode='inpaint'), ValueError, r"'inpaint'"),
]

@pytest.mark.parametrize('name,kw,exc,match', BAD, ids=[c[0] for c in BAD])
def test_bad_input(setup, name, kw, exc, match):
    b, _, imgs = setup
    args = dict(query='a red circle', reference='a blue square', num_inference_steps=8, n=2, progress=False) | kw
    with pytest.raises(exc, match=match): diffedit(b, imgs[0], **args)

def test_query_equal_reference_warns(setup):
    b, _, imgs = setup
    with pytest.warns(UserWarning, match='mask is empty'):
        diffedit_mask(b, imgs[0], 'a red circle', 'a red circle', n=1, num_inference_steps=8)
