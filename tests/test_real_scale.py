"Real scale on tiny configs: v/x₀ prediction against diffusers' own conversions and pipelines; SDXL-class bundles through every method."
import copy
import numpy as np, torch, pytest, PIL.Image
from diffusers import (StableDiffusionDiffEditPipeline, DDIMInverseScheduler, DDIMScheduler, StableDiffusionXLPipeline,
                       StableDiffusionXLInstructPix2PixPipeline)
from imiebench.models import tiny, to_epsilon, from_epsilon, load_sdxl, load_ip2p_xl, WeightsNotFoundError, FULL_SIZE
from imiebench.ddim import ddim_encode, ddim_decode
from imiebench.diffedit import diffedit_mask, diffedit
from imiebench.emilie import ip2p_edit, EditSession, CONTROLS

IMG = np.random.default_rng(0).integers(0, 255, (16, 16, 3), dtype=np.uint8)
MASK = np.pad(np.ones((8, 8), np.float32), 4)
g = lambda s=0: torch.Generator().manual_seed(s)

def close(a, b, rel=1e-5, abs_=1e-5): return (a - b).abs().max() <= rel * b.abs().max() + abs_


# ---------- prediction types ----------

@pytest.mark.parametrize('pt', ['v_prediction', 'sample'])
def test_to_epsilon_is_diffusers_get_epsilon(pt):
    "Our one conversion equals the one diffusers' DiffEdit pipeline uses (get_epsilon), and from_epsilon inverts it."
    b = tiny('sd', prediction_type=pt)
    pipe = b.pipeline(StableDiffusionDiffEditPipeline, inverse_scheduler=DDIMInverseScheduler.from_config(b.scheduler.config))
    out, x = torch.randn(2, 4, 8, 8, generator=g(0)), torch.randn(2, 4, 8, 8, generator=g(1))
    for t in (1, 251, 901):
        assert torch.allclose(to_epsilon(b.scheduler, out, x, t), pipe.get_epsilon(out, x, t), atol=1e-6)
        assert torch.allclose(from_epsilon(b.scheduler, to_epsilon(b.scheduler, out, x, t), x, t), out, atol=1e-3)
    assert not torch.allclose(to_epsilon(b.scheduler, out, x, 501), out, atol=1e-2)

def test_v_prediction_ddim_decode_matches_pipeline():
    "DDIM decoding of a v-model: ours converts to ε, diffusers' DDIM step converts internally; same latents."
    b = tiny('sd', seed=1, prediction_type='v_prediction')
    pipe = b.pipeline(); pipe.scheduler = DDIMScheduler.from_config(b.scheduler.config)
    xT = torch.randn(1, 4, 8, 8, generator=g(0))
    theirs = pipe('a red circle', height=16, width=16, num_inference_steps=4, guidance_scale=5.0, latents=xT, output_type='latent').images
    ours = ddim_decode(b, xT, 'a red circle', num_inference_steps=4, r=1.0, guidance_scale=5.0, progress=False)
    assert close(ours, theirs, 1e-5, 1e-5)
    wrong = copy.copy(b); wrong.scheduler = DDIMScheduler.from_config(b.scheduler.config, prediction_type='epsilon')
    assert not close(ddim_decode(wrong, xT, 'a red circle', num_inference_steps=4, r=1.0, guidance_scale=5.0, progress=False), theirs, 1e-3, 1e-3)

def test_v_prediction_ip2p_matches_pipeline():
    b = tiny('ip2p', seed=3, prediction_type='v_prediction')
    ours = ip2p_edit(b, IMG, 'make the red circle blue', num_inference_steps=4, generator=g(0), progress=False).latents
    theirs = b.pipeline()('make the red circle blue', image=PIL.Image.fromarray(IMG), num_inference_steps=4, generator=g(0),
                          output_type='latent').images
    assert close(ours, theirs, 1e-5, 1e-4)

def _as_v(kind, seed, pt='v_prediction'):
    "The same tiny model reparameterised to predict v (or x₀): its UNet output is from_epsilon(ε) on its scheduler."
    b = tiny(kind, seed=seed, prediction_type=pt)
    def hook(mod, args, kwargs, out):
        x = (args[0] if args else kwargs['sample'])[:, :4]; t = args[1] if len(args) > 1 else kwargs['timestep']
        out.sample = from_epsilon(b.scheduler, out.sample, x, t); return out
    b.unet.register_forward_hook(hook, with_kwargs=True)
    return b

@pytest.mark.parametrize('pt', ['v_prediction', 'sample'])
def test_every_method_sees_the_same_model_under_any_prediction_type(pt):
    "An ε-model and the same model emitting v (x₀) give the same DiffEdit mask, inversion and EMILIE edits (every control)."
    e, v = tiny('sd', seed=4), _as_v('sd', 4, pt)
    me, mv = (diffedit_mask(b, IMG, 'a red circle', 'a blue square', n=2, generator=g(0)) for b in (e, v))
    assert close(mv.raw, me.raw, 1e-4, 1e-5) and torch.equal(mv.mask, me.mask)
    z0 = e.encode(IMG)
    te, tv = (ddim_encode(b, z0, 5, 0.8, progress=False) for b in (e, v))
    assert close(tv.x_r, te.x_r, 1e-4, 1e-5)
    from imiebench.blended import blended_latent  # the bench's blending baseline
    be, bv = (blended_latent(b, IMG, 'a red circle', MASK, 3, generator=g(2), progress=False).image for b in (e, v))
    assert close(bv, be, 1e-4, 1e-4)
    if pt == 'sample': return  # Euler-ancestral InstructPix2Pix does not take x₀ predictions
    e, v = tiny('ip2p', seed=4), _as_v('ip2p', 4)
    for c in CONTROLS:
        le, lv = (ip2p_edit(b, IMG, 'make it blue', num_inference_steps=3, mask=MASK, control=c, generator=g(1), progress=False).latents for b in (e, v))
        assert close(lv, le, 1e-4, 1e-4), c

