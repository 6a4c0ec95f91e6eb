"""Why the element decoders fail: an ablation on the toy world. Each arm trains a decoder on the shipped, frozen
content features for the same wall-clock budget (1 thread), then is scored on held-out element edits
(recon, move, delete, shrink ×0.6, grow ×1.5, overlap; n per task, 95 % Wilson intervals).

    OMP_NUM_THREADS=1 .venv/bin/python benchmarks/elements_ablation.py [--minutes 7] [--n 100] [--arms light_recon,light_edits,canvas_recon,canvas_edits]

Arms: the decoder ('light': grid queries cross-attending to element tokens, the shipped architecture; 'canvas':
features painted where each element lies, then a conv U-Net) × the training pool ('recon': reconstructions only;
'edits': the ground truth of every element edit). Training is resumable (runs/elements_ablation/<arm>); an arm whose
evaluation exists is not run again. Writes benchmarks/results/elements_ablation.json.
"""
import argparse, json, pathlib, warnings
import torch
from harness import write_json, command_line, weights_fingerprint
from elements_bench import heldout_tasks, score_outputs
from imiebench.training import TrainConfig
from imiebench.elements.decoders import ToyElements, decode_canvas, decode_light
from imiebench.elements.model import LightDecoder
from imiebench.elements.decoders import CanvasDecoder
from imiebench.toy.elements import train_decoder, load_toy_elements, ELEMENT_TASKS

warnings.filterwarnings('ignore')
ARMS = {'light_recon': ('light', ('recon',)), 'light_edits': ('light', ELEMENT_TASKS),
        'canvas_recon': ('canvas', ('recon',)), 'canvas_edits': ('canvas', ELEMENT_TASKS)}
LR = {'light': 5e-4, 'canvas': 1e-3}  # each architecture's learning rate (the light decoder's is the shipped recipe's)

def run_arm(name, minutes, n, tasks, work):
    dec, kinds = ARMS[name]; w = work / name; f = w / 'eval.json'
    if f.exists(): return json.loads(f.read_text())
    cfg = TrainConfig(steps=100_000, batch_size=16, lr=LR[dec], warmup=50, weight_decay=0.01, ckpt_every=50, time_budget=minutes * 60)
    summ = train_decoder(w, dec, kinds, n_pool=2000, cfg=cfg, progress=False)
    base = load_toy_elements(diffusion=False); model = LightDecoder() if dec == 'light' else CanvasDecoder()
    model.load_state_dict(torch.load(w / f'{dec}.pt')); model.eval()
    m = ToyElements(base.encoder, model if dec == 'light' else base.light, canvas=model if dec == 'canvas' else None)
    fn = (lambda els: decode_light(m, els)) if dec == 'light' else (lambda els: decode_canvas(m, els))
    res = dict(decoder=dec, kinds=list(kinds), steps=summ['steps'], seconds=summ['seconds'], final_loss=summ['final_loss'],
               loss_curve=summ['loss_curve'], tasks=score_outputs(fn, tasks), fingerprint=weights_fingerprint(model))
    f.write_text(json.dumps(res)); return res

if __name__ == '__main__':
    ap = argparse.ArgumentParser()
    ap.add_argument('--minutes', type=float, default=7.); ap.add_argument('--n', type=int, default=100)
    ap.add_argument('--arms', default=','.join(ARMS)); ap.add_argument('--work', default='runs/elements_ablation')
    a = ap.parse_args(); torch.set_num_threads(1); work = pathlib.Path(a.work)
    base = load_toy_elements(diffusion=False); tasks = heldout_tasks(base.encoder, a.n)
    out = {}
    for arm in a.arms.split(','):
        out[arm] = run_arm(arm, a.minutes, a.n, tasks, work)
        d = dict(n_per_task=a.n, minutes_per_arm=a.minutes, threads=1, encoder='shipped content encoder, frozen', arms=out)
        write_json('elements_ablation.json', command=command_line(), fingerprint=weights_fingerprint(base.encoder), metrics=d)
        print(f"[{arm}] {out[arm]['steps']} steps: " + ', '.join(f"{k} {v['success_and_preserved']['rate']:.2f}" for k, v in out[arm]['tasks'].items()), flush=True)
