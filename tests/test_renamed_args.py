"""diffusers' names: every renamed argument works under its new name, and under its old one for one release with a
FutureWarning that names the new one; both at once, or a misspelling, is a TypeError."""
import warnings
import numpy as np
import pytest
import torch

from imiebench.models import tiny
from imiebench.ddim import ddim_encode, ddim_decode
from imiebench.diffedit import diffedit, diffedit_mask
from imiebench.blended import blended_latent

IMG = np.random.default_rng(0).integers(0, 256, (16, 16, 3), dtype=np.uint8)
g = lambda: torch.Generator().manual_seed(0)

@pytest.fixture(scope='module')
def sd(): return tiny('sd')

def old_and_new(call, old: dict, new: dict):
    "The call's result under the old names (one FutureWarning each, naming the new) equals its result under the new names."
    with warnings.catch_warnings(record=True) as ws:
        warnings.simplefilter('always'); a = call(**old)
    msgs = [str(w.message) for w in ws if w.category is FutureWarning]
    for k, n in zip(old, new): assert any(f"`{k}=` is now `{n}=`" in m for m in msgs), (k, msgs)
    with warnings.catch_warnings():
        warnings.simplefilter('error', FutureWarning); b = call(**new)  # the new names warn about nothing
    return a, b

def test_ddim(sd):
    z0 = sd.encode(IMG)
    a, b = old_and_new(lambda **kw: ddim_encode(sd, z0, r=0.5, progress=False, **kw), dict(steps=4), dict(num_inference_steps=4))
    assert torch.equal(a.x_r, b.x_r)
    a, b = old_and_new(lambda **kw: ddim_decode(sd, b, 'a red circle', r=0.5, progress=False, **kw), dict(steps=4), dict(num_inference_steps=4))
    assert torch.equal(a, b)
    with pytest.raises(TypeError, match='pass `num_inference_steps=` only'): ddim_encode(sd, z0, num_inference_steps=3, steps=4)
    with pytest.raises(TypeError, match="unexpected keyword argument 'stepz'"): ddim_encode(sd, z0, stepz=4)

def test_diffedit(sd):
    a, b = old_and_new(lambda **kw: diffedit(sd, IMG, 'a red circle', n=2, generator=g(), progress=False, **kw),
                       dict(steps=4, strength=0.5), dict(num_inference_steps=4, mask_encode_strength=0.5))
    assert torch.equal(a.image, b.image) and b.settings['num_inference_steps'] == 4 and b.settings['mask_encode_strength'] == 0.5
    a, b = old_and_new(lambda **kw: diffedit_mask(sd, IMG, 'a red circle', n=2, generator=g(), **kw),
                       dict(steps=4, strength=0.75), dict(num_inference_steps=4, mask_encode_strength=0.75))
    assert torch.equal(a.soft, b.soft)

def test_blended(sd):
    a, b = old_and_new(lambda **kw: blended_latent(sd, IMG, 'a red circle', generator=g(), progress=False, **kw), dict(steps=2), dict(num_inference_steps=2))
    assert torch.equal(a.image, b.image)

def test_decode_diffusion():
    from imiebench.toy.elements import load_toy_elements
    from imiebench.elements.partition import partition
    from imiebench.elements.model import encode_elements
    from imiebench.elements.decoders import decode_diffusion
    img = np.random.default_rng(1).integers(0, 256, (64, 64, 3), dtype=np.uint8)
    m = load_toy_elements(); el = encode_elements(m.encoder, img, partition(img, n=64, beta=16.))
    a, b = old_and_new(lambda **kw: decode_diffusion(m, el, generator=g(), **kw), dict(steps=2, guidance=2.0), dict(num_inference_steps=2, guidance_scale=2.0))
    assert torch.equal(a, b)

def test_emilie():
    from imiebench.emilie import ip2p_edit, instruction_mask, EditSession
    ip = tiny('ip2p')
    a, b = old_and_new(lambda **kw: ip2p_edit(ip, IMG, 'make it red', generator=g(), progress=False, **kw), dict(steps=2), dict(num_inference_steps=2))
    assert torch.equal(a.latents, b.latents)
    a, b = old_and_new(lambda **kw: instruction_mask(ip, IMG, 'make it red', n=2, generator=g(), **kw), dict(strength=0.7), dict(mask_encode_strength=0.7))
    assert torch.equal(a.soft, b.soft)
    a, b = old_and_new(lambda **kw: EditSession(ip, IMG, progress=False, **kw), dict(steps=3), dict(num_inference_steps=3))
    assert a.defaults['steps'] == b.defaults['steps'] == 3  # the settings record keeps the name 'steps'
    e1, e2 = a.edit('make it red', num_inference_steps=2), b.edit('make it red', steps=2)  # an edit's override: either name
    assert torch.equal(e1.latents, e2.latents) and e1.settings['steps'] == 2
    with pytest.raises(TypeError, match='pass num_inference_steps= only'): a.edit('x', steps=2, num_inference_steps=2)
