"""Editable image elements on the toy world: partition quality and β sweep, partition speed,
reconstruction PSNR, and "move object" edits.

    OMP_NUM_THREADS=1 .venv/bin/python benchmarks/elements_bench.py [--parts partition,speed,recon,edits]
        [--n-scenes 100] [--n-recon 100] [--n-edits 60] [--steps 25]

Held-out scenes only (seeds ≥ HELDOUT_SEED). Each part prints one JSON object and one summary line, and
writes benchmarks/results/elements_<part>.json.
"""
import argparse, json, pathlib, time, warnings
import numpy as np, torch
from imiebench.toy.zoo import HELDOUT_SEED
from imiebench.toy.world import random_scene, render, random_edit, caption
from imiebench.toy.oracle import edit_success, preserved
from imiebench.core import to_uint8
from imiebench.metrics import psnr
from harness import write_json, command_line, toy_fingerprint
from imiebench.elements.partition import partition, ColorProvider, slic_partition
from imiebench.elements.model import encode_elements
from imiebench.elements.decoders import decode_light, decode_diffusion
from imiebench.toy.elements import partition_quality, load_toy_elements, toy_move, toy_pixel_move, TOY_N
from imiebench.toy.elements import ELEMENT_TASKS, feasible_tasks, random_task, task_elements, task_score, pixel_task

warnings.filterwarnings('ignore')
RES = pathlib.Path(__file__).parent / 'results'

TASK_SEED = HELDOUT_SEED + 70_000  # held-out scenes of the element-edit tasks: TASK_SEED + 10_000·(task index) + j

def wilson(k, n, z=1.96):
    "Rate k/n with its 95 % Wilson score interval."
    if n == 0: return dict(rate=float('nan'), lo=float('nan'), hi=float('nan'), n=0)
    p = k / n; d = 1 + z * z / n; c = (p + z * z / (2 * n)) / d; h = z * np.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / d
    return dict(rate=p, lo=float(max(0., c - h)), hi=float(min(1., c + h)), n=int(n))

def heldout_tasks(encoder, n, kinds=ELEMENT_TASKS):
    "kind → n (ElementTask, encoded source elements) on held-out scenes (the first feasible scenes from the kind's seed range)."
    out = {}
    for ki, kind in enumerate(kinds):
        rows, j = [], 0
        while len(rows) < n:
            s = TASK_SEED + 10_000 * ki + j; j += 1; sc = random_scene(np.random.default_rng(s))
            if kind not in feasible_tasks(sc): continue
            t = random_task(sc, kind, np.random.default_rng(s))
            el = encode_elements(encoder, t.source_image)
            try: task_elements(el, t)
            except ValueError: pass  # kept: the method fails this case (scored as a failure below)
            rows.append((t, el))
        out[kind] = rows
    return out

def _score(images, tasks):
    sc = [task_score(im, t) for im, t in zip(images, tasks)]
    ps = [psnr(im, t.target_image) for im, t in zip(images, tasks)]
    return dict(success=wilson(sum(a for a, _ in sc), len(sc)), preserved=wilson(sum(b for _, b in sc), len(sc)),
                success_and_preserved=wilson(sum(a and b for a, b in sc), len(sc)), psnr_to_target=float(np.mean(ps)),
                ok=[bool(a and b) for a, b in sc])

def decode_tasks(fn, rows, edit=True, chunk=25):
    "Images (uint8) a decoder `fn` (elements list → N×3×H×W) makes of each task's edited (or, `edit=False`, unedited) elements; an edit that raises gives a black image."
    els, bad = [], []
    for t, el in rows:
        try: els.append(task_elements(el, t) if edit else el); bad.append(False)
        except ValueError: els.append(el); bad.append(True)
    ims = []
    for i in range(0, len(els), chunk): ims += list(to_uint8(fn(els[i:i + chunk])))
    return [np.zeros_like(im) if b else im for im, b in zip(ims, bad)]

