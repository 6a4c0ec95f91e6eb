"""Editable image elements on the toy world: partition quality and β sweep, partition speed,
reconstruction PSNR, "move object" edits, and the element-edit tasks with their gates.

    OMP_NUM_THREADS=1 .venv/bin/python benchmarks/elements_bench.py [--parts partition,speed,recon,edits,tasks,curve]
        [--n-scenes 100] [--n-recon 100] [--n-edits 60] [--n-tasks 100] [--steps 25]

tasks: recon, move, delete, shrink ×0.6, grow ×1.5, overlap (`toy.elements.ELEMENT_TASKS`), n each on held-out scenes,
success / preserved / success∧preserved with 95 % Wilson intervals, for the canvas decoder after the edit, the same
decoder without the edit, the shipped light decoder, the pixel baseline and the VAE round trip of the ground-truth
result (the rate of a decoder as faithful as the toy VAE; recon: the paired ratio of the canvas decoder's rate to it,
with its bootstrap interval). Gates: recon ≥ 0.90 × VAE round trip,
every edit ≥ 0.80 (`met`: the interval's lower end clears it; `met_point`: the point estimate does).
curve: the same tasks for every fp16 milestone of a canvas-decoder run (`--run`, default runs/elements_canvas); with
`--curve-init shipped` (or a weights file) also the weights the run started from, at step `--step-offset` (the steps
they had been trained), so a continued run's curve counts steps from the first one; the milestones already in
elements_curve.json below `--step-offset` (an earlier run's) stay on it, and `runs` lists each run with its command.
`--canvas FILE` scores a canvas decoder that is not shipped (e.g. runs/elements_canvas/canvas.pt) in part tasks, and
`--tag NAME` writes elements_tasks_NAME.json instead of elements_tasks.json; `--seed` seeds the samples of a decoder with
speckle (default 0).
bound: what bounds the canvas decoder (`--canvas` or the shipped one) on the same held-out tasks: why each failure fails
(edit, texture, background, other object, spurious) and on which background texture; on the noise-texture scenes the
decoder's output with ideal speckle (the world's amplitude, on the ground-truth background) added; and a linear probe
of each texture vs 'solid' from the content features of background elements → elements_bound.json.
bench: IMIE-Bench's `elements` method beside instruction methods (`--bench-methods`) on the object edits both can do:
`--n-bench` held-out scenes × 4 chained move/resize/remove edits (`make_shapes_set(kinds=REGION_KINDS)`), the toy zoo,
the main job's settings, the same oracle → elements_bench_objects.json (the run in `--bench-out` resumes, so methods can
be added to it later).

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
from harness import write_json, read_metrics, command_line, toy_fingerprint
from imiebench.elements.partition import partition, ColorProvider, slic_partition
from imiebench.elements.model import encode_elements
from imiebench.elements.decoders import decode_light, decode_diffusion
from imiebench.toy.elements import partition_quality, load_toy_elements, toy_move, toy_pixel_move, TOY_N
from imiebench.toy.elements import ELEMENT_TASKS, feasible_tasks, random_task, task_elements, task_score, pixel_task, RESIZE_BAND, RESIZE_IOU
from imiebench.toy.zoo import load_toy
from imiebench.elements.decoders import decode_canvas

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

def paired_ratio(a, b, reps=2000, seed=0):
    "Ratio of the rates of paired booleans a / b (same scenes), with a 95 % paired bootstrap interval, and the difference."
    a, b = np.asarray(a, float), np.asarray(b, float); rng = np.random.default_rng(seed)
    idx = rng.integers(len(a), size=(reps, len(a))); ra, rb = a[idx].mean(1), b[idx].mean(1)
    r = ra / np.maximum(rb, 1e-9); d = ra - rb
    return dict(ratio=float(a.mean() / max(b.mean(), 1e-9)), ratio_lo=float(np.quantile(r, .025)), ratio_hi=float(np.quantile(r, .975)),
                diff=float(a.mean() - b.mean()), diff_lo=float(np.quantile(d, .025)), diff_hi=float(np.quantile(d, .975)))

def _canvas_weights(canvas):
    "The element models with canvas decoder `canvas` (None: the shipped one) and the fingerprint of the weights used."
    from imiebench.toy.elements import decoder_weights
    from imiebench.elements.decoders import CanvasDecoder
    from harness import toy_weights, weights_fingerprint
    m = load_toy_elements(diffusion=False)
    if canvas is None: return m, toy_fingerprint('elements', 'sd')
    m.canvas = CanvasDecoder.from_state_dict(decoder_weights(canvas)).eval()
    return m, weights_fingerprint(*[f for f in toy_weights('elements', 'sd') if f.name != 'canvas.safetensors'], pathlib.Path(canvas))

def part_tasks(n, gate=0.80, recon_gate=0.90, canvas_file=None, tag='', seed=0):
    "Element edits on held-out scenes, per task: the canvas decoder after the edit, the same decoder without the edit, the shipped light decoder, the pixel baseline (and, for recon, the VAE round trip)."
    (m, fp), b = _canvas_weights(canvas_file), load_toy('sd')
    if m.canvas is None: raise SystemExit("no canvas decoder in the zoo: train it (scripts/train_elements_canvas.py) and ship it first")
    tasks = heldout_tasks(m.encoder, n); res = {}
    g = torch.Generator().manual_seed(seed)  # a canvas decoder with speckle samples: seeded, so a rerun gives the same images
    canvas, light = (lambda els: decode_canvas(m, els, generator=g)), (lambda els: decode_light(m, els))
    for kind, rows in tasks.items():
        ts = [t for t, _ in rows]
        outs = dict(canvas=decode_tasks(canvas, rows), canvas_no_edit=decode_tasks(canvas, rows, edit=False),
                    light=decode_tasks(light, rows), pixel=[pixel_task(t) for t in ts])
        with torch.no_grad(): outs['vae_roundtrip'] = list(to_uint8(b.decode(b.encode(np.stack([t.target_image for t in ts])))))  # the ground truth through the toy VAE: what a decoder as faithful as the VAE could score
        res[kind] = {k: _score(v, ts) for k, v in outs.items()}
        print(f"[tasks] {kind}: " + ', '.join(f"{k} {v['success_and_preserved']['rate']:.2f}" for k, v in res[kind].items()), flush=True)
    r = res['recon']; rel = paired_ratio(r['canvas']['ok'], r['vae_roundtrip']['ok'])
    tex = [t.source.texture for t, _ in tasks['recon']]  # why even the VAE round trip fails the oracle: the rate per background texture
    by_texture = {k: {x: wilson(sum(o for o, tx in zip(r[k]['ok'], tex) if tx == x), tex.count(x)) for x in sorted(set(tex))} for k in ('vae_roundtrip', 'canvas', 'light')}
    gates = dict(recon=dict(rule=f"canvas all-ok ≥ {recon_gate} × VAE round trip's, paired on the same scenes", **rel, met=rel['ratio_lo'] >= recon_gate, met_point=rel['ratio'] >= recon_gate))
    for kind in ELEMENT_TASKS[1:]:
        w = res[kind]['canvas']['success_and_preserved']
        gates[kind] = dict(rule=f"canvas success∧preserved ≥ {gate}", rate=w['rate'], lo=w['lo'], hi=w['hi'], met=w['lo'] >= gate, met_point=w['rate'] >= gate)
    for kind in res:
        for v in res[kind].values(): v.pop('ok')
    info = m.info if canvas_file is None else json.loads((pathlib.Path(canvas_file).parent / 'info.json').read_text()) if (pathlib.Path(canvas_file).parent / 'info.json').exists() else {}
    trained = info.get('training', {}).get('canvas', {}); trained = trained.get('total_steps', trained.get('steps'))  # training steps of the scored decoder (a continued run: from the first)
    d = dict(n_per_task=n, canvas=str(canvas_file or 'shipped'), canvas_training=trained, speckle_seed=seed,
             seeds=f"TASK_SEED={TASK_SEED} + 10000·task index + j (held-out)", resize_band=RESIZE_BAND, resize_iou=RESIZE_IOU, tasks=res, gates=gates, recon_by_texture=by_texture)
    write_json(f"elements_tasks{'_' + tag if tag else ''}.json", command=command_line(), fingerprint=fp, metrics=d)
    print(json.dumps(gates))
    print("[tasks] canvas decoder, success∧preserved: " + ', '.join(f"{k} {res[k]['canvas']['success_and_preserved']['rate']:.2f}" for k in res)
          + f"; recon vs VAE round trip ×{rel['ratio']:.2f} [{rel['ratio_lo']:.2f}, {rel['ratio_hi']:.2f}]", flush=True)

def _bg_mask(scene, size=64):
    "Pixels no object of `scene` covers (its background)."
    from imiebench.toy.world import object_coverage
    return sum((object_coverage(o.shape, o.size, o.pos, size) for o in scene.objects), np.zeros((size, size))) < .01

def failure_causes(image, t):
    "Why a result fails success∧preserved: the set of causes the oracle reports ('edit', 'texture', 'background', 'other object', 'spurious'); empty if it passes."
    from imiebench.toy.oracle import oracle
    ok, keep = task_score(image, t)
    if ok and keep: return set()
    r = oracle(image, t.target); ti = None if t.kind == 'recon' else t.target_index
    vac = None if t.kind == 'recon' else t.source.objects[t.obj].pos
    why = {'edit'} if not ok and t.kind != 'recon' else set()  # recon: its success is the whole reading, split below
    if t.kind == 'recon' and not all(v.ok for v in r.objects): why.add('other object')
    if not r.texture_ok: why.add('texture')
    if not r.bg_ok: why.add('background')
    if any(not v.ok for j, v in enumerate(r.objects) if j != ti and t.kind != 'recon'): why.add('other object')
    if [q for q in r.spurious if q != vac]: why.add('spurious')
    return why

def texture_probe(encoder, n_scenes=1200, seed=10**6):
    "How well the content features of the background elements tell a textured background from a solid one: held-out accuracy of a logistic regression (L-BFGS, standardised features, 2/3 train) on a scene's mean background feature, per texture vs 'solid', beside the majority rate."
    from imiebench.toy.world import TEXTURES
    feats = {x: [] for x in TEXTURES}
    for s in range(n_scenes):
        sc = random_scene(np.random.default_rng(seed + s), textured=bool(s % 2))
        e = encode_elements(encoder, render(sc, 64)); ks = np.unique(e.label_map()[_bg_mask(sc)])
        feats[sc.texture].append(e.features.float()[ks].mean(0, keepdim=True))
    out = {}
    for x in TEXTURES[1:]:
        X = torch.cat(feats['solid'] + feats[x]); y = torch.cat([torch.zeros(sum(len(f) for f in feats['solid'])), torch.ones(sum(len(f) for f in feats[x]))])
        perm = torch.randperm(len(X), generator=torch.Generator().manual_seed(0)); X, y = X[perm], y[perm]; n = len(X) * 2 // 3
        mu, sd = X[:n].mean(0), X[:n].std(0) + 1e-6; X = (X - mu) / sd
        w, b = torch.zeros(X.shape[1], requires_grad=True), torch.zeros(1, requires_grad=True); opt = torch.optim.LBFGS([w, b], max_iter=500)
        def closure():
            opt.zero_grad(); l = torch.nn.functional.binary_cross_entropy_with_logits(X[:n] @ w + b, y[:n]) + 1e-3 * w.pow(2).sum(); l.backward(); return l
        opt.step(closure)
        with torch.no_grad(): acc = float((((X[n:] @ w + b) > 0).float() == y[n:]).float().mean())
        out[x] = dict(accuracy=acc, majority=float(max(y[n:].mean(), 1 - y[n:].mean())), n_scenes=len(X), n_test=len(X) - n)
    return out

def part_bound(n, canvas_file=None):
    """What bounds the canvas decoder: (1) why each failing held-out task fails, and on which background texture; (2) the
    noise scenes with an ideal texture added — the decoder's output plus speckle of the world's own amplitude on the
    ground-truth background — i.e. whether the oracle could pass them at all; (3) whether the content features carry the
    texture (`texture_probe`)."""
    from imiebench.toy.world import TEXTURE_AMP
    m, fp = _canvas_weights(canvas_file); tasks = heldout_tasks(m.encoder, n); g = torch.Generator().manual_seed(0)
    amp = TEXTURE_AMP / np.sqrt(3)  # std of the world's speckle, U(−1, 1)·TEXTURE_AMP grey levels (the same on R, G, B)
    causes, ideal = {}, {}
    for kind, rows in tasks.items():
        ts = [t for t, _ in rows]; ims = decode_tasks(lambda els: decode_canvas(m, els, generator=g), rows)
        why = [failure_causes(im, t) for im, t in zip(ims, ts)]
        c = {}
        for w in why:
            for q in w: c[q] = c.get(q, 0) + 1
        tex = sorted({t.source.texture for t in ts})
        causes[kind] = dict(n=len(ts), failures=sum(bool(w) for w in why), by_cause=c, only_texture=sum(w == {'texture'} for w in why),
                            failures_by_texture={x: sum(bool(w) for w, t in zip(why, ts) if t.source.texture == x) for x in tex},
                            scenes_by_texture={x: sum(t.source.texture == x for t in ts) for x in tex})
        noise = [i for i, t in enumerate(ts) if t.source.texture == 'noise']
        spk = [np.rint(ims[i] + amp * torch.randn(64, 64, 1, generator=g).numpy() * _bg_mask(ts[i].target)[..., None]).clip(0, 255).astype(np.uint8) for i in noise]
        ideal[kind] = dict(n_noise=len(noise), decoder=wilson(sum(not why[i] for i in noise), len(noise)),
                           decoder_plus_ideal_speckle=wilson(sum(all(task_score(im, ts[i])) for im, i in zip(spk, noise)), len(noise)))
        print(f"[bound] {kind}: {causes[kind]['failures']} failures, texture in {c.get('texture', 0)} ({causes[kind]['only_texture']} only texture); noise scenes "
              f"{ideal[kind]['decoder']['rate']:.2f} → {ideal[kind]['decoder_plus_ideal_speckle']['rate']:.2f} with ideal speckle", flush=True)
    probe = texture_probe(m.encoder)
    print('[bound] texture from content features (accuracy vs majority): ' + ', '.join(f"{x} {v['accuracy']:.3f} vs {v['majority']:.3f}" for x, v in probe.items()), flush=True)
    write_json('elements_bound.json', command=command_line(), fingerprint=fp, metrics=dict(n_per_task=n, canvas=str(canvas_file or 'shipped'), causes=causes, ideal_speckle=ideal, texture_probe=probe))

def part_curve(n, run, init=None, offset=0):
    "The canvas decoder's learning curve: success∧preserved per task of every fp16 milestone (`keep_<step>.safetensors`) of a training run (and of the weights it started from, `init`), steps counted from `offset`."
    from imiebench.toy.elements import decoder_weights, elements_dir
    from imiebench.elements.decoders import ToyElements, CanvasDecoder
    from harness import weights_fingerprint
    base = load_toy_elements(diffusion=False); tasks = heldout_tasks(base.encoder, n); rows = []
    files = sorted(pathlib.Path(run).glob('ckpt_canvas/keep_*.safetensors'))
    path = lambda w: elements_dir() / 'canvas.safetensors' if w == 'shipped' else pathlib.Path(w)
    fp = weights_fingerprint(*files, *([] if init is None else [path(init)]))
    for step, w in ([] if init is None else [(offset, init)]) + [(offset + int(f.stem.split('_')[1]), f) for f in files]:
        cache, wfp = pathlib.Path(run) / f"curve_n{n}_{path(w).stem}.json", weights_fingerprint(path(w))  # a milestone is scored once (the curve is re-run as a run goes on)
        if cache.exists() and json.loads(cache.read_text())['fingerprint'] == wfp: rows.append(json.loads(cache.read_text())['row'] | dict(step=step))
        else:
            m = ToyElements(base.encoder, base.light, canvas=CanvasDecoder.from_state_dict(decoder_weights(w)).eval())
            g = torch.Generator().manual_seed(0); r = score_outputs(lambda els: decode_canvas(m, els, generator=g), tasks)
            rows.append(dict(step=step, weights=str(w), **{k: {q: v[q] for q in ('success', 'preserved', 'success_and_preserved', 'psnr_to_target')} for k, v in r.items()}))
            cache.write_text(json.dumps(dict(fingerprint=wfp, row=rows[-1])))
        r = {k: rows[-1][k] for k in tasks}
        print(f"[curve] step {step}: " + ', '.join(f"{k} {v['success_and_preserved']['rate']:.2f}" for k, v in r.items()), flush=True)
    prev = read_metrics('elements_curve.json', {})  # a continued run: the earlier runs' milestones (steps below `offset`, same n) stay on the curve
    earlier = [r for r in prev.get('milestones', []) if r['step'] < offset] if prev.get('n_per_task') == n else []
    before = prev.get('runs') or ([dict(run=prev['run'], init=prev.get('init'), step_offset=prev.get('step_offset') or 0)] if 'run' in prev else [])  # a file with one run
    runs = [x for x in before if x['step_offset'] < offset] if earlier else []
    runs.append(dict(run=str(run), init=None if init is None else str(init), step_offset=offset, command=command_line()))
    write_json('elements_curve.json', command=command_line(), fingerprint=fp, metrics=dict(n_per_task=n, runs=runs, milestones=earlier + rows))

def part_bench(n, methods, out):
    "IMIE-Bench on a set of object edits (move, resize, remove): element editing beside instruction editing, scored by the same oracle (the run in `out` resumes: methods can be added)."
    from imiebench.bench.format import load_bench
    from imiebench.bench.sets import make_shapes_set
    from imiebench.bench.runner import run_bench
    from imiebench.bench.methods import BenchConfig
    from imiebench.toy.elements import REGION_KINDS
    cfg = BenchConfig(methods=tuple(methods), save_images=False)
    out = pathlib.Path(out)
    bench = load_bench(make_shapes_set(out / 'set', n=n, kinds=REGION_KINDS, name='shapes_objects'))
    rep = run_bench(bench, out / 'run', cfg, progress=False)
    keep = ('final_success', 'success_when_made', 'retained_earlier', 'psnr_input_final', 'masked_success', 'masked_psnr_outside')
    d = dict(set=bench.description, n_cases=n, steps=cfg.steps, precision=cfg.precision, inputs=rep['inputs'],
             methods={m: {c: v for c, v in r.items() if c in keep + ('skipped',)} for m, r in rep['methods'].items()}, per_kind=rep['per_kind'])
    write_json('elements_bench_objects.json', command=command_line(), fingerprint=toy_fingerprint('ip2p', 'sd', 'elements'), metrics=d)
    print(f"[bench] {n} object-edit cases, final success: " + ', '.join(f"{m} {r['final_success']['mean']:.2f} [{r['final_success']['lo']:.2f}, {r['final_success']['hi']:.2f}]"
                                                                      for m, r in rep['methods'].items()), flush=True)

if __name__ == '__main__':
    ap = argparse.ArgumentParser()
    ap.add_argument('--parts', default='partition,speed,recon,edits')
    ap.add_argument('--n-scenes', type=int, default=100); ap.add_argument('--n-recon', type=int, default=100)
    ap.add_argument('--n-edits', type=int, default=60); ap.add_argument('--n-tasks', type=int, default=100); ap.add_argument('--run', default='runs/elements_canvas'); ap.add_argument('--steps', type=int, default=25)
    ap.add_argument('--canvas', default=None); ap.add_argument('--seed', type=int, default=0, help='seed of the speckle samples (part tasks)'); ap.add_argument('--tag', default=''); ap.add_argument('--curve-init', default=None); ap.add_argument('--step-offset', type=int, default=0)
    ap.add_argument('--n-bench', type=int, default=20); ap.add_argument('--bench-methods', default='elements,emilie'); ap.add_argument('--bench-out', default='runs/elements_bench_objects')
    a = ap.parse_args(); torch.set_num_threads(1)
    for p in a.parts.split(','):
        {'partition': lambda: part_partition(a.n_scenes), 'speed': part_speed, 'recon': lambda: part_recon(a.n_recon, a.steps),
         'edits': lambda: part_edits(a.n_edits, a.steps), 'tasks': lambda: part_tasks(a.n_tasks, canvas_file=a.canvas, tag=a.tag, seed=a.seed), 'curve': lambda: part_curve(a.n_tasks, a.run, a.curve_init, a.step_offset),
         'bound': lambda: part_bound(a.n_tasks, a.canvas), 'bench': lambda: part_bench(a.n_bench, a.bench_methods.split(','), a.bench_out)}[p]()
