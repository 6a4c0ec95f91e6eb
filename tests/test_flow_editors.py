"Flow instruction editors (FLUX.1 Kontext- and Qwen-Image-Edit-class): parity with diffusers' pipelines, guidance forms, EMILIE on them, bad input."
import numpy as np, pytest, torch
from imiebench.flow_editors import (tiny_editor, full_size_editor, editor_params, PUBLISHED_PARAMS, FULL_EDITORS, load_flux_kontext,
                                    load_qwen_image_edit, editor_text, pack, unpack, normalise, denormalise)
from imiebench.flow_edit import flow_edit, pipeline_edit, KontextGuidance, QwenEditGuidance, editor_velocity, editor_timesteps
from imiebench.flow_emilie import flow_emilie, flow_instruction_mask
from imiebench.models import WeightsNotFoundError, tiny
from imiebench.sampling import CFG, denoise

IMG = np.random.default_rng(7).integers(0, 255, (32, 32, 3), dtype=np.uint8)

@pytest.fixture(scope='module')
def editors():
    return {k: tiny_editor(k, seed=3) for k in ('kontext', 'qwen')}

def gen(s=0): return torch.Generator().manual_seed(s)

@pytest.mark.parametrize('kind,settings', [('kontext', {}), ('kontext', dict(guidance_scale=4.0)),
                                           ('kontext', dict(true_cfg_scale=2.0, negative_prompt='blue')),
                                           ('qwen', {}), ('qwen', dict(true_cfg_scale=1.0)), ('qwen', dict(true_cfg_scale=6.0, negative_prompt='red'))])
def test_plain_edit_equals_pipeline_bit_for_bit(editors, kind, settings):
    b = editors[kind]
    ours = flow_edit(b, IMG, 'make the circle green', 3, generator=gen(5), progress=False, **settings).latents
    theirs = pipeline_edit(b, IMG, 'make the circle green', 3, gen(5), **settings)
    assert torch.equal(ours, theirs), (ours - theirs).abs().max()

@pytest.mark.parametrize('kind,hw', [('kontext', (24, 40)), ('qwen', (32, 64))])  # (Qwen's pipeline rounds its sizes to multiples of 32)
def test_non_square_parity(editors, kind, hw):
    img, b = np.random.default_rng(1).integers(0, 255, (*hw, 3), dtype=np.uint8), editors[kind]
    assert torch.equal(flow_edit(b, img, 'make it red', 2, generator=gen(), progress=False).latents, pipeline_edit(b, img, 'make it red', 2, gen()))

def test_float_tensor_images_are_read_in_0_1(editors):
    "A bright [0, 1] tensor and its 8-bit image give the same context latents up to 8-bit rounding (no [-1, 1] misreading)."
    b = editors['kontext']; t = torch.from_numpy(IMG).permute(2, 0, 1)[None].float() / 255
    torch.testing.assert_close(b.encode(t), b.encode(IMG), atol=1e-4, rtol=1e-4)
    bright = (t * 0.5 + 0.5)
    assert (b.encode(bright) - b.encode(t)).abs().mean() > 1e-3

def test_pack_is_a_permutation():
    z = torch.randn(2, 16, 8, 6)
    assert torch.equal(unpack(pack(z), 8, 6), z)
    assert torch.equal(pack(z).sort(-1).values.flatten().sort().values, z.flatten().sort().values)

def test_normalisation_round_trip(editors):
    for b in editors.values():
        z = torch.randn(1, 16, 4, 4)
        torch.testing.assert_close(denormalise(b, normalise(b, z)), z)

def test_distilled_guidance_is_an_input_and_true_cfg_rescales(editors):
    kb, qb = editors['kontext'], editors['qwen']
    z = kb.encode(IMG); x = torch.randn_like(z); t = editor_timesteps(kb, 2, (16, 16)).timesteps[0]
    a, b2 = (KontextGuidance(kb, editor_text(kb, 'make it red'), z, w)(x, t).eps for w in (1.0, 5.0))
    assert not torch.equal(a, b2)
    zq = qb.encode(IMG); tq = editor_timesteps(qb, 2, (16, 16)).timesteps[0]
    c, n = editor_text(qb, 'make it red', image=IMG), editor_text(qb, ' ', image=IMG)
    g = QwenEditGuidance(qb, c, zq, n, 5.0)(x, tq)
    v_c, v_n = editor_velocity(qb, x, tq, c, zq, packed=True), editor_velocity(qb, x, tq, n, zq, packed=True)
    comb = v_n + 5.0 * (v_c - v_n)
    torch.testing.assert_close(pack(g.eps), comb * v_c.norm(dim=-1, keepdim=True) / comb.norm(dim=-1, keepdim=True))
    assert torch.equal(g.null, unpack(v_n, 16, 16)) and g.kind == 'flow'