# ---------- SDXL-class bundles ----------

def test_sdxl_ip2p_matches_diffusers_xl_pipeline():
    b = tiny('ip2p_xl', seed=5)
    pipe = b.pipeline(); assert isinstance(pipe, StableDiffusionXLInstructPix2PixPipeline)
    ours = ip2p_edit(b, IMG, 'make the red circle blue', num_inference_steps=4, generator=g(0), progress=False).latents
    theirs = pipe('make the red circle blue', image=PIL.Image.fromarray(IMG), height=16, width=16, num_inference_steps=4, guidance_scale=7.5,
                  generator=g(0), output_type='latent').images
    assert close(ours, theirs, 1e-5, 1e-4)
    other = ip2p_edit(b, IMG, 'make the red circle green', num_inference_steps=4, generator=g(0), progress=False).latents
    assert not close(other, theirs, 1e-3, 1e-3)  # the text conditioning (hidden states + pooled) reaches the UNet

def test_sdxl_ddim_decode_matches_diffusers_xl_pipeline():
    b = tiny('sdxl', seed=6)
    pipe = b.pipeline(); assert isinstance(pipe, StableDiffusionXLPipeline); pipe.scheduler = DDIMScheduler.from_config(b.scheduler.config)
    xT = torch.randn(1, 4, 8, 8, generator=g(0))
    theirs = pipe('a red circle', height=16, width=16, num_inference_steps=3, guidance_scale=5.0, latents=xT, output_type='latent').images
    assert close(ddim_decode(b, xT, 'a red circle', num_inference_steps=3, r=1.0, guidance_scale=5.0, progress=False), theirs, 1e-5, 1e-5)

def test_sdxl_diffedit_emilie_reed_bench_run():
    from imiebench.reed import roundtrips
    from imiebench.bench.methods import run_method, BenchConfig
    from imiebench.bench.format import BenchCase, BenchStep
    bx, bi = tiny('sdxl', seed=7), tiny('ip2p_xl', seed=7)
    r = diffedit(bx, IMG, 'a red circle', 'a blue square', num_inference_steps=4, n=2, generator=g(0), progress=False)
    assert r.image.shape == (1, 3, 16, 16) and torch.isfinite(r.image).all() and r.mask.raw.abs().sum() > 0
    s = EditSession(bi, IMG, num_inference_steps=3, control='blend', progress=False)
    s.edit('make it blue'); s.edit('make it red', mask=MASK)
    assert len(s) == 2 and s.image.shape == (16, 16, 3)
    keep = torch.from_numpy(MASK[::2, ::2] == 0).expand(1, 4, 8, 8)  # 'blend' keeps the previous latents outside the mask exactly
    assert torch.equal(s.history[1].latents[keep], s.history[0].latents[keep])
    x = torch.from_numpy(IMG).permute(2, 0, 1)[None].float() / 127.5 - 1
    assert all(np.isfinite(v['psnr']) for v in roundtrips(bx.vae, x, n=2, at=(1, 2)).values())
    case = BenchCase('t', IMG, 'a red circle', [BenchStep('make it blue', MASK, query_caption='a blue circle')])
    cfg = BenchConfig(steps=2, seeds=(0,), mask_n=2)
    for m, kw in (('emilie', dict(ip2p=bi)), ('diffedit', dict(sd=bx))):
        out = run_method(m, case, 0, cfg, **kw)
        assert len(out) == 1 and out[0].shape == (16, 16, 3), m

def test_sdxl_save_load_and_offline_errors(tmp_path):
    b = tiny('ip2p_xl', seed=8); b.save_pretrained(tmp_path)
    b2 = load_ip2p_xl(tmp_path, device='cpu', dtype=torch.float32)
    assert b2.xl and b2.kind == 'ip2p' and b2.force_zeros_for_empty_prompt
    assert torch.allclose(b.embed('make it blue'), b2.embed('make it blue'), atol=1e-6)
    sd = tmp_path / 'sd'; tiny('ip2p').save_pretrained(sd)
    with pytest.raises((ValueError, WeightsNotFoundError)): load_ip2p_xl(sd)  # an SD 1.x folder is not an SDXL-class model
    with pytest.raises(WeightsNotFoundError, match='huggingface-cli download'): load_sdxl('some-org/some-xl', local_files_only=True)
    with pytest.raises(WeightsNotFoundError, match='no diffusers pipeline folder'): load_ip2p_xl(tmp_path / 'missing')

def test_fp16_vae_upcast():
    b = tiny('sdxl').to(dtype=torch.float16)
    assert b.unet.dtype == torch.float16 and b.vae.dtype == torch.float32
    b.vae.to(torch.float16)  # a user cast it back: encode/decode upcast it again
    z = b.encode(IMG); assert b.vae.dtype == torch.float32 and torch.isfinite(b.decode(z)).all()
    assert tiny('sdxl', seed=1).to(dtype=torch.float16).set_memory(vae_slicing=True).vae.use_slicing

def test_full_size_names():
    assert set(FULL_SIZE) == {'sd15', 'sd21', 'ip2p', 'sdxl', 'ip2p_xl'}
    assert FULL_SIZE['sd21']['scheduler'][1]['prediction_type'] == 'v_prediction'
    assert FULL_SIZE['ip2p_xl']['unet']['in_channels'] == 8 and FULL_SIZE['sdxl']['vae']['force_upcast']
