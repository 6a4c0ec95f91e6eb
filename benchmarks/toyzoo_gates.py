"""Quality gates of the shapes world and the toy zoo, on held-out seeds.

    .venv/bin/python benchmarks/toyzoo_gates.py [--parts oracle,vae,clip,caption,instruction] [--n 200] [--zoo DIR]
        [--steps 50] [--text-cfg 7.5]
    .venv/bin/python benchmarks/toyzoo_gates.py --parts vae --ks 1 --vae runs/vae_decoder/vae [--record NAME]

Prints one JSON object and a summary line; gating the shipped zoo (no --zoo, no --vae), each part's result and
its command go to benchmarks/results/toyzoo_gates.json. Seeds start at toy.zoo.HELDOUT_SEED (never used in training).
"""
import argparse, json, time
import numpy as np, torch
from diffusers import AutoencoderKL
from imiebench.toy.world import random_scene, random_edit, render, render_mpl, caption
from imiebench.toy.oracle import oracle, damage
from imiebench.toy.zoo import (HELDOUT_SEED, HELDOUT_PHOTOS, load_photo, photo_crops, load_toy, load_toy_clip,
                              load_toy_vae, clip_scores, images_to_tensor, latent_drift)
from imiebench.metrics import psnr
from harness import gate_instruction, update_parts, weights_fingerprint, toy_weights

def rng(i): return np.random.default_rng(HELDOUT_SEED + i)

def gate_oracle(n):
    scenes = [random_scene(rng(i)) for i in range(n)]
    objs = bgs = 0; tot = 0; dmg = {}
    for s in scenes:
        r = oracle(render(s), s); objs += sum(v.ok for v in r.objects); tot += len(r.objects); bgs += r.bg_ok
    for kind, lvl in [('blur', 1), ('noise', 10), ('jpeg', 70)]:
        ok = t = 0
        for i, s in enumerate(scenes[:200]):
            r = oracle(damage(render(s), kind, lvl, rng(i)), s); ok += sum(v.ok for v in r.objects); t += len(r.objects)
        dmg[f'{kind}_{lvl}'] = ok / t
    return dict(n=n, objects=objs / tot, background=bgs / n, damaged_objects=dmg)

@torch.no_grad()
def roundtrips(vae, x, ks=(1, 5, 15, 25)):
    "PSNR (dB, mean over images) after k encode→decode round trips (posterior mode), for k in ks."
    out, cur = {}, x
    for k in range(1, max(ks) + 1):
        cur = vae.decode(vae.encode(cur).latent_dist.mode()).sample.clamp(-1, 1)
        if k in ks:
            a = ((cur + 1) * 127.5).round().byte().permute(0, 2, 3, 1).numpy(); b = ((x + 1) * 127.5).round().byte().permute(0, 2, 3, 1).numpy()
            out[k] = float(np.mean([psnr(p, q) for p, q in zip(a, b)]))
    return out

def heldout_sets(n):
    solid = [random_scene(rng(10_000 + i), textured=False) for i in range(n)]
    tex = [random_scene(rng(20_000 + i), textured=True) for i in range(n)]
    photos = [load_photo(p) for p in HELDOUT_PHOTOS]
    draw = lambda f, scenes: images_to_tensor(np.stack([f(s) for s in scenes]), 'cpu')
    return dict(solid=draw(render, solid), textured=draw(render, tex),
                photos=photo_crops(photos, n, generator=torch.Generator().manual_seed(HELDOUT_SEED)),
                foreign=draw(render_mpl, solid), foreign_textured=draw(render_mpl, tex))  # the same scenes by a renderer never trained on

def gate_vae(n, zoo=None, vae=None, ks=(1, 5, 15, 25)):
    ref = load_toy_vae(root=zoo); sets = heldout_sets(n)
    res = {k: roundtrips(vae or ref, x, ks) for k, x in sets.items()}
    if vae is not None:  # another VAE: how far its latents of the world's renders moved (the UNets were trained on ref's)
        res['latent_drift'] = {k: latent_drift(vae, ref, sets[k]) for k in ('solid', 'textured')}
    return res

def gate_clip(n, zoo=None):
    model, tok = load_toy_clip(root=zoo)
    scenes = [random_scene(rng(30_000 + i)) for i in range(n)]
    imgs = images_to_tensor(np.stack([render(s) for s in scenes]), 'cpu'); caps = [caption(s) for s in scenes]
    S = clip_scores(model, tok, imgs, caps)  # n × n
    g = torch.Generator().manual_seed(0); hits = 0
    for i in range(n):  # its caption among 10: itself + 9 random others
        others = torch.randperm(n - 1, generator=g)[:9]; others = others + (others >= i).long()
        hits += int(S[i, i] > S[i, others].max())
    # harder: 9 distractors that each differ from the true caption in one edit
    hard = 0
    for i, s in enumerate(scenes[:min(n, 100)]):
        r = rng(40_000 + i); d = []
        while len(d) < 9:
            c = caption(random_edit(s, r).target)
            if c != caps[i] and c not in d: d.append(c)
        sc = clip_scores(model, tok, imgs[i:i + 1], [caps[i]] + d)[0]
        hard += int(sc.argmax() == 0)
    return dict(n=n, top1_of_10_random=hits / n, top1_of_10_one_edit_away=hard / min(n, 100))