def score_outputs(fn, tasks):
    "Per task kind: success, preserved and success∧preserved (Wilson 95 %) and PSNR to the ground truth of decoder `fn` on the edited elements."
    return {k: _score(decode_tasks(fn, rows), [t for t, _ in rows]) for k, rows in tasks.items()}

def emit(part, d, summary):
    write_json(f'elements_{part}.json', command=command_line(), fingerprint=toy_fingerprint('sd', 'elements'), metrics=d)
    print(json.dumps(d)); print(f"[{part}] {summary}", flush=True)

def part_partition(n_scenes):
    scenes = [random_scene(np.random.default_rng(HELDOUT_SEED + 20_000 + i)) for i in range(n_scenes)]
    betas = [1, 2, 4, 8, 16, 32, 64, 128, 256]
    sweep = {prov: [dict(beta=b, **partition_quality(scenes, prov, n=TOY_N, beta=b)) for b in betas] for prov in ('color', 'vae')}
    base = {m: partition_quality(scenes, m, n=TOY_N) for m in ('slic', 'grid')}
    at = lambda prov, b: next(r for r in sweep[prov] if r['beta'] == b)
    d = dict(n_scenes=n_scenes, size=64, n=TOY_N, tol=1, sweep=sweep, baselines=base)
    s = ', '.join(f"{k} BR {r['boundary_recall']:.3f} USE {r['use']:.3f}" for k, r in
                  [('color β=16', at('color', 16)), ('color β=64', at('color', 64)), ('vae β=16', at('vae', 16)), ('slic', base['slic']), ('grid', base['grid'])])
    emit('partition', d, f"{n_scenes} held-out scenes, N={TOY_N}: {s}")

def part_speed(reps=5):
    img = render(random_scene(np.random.default_rng(HELDOUT_SEED + 30_000), n_objects=3), 512)
    from imiebench.toy.zoo import load_photo
    import PIL.Image
    photo = np.asarray(PIL.Image.fromarray(load_photo('chelsea')).resize((512, 512), PIL.Image.BICUBIC))
    out = {}
    for name, im in (('toy', img), ('photo', photo)):
        prov = ColorProvider(); f = prov.features(im)
        t_ours, t_slic = [], []
        for _ in range(reps):
            t = time.perf_counter(); p = partition(im, 256, provider=prov, features=f); t_ours.append(time.perf_counter() - t)
            t = time.perf_counter(); s = slic_partition(im, 256); t_slic.append(time.perf_counter() - t)
        out[name] = dict(partition_s=float(np.median(t_ours)), slic_s=float(np.median(t_slic)), ratio=float(np.median(t_ours) / np.median(t_slic)),
                         n_elements=p.n, slic_segments=s.n, dropped=p.dropped, window=p.settings['window'])
    d = dict(size=512, n=256, beta=64, reps=reps, threads=torch.get_num_threads(), **out)
    emit('speed', d, ' | '.join(f"{k}: ours {v['partition_s']:.3f} s vs SLIC {v['slic_s']:.3f} s (×{v['ratio']:.2f}), {v['n_elements']} elements"
                                for k, v in out.items()) + " (512×512, N=256, features excluded)")

