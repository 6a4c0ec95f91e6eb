"""Parity of `bench.metrics`' named wrappers with the benchmark scripts' formulas.

Each reference below restates, step by step, what the script behind a benchmark's tables computes
(OSU-NLP-Group/MagicBrush `evaluation/image_eval.py`; cure-lab/PnPInversion `evaluation/evaluate.py`
and `evaluation/matrics_calculator.py`, whose metrics are torchmetrics': PSNR, SSIM, MSE, LPIPS, CLIPScore),
with the same libraries where they are installed (PIL, torchvision, torch, scipy, transformers' PIL image
processor) and torchmetrics' formulas written out in torch where it is not. The fixture images are made
with numpy from fixed seeds; CLIP runs on the toy zoo's CLIP, DINO on a tiny random ViT, LPIPS on a
random backbone, so everything runs offline. Agreement is required to 1e-4.
"""
import shutil

import numpy as np
import PIL.Image
import pytest
import torch
import torch.nn.functional as F
from scipy import spatial
from torch import nn
from torchvision import transforms

import imiebench.bench.metrics as bm
from imiebench.bench.format import load_bench
from imiebench.bench.scores import Scorer, score_case, toy_scorer
from imiebench.models import WeightsNotFoundError

TOL = 1e-4


# ---------------------------------------------------------------- fixtures
def smooth_image(seed: int, h: int, w: int) -> np.ndarray:
    "A photo-like uint8 image: a few low-frequency colour waves plus mild noise (fixed seed)."
    rng = np.random.default_rng(seed); y, x = np.mgrid[0:h, 0:w] / max(h, w)
    ch = [sum(a * np.sin(2 * np.pi * (fx * x + fy * y) + p) for a, fx, fy, p in rng.uniform([20, .5, .5, 0], [60, 3, 3, 6], (3, 4))) for _ in range(3)]
    im = 128 + np.stack(ch, -1) + rng.normal(0, 6, (h, w, 3))
    return np.clip(np.round(im), 0, 255).astype(np.uint8)

def edited(src: np.ndarray, mask: np.ndarray, seed: int) -> np.ndarray:
    "`src` repainted inside `mask` and slightly disturbed outside it (an imperfect edit)."
    rng = np.random.default_rng(seed); out = src.astype(np.int32)
    out[mask > .5] = smooth_image(seed + 100, *src.shape[:2])[mask > .5]
    out += rng.integers(-12, 13, out.shape)
    return np.clip(out, 0, 255).astype(np.uint8)

def blob_mask(seed: int, h: int, w: int) -> np.ndarray:
    "An irregular 0/1 float mask (an ellipse plus a rectangle)."
    rng = np.random.default_rng(seed); y, x = np.mgrid[0:h, 0:w]
    cy, cx, ry, rx = rng.uniform([.3 * h, .3 * w, .1 * h, .1 * w], [.7 * h, .7 * w, .3 * h, .3 * w])
    m = ((y - cy) / ry) ** 2 + ((x - cx) / rx) ** 2 <= 1
    m[int(.1 * h):int(.25 * h), int(.6 * w):int(.9 * w)] = True
    return m.astype(np.float32)

PIE_CASES = [(smooth_image(s, 64, 64), blob_mask(s, 64, 64), s) for s in (1, 2, 3)]


# ---------------------------------------------------------------- MagicBrush: L1 / L2 (eval_distance)
def ref_magicbrush_distance(gen: np.ndarray, gt: np.ndarray, metric: str) -> float:
    "image_eval.py eval_distance: open as RGB, `gen_img.resize(gt_img.size)` (Pillow's default filter), ToTensor, nn.L1Loss / nn.MSELoss."
    criterion = nn.L1Loss() if metric == 'l1' else nn.MSELoss()
    gen_img, gt_img = PIL.Image.fromarray(gen).convert('RGB'), PIL.Image.fromarray(gt).convert('RGB')
    gen_img = gen_img.resize(gt_img.size)
    return criterion(transforms.ToTensor()(gen_img), transforms.ToTensor()(gt_img)).detach().cpu().numpy().item()

