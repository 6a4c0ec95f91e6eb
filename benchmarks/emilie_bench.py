"""EMILIE on the toy world: null-instruction drift, 4-edit sequences, gradient control, speed.

    .venv/bin/python benchmarks/emilie_bench.py [--parts drift,sequences,control,automask,speed] [--n-drift 10]
        [--n-seq 40] [--n-control 40] [--steps 20] [--out benchmarks/results/emilie.json]

Uses the shipped instruction model (`load_toy('ip2p')`) and held-out scenes (seeds ≥ HELDOUT_SEED).
Prints one JSON object per part, a summary line per part, and writes everything to --out.
"""
import argparse, json, time, warnings
import numpy as np, torch, PIL.Image
from tqdm.auto import tqdm
from imiebench.toy.zoo import load_toy, HELDOUT_SEED
from imiebench.toy.world import render, random_scene, random_edit, edit_sequence
from imiebench.toy.oracle import edit_success, retained
from imiebench.emilie import EditSession, ip2p_edit, MODES, CONTROLS
from imiebench.core import to_uint8
from imiebench.metrics import psnr
from harness import read_metrics, write_json, command_line, toy_fingerprint

warnings.filterwarnings('ignore')
OBJECT_KINDS = ('recolor', 'reshape', 'resize', 'add', 'remove', 'move')

def scene(i, off): return random_scene(np.random.default_rng(HELDOUT_SEED + off + i))

def _ci(values):
    "Mean with a 95 % bootstrap interval (bench.report.bootstrap_ci): one value per case (edit, scene), or a list per case (NaN ignored)."
    from imiebench.bench.report import bootstrap_ci
    iv = bootstrap_ci({i: v if isinstance(v, list) else [v] for i, v in enumerate(values)}); return [round(iv.mean, 3), round(iv.lo, 3), round(iv.hi, 3)]

def part_drift(ip, n, steps, iters=20, marks=(4, 8, 12, 16, 20)):
    "PSNR to the input after k null-instruction edits (image / latent iteration) or k VAE round trips."
    variants = {'image iteration': dict(mode='image'), 'latent iteration (global f)': dict(mode='latent', rescale='global'),
                'latent iteration (per-channel f)': dict(mode='latent', rescale='channel')}
    out = {k: [] for k in list(variants) + ['VAE round trips']}
    for i in tqdm(range(n), desc='drift'):
        img = render(scene(i, 110_000))
        for name, kw in variants.items():
            s = EditSession(ip, img, num_inference_steps=steps, progress=False, seed=i, **kw)
            for _ in range(iters): s.edit('')
            out[name].append([psnr(s.images[k], img) for k in marks])
        y = img
        row = []
        for k in range(1, iters + 1):
            y = to_uint8(ip.decode(ip.encode(y)))[0]
            if k in marks: row.append(psnr(y, img))
        out['VAE round trips'].append(row)
    res = {k: dict(zip(map(str, marks), np.mean(v, 0).round(2).tolist())) for k, v in out.items()}
    return dict(n=n, steps=steps, psnr_to_input=res)

def part_sequences(ip, n, steps):
    """Oracle success of each of 4 chained edits at the end of the sequence (retention), of the last edit, and of each edit when
    made, per mode, as [mean, 95 % interval] over scenes; and the paired difference latent − image iteration per scene."""
    out, per_scene = {}, {}
    seqs = [edit_sequence(scene(i, 120_000), np.random.default_rng(HELDOUT_SEED + 130_000 + i), n=4) for i in range(n)]
    for mode in MODES:
        ret, last, each = [], [], []
        for i, seq in enumerate(tqdm(seqs, desc=f'sequences ({mode})')):
            s = EditSession(ip, seq[0].source_image, mode=mode, num_inference_steps=steps, progress=False, seed=i)
            each.append([float(edit_success(s.edit(e.instruction).image, e)) for e in seq])
            ret.append([np.nan if (v := retained(s.image, seq, k)) is None else float(v) for k in range(4)])
            last.append(float(edit_success(s.image, seq[-1])))
        r = np.array(ret)
        per_scene[mode] = dict(retained_at_end=np.nanmean(r, 1).tolist(), last_edit_success=last)  # a scene with nothing to retain: NaN
        out[mode] = dict(retained_at_end_per_edit=np.nanmean(r, 0).round(3).tolist(), retained_at_end=_ci(ret),
                         last_edit_success=_ci(last), success_when_made=_ci(each))
    diff = {k: _ci([a - b for a, b in zip(per_scene['latent'][k], per_scene['image'][k])]) for k in ('retained_at_end', 'last_edit_success')}
    return dict(n=n, steps=steps, modes=out, latent_minus_image=diff,
                note='values are [mean, 95 % interval low, high] over scenes (bootstrap over scenes); latent_minus_image is paired per scene')

def part_control(ip, n, steps):
    "Single object edits with the ground-truth change mask as the user mask: leakage outside, success inside."
    es = [random_edit(scene(i, 140_000), np.random.default_rng(HELDOUT_SEED + 150_000 + i), kinds=OBJECT_KINDS) for i in range(n)]
    out = {}
    for control in (None,) + CONTROLS:
        po, ok = [], []
        for i, e in enumerate(tqdm(es, desc=f'control ({control})')):
            r = ip2p_edit(ip, e.source_image, e.instruction, num_inference_steps=steps, mask=None if control is None else e.mask,
                          control=control or 'null', generator=torch.Generator().manual_seed(i), progress=False)
            o = to_uint8(r.image)[0]; po.append(psnr(o, e.source_image, e.mask < .5)); ok.append(edit_success(o, e))
        out[control or 'no mask'] = dict(psnr_outside_db=_ci(po), success=_ci([float(v) for v in ok]))
    return dict(n=n, steps=steps, kinds=OBJECT_KINDS, controls=out, note='values are [mean, 95 % interval low, high] over edits')

