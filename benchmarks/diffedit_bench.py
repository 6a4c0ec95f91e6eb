"""DiffEdit on the toy world: mask IoU, parity with diffusers' StableDiffusionDiffEditPipeline, speed.

    .venv/bin/python benchmarks/diffedit_bench.py [--parts iou,parity,speed,tradeoff] [--n-iou 100] [--n-edit 30] [--key NAME]

The speed part reports seconds per edit and, since the two pipelines run different numbers of UNet batch items per edit,
seconds per UNet batch item (`speedup_per_unet_item`: the ratio at equal work).

Everything uses the shipped caption model (`load_toy('sd')`) and held-out edits (seeds ≥ HELDOUT_SEED).
Prints one JSON object per part and a summary line; each part's result (and the command) goes to
benchmarks/results/diffedit.json, the trade-off to benchmarks/results/diffedit_tradeoff.json.
"""
import argparse, json, time, warnings
import numpy as np, torch, PIL.Image
from diffusers import StableDiffusionDiffEditPipeline, DDIMInverseScheduler
from imiebench.toy.zoo import load_toy, HELDOUT_SEED
from imiebench.toy.world import random_scene, random_edit
from imiebench.toy.oracle import edit_success
from imiebench.diffedit import diffedit_mask, diffedit, diffusers_mask_draws, rescale_map
from imiebench.ddim import ddim_encode, ddim_decode
from imiebench.core import to_tensor, to_uint8
from harness import KINDS, iou, UNetMeter, update_parts, write_json, command_line, toy_fingerprint

warnings.filterwarnings('ignore')

def edits(n, offset=0, kinds=None):
    return [random_edit(random_scene(np.random.default_rng(HELDOUT_SEED + 80_000 + offset + i)),
                        np.random.default_rng(HELDOUT_SEED + 90_000 + offset + i), kinds=kinds) for i in range(n)]

def part_iou(b, n):
    """Mean IoU of the image-size mask (default settings) against the ground-truth change mask, with the reference
    caption and with an empty reference; plus the same maps with the other rescalings and the nearest-upsampled latent mask."""
    es = edits(n); out = {}
    up = lambda a, mode: torch.nn.functional.interpolate(a, size=(64, 64), mode=mode, **({} if mode == 'nearest' else {'align_corners': False}))[:, 0].numpy()
    for name, ref in (('with_reference', True), ('empty_reference', False)):
        ious, per, variants = [], {}, {}
        for e in es:
            m = diffedit_mask(b, e.source_image, e.query_caption, e.ref_caption if ref else '', generator=torch.Generator().manual_seed(0))
            v = iou(m.mask_image[0, 0].numpy(), e.mask); ious.append(v); per.setdefault(e.kind, []).append(v)
            variants.setdefault('minmax_latent_mask_nearest', []).append(iou(up(m.mask, 'nearest')[0], e.mask))
            for rs in ('mean', 'batch'):  # batch of one image: 'batch' = 'mean' here; both kept for the record
                soft = rescale_map(m.raw, rs)
                variants.setdefault(f'{rs}_image_mask', []).append(iou(up(soft, 'bilinear')[0] > 0.5, e.mask))
                variants.setdefault(f'{rs}_latent_mask_nearest', []).append(iou(up((soft > 0.5).float(), 'nearest')[0], e.mask))
        obj = lambda vs: float(np.mean([v for e, v in zip(es, vs) if e.kind in KINDS]))
        out[name] = dict(mean_iou=float(np.mean(ious)), object_edits_iou=obj(ious),
                         per_kind={k: round(float(np.mean(v)), 3) for k, v in sorted(per.items())},
                         other_settings={k: dict(mean_iou=round(float(np.mean(v)), 3), object_edits_iou=round(obj(v), 3)) for k, v in variants.items()})
    out['n'] = n
    return out

def diffusers_pipe(b):
    return b.pipeline(StableDiffusionDiffEditPipeline, inverse_scheduler=DDIMInverseScheduler.from_config(b.scheduler.config))

