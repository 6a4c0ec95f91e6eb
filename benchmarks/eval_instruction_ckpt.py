"""Evaluate a checkpoint of benchmarks/device/continue_unet.py (its EMA weights when present) on the instruction gate's held-out pairs.

    OMP_NUM_THREADS=1 .venv/bin/python benchmarks/eval_instruction_ckpt.py runs/ip2p_hard/ckpt/last.pt [100]
"""
import sys, shutil, torch, json
from pathlib import Path
from diffusers.training_utils import EMAModel
from imiebench.toy.zoo import zoo_dir, load_toy
from harness import gate_instruction
torch.set_grad_enabled(False)
ck, n = sys.argv[1], int(sys.argv[2]) if len(sys.argv) > 2 else 100
root = Path('/tmp/zoo_eval'); shutil.rmtree(root, ignore_errors=True); shutil.copytree(zoo_dir() / 'ip2p', root / 'ip2p'); shutil.copytree(zoo_dir() / 'sd', root / 'sd')  # ip2p shares sd's VAE and text encoder
b = load_toy('ip2p'); u = b.unet.float()
st = torch.load(ck, map_location='cpu', weights_only=False)
u.load_state_dict(st['model'])
if st.get('ema'):
    ema = EMAModel([p for p in u.parameters()], decay=0.999); ema.load_state_dict(st['ema']); ema.copy_to([p for p in u.parameters()])
u.half().save_pretrained(root / 'ip2p' / 'unet')
print('step', st['step'])
for s_t, s_i in ((3.0, 1.5), (7.5, 1.5)):
    r = gate_instruction(n, root, steps=20, text_cfg=s_t, image_cfg=s_i); print(json.dumps(r), flush=True)
