"REED on a 16-channel (FLUX.1-layout) VAE: widening is exact, REED's loop runs on a VAE without quant convs, FLUX.1's normalisation, and a latent of the wrong width is refused with what to do."
import pytest, torch
from diffusers import AutoencoderKL
from imiebench.models import tiny_vae, tiny, decode
from imiebench.reed import REEDConfig, train_reed
from imiebench.training import TrainConfig
from imiebench.toy.vae16 import widen_vae, set_shift_scale, vae_encode, vae_decode, train_vae16, toy_vae16_model


def _images(n=6, size=32, seed=0):
    return (torch.rand(n, 3, size, size, generator=torch.Generator().manual_seed(seed)) * 2 - 1)


def _tiny16():
    "A random 2-level VAE with FLUX.1's latent side (16 channels, no quant convs)."
    cfg = {k: v for k, v in tiny_vae(16).config.items() if not k.startswith('_')}
    return AutoencoderKL(**cfg | dict(use_quant_conv=False, use_post_quant_conv=False, shift_factor=0.1159, scaling_factor=0.3611)).eval()


def _mode_trip(v, x):
    with torch.no_grad(): return v.decode(v.encode(x).latent_dist.mode()).sample


def test_widen_keeps_the_mode_round_trip():
    torch.manual_seed(0); v4 = tiny_vae(4).eval()
    for p in v4.parameters(): p.data.normal_(0, 0.2)  # a non-trivial quant conv and post-quant conv
    v16 = widen_vae(v4, 16, seed=1)
    assert (v16.config.latent_channels, v16.quant_conv, v16.post_quant_conv) == (16, None, None)
    x = _images()
    torch.testing.assert_close(_mode_trip(v16, x), _mode_trip(v4, x), atol=1e-4, rtol=1e-4)
    with torch.no_grad(): z = v16.encode(x).latent_dist.mode()
    assert z[:, 4:].abs().max() > 0  # the new channels carry something, which the decoder reads with zero weights until trained
    with pytest.raises(ValueError, match='no quant convs'): widen_vae(v16)
    with pytest.raises(ValueError, match='larger than'): widen_vae(v4, 4)
    with pytest.raises(TypeError, match='AutoencoderKL'): widen_vae(torch.nn.Linear(2, 2))


def test_shift_and_scale_normalise_the_latents():
    v = _tiny16(); x = _images()
    shift, scale = set_shift_scale(v, x)
    assert (v.config.shift_factor, v.config.scaling_factor) == (shift, scale)
    z = vae_encode(v, x)
    assert abs(float(z.mean())) < 1e-4 and abs(float(z.std()) - 1) < 1e-3
    torch.testing.assert_close(vae_decode(v, z), _mode_trip(v, x).clamp(-1, 1), atol=1e-4, rtol=1e-4)


def test_a_latent_of_another_width_is_refused_with_the_fix():
    v4, v16 = tiny_vae(4).eval(), _tiny16(); x = _images(2)
    with pytest.raises(ValueError, match='decoded only by the VAE that encoded it') as e: vae_decode(v4, vae_encode(v16, x))
    assert 'vae_encode' in str(e.value) and '16 channels' in str(e.value)
    with pytest.raises(ValueError, match='16-channel latents'): vae_decode(v16, vae_encode(v4, x))
    with pytest.raises(ValueError, match='4 channels'): decode(tiny('sd'), torch.zeros(1, 16, 8, 8))  # the SD-class bundle's decode


def test_reed_loop_runs_on_a_vae_without_quant_convs():
    v = _tiny16(); x = _images(6)
    cfg = REEDConfig(k=2, k_max=3, steps=3, batch_size=2, val_every=2, ckpt_every=100, patience=1)
    r = train_reed(x, x[:2], cfg, v, progress=False)
    assert r.steps == 3 and r.vae.quant_conv is None and v.quant_conv is None
    assert r.vae.config.latent_channels == 16
    for (n, p), q in zip(r.vae.encoder.named_parameters(), v.encoder.parameters()): assert torch.equal(p, q), n  # the encoder is frozen
    assert any(not torch.equal(p, q) for p, q in zip(r.vae.decoder.parameters(), v.decoder.parameters()))
    with pytest.raises(TypeError, match='AutoencoderKL'): train_reed(x, x[:2], cfg, torch.nn.Linear(2, 2))


def test_train_vae16_trains_a_flux_layout_vae_only():
    from imiebench.toy.zoo import make_pool
    pool = make_pool(4, seed=0, size=32, progress=False)
    cfg = TrainConfig(steps=2, batch_size=4, lr=1e-4, warmup=1, ckpt_every=100)
    v = _tiny16(); before = [p.clone() for p in v.parameters()]
    r = train_vae16(pool, [], cfg, init=v, progress=False)
    assert r.steps == 2 and r.model.config.latent_channels == 16 and r.model.config.shift_factor != 0.1159  # measured, not FLUX.1's
    assert any(not torch.equal(p, q) for p, q in zip(r.model.parameters(), before))
    with pytest.raises(ValueError, match='widen_vae'): train_vae16(pool, [], cfg, init=tiny_vae(4), progress=False)
    assert toy_vae16_model().config.latent_channels == 16
