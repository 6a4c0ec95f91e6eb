"Flow matching in the one sampling core: the conversion point, SD3 parity with diffusers, full-size counts, inversion, the velocity mask, bad input."
import warnings
import pytest
import torch
from diffusers import DDIMScheduler, FlowMatchEulerDiscreteScheduler

from imiebench.predictions import to_epsilon, from_epsilon, convert, add_noise
from imiebench.models import tiny, check_bundle, predict_eps, decode, to_epsilon as models_to_epsilon
from imiebench.sampling import CFG, Guided, EpsControl, denoise, IP2PGuidance
from imiebench.flow import tiny_sd3, flow_sample, full_size, flow_params, load_sd3, PUBLISHED_PARAMS, FlowCond
from imiebench.flow_inversion import flow_invert, flow_reconstruct, velocity_mask, integrate
from imiebench.diffedit import diffedit_mask


@pytest.fixture(scope='module')
def b(): return tiny_sd3()


def test_models_reexports_the_conversion_point():
    assert models_to_epsilon is to_epsilon


def test_flow_conversions_match_diffusers_noising():
    s = FlowMatchEulerDiscreteScheduler(shift=3.0); s.set_timesteps(5)
    g = torch.Generator().manual_seed(0)
    x0, e = torch.randn(2, 16, 4, 4, generator=g), torch.randn(2, 16, 4, 4, generator=g)
    t = s.timesteps[2]; xt = s.scale_noise(x0, t[None], e); u = e - x0
    assert torch.allclose(to_epsilon(s, u, xt, t), e, atol=1e-5)
    assert torch.allclose(convert(s, u, xt, t, 'flow', 'sample'), x0, atol=1e-5)
    assert torch.allclose(from_epsilon(s, e, xt, t), u, atol=1e-4)
    assert torch.allclose(add_noise(s, x0, e, t), xt, atol=1e-6)


def test_a_velocity_is_never_noise():
    d = DDIMScheduler(); d.set_timesteps(4); x = torch.zeros(1, 4, 4, 4)
    with pytest.raises(ValueError, match='a velocity is not noise'): to_epsilon(d, x, x, d.timesteps[0], 'flow')
    with pytest.raises(ValueError, match='a velocity is not noise'):
        denoise(x, d, lambda x, t: Guided(x, None, 'flow'), progress=False)
    f = FlowMatchEulerDiscreteScheduler(shift=3.0); f.set_timesteps(4)
    with pytest.raises(ValueError, match='at σ = 1'): from_epsilon(f, x, x, f.timesteps[0])
    with pytest.raises(ValueError, match="kind='null'"):
        EpsControl(torch.ones(1, 1, 4, 4), 'literal').on_eps(0, Guided(x, x, 'flow'))


@pytest.mark.parametrize('w', [1.0, 4.5])
@pytest.mark.parametrize('t5', [True, False])
def test_sd3_text_to_image_equals_diffusers_bit_for_bit(w, t5):
    b = tiny_sd3(0, t5=t5)
    z = torch.randn(1, 16, 16, 16, generator=torch.Generator().manual_seed(3))
    ref = b.pipeline()('a green circle', negative_prompt='', guidance_scale=w, num_inference_steps=3, latents=z.clone(),
                       output_type='latent', height=32, width=32, max_sequence_length=b.max_sequence_length).images
    assert torch.equal(flow_sample(b, 'a green circle', '', w, 3, latents=z.clone()), ref)


def test_flow_bundle_refused_by_eps_only_paths(b):
    img = torch.rand(1, 3, 32, 32)
    with pytest.raises(TypeError, match='flow-matching bundle'): check_bundle(b)
    with pytest.raises(TypeError, match='flow-matching bundle'): predict_eps(b, torch.zeros(1, 16, 8, 8), 500, b.embed('a'))
    with warnings.catch_warnings():
        warnings.simplefilter('ignore')
        with pytest.raises(TypeError, match='a velocity is not noise'): diffedit_mask(b, img, 'a red square')
    with pytest.raises(TypeError, match='flow-matching bundle'): IP2PGuidance(b, torch.zeros(1, 2, 2), torch.zeros(1, 16, 8, 8))
    with pytest.raises(TypeError, match='must be a flow-matching bundle'): flow_invert(tiny('sd'), torch.zeros(1, 4, 8, 8))


