"""Commit-sized milestone of a scripts/train_instruction_unet.py run: its EMA snapshot as an int8 delta to the caption
initialisation, and a .json saying which runs made it (so that training resumes from it and curves place it).

    .venv/bin/python scripts/save_milestone.py runs/ip2p_caption_cont/ckpt/keep_006000.safetensors scripts/checkpoints/ip2p_caption_ema
    .venv/bin/python scripts/save_milestone.py runs/ip2p_caption_cont/unet scripts/checkpoints/ip2p_caption_ema   # the run's end

Writes NAME.safetensors (`training.int8_delta` to `ip2p_unet_from(<the zoo's caption UNet>)`, about 5 MB) and NAME.json:
`runs` (each run's name, args, steps and samples, oldest first), `step` and `samples` (all runs together), and the
largest absolute error of the delta. Resume with `train_instruction_unet.py OUT --init NAME.safetensors`.
"""
import json, sys, torch
from pathlib import Path
from safetensors.torch import load_file, save_file
from imiebench.toy.zoo import load_toy, ip2p_unet_from
from imiebench.training import int8_delta, from_int8_delta

def snapshot_file(snap: Path) -> Path:
    "The weights file of `snap`: a `keep_<step>.safetensors`, or a run's final `unet` folder."
    return snap / 'diffusion_pytorch_model.safetensors' if snap.is_dir() else snap

def load_snapshot(snap: Path, caption_unet) -> torch.nn.Module:
    "A snapshot's instruction UNet (float32): fp16 weights (`keep_<step>` file or final `unet` folder), or an int8 delta to `ip2p_unet_from(caption_unet)` (a milestone)."
    u = ip2p_unet_from(caption_unet.float()); w = load_file(snapshot_file(snap))
    if any(k.endswith('.q') for k in w): w = from_int8_delta(w, {k: v.float() for k, v in u.state_dict().items()})
    u.load_state_dict({k: v.float() for k, v in w.items()}); return u.eval()

def run_chain(snap: Path) -> list[dict]:
    "The runs that made snapshot `snap` (`<run>/ckpt/keep_<step>.safetensors`, or `<run>/unet` at the run's end), oldest first."
    if snap.is_dir(): run, step = snap.parent, torch.load(snap.parent / 'ckpt' / 'last.pt', map_location='cpu', weights_only=False)['step']
    else: run, step = snap.parent.parent, int(snap.stem.split('_')[1])
    args = json.loads((run / 'args.json').read_text())
    before = args.pop('init_runs', [])  # listed once, before this run (not again inside its arguments)
    return before + [dict(run=run.name, args=args, steps=step, samples=step * args['batch_size'])]

if __name__ == '__main__':
    snap, out = Path(sys.argv[1]), Path(sys.argv[2])
    base = {k: v.float() for k, v in ip2p_unet_from(load_toy('sd').unet.float()).state_dict().items()}
    w = {k: v.float() for k, v in load_file(snapshot_file(snap)).items()}
    q = int8_delta(w, base); back = from_int8_delta(q, base)
    err = max((back[k] - v).abs().max().item() for k, v in w.items())
    runs = run_chain(snap)
    out.parent.mkdir(parents=True, exist_ok=True); save_file(q, str(out.with_suffix('.safetensors')))
    meta = dict(run=runs[-1]['run'], step=sum(r['steps'] for r in runs), samples=sum(r['samples'] for r in runs), runs=runs,
                max_abs_error=round(err, 4))
    out.with_suffix('.json').write_text(json.dumps(meta, indent=1))
    print(f"{out.with_suffix('.safetensors')}: {meta['samples']:,} samples, max error {err:.4f}")
