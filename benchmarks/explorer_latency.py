"""Interactive latency: how long each slider move of the DiffEdit explorer and of the REED round-trip slider takes,
its preview and its exact result, as ratios to a full recompute measured in the same run, and the wall time of
`imiebench --help`.

    OMP_NUM_THREADS=1 .venv/bin/python benchmarks/explorer_latency.py [--steps 30] [--moves 4] [--label after] [--session]

Every slider is moved `--moves` times to values not shown before (so no move is answered from a memo of a
previous value). A move shows a preview at once and the exact result when the slider rests (`slider_view(preview=)`;
here, without an event loop, right after the preview): `preview` is `view.preview_seconds` (what the hand sees while
it moves), the exact latency `view.seconds` (what the reader waits for once it rests); both are the time `slider_view`
spends in the explorer's functions. `computed` counts the mask inferences, inversions and decodes the moves needed.
The goal for a preview is ≤ 0.3 s and ≥ 5× faster than a full recompute (`goal_met`). The round-trip slider's full
recompute is the k round trips of both VAEs from the image, measured at each k it is moved to. `--session` also times
the EMILIE session widget. Writes benchmarks/results/explorer_latency_<label>.json and prints the JSON plus a summary.
"""
import argparse, json, os, statistics, subprocess, sys, time, warnings
from pathlib import Path
import numpy as np, torch
from harness import write_json, command_line, toy_fingerprint

def help_seconds(repeats: int=3) -> float:
    "Best-of-`repeats` wall time of `imiebench --help` in a fresh process."
    exe = Path(sys.executable).parent / 'imiebench'
    ts = []
    for _ in range(repeats):
        t0 = time.perf_counter(); subprocess.run([str(exe), '--help'], check=True, capture_output=True); ts.append(time.perf_counter() - t0)
    return min(ts)

PREVIEW_GOAL = dict(max_s=0.3, min_speedup=5.0)  # a preview within 0.3 s, ≥ 5× faster than a full recompute

def timing(ts: list, full_s: float) -> dict:
    "Seconds of each move, their median, and the median as a ratio to (and speed-up over) a full recompute."
    m = statistics.median(ts)
    return dict(seconds=[round(t, 4) for t in ts], median_s=round(m, 4), ratio_to_full=round(m / full_s, 3), speedup=round(full_s / m, 2))

def with_goal(t: dict) -> dict:
    return t | dict(goal_met=t['median_s'] <= PREVIEW_GOAL['max_s'] and t['speedup'] >= PREVIEW_GOAL['min_speedup'])

def roundtrip_latency(ks=(5, 12, 20, 25), back=(3, 10)) -> dict:
    "REED round-trip slider (vanilla and REED toy VAEs): moves to new k (trips made incrementally), then back (kept)."
    from imiebench.toy.zoo import load_toy_vae
    from imiebench.toy.reed import toy_data, load_toy_reed_vae
    from imiebench.widgets.explorers import roundtrip_explorer, RoundTripCache
    vaes, x = {'vanilla': load_toy_vae(), 'REED': load_toy_reed_vae()}, toy_data(4, 4, 'test')[:1]
    def full(k):  # a full recompute: k round trips of each VAE from the image, and the PSNR
        c = RoundTripCache(vaes, x, value_range=(-1, 1)); t0 = time.perf_counter()
        for n in vaes: c.psnr(n, k)
        return time.perf_counter() - t0
    w = roundtrip_explorer(vaes, x, value_range=(-1, 1)); out = {}
    for part, moves in (('forward', ks), ('back', back)):
        pre, ex, fulls = [], [], []
        for k in moves:
            w.sliders['k'].value = k; assert w.error is None and w.preview_error is None, (w.error, w.preview_error)
            pre.append(w.preview_seconds); ex.append(w.seconds); fulls.append(full(k))
        f = statistics.median(fulls)
        out[part] = dict(k=list(moves), full_recompute_s=[round(t, 4) for t in fulls], preview=with_goal(timing(pre, f)), exact=timing(ex, f))
    out['trips_made'] = w.cache.counts['trips']
    return out

MOVES = dict(threshold=[0.45, 0.4, 0.6, 0.35, 0.55, 0.3], guidance_scale=[6.0, 4.0, 7.5, 3.0, 8.5, 2.5],
             r=[0.6, 0.8, 0.5, 0.9, 0.65, 0.75], strength=[0.4, 0.6, 0.3, 0.7, 0.45, 0.55])