def part_parity(b, n_img=8):
    pipe = diffusers_pipe(b); es = edits(n_img, offset=1000, kinds=KINDS)
    src = [PIL.Image.fromarray(e.source_image) for e in es]
    # 1) masks, configured identically: CFG 7.5, batch clamp, same random draws
    m_d = pipe.generate_mask(image=src, target_prompt=[e.query_caption for e in es], source_prompt=[e.ref_caption for e in es],
                             generator=torch.Generator().manual_seed(0), output_type='np')
    m_d = torch.from_numpy(np.asarray(m_d)).float()
    lat, noise = diffusers_mask_draws(b, [e.source_image for e in es], 10, torch.Generator().manual_seed(0))
    # diffusers embeds prompts per image; our diffedit_mask takes one query/reference per call, so run per image
    # with the same slices of latents/noise, and apply the *batch* clamp over all images afterwards.
    raws = []
    for i, e in enumerate(es):
        mk = diffedit_mask(b, e.source_image, e.query_caption, e.ref_caption, guidance_scale=7.5, rescale='batch',
                           latents=lat[i * 10:(i + 1) * 10], noise=noise[i * 10:(i + 1) * 10])
        raws.append(mk.raw)
    raw = torch.cat(raws)
    ours_batch = (rescale_map(raw, 'batch') > 0.5).float()[:, 0]
    agree_mask = float((ours_batch == m_d).float().mean())
    # the rescalings (batch clamp = diffusers, per-image clamp, per-image min–max = ours): latent masks' IoU against the ground truth
    up = lambda m: torch.nn.functional.interpolate(m[:, None], size=(64, 64), mode='nearest')[:, 0].numpy()
    iou_of = lambda rs: float(np.mean([iou(a, e.mask) for a, e in zip(up((rescale_map(raw, rs) > 0.5).float()[:, 0]), es)]))
    iou_batch, iou_image, iou_minmax = iou_of('batch'), iou_of('mean'), iou_of('minmax')
    # 2) DDIM encoding with the reference prompt and CFG 7.5 (diffusers' defaults) vs ours configured alike
    e = es[0]; gen = lambda: torch.Generator().manual_seed(1)
    inv_d = pipe.invert(prompt=e.ref_caption, image=src[0], generator=gen()).latents  # 1×K×C×h×w, noisiest first
    z0 = b.vae.encode(to_tensor(e.source_image)).latent_dist.sample(gen()) * b.vae.config.scaling_factor
    tr = ddim_encode(b, z0, 50, 0.8, prompt=e.ref_caption, guidance_scale=7.5, progress=False)
    ours_inv = torch.stack(list(reversed(tr.latents[1:])), 1)
    d_inv = float((ours_inv - inv_d).abs().max())
    # 3) masked decoding with diffusers' blend (one step noisier) vs diffusers' __call__
    mask = m_d[:1, None]
    out_d = pipe(prompt=e.query_caption, mask_image=mask, image_latents=inv_d, negative_prompt=e.ref_caption,
                 generator=gen(), output_type='latent').images
    out_o = ddim_decode(b, tr, e.query_caption, 50, 0.8, guidance_scale=7.5, mask=mask, blend='diffusers',
                        negative_prompt=e.ref_caption, progress=False)
    d_dec = float((out_o - out_d).abs().max())
    return dict(n_images=n_img, mask_pixel_agreement=agree_mask, invert_max_abs_diff=d_inv, decode_max_abs_diff=d_dec,
                iou_batch_clamp=iou_batch, iou_per_image_clamp=iou_image, iou_per_image_minmax=iou_minmax)

def run_diffusers(pipe, e, seed):
    img = PIL.Image.fromarray(e.source_image); g = lambda: torch.Generator().manual_seed(seed)
    m = pipe.generate_mask(image=img, target_prompt=e.query_caption, source_prompt=e.ref_caption, generator=g())
    inv = pipe.invert(prompt=e.ref_caption, image=img, generator=g()).latents
    out = pipe(prompt=e.query_caption, mask_image=m, image_latents=inv, negative_prompt=e.ref_caption, generator=g(), output_type='np').images[0]
    return (out * 255).round().astype(np.uint8), np.asarray(m)[0], None

def run_ours(b, e, seed, **kw):
    r = diffedit(b, e.source_image, e.query_caption, e.ref_caption, generator=torch.Generator().manual_seed(seed), progress=False, **kw)
    return to_uint8(r.image)[0], (r.mask.mask[0, 0].numpy() if r.mask is not None else None), (r.mask.mask_image[0, 0].numpy() if r.mask is not None else None)