@pytest.mark.parametrize('gen_size', [(64, 64), (80, 72), (48, 40)])
def test_magicbrush_l1_l2_parity(gen_size):
    gt = smooth_image(7, 64, 64)
    for s in (8, 9):
        gen = smooth_image(s, *gen_size)
        resize = gen.shape != gt.shape
        assert bm.magicbrush_l1(gen, gt, resize=resize) == pytest.approx(ref_magicbrush_distance(gen, gt, 'l1'), abs=TOL)
        assert bm.magicbrush_l2(gen, gt, resize=resize) == pytest.approx(ref_magicbrush_distance(gen, gt, 'l2'), abs=TOL)
        if resize:  # never resized silently
            with pytest.raises(ValueError, match='resize=True'): bm.magicbrush_l1(gen, gt)
    near = np.clip(gt.astype(int) + 3, 0, 255).astype(np.uint8)  # a small difference: the tolerance is not what makes these agree
    assert bm.magicbrush_l1(near, gt) == pytest.approx(ref_magicbrush_distance(near, gt, 'l1'), abs=1e-7)


# ---------------------------------------------------------------- PIE-Bench: the unedited part (calculate_psnr / mse / ssim / lpips)
def ref_pie_masked(src: np.ndarray, tgt: np.ndarray, mask2d: np.ndarray):
    "evaluate.py: mask[:, :, None].repeat(3, axis=2), metric(src, tgt, 1 - mask, 1 - mask); matrics_calculator: float32 / 255, img * mask."
    mask = mask2d[:, :, np.newaxis].repeat([3], axis=2)
    img_pred = np.array(src).astype(np.float32) / 255 * np.array(1 - mask).astype(np.float32)
    img_gt = np.array(tgt).astype(np.float32) / 255 * np.array(1 - mask).astype(np.float32)
    return torch.tensor(img_pred).permute(2, 0, 1).unsqueeze(0), torch.tensor(img_gt).permute(2, 0, 1).unsqueeze(0)

def ref_tm_psnr(p, t, data_range=1.0):
    "torchmetrics PeakSignalNoiseRatio(data_range): 10·log10(range² / (sum of squared errors / count))."
    sse, n = torch.sum((p - t) ** 2), t.numel()
    return (10 * torch.log10(torch.tensor(data_range) ** 2 / (sse / n))).item()

def ref_tm_ssim(p, t, data_range=1.0, sigma=1.5, k1=.01, k2=.03):
    "torchmetrics StructuralSimilarityIndexMeasure (as of PIE-Bench, 2023): Gaussian 11×11, reflect padding, border cropped, mean."
    ks = int(3.5 * sigma + .5) * 2 + 1; pad = (ks - 1) // 2; c = p.shape[1]
    dist = torch.arange((1 - ks) / 2, (1 + ks) / 2, 1, dtype=p.dtype)
    g = torch.exp(-(dist / sigma) ** 2 / 2); g = (g / g.sum())[None]
    kernel = torch.matmul(g.T, g).expand(c, 1, ks, ks)
    c1, c2 = (k1 * data_range) ** 2, (k2 * data_range) ** 2
    p, t = F.pad(p, (pad, pad, pad, pad), mode='reflect'), F.pad(t, (pad, pad, pad, pad), mode='reflect')
    out = F.conv2d(torch.cat((p, t, p * p, t * t, p * t)), kernel, groups=c).split(p.shape[0])
    mu_p2, mu_t2, mu_pt = out[0].pow(2), out[1].pow(2), out[0] * out[1]
    s_p2, s_t2, s_pt = out[2] - mu_p2, out[3] - mu_t2, out[4] - mu_pt
    ssim = ((2 * mu_pt + c1) * (2 * s_pt + c2)) / ((mu_p2 + mu_t2 + c1) * (s_p2 + s_t2 + c2))
    return ssim[..., pad:-pad, pad:-pad].reshape(ssim.shape[0], -1).mean(-1).mean().item()

