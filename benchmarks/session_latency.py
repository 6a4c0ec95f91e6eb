"""EMILIE session widget: how soon *edit* shows its preview and when the exact edit replaces it, in-process on the toy zoo.

    OMP_NUM_THREADS=1 .venv/bin/python benchmarks/session_latency.py [--steps 10 20] [--edits 6] [--repeats 3]

For `--edits` held-out single edits of the shapes world (every kind, the instruction model of the shipped toy zoo),
per number of steps: a fresh session widget on the edit's scene, *edit* clicked; the widget's `.frames` say when the
preview (the same edit with `emilie.preview_steps` of the steps) and the exact edit were pushed to the browser,
in seconds after the click. Alone, without the widget and interleaved with it: `EditSession.preview` and
`EditSession.edit` on the same edit (an edit's full recompute). Each edit runs `--repeats` times and keeps its
fastest time of each kind (a shared machine only ever adds time); reported as medians over the edits:

- `preview_shown_s`: the click until the preview is on screen; `exact_shown_s`: until the exact edit replaces it;
- `full_recompute_s`: one exact edit alone; `preview_alone_s`: one preview alone;
- `speedup`: full recompute / preview shown (the preview goal is ≥ 5× and ≤ 0.3 s: `goal_met`);
- `exact_delay`: exact shown / full recompute, the price of showing a preview first (the preview is computed too).

Writes benchmarks/results/session_latency.json and prints it."""
import argparse, statistics, time, warnings
from pathlib import Path
import numpy as np
import torch
from harness import write_json, command_line, toy_fingerprint

PREVIEW_GOAL = dict(max_s=0.3, min_speedup=5.0)  # the interactive previews' goal (as for the explorers' sliders)
KINDS = ['recolor', 'background', 'add', 'remove', 'reshape']

def edits(n: int) -> list:
    "`n` held-out single edits of the shapes world, every kind in turn."
    from imiebench.toy.zoo import HELDOUT_SEED
    from imiebench.toy.world import random_scene, random_edit
    return [random_edit(random_scene(np.random.default_rng(HELDOUT_SEED + 500 + i)), np.random.default_rng(HELDOUT_SEED + 600 + i),
                        kinds=[KINDS[i % len(KINDS)]]) for i in range(n)]

def once(ip, e, steps: int) -> dict:
    "One edit's times: alone (an edit, a preview) and in a fresh widget (the preview and the exact edit shown)."
    from imiebench.emilie import EditSession
    from imiebench.widgets.session import session_widget
    s = EditSession(ip, e.source_image, num_inference_steps=steps, progress=False)
    t0 = time.perf_counter(); s.edit(e.instruction); full = time.perf_counter() - t0; s.undo()
    t0 = time.perf_counter(); s.preview(e.instruction); alone = time.perf_counter() - t0
    w = session_widget(EditSession(ip, e.source_image, num_inference_steps=steps, progress=False)); c = w.controls
    c['text'].value = e.instruction; c['run'].click()
    (k0, _, pre), (k1, _, exact) = w.frames
    assert (k0, k1) == ('preview', 'exact') and 'color:#b00' not in c['status'].value, (w.frames, c['status'].value)
    return dict(full=full, alone=alone, pre=pre, exact=exact)

def measure(ip, es: list, steps: int, repeats: int=3) -> dict:
    "Medians over `es` (each edit's fastest of `repeats`: the machine may be shared) of the widget's preview and exact times and of a preview and an edit alone."
    from imiebench.emilie import preview_steps
    rows = []
    for e in es:
        runs = [once(ip, e, steps) for _ in range(repeats)]
        rows.append({k: min(r[k] for r in runs) for k in runs[0]})
    m = lambda k: statistics.median(r[k] for r in rows)
    out = dict(steps=steps, preview_steps=preview_steps(steps), edits=len(rows), repeats=repeats, preview_shown_s=round(m('pre'), 4),
               exact_shown_s=round(m('exact'), 4), full_recompute_s=round(m('full'), 4), preview_alone_s=round(m('alone'), 4),
               speedup=round(m('full') / m('pre'), 2), exact_delay=round(m('exact') / m('full'), 2))
    return out | dict(goal_met=out['preview_shown_s'] <= PREVIEW_GOAL['max_s'] and out['speedup'] >= PREVIEW_GOAL['min_speedup'])

def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    p.add_argument('--steps', type=int, nargs='+', default=[10, 20], help='steps of an edit, one measurement each (default: 10 20)')
    p.add_argument('--edits', type=int, default=6, help='held-out toy edits per measurement (default: 6)')
    p.add_argument('--repeats', type=int, default=3, help="runs of each edit, the fastest kept (default: 3)")
    p.add_argument('--out', default=str(Path(__file__).parent / 'results' / 'session_latency.json'), help='the JSON written (default: %(default)s)')
    a = p.parse_args(argv)
    warnings.filterwarnings('ignore')
    from imiebench.toy.zoo import load_toy
    ip, es = load_toy('ip2p'), edits(a.edits)
    measure(ip, es[:1], min(a.steps), 1)  # warm-up
    res = dict(preview_goal=PREVIEW_GOAL, torch_threads=torch.get_num_threads(), by_steps=[measure(ip, es, n, a.repeats) for n in a.steps])
    path = write_json(a.out, command=command_line(), fingerprint=toy_fingerprint('ip2p'), metrics=res)
    import json; print(json.dumps(res, indent=1)); print('wrote', path)
    return res

if __name__ == '__main__': main()
