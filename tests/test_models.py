"Tiny random-weight bundles round-trip through diffusers pipelines and our loaders."
import numpy as np, torch, pytest
from diffusers import StableDiffusionPipeline, StableDiffusionInstructPix2PixPipeline
from imiebench.models import tiny, load_sd, load_ip2p

@pytest.mark.parametrize('kind', ['sd', 'ip2p'])
def test_tiny_round_trip(kind, tmp_path):
    b = tiny(kind, seed=1)
    b.save_pretrained(tmp_path)
    b2 = (load_sd if kind == 'sd' else load_ip2p)(tmp_path, device='cpu', dtype=torch.float32)
    assert b2.kind == kind and b2.unet.config.in_channels == (4 if kind == 'sd' else 8)
    for m1, m2 in [(b.vae, b2.vae), (b.unet, b2.unet), (b.text_encoder, b2.text_encoder)]:
        s1, s2 = m1.state_dict(), m2.state_dict()
        assert s1.keys() == s2.keys()
        assert all(torch.equal(s1[k], s2[k]) for k in s1)
    assert torch.equal(b.embed('a red circle'), b2.embed('a red circle'))
    # diffusers' own pipeline loads the same folder and runs a step
    cls = StableDiffusionPipeline if kind == 'sd' else StableDiffusionInstructPix2PixPipeline
    pipe = cls.from_pretrained(tmp_path, safety_checker=None, requires_safety_checker=False)
    kw = dict(prompt='a red circle', num_inference_steps=2, output_type='np', generator=torch.Generator().manual_seed(0))
    if kind == 'sd': out = pipe(height=32, width=32, **kw).images
    else: out = pipe(image=np.zeros((32, 32, 3), np.uint8), **kw).images
    assert out.shape == (1, 32, 32, 3) and np.isfinite(out).all()

def test_tiny_deterministic():
    a, b = tiny('sd', seed=3), tiny('sd', seed=3)
    assert all(torch.equal(x, y) for x, y in zip(a.unet.parameters(), b.unet.parameters()))
    c = tiny('sd', seed=4)
    assert not all(torch.equal(x, y) for x, y in zip(a.unet.parameters(), c.unet.parameters()))

def test_encode_sample_uses_generator():
    b = tiny('sd'); x = torch.zeros(1, 3, 16, 16)
    g = lambda: torch.Generator().manual_seed(0)
    assert torch.equal(b.encode(x, sample=True, generator=g()), b.encode(x, sample=True, generator=g()))
    assert torch.allclose(b.encode(x), b.encode(x, scale=False) * b.vae.config.scaling_factor)

def test_embed_cache_is_bounded():
    b = tiny('sd'); b.max_cache = 4
    for i in range(10): b.embed('a ' * (i + 1))
    assert len(b._cache) == 4

def test_clip_sample_off():
    assert tiny('sd').scheduler.config.clip_sample is False