def part_speed(b, n_edit):
    pipe = diffusers_pipe(b); es = edits(n_edit, offset=2000, kinds=KINDS); res = {}
    up = lambda m: np.kron(m, np.ones((4, 4)))
    variants = [('diffusers', lambda e: run_diffusers(pipe, e, 0)), ('ours', lambda e: run_ours(b, e, 0)),
                ('ours_batch_blend', lambda e: run_ours(b, e, 0, blend='diffusers')),
                ('ours_cfg_encoding', lambda e: run_ours(b, e, 0, encode_prompt=e.ref_caption, encode_guidance=7.5))]
    for name, fn in variants:
        fn(es[0])  # warm-up
        c = UNetMeter(b.unet); t = time.perf_counter(); outs = [fn(e) for e in es]; dt = time.perf_counter() - t; c.close()
        res[name] = dict(seconds_per_edit=dt / len(es), unet_items_per_edit=c.items / len(es),
                         seconds_per_unet_item=dt / c.items, unet_seconds_per_item=c.seconds / c.items,  # wall / inside the UNet, per batch item
                         edit_success=float(np.mean([edit_success(o, e) for (o, _, _), e in zip(outs, es)])),
                         mask_iou=float(np.mean([iou(up(m), e.mask) for (_, m, _), e in zip(outs, es)])))  # latent masks, repeated 4×4
        if outs[0][2] is not None: res[name]['image_mask_iou'] = float(np.mean([iou(mi, e.mask) for (_, _, mi), e in zip(outs, es)]))
    res['speedup_ours_vs_diffusers'] = res['diffusers']['seconds_per_edit'] / res['ours']['seconds_per_edit']  # ours does fewer UNet items per edit
    # at equal work: seconds per UNet batch item, diffusers / ours (> 1: ours is faster for the same number of UNet items)
    res['speedup_per_unet_item'] = res['diffusers']['seconds_per_unet_item'] / res['ours']['seconds_per_unet_item']
    res['n_edits'] = n_edit
    return res

def part_tradeoff(b, n_edit, steps=25, ratios=(0.3, 0.5, 0.7, 0.9)):
    "Distance to the input vs oracle success over r for DiffEdit, SDEdit and Encode-Decode (paper Fig. 4)."
    es = edits(n_edit, offset=3000, kinds=KINDS); modes = {}
    for mode in ('diffedit', 'sdedit', 'encode_decode'):
        rows = []
        for r in ratios:
            outs = [run_ours(b, e, 0, r=r, steps=steps, mode=mode)[0] for e in es]
            rows.append(dict(r=r, distance=float(np.mean([np.abs(o.astype(float) - e.source_image).mean() for o, e in zip(outs, es)])),
                             success=float(np.mean([edit_success(o, e) for o, e in zip(outs, es)]))))
        modes[mode] = rows
    d = dict(n_edits=n_edit, steps=steps, modes=modes)
    write_json('diffedit_tradeoff.json', command=command_line(), fingerprint=toy_fingerprint('sd'), metrics=d)
    return d

if __name__ == '__main__':
    p = argparse.ArgumentParser()
    p.add_argument('--parts', default='iou,parity,speed'); p.add_argument('--n-iou', type=int, default=100)
    p.add_argument('--n-edit', type=int, default=30)
    p.add_argument('--key', default=None, help="store the (one) part in diffedit.json under this key instead of its name, e.g. speed_5_edits")
    a = p.parse_args()
    if a.key and ',' in a.parts: raise SystemExit(f"--key names one part's entry; got --parts {a.parts}")
    torch.set_grad_enabled(False); b = load_toy('sd'); res = {}; t0 = time.time()
    for part in a.parts.split(','):
        res[part] = dict(iou=lambda: part_iou(b, a.n_iou), parity=lambda: part_parity(b), speed=lambda: part_speed(b, a.n_edit),
                         tradeoff=lambda: part_tradeoff(b, a.n_edit))[part]()
        print(json.dumps({part: res[part]}), flush=True)  # each part as soon as it is done
        if part != 'tradeoff': update_parts('diffedit.json', {a.key or part: res[part]}, fingerprint=toy_fingerprint('sd'))
    s = []
    if 'iou' in res: s.append(f"mask IoU {res['iou']['with_reference']['mean_iou']:.3f} with reference / {res['iou']['empty_reference']['mean_iou']:.3f} empty (goal ≥0.5)")
    if 'parity' in res: s.append(f"parity: mask agreement {res['parity']['mask_pixel_agreement']:.4f} (goal ≥0.99), invert Δ {res['parity']['invert_max_abs_diff']:.1e}, decode Δ {res['parity']['decode_max_abs_diff']:.1e}")
    if 'speed' in res: s.append(f"speed ours vs diffusers {res['speed']['speedup_ours_vs_diffusers']:.2f}× per edit (goal ≥1.5×), {res['speed']['speedup_per_unet_item']:.2f}× per UNet item (equal work), UNet items {res['speed']['ours']['unet_items_per_edit']:.0f} vs {res['speed']['diffusers']['unet_items_per_edit']:.0f}, success {res['speed']['ours']['edit_success']:.2f} vs {res['speed']['diffusers']['edit_success']:.2f}, IoU {res['speed']['ours']['mask_iou']:.2f} vs {res['speed']['diffusers']['mask_iou']:.2f}")
    print('SUMMARY: ' + '; '.join(s) + f"  [{time.time() - t0:.0f} s]")