def test_guidance_form_the_model_lacks(b):
    class Distilled(type(b)): guidance_forms = ('distilled',)
    d = Distilled(**{k: getattr(b, k) for k in ('vae', 'transformer', 'text_encoders', 'tokenizers', 'scheduler')})
    with pytest.raises(ValueError, match='has no classifier-free guidance'): CFG(d, d.embed('a'))


def test_channel_mismatch_names_the_fix(b):
    with pytest.raises(ValueError, match='16-channel VAE'): b.decode(torch.zeros(1, 4, 8, 8))
    with pytest.raises(ValueError, match='16-channel VAE'): b.predict(torch.zeros(1, 4, 8, 8), 500., b.embed('a'))
    with pytest.raises(ValueError, match='4 channels'): decode(tiny('sd'), torch.zeros(1, 16, 8, 8))


def test_full_size_sd3_counts_without_allocating():
    bm = full_size('sd3', device='meta'); n = flow_params(bm)
    assert bm.transformer.device.type == 'meta'
    assert n['transformer'] == PUBLISHED_PARAMS['sd3']['transformer']
    pos = bm.transformer.pos_embed.pos_embed.numel()
    assert n['transformer'] + n['vae'] + n['text_encoder'] + n['text_encoder_2'] + pos == PUBLISHED_PARAMS['sd3']['clip_l_clip_g_transformer_vae_with_pos_table']


def test_load_sd3_offline_message(monkeypatch):
    monkeypatch.setenv('HF_HUB_OFFLINE', '1')
    with pytest.raises(OSError, match="full_size\\('sd3'\\)"): load_sd3('stabilityai/stable-diffusion-3-medium-diffusers')


def test_inversion_fireflow_beats_euler_and_euler_is_the_core(b):
    g = torch.Generator().manual_seed(1)
    z1 = torch.randn(1, 16, 16, 16, generator=g)
    assert torch.equal(flow_reconstruct(b, z1, 'a red square', 3).final, flow_sample(b, 'a red square', guidance_scale=1.0, num_inference_steps=3, latents=z1))
    z0 = b.encode(torch.rand(1, 3, 32, 32, generator=g))
    err = {s: float((flow_reconstruct(b, flow_invert(b, z0, 'a red square', 6, s).final, 'a red square', 6, s).final - z0).pow(2).mean())
           for s in ('euler', 'fireflow')}
    assert err['fireflow'] < err['euler'] / 10, err
    assert integrate(lambda x, s, t: -x, torch.ones(1), torch.linspace(0, 1, 5), 'fireflow').nfe == 5


def test_velocity_mask_is_the_velocity_disagreement(b):
    img = torch.rand(1, 3, 32, 32, generator=torch.Generator().manual_seed(2))
    m = velocity_mask(b, img, 'a blue circle', 'a red square', n=1, generator=torch.Generator().manual_seed(0))
    assert m.mask.shape == (1, 1, 16, 16) and m.raw.max() > 0 and set(m.mask.unique().tolist()) <= {0.0, 1.0}
    same = velocity_mask(b, img, 'a red square', 'a red square', n=1, generator=torch.Generator().manual_seed(0))
    assert float(same.raw.max()) == 0.0


def test_flowcond_cat_and_index():
    c = FlowCond(torch.arange(6.).reshape(2, 3, 1), torch.ones(2, 2))
    cc = FlowCond.cat([c, c[1]])
    assert len(cc) == 3 and torch.equal(cc.hidden[2], c.hidden[1]) and cc.mask is None