def part_automask(ip, n, steps, thresholds=(0.3, 0.5, 0.7)):
    """Auto-localised EMILIE: IoU of `instruction_mask` with the ground-truth change mask, and single-edit success / PSNR outside
    the change with no mask, the user (ground-truth) mask and the inferred mask (gradient control 'null'), all with 95 % intervals."""
    from imiebench.emilie import instruction_mask
    es = [random_edit(scene(i, 140_000), np.random.default_rng(HELDOUT_SEED + 150_000 + i), kinds=OBJECT_KINDS) for i in range(n)]
    src = np.stack([e.source_image for e in es]); ins = [e.instruction for e in es]; gt = np.stack([e.mask > .5 for e in es])
    gens = lambda off: [torch.Generator().manual_seed(off + i) for i in range(n)]
    am = instruction_mask(ip, src, ins, n=10, generator=gens(10_000))
    iou = {}
    for th in thresholds:
        pr = (am.soft_image[:, 0] > th).cpu().numpy()
        iou[str(th)] = _ci([(p & g).sum() / max(1, (p | g).sum()) for p, g in zip(pr, gt)])
    out = {}
    for name, mask in (('no mask', None), ('user mask', torch.from_numpy(gt[:, None].astype(np.float32))), ('auto mask', am.mask)):
        r = ip2p_edit(ip, src, ins, num_inference_steps=steps, mask=mask, control='null', generator=gens(0), progress=False)
        o = to_uint8(r.image)
        out[name] = dict(success=_ci([float(edit_success(x, e)) for x, e in zip(o, es)]),
                         psnr_outside_db=_ci([psnr(x, e.source_image, e.mask < .5) for x, e in zip(o, es)]))
    return dict(n=n, steps=steps, kinds=OBJECT_KINDS, mask_n=10, iou_by_threshold=iou, edits=out,
                note='values are [mean, 95 % interval low, high] over edits')

def part_speed(ip, steps, reps=10):
    "Per-edit wall time: a latent-mode session edit vs diffusers' IP2P pipeline, same weights, steps and scheduler."
    img = render(scene(0, 160_000))
    pipe = ip.pipeline(); pipe.set_progress_bar_config(disable=True)
    s = EditSession(ip, img, num_inference_steps=steps, progress=False); s.edit('make the background blue')  # warm-up + a z0 to iterate on
    pipe('make the background blue', image=PIL.Image.fromarray(img), num_inference_steps=steps)
    t_s, t_d = [], []
    for i in range(reps):  # interleaved, so both see the same machine load
        t = time.perf_counter(); s.edit('make the background red'); t_s.append(time.perf_counter() - t); s.undo()
        t = time.perf_counter()
        pipe('make the background red', image=PIL.Image.fromarray(s.image), num_inference_steps=steps, generator=torch.Generator().manual_seed(i))
        t_d.append(time.perf_counter() - t)
    ms, md = float(np.median(t_s)), float(np.median(t_d))
    return dict(steps=steps, reps=reps, session_edit_s=round(ms, 4), diffusers_pipeline_s=round(md, 4), ratio=round(ms / md, 3))

def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument('--parts', default='drift,sequences,control,speed')
    ap.add_argument('--n-drift', type=int, default=10); ap.add_argument('--n-seq', type=int, default=40)
    ap.add_argument('--n-control', type=int, default=40); ap.add_argument('--steps', type=int, default=20)
    ap.add_argument('--out', default='benchmarks/results/emilie.json')
    a = ap.parse_args()
    ip = load_toy('ip2p'); res = {}
    try: old = read_metrics(a.out, {})
    except ValueError: old = {}
    for part in a.parts.split(','):
        t = time.time()
        if part == 'drift': r = part_drift(ip, a.n_drift, a.steps)
        elif part == 'sequences': r = part_sequences(ip, a.n_seq, a.steps)
        elif part == 'control': r = part_control(ip, a.n_control, a.steps)
        elif part == 'speed': r = part_speed(ip, a.steps)
        elif part == 'automask': r = part_automask(ip, a.n_control, a.steps)
        else: raise SystemExit(f"unknown part {part!r}")
        r['seconds'] = round(time.time() - t, 1); res[part] = r
        print(json.dumps({part: r}), flush=True)
        write_json(a.out, command=command_line(), fingerprint=toy_fingerprint('ip2p'), metrics=old | res)  # after every part: an interrupted run keeps the parts it finished
    if 'drift' in res:
        d = res['drift']['psnr_to_input']; print('SUMMARY drift PSNR@20:', {k: v['20'] for k, v in d.items()})
    if 'sequences' in res:
        sq = res['sequences']; print('SUMMARY sequences:', {m: (v['retained_at_end'], v['last_edit_success']) for m, v in sq['modes'].items()},
                                    '(retained at end, last-edit success); latent − image:', sq['latent_minus_image'])
    if 'control' in res: print('SUMMARY control:', {k: (v['psnr_outside_db'], v['success']) for k, v in res['control']['controls'].items()})
    if 'automask' in res:
        am = res['automask']; print('SUMMARY automask: IoU@0.5', am['iou_by_threshold']['0.5'], {k: (v['success'], v['psnr_outside_db']) for k, v in am['edits'].items()})
    if 'speed' in res: print(f"SUMMARY speed: session edit / diffusers IP2P = {res['speed']['ratio']:.2f}x (goal <= 1.0)")

if __name__ == '__main__': main()
