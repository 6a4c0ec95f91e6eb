"The shipped toy zoo: present, small, loads fast, loads in diffusers' own pipelines, and is sane."
import subprocess, sys
import numpy as np, torch, pytest
from imiebench import metrics
from diffusers import StableDiffusionPipeline, StableDiffusionInstructPix2PixPipeline
from imiebench.toy.zoo import zoo_dir, load_toy, load_toy_clip, load_toy_vae, toy_tokenizer, clip_scores, images_to_tensor
from imiebench.toy.world import random_scene, render, caption
from imiebench.models import WeightsNotFoundError

def test_zoo_is_small():
    files = [p for p in zoo_dir().rglob('*') if p.is_file()]
    assert files, 'no zoo shipped'
    total = sum(p.stat().st_size for p in files)
    assert total <= 40e6, f'zoo is {total/1e6:.1f} MB (limit 40 MB)'
    assert all(p.suffix != '.bin' for p in files), 'weights must be safetensors'

def test_zoo_loads_on_cpu_in_a_fresh_process():
    "Both diffusion bundles load on CPU in a fresh process (the time is printed; speed goals live in benchmarks/, not in tests)."
    code = ("import time; from imiebench.toy.zoo import load_toy; t = time.time(); "
            "a = load_toy('sd'); b = load_toy('ip2p'); print(time.time() - t)")
    r = subprocess.run([sys.executable, '-c', code], capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr[-2000:]
    load_s = float(r.stdout.strip().splitlines()[-1])
    print(f'both bundles load in {load_s:.2f} s')

@pytest.mark.parametrize('kind,cls', [('sd', StableDiffusionPipeline), ('ip2p', StableDiffusionInstructPix2PixPipeline)])
def test_diffusers_pipelines_load_zoo(kind, cls):
    "diffusers loads each folder; the instruction model's VAE and text encoder are stored once, in sd/ (ip2p/shared.json), and passed."
    from transformers import CLIPTextModel
    shared = {} if kind == 'sd' else dict(vae=load_toy_vae(), text_encoder=CLIPTextModel.from_pretrained(zoo_dir() / 'sd', subfolder='text_encoder'))
    pipe = cls.from_pretrained(zoo_dir() / kind, torch_dtype=torch.float32, safety_checker=None, requires_safety_checker=False, **shared)
    assert pipe.unet.config.in_channels == (4 if kind == 'sd' else 8)
    assert pipe.scheduler.config.clip_sample is False if hasattr(pipe.scheduler.config, 'clip_sample') else True
    assert pipe.tokenizer.model_max_length == toy_tokenizer().model_max_length

def test_zoo_vae_round_trip_is_good():
    vae = load_toy_vae()
    x = images_to_tensor(np.stack([render(random_scene(np.random.default_rng(10**9 + i), textured=False)) for i in range(16)]), 'cpu')
    with torch.no_grad(): y = vae.decode(vae.encode(x).latent_dist.mode()).sample.clamp(-1, 1)
    psnr = np.mean([metrics.psnr(a, b, data_range=2.) for a, b in zip(y, x)])
    assert psnr > 27, psnr  # the gate (≥30 dB on 200 scenes) is measured in benchmarks/toyzoo_gates.py
    z = vae.encode(x).latent_dist.mode() * vae.config.scaling_factor
    assert 0.5 < z.std().item() < 2.0  # scaling_factor makes scaled latents about unit variance

def test_zoo_clip_matches_captions():
    model, tok = load_toy_clip()
    scenes = [random_scene(np.random.default_rng(10**9 + 500 + i)) for i in range(10)]
    S = clip_scores(model, tok, images_to_tensor(np.stack([render(s) for s in scenes]), 'cpu'), [caption(s) for s in scenes])
    assert (S.argmax(1) == torch.arange(10)).float().mean() >= 0.7

def test_missing_zoo_is_a_clear_error(tmp_path):
    with pytest.raises(WeightsNotFoundError, match='train-zoo'):
        load_toy('sd', root=tmp_path)
    with pytest.raises(ValueError, match="'sdxl'"):
        load_toy('sdxl')