def session_latency(steps: int=10) -> dict:
    "EMILIE session widget: an edit at a new guidance (computed in full) against an undo then the same edit (re-used)."
    from imiebench.toy.zoo import load_toy
    from imiebench.toy.world import Scene, Obj, render
    from imiebench.emilie import EditSession
    from imiebench.widgets.session import session_widget
    image = render(Scene([Obj('circle', 'red', 'large', 'top left'), Obj('square', 'green', 'small', 'center')], 'blue'), 64)
    w = session_widget(EditSession(load_toy('ip2p'), image, num_inference_steps=steps, progress=False)); c = w.controls
    def click(b):
        t0 = time.perf_counter(); c[b].click(); return time.perf_counter() - t0
    c['text'].value = 'make the red circle blue'
    click('run'); click('undo'); click('run')  # warm-up (the second edit is already re-used)
    redo, new, undo = [], [], []
    for g in (8.0, 9.0, 10.0):
        undo.append(click('undo')); c['s_t'].value = g; new.append(click('run'))  # another guidance: the whole edit is computed
        click('undo'); redo.append(click('run'))                                   # undo, then the same edit again: re-used
    m = statistics.median
    return dict(steps=steps, new_edit_s=round(m(new), 4), undo_then_same_edit_s=round(m(redo), 4), undo_s=round(m(undo), 4),
                same_edit_ratio_to_new=round(m(redo) / m(new), 3), counts=dict(w.counts))

def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    p.add_argument('--steps', type=int, default=30); p.add_argument('--moves', type=int, default=4)
    p.add_argument('--session', action='store_true', help='also time the EMILIE session widget (edit, undo + same edit, new guidance)')
    p.add_argument('--label', default='after'); p.add_argument('--out', default=str(Path(__file__).parent / 'results'))
    a = p.parse_args(argv)
    warnings.filterwarnings('ignore')
    help_s = help_seconds()
    import imiebench.diffedit as de
    from imiebench.widgets.explorers import edit_explorer
    from imiebench.toy.zoo import load_toy, HELDOUT_SEED
    from imiebench.toy.world import random_scene, random_edit
    sd = load_toy('sd')
    e = random_edit(random_scene(np.random.default_rng(HELDOUT_SEED + 7)), np.random.default_rng(HELDOUT_SEED + 8), kinds=['recolor'])
    args = (sd, e.source_image, e.query_caption, e.ref_caption)
    def full(**kw):  # a full recompute: mask inference, inversion, decoding (a move without the explorer's cache)
        s = dict(r=0.7, threshold=0.5, strength=0.5, guidance_scale=5.0) | kw
        t0 = time.perf_counter()
        de.diffedit(*args, num_inference_steps=a.steps, generator=torch.Generator().manual_seed(0), progress=False, **s)
        return time.perf_counter() - t0
    full(); full_s = statistics.median([full() for _ in range(3)])
    ex = edit_explorer(*args, steps=a.steps)
    first_s = ex.seconds
    res = {}
    for name, vals in MOVES.items():
        sl, start, ts, pre, notes = ex.sliders[name], ex.sliders[name].value, [], [], []
        c0, p0 = dict(ex.cache.counts), dict(ex.cache.preview_counts)
        for v in vals[:a.moves]:
            sl.value = v; assert ex.error is None and ex.preview_error is None, (ex.error, ex.preview_error)
            ts.append(ex.seconds); pre.append(ex.preview_seconds); notes.append(ex.last_preview.note)
        computed = {k: v - c0[k] for k, v in ex.cache.counts.items()}  # what the moves computed
        sl.value = start
        res[name] = timing(ts, full_s) | dict(computed=computed, preview=with_goal(timing(pre, full_s)) | dict(
            shows=sorted(set(notes)), computed={k: v - p0[k] for k, v in ex.cache.preview_counts.items()}))
    session = session_latency() if a.session else None
    rt = roundtrip_latency()
    out = dict(label=a.label, session_widget=session, steps=a.steps, moves=a.moves, full_recompute_s=round(full_s, 4), explorer_first_s=round(first_s, 4),
               sliders=res, roundtrip_slider=rt, preview_goal=PREVIEW_GOAL, help_s=round(help_s, 3), torch_threads=torch.get_num_threads(),
               omp=os.environ.get('OMP_NUM_THREADS'), note='CPU shared with other jobs; ratios are measured side by side in one run')
    Path(a.out).mkdir(parents=True, exist_ok=True)
    write_json(Path(a.out) / f'explorer_latency_{a.label}.json', command=command_line(), fingerprint=toy_fingerprint('ip2p', 'reed_vae'), metrics=out)
    print(json.dumps(out, indent=1))
    print(f"explorer_latency[{a.label}]: full recompute {full_s:.2f} s; exact move/full ratio " +
          ', '.join(f"{k} {v['ratio_to_full']:.2f}" for k, v in res.items()) + '; preview ' +
          ', '.join(f"{k} {v['preview']['median_s']:.3f} s ({v['preview']['speedup']:.0f}×)" for k, v in res.items()) +
          f"; round trips: preview {rt['forward']['preview']['median_s']:.3f} s ({rt['forward']['preview']['speedup']:.0f}×), "
          f"exact {rt['forward']['exact']['median_s']:.3f} s ({rt['forward']['exact']['speedup']:.1f}×); imiebench --help {help_s:.2f} s")

if __name__ == '__main__': main()
