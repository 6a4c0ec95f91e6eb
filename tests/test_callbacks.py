"""diffusers' callbacks through every method: the form `fn(pipe, i, t, callback_kwargs)` and `PipelineCallback` objects work
wherever a method takes `callback_on_step_end`, exactly as the short form `fn(i, t, callback_kwargs)` does."""
import numpy as np
import pytest
import torch
from diffusers.callbacks import PipelineCallback, MultiPipelineCallbacks, SDCFGCutoffCallback

from imiebench.models import tiny
from imiebench.ddim import ddim_encode, ddim_decode
from imiebench.diffedit import diffedit
from imiebench.emilie import ip2p_edit, EditSession

IMG = np.random.default_rng(0).integers(0, 256, (64, 64, 3), dtype=np.uint8)


class Record(PipelineCallback):
    "Records (i, num_timesteps) and the latents; zeroes the latents at step `zero_at` (None: never)."
    tensor_inputs = ['latents']
    def __init__(self, zero_at=None):
        super().__init__(); self.zero_at, self.seen = zero_at, []
    def callback_fn(self, pipe, i, t, kw):
        self.seen.append((i, pipe.num_timesteps, kw['latents'].clone()))
        return dict(latents=torch.zeros_like(kw['latents'])) if i == self.zero_at else kw


def short_form(zero_at=None):
    seen = []
    def fn(i, t, kw):
        seen.append(kw['latents'].clone())
        return dict(latents=torch.zeros_like(kw['latents'])) if i == zero_at else None
    fn.seen = seen; return fn


@pytest.fixture(scope='module')
def sd(): return tiny('sd')

@pytest.fixture(scope='module')
def ip(): return tiny('ip2p')


def test_ddim_encode_and_decode(sd):
    z0 = sd.encode(IMG)
    a, b = Record(zero_at=1), short_form(zero_at=1)
    ta = ddim_encode(sd, z0, num_inference_steps=4, r=1.0, callback_on_step_end=a, progress=False)
    tb = ddim_encode(sd, z0, num_inference_steps=4, r=1.0, callback_on_step_end=b, progress=False)
    for x, y in zip(ta.latents, tb.latents): torch.testing.assert_close(x, y, rtol=0, atol=0)
    assert ta.latents[2].abs().max() == 0  # the trajectory keeps what the callback returned
    assert [s[:2] for s in a.seen] == [(i, 4) for i in range(4)]
    da = ddim_decode(sd, ta, '', num_inference_steps=4, r=1.0, callback_on_step_end=Record(zero_at=3), progress=False)
    assert da.abs().max() == 0


def test_diffedit_and_ip2p_and_session(sd, ip):
    g = lambda: torch.Generator().manual_seed(0)
    r1 = diffedit(sd, IMG, 'a', 'b', num_inference_steps=4, n=2, generator=g(), callback_on_step_end=Record(), progress=False)
    r2 = diffedit(sd, IMG, 'a', 'b', num_inference_steps=4, n=2, generator=g(), progress=False)
    torch.testing.assert_close(r1.latents, r2.latents, rtol=0, atol=0)
    rec = Record(zero_at=2)
    e1 = ip2p_edit(ip, IMG, 'x', num_inference_steps=3, generator=g(), callback_on_step_end=rec, progress=False)
    assert e1.latents.abs().max() == 0 and len(rec.seen) == 3
    both = MultiPipelineCallbacks([Record(), Record()])
    s = EditSession(ip, IMG, num_inference_steps=2, progress=False); s.edit('x', callback_on_step_end=both)
    assert [len(c.seen) for c in both.callbacks] == [2, 2]


def test_refused_up_front(sd):
    z0 = sd.encode(IMG)
    with pytest.raises(ValueError, match=r"reads \['prompt_embeds'\], which this loop does not hand"):
        ddim_encode(sd, z0, num_inference_steps=2, callback_on_step_end=SDCFGCutoffCallback(cutoff_step_ratio=0.5), progress=False)
    with pytest.raises(TypeError, match='requires 2 positional argument'):
        ddim_encode(sd, z0, num_inference_steps=2, callback_on_step_end=lambda i, t: None, progress=False)
    with pytest.raises(TypeError, match='callback_on_step_end must be callable'):
        ddim_encode(sd, z0, num_inference_steps=2, callback_on_step_end='x', progress=False)