@pytest.mark.parametrize('src,mask,seed', PIE_CASES)
def test_pie_unedited_parity(src, mask, seed):
    out = edited(src, mask, seed)
    p, t = ref_pie_masked(src, out, mask)
    assert bm.pie_psnr_unedited(src, out, mask) == pytest.approx(ref_tm_psnr(p, t), abs=TOL)
    assert bm.pie_mse_unedited(src, out, mask) == pytest.approx(torch.mean((p - t) ** 2).item(), abs=TOL)  # MeanSquaredError on C×H×W
    assert bm.pie_ssim_unedited(src, out, mask) == pytest.approx(ref_tm_ssim(p, t), abs=TOL)
    # what is compared: changes inside the mask never count
    inside = src.copy(); inside[mask > .5] = 255 - inside[mask > .5]
    assert bm.pie_mse_unedited(src, inside, mask) == 0 and bm.pie_ssim_unedited(src, inside, mask) == pytest.approx(1.)

def test_pie_psnr_identical_is_capped():
    "The one deliberate PSNR difference: identical unedited parts give metrics.psnr's 100 dB (torchmetrics: infinity)."
    src, mask, _ = PIE_CASES[0]
    p, t = ref_pie_masked(src, src, mask)
    assert ref_tm_psnr(p, t) == np.inf and bm.pie_psnr_unedited(src, src, mask) == 100.

def test_pie_lpips_unedited_parity():
    "calculate_lpips: LPIPS(squeeze) of the masked [0, 1] images times 2 minus 1 (a random backbone here: the same network both sides)."
    torch.manual_seed(0); lp = bm.load_lpips('squeeze', random_backbone=True)
    for src, mask, seed in PIE_CASES[:2]:
        out = edited(src, mask, seed); p, t = ref_pie_masked(src, out, mask)
        with torch.no_grad(): ref = lp(p * 2 - 1, t * 2 - 1).item()
        assert bm.pie_lpips_unedited(src, out, mask, model=lp) == pytest.approx(ref, abs=TOL)


# ---------------------------------------------------------------- CLIP (the toy CLIP in a model folder, as a real one would be)
CLIP_MEAN, CLIP_STD = (0.48145466, 0.4578275, 0.40821073), (0.26862954, 0.26130258, 0.27577711)

@pytest.fixture(scope='module')
def clip_dir(tmp_path_factory):
    from transformers import CLIPImageProcessor
    from imiebench.toy.zoo import zoo_dir
    d = tmp_path_factory.mktemp('clip') / 'toy-clip'; shutil.copytree(zoo_dir() / 'clip', d)
    CLIPImageProcessor(size={'shortest_edge': 64}, crop_size={'height': 64, 'width': 64}).save_pretrained(d)
    return d

@pytest.fixture(scope='module')
def clip_ref(clip_dir):
    from transformers import AutoTokenizer, CLIPModel
    model = CLIPModel.from_pretrained(clip_dir, local_files_only=True, dtype=torch.float32).eval()  # MagicBrush on a CPU: float32
    feats = lambda o: o if isinstance(o, torch.Tensor) else o.pooler_output
    return model, AutoTokenizer.from_pretrained(clip_dir), feats

def ref_openai_preprocess(n_px: int):
    "clip.load's preprocessing (CLIP's `_transform`): Resize(n_px, bicubic), CenterCrop(n_px), RGB, ToTensor, Normalize."
    return transforms.Compose([transforms.Resize(n_px, interpolation=transforms.InterpolationMode.BICUBIC), transforms.CenterCrop(n_px),
                               lambda image: image.convert('RGB'), transforms.ToTensor(), transforms.Normalize(CLIP_MEAN, CLIP_STD)])

