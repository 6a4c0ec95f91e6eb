"""Ship a snapshot of scripts/train_instruction_unet.py into the zoo as the toy instruction UNet.

    .venv/bin/python scripts/ship_instruction_unet.py runs/ip2p_caption_cont/ckpt/keep_009000.safetensors
    .venv/bin/python scripts/ship_instruction_unet.py runs/ip2p_caption_cont/unet   # the run's end
    .venv/bin/python scripts/ship_instruction_unet.py scripts/checkpoints/ip2p_caption_cont2_ema.safetensors

The snapshot (fp16 EMA weights — a `keep_<step>` file or the run's final `unet` folder — or an int8 delta such as the committed milestones) is loaded into the caption UNet's
architecture widened by `ip2p_unet_from`, which must be the shipped instruction UNet's (same config, the same text
encoder and VAE: the zoo's `sd` ones); it is written in float16 to `zoo/ip2p/unet`. What it replaces goes to
benchmarks/results/zoo_history.json (`ip2p_earlier`; the package's zoo.json describes only what ships); zoo.json records the chain of runs that made it: each run's `args.json`, steps and samples, back to
the caption UNet (`save_milestone.run_chain`: a run started from a committed milestone lists the runs before it).
"""
import json, sys
from dataclasses import asdict
from pathlib import Path
from imiebench.toy.zoo import zoo_dir, load_toy, InstructionRecipe
from save_milestone import run_chain, load_snapshot

snap = Path(sys.argv[1])
if not snap.exists(): raise SystemExit(f"no snapshot at {snap}")
u = load_snapshot(snap, load_toy('sd').unet)
shipped = load_toy('ip2p')
mismatch = {k for k, v in u.config.items() if k != '_name_or_path' and shipped.unet.config.get(k) != v}
if mismatch: raise SystemExit(f"the snapshot's UNet differs from the shipped one in {sorted(mismatch)}")

if snap.is_dir() or snap.name.startswith('keep_'): runs = run_chain(snap)
else: runs = json.loads(snap.with_suffix('.json').read_text())['runs']  # a committed milestone (scripts/save_milestone.py)
u.register_to_config(_name_or_path=runs[-1]['run'])  # not this machine's path to the caption UNet
u.half().save_pretrained(zoo_dir() / 'ip2p' / 'unet')
man = json.loads((zoo_dir() / 'zoo.json').read_text())
earlier = {k: man.pop(k) for k in ('ip2p', 'ip2p_continued', 'ip2p_identity') if k in man}
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / 'benchmarks')); from harness import read_metrics, write_json, command_line  # noqa: E402
hist = read_metrics('zoo_history.json', {}); hist.setdefault('ip2p_earlier', []).append(earlier)
write_json('zoo_history.json', command=command_line(), fingerprint=None, metrics=hist)  # the replaced entries' records, no measurement
man['ip2p'] = dict(recipe=asdict(InstructionRecipe()), # the first run's (the zoo's default); each later run's arguments are in `runs`
                   runs=runs, samples=sum(r['samples'] for r in runs), snapshot=str(snap),
                   note='InstructPix2Pix initialisation (every weight from the caption UNet, conv_in widened with the image '
                        'channels), trained on CPU with scripts/train_instruction_unet.py (the runs above, in order), '
                        'then scripts/ship_instruction_unet.py')
(zoo_dir() / 'zoo.json').write_text(json.dumps(man, indent=1))
print(f"shipped {snap} ({man['ip2p']['samples']:,} samples in {len(runs)} runs)")