def part_recon(n, steps):
    m = load_toy_elements()
    scenes = [random_scene(np.random.default_rng(HELDOUT_SEED + 40_000 + i)) for i in range(n)]
    ims = [render(s, 64) for s in scenes]; els = [encode_elements(m.encoder, a) for a in ims]
    light, diff, diff_nc, vae = [], [], [], []
    for i in range(0, n, 25):
        sl = slice(i, i + 25)
        light += list(to_uint8(decode_light(m, els[sl])))
        diff += list(to_uint8(decode_diffusion(m, els[sl], [caption(s) for s in scenes[sl]], num_inference_steps=steps, generator=torch.Generator().manual_seed(i))))
        diff_nc += list(to_uint8(decode_diffusion(m, els[sl], '', num_inference_steps=steps, generator=torch.Generator().manual_seed(i))))
        vae += list(to_uint8(m.bundle.decode(m.bundle.encode(np.stack(ims[sl])))))
    P = lambda rs: float(np.mean([psnr(r, a) for r, a in zip(rs, ims)]))
    from imiebench.toy.oracle import oracle
    ok = lambda rs: float(np.mean([oracle(r, s).all_ok for r, s in zip(rs, scenes)]))
    d = dict(n=n, steps=steps, guidance=3.0, psnr_light=P(light), psnr_diffusion=P(diff), psnr_diffusion_no_caption=P(diff_nc), psnr_vae_roundtrip=P(vae),
             oracle_ok_light=ok(light), oracle_ok_diffusion=ok(diff), oracle_ok_diffusion_no_caption=ok(diff_nc), oracle_ok_vae_roundtrip=ok(vae))
    emit('recon', d, f"PSNR on {n} held-out scenes: light {d['psnr_light']:.2f} dB, diffusion {d['psnr_diffusion']:.2f} dB "
                     f"(no caption {d['psnr_diffusion_no_caption']:.2f}), VAE round trip {d['psnr_vae_roundtrip']:.2f} dB (ceiling); "
                     f"oracle all-ok light {d['oracle_ok_light']:.2f}, diffusion {d['oracle_ok_diffusion']:.2f}")

def part_edits(n, steps):
    m = load_toy_elements()
    es = [random_edit(random_scene(np.random.default_rng(HELDOUT_SEED + 50_000 + i)), np.random.default_rng(HELDOUT_SEED + 60_000 + i), kinds=['move'])
          for i in range(n)]
    moved = []
    for e in es:
        el = encode_elements(m.encoder, e.source_image); moved.append(toy_move(el, e)[0])
    outs = dict(pixel=[toy_pixel_move(e) for e in es], pixel_zero_fill=[toy_pixel_move(e, 'zeros') for e in es], light=[], diffusion=[], diffusion_no_caption=[])
    for i in range(0, n, 20):
        sl = slice(i, i + 20)
        outs['light'] += list(to_uint8(decode_light(m, moved[sl])))
        outs['diffusion'] += list(to_uint8(decode_diffusion(m, moved[sl], [e.query_caption for e in es[sl]], num_inference_steps=steps, generator=torch.Generator().manual_seed(i))))
        outs['diffusion_no_caption'] += list(to_uint8(decode_diffusion(m, moved[sl], '', num_inference_steps=steps, generator=torch.Generator().manual_seed(i))))
    res = {}
    for k, ims in outs.items():
        s = [edit_success(a, e) for a, e in zip(ims, es)]; p = [preserved(a, e) for a, e in zip(ims, es)]
        res[k] = dict(edit_success=float(np.mean(s)), preserved=float(np.mean(p)), success_and_preserved=float(np.mean([a and b for a, b in zip(s, p)])),
                      psnr_to_target=float(np.mean([psnr(a, e.target_image) for a, e in zip(ims, es)])))
    solid = [e.source.texture == 'solid' for e in es]
    for k, ims in outs.items():
        res[k]['success_and_preserved_solid_bg'] = float(np.mean([edit_success(a, e) and preserved(a, e) for a, e, sd in zip(ims, es, solid) if sd]))
    d = dict(n=n, n_solid=int(sum(solid)), steps=steps, guidance=3.0, methods=res)
    emit('edits', d, f"{n} held-out move edits, success∧preserved: " + ', '.join(f"{k} {v['success_and_preserved']:.2f}" for k, v in res.items()))

if __name__ == '__main__':
    ap = argparse.ArgumentParser()
    ap.add_argument('--parts', default='partition,speed,recon,edits')
    ap.add_argument('--n-scenes', type=int, default=100); ap.add_argument('--n-recon', type=int, default=100)
    ap.add_argument('--n-edits', type=int, default=60); ap.add_argument('--steps', type=int, default=25)
    a = ap.parse_args(); torch.set_num_threads(1)
    for p in a.parts.split(','):
        {'partition': lambda: part_partition(a.n_scenes), 'speed': part_speed, 'recon': lambda: part_recon(a.n_recon, a.steps),
         'edits': lambda: part_edits(a.n_edits, a.steps)}[p]()