def test_magicbrush_clip_i_and_clip_t_parity(clip_dir, clip_ref):
    "eval_clip_i / eval_clip_t: encode each image on its own, the caption with the tokenizer, 1 − scipy cosine of the raw features."
    model, tok, feats = clip_ref; emb = bm.real_clip_embedder(str(clip_dir)); transform = ref_openai_preprocess(64)
    def encode(image):
        with torch.no_grad(): return feats(model.get_image_features(pixel_values=transform(image).unsqueeze(0))).detach().cpu().float()
    def encode_text(caption):
        with torch.no_grad(): return feats(model.get_text_features(**tok(caption, return_tensors='pt'))).detach().cpu().float()
    cos = lambda a, b: 1 - spatial.distance.cosine(a.view(a.shape[1]), b.view(b.shape[1]))
    gens, gts = [smooth_image(20, 80, 96), smooth_image(21, 72, 64)], [smooth_image(22, 64, 64), smooth_image(23, 96, 80)]
    local = ['a large red circle at the top left', 'a small blue square']
    for gen, gt, caption in zip(gens, gts, local):
        g, t = encode(PIL.Image.fromarray(gen)), encode(PIL.Image.fromarray(gt))
        assert bm.magicbrush_clip_i(gen, gt, emb) == pytest.approx(cos(g, t), abs=TOL)
        assert bm.magicbrush_clip_t(gen, caption, emb) == pytest.approx(cos(g, encode_text(caption)), abs=TOL)

def test_pie_clip_parity(clip_dir, clip_ref):
    "calculate_clip_similarity: torchmetrics CLIPScore — HF's (PIL) CLIP processor on uint8 C×H×W tensors, max(100·cos, 0); edited part np.uint8(img * mask)."
    from transformers.models.clip import CLIPImageProcessorPil
    model, tok, feats = clip_ref; emb = bm.real_clip_embedder(str(clip_dir))
    proc = CLIPImageProcessorPil(size={'shortest_edge': 64}, crop_size={'height': 64, 'width': 64})
    def clip_score(img, txt, mask=None):
        img = np.array(img)
        if mask is not None: img = np.uint8(img * np.array(mask))
        img_tensor = torch.tensor(img).permute(2, 0, 1)
        with torch.no_grad():
            i = feats(model.get_image_features(proc(images=[img_tensor.cpu()], return_tensors='pt')['pixel_values']))
            t = feats(model.get_text_features(**tok([txt], return_tensors='pt', padding=True)))
        i, t = i / i.norm(p=2, dim=-1, keepdim=True), t / t.norm(p=2, dim=-1, keepdim=True)
        score = 100 * (i * t).sum(axis=-1)
        return torch.max(score.mean(0), torch.zeros_like(score.mean(0))).item(), score.mean(0).item()
    seen_positive = False
    for (src, mask, seed), prompt in zip(PIE_CASES, ['a large red circle at the top left on a blue background', 'a small green diamond', 'a yellow background']):
        out = edited(src, mask, seed); mask3 = mask[:, :, None].repeat(3, axis=2)
        (whole, raw), (part, _) = clip_score(out, prompt), clip_score(out, prompt, mask3)
        assert bm.pie_clip_whole(out, prompt, emb) == pytest.approx(whole, abs=TOL)
        assert bm.pie_clip_edited(out, prompt, mask, emb) == pytest.approx(part, abs=TOL)
        assert bm.clip_t(out, prompt, emb) * 100 == pytest.approx(raw, abs=TOL)  # the clamp is the only other step
        seen_positive |= whole > 0
    assert seen_positive  # not all clamped to 0: the comparison is not vacuous

def test_benchmark_clip_offline_errors():
    "Each benchmark's CLIP by id: offline a WeightsNotFoundError naming the id and how to pass a local folder."
    assert (bm.MAGICBRUSH_CLIP_ID, bm.PIE_CLIP_ID) == ('openai/clip-vit-base-patch32', 'openai/clip-vit-large-patch14')
    for load, cid in ((bm.magicbrush_clip, bm.MAGICBRUSH_CLIP_ID), (bm.pie_clip, bm.PIE_CLIP_ID)):
        with pytest.raises(WeightsNotFoundError) as e: load(local_files_only=True)
        msg = str(e.value)
        assert repr(cid) in msg and 'pass a local folder' in msg and f"real_clip_embedder('/path/to/{cid.split('/')[1]}')" in msg
        assert 'save_pretrained' in msg and 'toy_clip_embedder()' in msg