def gate_caption(n, zoo=None, steps=50, cfg=5.0, batch=50):
    pipe = load_toy('sd', root=zoo).pipeline()
    scenes = [random_scene(rng(50_000 + i)) for i in range(n)]
    col = shp = obj = bg = 0
    for i in range(0, n, batch):
        chunk = scenes[i:i + batch]
        ims = pipe([caption(s) for s in chunk], num_inference_steps=steps, guidance_scale=cfg, output_type='np',
                   generator=torch.Generator().manual_seed(i)).images
        for a, s in zip((ims * 255).round().astype(np.uint8), chunk):
            r = oracle(a, s); col += sum(v.color_ok for v in r.objects); shp += sum(v.shape_ok for v in r.objects)
            obj += len(r.objects); bg += r.bg_ok
    return dict(n=n, steps=steps, cfg=cfg, object_color=col / obj, object_shape=shp / obj, background_color=bg / n)

if __name__ == '__main__':
    p = argparse.ArgumentParser()
    p.add_argument('--parts', default='oracle,vae,clip,caption,instruction'); p.add_argument('--n', type=int, default=200)
    p.add_argument('--zoo', default=None); p.add_argument('--steps', type=int, default=50)
    p.add_argument('--text-cfg', type=float, default=7.5, help='the instruction part\'s text guidance s_T (image guidance 1.5)')
    p.add_argument('--vae', default=None, help='a VAE folder (save_pretrained) to gate instead of the zoo\'s, e.g. runs/vae_decoder/vae')
    p.add_argument('--ks', default='1,5,15,25', help='round trips reported by the vae part')
    p.add_argument('--record', default=None, help='with --vae or --zoo: keep the result in the file under this name')
    p.add_argument('--made-by', default=None, help='with --record: how the gated weights were made (their training command)')
    a = p.parse_args(); torch.set_grad_enabled(False); res = {}; t0 = time.time()
    for part in a.parts.split(','):
        t = time.time()
        if part == 'oracle': res[part] = gate_oracle(max(a.n, 500))
        elif part == 'vae': res[part] = gate_vae(a.n, a.zoo, AutoencoderKL.from_pretrained(a.vae).eval() if a.vae else None,
                                                 ks=tuple(int(k) for k in a.ks.split(',')))
        elif part == 'clip': res[part] = gate_clip(a.n, a.zoo)
        elif part == 'caption': res[part] = gate_caption(a.n, a.zoo, steps=a.steps)
        elif part == 'instruction': res[part] = gate_instruction(a.n, a.zoo, steps=a.steps, text_cfg=a.text_cfg)
        res[part]['seconds'] = round(time.time() - t, 1)
    print(json.dumps(res, indent=1))
    fp = weights_fingerprint(*([a.vae] if a.vae else []), *toy_weights('ip2p', 'clip', root=a.zoo))  # --vae replaces the zoo's VAE
    if a.zoo is None and a.vae is None: update_parts('toyzoo_gates.json', res, fingerprint=fp)
    elif a.record: update_parts('toyzoo_gates.json', {a.record: res | ({'made_by': a.made_by} if a.made_by else {})}, fingerprint=fp)
    s = []
    if 'oracle' in res: s.append(f"oracle {res['oracle']['objects']:.3f} (gate ≥0.99)")
    if 'vae' in res: s.append(f"VAE PSNR solid / textured / photos after {max(res['vae']['solid'])} trips: " + ' / '.join(f"{res['vae'][k][1]:.2f}→{res['vae'][k][max(res['vae'][k])]:.2f}" for k in ('solid', 'textured', 'photos')) + " dB (gate solid 1× ≥30)"
                                + f"; another renderer (render_mpl) solid 1× {res['vae']['foreign'][1]:.2f} dB (gate ≥28)")
    if 'clip' in res: s.append(f"CLIP top-1/10 {res['clip']['top1_of_10_random']:.2f} (gate ≥0.90)")
    if 'caption' in res: s.append(f"caption UNet colour {res['caption']['object_color']:.2f} (≥0.80) shape {res['caption']['object_shape']:.2f} (≥0.60) bg {res['caption']['background_color']:.2f} (≥0.90)")
    if 'instruction' in res: s.append(f"instruction UNet success {res['instruction']['edit_success']:.2f} (≥0.70) PSNR outside {res['instruction']['psnr_outside_mask']:.1f} dB (≥25)")
    print('SUMMARY: ' + '; '.join(s) + f"  [{time.time() - t0:.0f} s]")