def test_guidance_forms_a_model_does_not_have(editors):
    kb, qb = editors['kontext'], editors['qwen']
    with pytest.raises(ValueError, match='no distilled guidance embedding.*true_cfg_scale'): flow_edit(qb, IMG, 'x', 2, guidance_scale=3.5)
    with pytest.raises(ValueError, match='needs a negative_prompt'): flow_edit(kb, IMG, 'x', 2, true_cfg_scale=3.0)
    with pytest.raises(ValueError, match='no classifier-free guidance'): CFG(kb, editor_text(kb, 'make it red'))
    with pytest.raises(ValueError, match="control must be 'null'"): flow_edit(kb, IMG, 'x', 2, mask=np.ones((32, 32)), control='literal')

def test_image_sizes_the_editor_cannot_take(editors):
    for b in editors.values():
        with pytest.raises(ValueError, match=r'multiples of 4.*resize it to 32×32'): flow_edit(b, IMG[:30, :30], 'make it red', 2)
        with pytest.raises(ValueError, match='multiples of 4'): flow_instruction_mask(b, IMG[:, :18], 'make it red')
        with pytest.raises(ValueError, match='multiples of 4'): flow_emilie(b, IMG[:6], ['make it red'])

def test_wrong_bundles_and_latents(editors):
    with pytest.raises(TypeError, match='EditorBundle'): flow_edit(tiny('ip2p'), IMG, 'make it red')
    with pytest.raises(ValueError, match='16 channels'): flow_edit(editors['kontext'], IMG, 'make it red', 2, image_latents=torch.randn(1, 4, 16, 16))
    with pytest.raises(ValueError, match='16 channels'): editors['qwen'].decode(torch.randn(1, 4, 16, 16))
    with pytest.raises(ValueError, match='all zeros'): flow_edit(editors['kontext'], IMG, 'make it red', 2, mask=np.zeros((32, 32)))

def test_gradient_control_keeps_the_null_velocity_outside(editors):
    "Step by step: with a mask, the loop steps on v̂ inside and exactly the null velocity outside."
    kb = editors['kontext']; z = kb.encode(IMG)
    m = torch.zeros(1, 1, 16, 16); m[..., 4:12, 4:12] = 1
    from imiebench.sampling import EpsControl
    g = KontextGuidance(kb, editor_text(kb, 'make it red'), z, 2.5, null=editor_text(kb, ''))
    null_only = KontextGuidance(kb, editor_text(kb, ''), z, 2.5)
    x = torch.randn(z.shape, generator=gen(2))
    s1, s2 = editor_timesteps(kb, 1, (16, 16)), editor_timesteps(kb, 1, (16, 16))
    a = denoise(x, s1, g, region=EpsControl(m, 'null'), progress=False)
    b = denoise(x, s2, null_only, progress=False)
    assert torch.equal(a[m.expand_as(a) == 0], b[m.expand_as(b) == 0])
    assert not torch.equal(a[m.expand_as(a) == 1], b[m.expand_as(b) == 1])

@pytest.mark.parametrize('kind', ['kontext', 'qwen'])
def test_emilie_latent_iteration_feeds_z0_as_context(editors, kind):
    b = editors[kind]
    masks = [None, np.pad(np.ones((16, 16)), 8)]
    lat = flow_emilie(b, IMG, ['make it red', 'make it blue'], masks, mode='latent', num_inference_steps=2, progress=False)
    img = flow_emilie(b, IMG, ['make it red', 'make it blue'], masks, mode='image', num_inference_steps=2, progress=False)
    assert torch.equal(lat[1].context, lat[0].latents) and torch.equal(lat[0].latents, img[0].latents)
    assert torch.equal(img[1].context, b.encode(img[0].image).cpu())
    assert lat[1].mask is not None and lat[1].image.shape == (32, 32, 3)

def test_instruction_mask_is_deterministic_and_batched(editors):
    for b in editors.values():
        m1 = flow_instruction_mask(b, IMG, 'make it red', n=2, generator=gen(1))
        m2 = flow_instruction_mask(b, [IMG, IMG], 'make it red', n=2, generator=[gen(1), gen(1)])
        assert m1.soft.shape == (1, 1, 16, 16) and m2.soft.shape == (2, 1, 16, 16)
        torch.testing.assert_close(m2.raw[0], m1.raw[0]); torch.testing.assert_close(m2.raw[1], m1.raw[0])

def test_full_size_counts_match_published():
    for name in FULL_EDITORS:
        assert editor_params(full_size_editor(name)) == PUBLISHED_PARAMS[name]

def test_loaders_fail_clearly_offline(tmp_path):
    with pytest.raises(WeightsNotFoundError, match='no diffusers pipeline folder'): load_qwen_image_edit(str(tmp_path))
    with pytest.raises(WeightsNotFoundError, match=r"hf download.*tiny_editor\('kontext'\)"):
        load_flux_kontext('no-such-org/no-such-kontext', local_files_only=True)
