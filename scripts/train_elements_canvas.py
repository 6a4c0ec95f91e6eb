"""Train the shipped canvas decoder of the element models (the recipe the ablation picked: canvas decoder, training pool of
every element edit, frozen shipped content encoder), resumable, with fp16 milestones every 500 steps, then ship it.

    nohup env OMP_NUM_THREADS=1 .venv/bin/python scripts/train_elements_canvas.py [--minutes 40] [--threads 1] [--from runs/elements_ablation/canvas_edits | --init shipped] > runs/elements_canvas.log 2>&1 &

`--from` starts from an ablation arm's checkpoint (its minutes count toward `--minutes`); `--init shipped` (or a weights
file) starts a fresh run from the zoo's canvas decoder, so training continues the shipped weights (milestone steps count
from there). Training writes runs/elements_canvas/canvas.pt and does not ship it: compare it first
(`benchmarks/elements_bench.py --parts tasks --canvas runs/elements_canvas/canvas.pt`), then `--ship` writes it into the zoo (fp16).
`--speckle-only --init <weights>` trains only the speckle head (the scale of what the mean cannot predict, e.g. a random
background texture) on the frozen decoder `<weights>`; a decoder shipped with the head samples with `generator=`.
"""
import argparse, shutil, pathlib
import torch
from imiebench.training import TrainConfig
from imiebench.toy.elements import train_decoder, save_canvas, ELEMENT_TASKS

if __name__ == '__main__':
    ap = argparse.ArgumentParser()
    ap.add_argument('--minutes', type=float, default=40.); ap.add_argument('--work', default='runs/elements_canvas')
    ap.add_argument('--from', dest='src', default=None); ap.add_argument('--ship', action='store_true')
    ap.add_argument('--init', default=None, help="'shipped' or a weights file: start a fresh run from these weights")
    ap.add_argument('--threads', type=int, default=1, help='CPU threads of torch (2 trains 1.65× faster on a 2-core machine; leave one core free for scoring milestones)')
    ap.add_argument('--lr', type=float, default=1e-3)
    ap.add_argument('--speckle-only', action='store_true', help="train only a speckle head on the frozen decoder given by --init (`CanvasDecoder(speckle=True)`)")
    ap.add_argument('--budget', default='stop', help="'stop': train until the minutes are spent (a resumed run continues); 'fit': fit a cosine length to them")
    a = ap.parse_args(); torch.set_num_threads(a.threads); work = pathlib.Path(a.work)
    if a.src and not (work / 'ckpt_canvas').exists():
        shutil.copytree(a.src, work, dirs_exist_ok=True)
        if (work / 'ckpt').exists(): (work / 'ckpt').rename(work / 'ckpt_canvas')  # an arm of an older ablation script
    if not a.ship:
        cfg = TrainConfig(steps=100_000, batch_size=16, lr=a.lr, warmup=50, weight_decay=0.01, ckpt_every=50, time_budget=a.minutes * 60, keep_every=500, budget=a.budget)
        s = train_decoder(work, 'canvas', ELEMENT_TASKS, n_pool=2000, cfg=cfg, init=a.init, speckle_only=a.speckle_only, progress=False)
        print(f"canvas decoder: {s['steps']} steps, final loss {s['final_loss']:.4f}; not shipped (compare, then --ship)", flush=True)
    else: print('shipped to', save_canvas(work), flush=True)
