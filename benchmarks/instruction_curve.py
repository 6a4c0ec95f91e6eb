"""Learning curve of the toy instruction UNet: held-out edit success and PSNR outside the change against training
samples seen, for every fp16 snapshot (`keep_<step>.safetensors`, and the final `unet`) of the given runs of
scripts/train_instruction_unet.py.

    OMP_NUM_THREADS=1 .venv/bin/python benchmarks/instruction_curve.py runs/ip2p_caption runs/ip2p_scratch [--n 100] [--every 1000]

Adds to benchmarks/results/instruction_curve.json (snapshots already evaluated there with the same n and steps are
skipped; points without their own `n` or `steps` used the file's). A run started from a committed milestone
(`--init scripts/checkpoints/<name>.safetensors`) counts the milestone's samples (`init_runs` in its args.json) first. `--steps 50 --text-cfg 7.5 --n 200` is the gate's
setting (`toyzoo_gates.py --parts instruction`).
"""
import argparse, json, time
from pathlib import Path
import torch
from safetensors.torch import load_file
from harness import gate_instruction, write_json, read_metrics, command_line, weights_fingerprint, toy_weights
from imiebench.toy.zoo import load_toy, ip2p_unet_from

p = argparse.ArgumentParser(); p.add_argument('runs', nargs='+'); p.add_argument('--n', type=int, default=100)
p.add_argument('--every', type=int, default=1000, help='evaluate snapshots whose step is a multiple of this')
p.add_argument('--steps', type=int, default=20); p.add_argument('--text-cfg', default='3,7.5')
a = p.parse_args(); torch.set_grad_enabled(False)
f = Path('benchmarks/results/instruction_curve.json')
res = read_metrics(f) or dict(n=a.n, steps=a.steps, image_cfg=1.5, points=[])
done = {(q['run'], q['step'], q['text_cfg'], q.get('n', res['n']), q.get('steps', res['steps'])) for q in res['points']}
for run in map(Path, a.runs):
    args = json.loads((run / 'args.json').read_text())
    start = sum(r['samples'] for r in args.get('init_runs', []))  # a run continued from a milestone starts at its samples
    snaps = {int(f.stem.split('_')[1]): f for f in (run / 'ckpt').glob('keep_*.safetensors')}
    if (run / 'unet').exists():  # the run's end (its last step need not be a multiple of --every)
        snaps[torch.load(run / 'ckpt' / 'last.pt', map_location='cpu', weights_only=False)['step']] = run / 'unet' / 'diffusion_pytorch_model.safetensors'
    for step, snap in sorted(snaps.items()):
        if step % a.every and snap.parent.name != 'unet': continue
        u = ip2p_unet_from(load_toy('sd').unet.float()); u.load_state_dict({k: v.float() for k, v in load_file(snap).items()}); u.eval()
        for s_t in map(float, a.text_cfg.split(',')):
            if (run.name, step, s_t, a.n, a.steps) in done: continue
            t0 = time.time(); r = gate_instruction(a.n, steps=a.steps, text_cfg=s_t, image_cfg=1.5, unet=u)
            pt = dict(run=run.name, init=args['init'], n=a.n, steps=a.steps, edit_weight=args.get('edit_weight', 0.0), step=step,
                      samples=start + step * args['batch_size'], text_cfg=s_t,
                      edit_success=r['edit_success'], psnr_outside=r['psnr_outside_mask'], per_kind=r['per_kind'], eval_seconds=round(time.time() - t0))
            res['points'].append(pt); write_json(f, command=command_line(), fingerprint=weights_fingerprint(u, *toy_weights('sd')), metrics=res); print(json.dumps(pt), flush=True)