def test_real_clip_embedder_folder_matches_toy_clip_ranking(clip_dir):
    "A CLIP loaded from a folder scores a scene's own caption above another's (the same toy weights as toy_clip_embedder)."
    from imiebench.toy.world import random_scene, render, caption
    emb = bm.real_clip_embedder(str(clip_dir)); scenes = [random_scene(np.random.default_rng(s)) for s in range(4)]
    sims = np.array([[bm.clip_t(render(s, 64), caption(o), emb) for o in scenes] for s in scenes])
    assert (sims.argmax(1) == np.arange(4)).mean() >= .75


# ---------------------------------------------------------------- DINO (a tiny random ViT)
@pytest.fixture(scope='module')
def tiny_dino(tmp_path_factory):
    from transformers import ViTConfig, ViTModel
    d = tmp_path_factory.mktemp('dino') / 'tiny-vit'; torch.manual_seed(0)
    ViTModel(ViTConfig(hidden_size=32, num_hidden_layers=2, num_attention_heads=2, intermediate_size=64, image_size=224, patch_size=16),
             add_pooling_layer=False).save_pretrained(d)
    return bm.load_dino(str(d))

def test_magicbrush_dino_parity(tiny_dino):
    "image_eval.py's DINO: Resize(256, interpolation=3 (bicubic)), CenterCrop(224), ToTensor, ImageNet Normalize on PIL; the CLS output; scipy cosine."
    transform = transforms.Compose([transforms.Resize(256, interpolation=transforms.InterpolationMode.BICUBIC), transforms.CenterCrop(224),
                                    transforms.ToTensor(), transforms.Normalize((0.485, 0.456, 0.406), (0.229, 0.224, 0.225))])
    def encode(a):
        with torch.no_grad(): return tiny_dino.model(pixel_values=transform(PIL.Image.fromarray(a)).unsqueeze(0)).last_hidden_state[:, 0].float()
    for gen, gt in ((smooth_image(30, 96, 80), smooth_image(31, 64, 64)), (smooth_image(32, 64, 64), smooth_image(33, 64, 64))):
        g, t = encode(gen), encode(gt)
        assert bm.magicbrush_dino(gen, gt, tiny_dino) == pytest.approx(1 - spatial.distance.cosine(g.view(-1), t.view(-1)), abs=TOL)

def test_pie_structure_distance_parity(tiny_dino):
    "LossG.calculate_global_ssim_loss: float 0–255 images, Resize(224, max_size=480) + ImageNet Normalize, last layer's keys, cosine self-similarity, MSE."
    heads = tiny_dino.model.config.num_attention_heads
    key = [m for n, m in tiny_dino.model.named_modules() if n.endswith(('attention.key', 'k_proj'))][-1]
    def self_sim(a):
        x = torch.from_numpy(np.transpose(a.astype(np.float32), axes=(2, 0, 1)))
        x = transforms.Normalize((0.485, 0.456, 0.406), (0.229, 0.224, 0.225))(transforms.Resize(224, max_size=480, antialias=False)(x)).unsqueeze(0)
        got = []; h = key.register_forward_hook(lambda m, i, o: got.append(o))
        with torch.no_grad(): tiny_dino.model(pixel_values=x)
        h.remove()
        t, dim = got[0].shape[1:]
        keys = got[0][0].reshape(t, heads, dim // heads).permute(1, 0, 2)  # h × t × d, as get_keys_from_qkv
        concatenated = keys.transpose(0, 1).reshape(t, dim)[None]
        norm = concatenated.norm(dim=2, keepdim=True)
        return (concatenated @ concatenated.permute(0, 2, 1)) / torch.clamp(norm @ norm.permute(0, 2, 1), min=1e-8)
    for src, mask, seed in PIE_CASES[:2]:
        out = edited(src, mask, seed)
        ref = F.mse_loss(self_sim(out), self_sim(src)).item()
        assert ref > 0 and bm.pie_structure_distance(src, out, tiny_dino) == pytest.approx(ref, abs=TOL)


# ---------------------------------------------------------------- each benchmark its CLIP, and no repeated columns
def fake_embedder(name: str, seed: int) -> bm.ClipEmbedder:
    "A deterministic stand-in CLIP: a fixed positive projection of the mean colour and of the text's letters (cosines > 0: nothing clamped)."
    rng = np.random.default_rng(seed); P, Q = rng.uniform(size=(3, 8)), rng.uniform(size=(26, 8))
    unit = lambda v: v / np.linalg.norm(v, axis=1, keepdims=True)
    image = lambda ims: unit(np.stack([bm._img(a, 'image').reshape(-1, 3).mean(0) / 255 for a in ims]) @ P)
    text = lambda ts: unit(np.stack([np.bincount([ord(c) - 97 for c in t.lower() if 'a' <= c <= 'z'], minlength=26) for t in ts]) @ Q)
    return bm.ClipEmbedder(name, image, text)

def test_each_benchmark_scores_with_its_own_clip():
    mb, pie = fake_embedder('mb', 0), fake_embedder('pie', 1)
    scorer = Scorer('fake', lambda i, t: np.zeros(len(i)), lambda a, b: np.zeros(len(a)), magicbrush_clip=mb, pie_clip=pie)
    src, mask, seed = PIE_CASES[0]; out, gt = edited(src, mask, seed), edited(src, mask, seed + 1)
    r = bm.field_metrics(src, out, gt, mask, 'make it blue', 'a blue ball', scorer, local_caption='a ball')
    assert r['clip_i'] == pytest.approx(bm.magicbrush_clip_i(out, gt, mb)) and r['clip_t'] == pytest.approx(bm.magicbrush_clip_t(out, 'a ball', mb))
    assert r['clip_t_instruction'] == pytest.approx(bm.clip_t(out, 'make it blue', mb))
    assert r['clip_whole'] == pytest.approx(bm.pie_clip_whole(out, 'a blue ball', pie)) and r['clip_edited'] == pytest.approx(bm.pie_clip_edited(out, 'a blue ball', mask, pie))
    assert r['clip_whole'] != pytest.approx(bm.pie_clip_whole(out, 'a blue ball', mb))  # the other CLIP would give another number
    av = bm.metric_availability(scorer)
    assert av['clip_t'].startswith('available (mb') and av['clip_whole'] == 'available (pie)'
    half = Scorer('half', scorer.image_text, scorer.text_text, magicbrush_clip=mb)
    assert 'clip_whole' not in bm.field_metrics(src, out, gt, mask, None, 'a blue ball', half) and 'pie_clip' in bm.metric_availability(half)['clip_whole']

def test_score_case_has_no_repeated_columns():
    "clip_caption is gone (PIE-Bench's clip_whole scores the query caption); clip_t appears only with a local description."
    case = load_bench('shapes', max_cases=1).cases[0]; ims = [s.target for s in case.steps]; sc = toy_scorer()
    steps = score_case(case, ims, sc)['steps']
    assert all('clip_caption' not in s and 'clip_t' not in s and 'clip_whole' in s for s in steps)
    local = [None] + ['a small red circle'] * (len(case.steps) - 1)
    steps = score_case(case, ims, sc, local_captions=local)['steps']
    assert 'clip_t' not in steps[0] and all(s['clip_t'] == pytest.approx(bm.magicbrush_clip_t(im, 'a small red circle', sc.magicbrush_clip))
                                            for s, im in zip(steps[1:], ims[1:]))
    with pytest.raises(ValueError, match='local_captions'): score_case(case, ims, sc, local_captions=['x'])
    with pytest.raises(ValueError, match='local_captions'): score_case(case, ims, sc, local_captions='a caption')
