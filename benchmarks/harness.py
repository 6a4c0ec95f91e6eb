"""What the benchmark scripts share: where results go, how a result file is written or updated, a UNet call meter,
and the few measurements that more than one script makes (mask IoU, the instruction gate, REED's evaluation).

A script in `benchmarks/` imports it as `from harness import ...` (Python puts the script's folder on `sys.path`);
a script elsewhere puts `benchmarks/` on `sys.path` first. Nothing here writes into the package.
"""
from __future__ import annotations
import contextlib, fcntl, json, os, time
from pathlib import Path

RESULTS = Path(__file__).resolve().parent / 'results'  # every committed result file lives here


def result_path(name: str|Path) -> Path:
    "A bare file name is a file in `benchmarks/results/`; a path with a folder is taken as it is."
    p = Path(name)
    return p if p.parent != Path('.') else RESULTS / p


def write_json(name: str|Path, obj, **kw) -> Path:
    "Write `obj` as indented JSON (atomically: a reader never sees half a file); returns the path."
    p = result_path(name); p.parent.mkdir(parents=True, exist_ok=True)
    tmp = p.with_name(p.name + f'.tmp{os.getpid()}')
    tmp.write_text(json.dumps(obj, indent=1, **kw)); tmp.replace(p)
    return p


def read_json(name: str|Path, default=None):
    "The JSON in a result file, or `default` when there is none."
    p = result_path(name)
    return json.loads(p.read_text()) if p.exists() else default


@contextlib.contextmanager
def _locked(p: Path):
    "An exclusive lock for result file `p`, held in a lock file outside the repository (kept: removing it would race)."
    import hashlib, tempfile
    lock = Path(tempfile.gettempdir()) / f"imiebench-results-{hashlib.sha1(str(p.resolve()).encode()).hexdigest()[:12]}.lock"
    with open(lock, 'w') as f:
        fcntl.flock(f, fcntl.LOCK_EX)
        try: yield
        finally: fcntl.flock(f, fcntl.LOCK_UN)


def upsert_run(name: str|Path, entry: dict, key: str='key') -> Path:
    """Add `entry` to the list of runs in result file `name`, replacing the run with the same `entry[key]`
    (order kept). Safe when several processes finish at once (they take turns on one lock)."""
    p = result_path(name)
    with _locked(p):
        runs = read_json(p, [])
        i = next((j for j, r in enumerate(runs) if r.get(key) == entry[key]), None)
        if i is None: runs.append(entry)
        else: runs[i] = entry
        write_json(p, runs)
    return p


class UNetMeter:
    "Counts UNet calls, batch items and seconds inside `unet.forward` (hooks: the pipelines call the same module)."
    def __init__(self, unet):
        self.calls = self.items = 0; self.seconds = 0.0; self._t = None
        self._hooks = [unet.register_forward_pre_hook(self._pre), unet.register_forward_hook(self._post)]
    def _pre(self, mod, args):
        self._t = time.perf_counter()
    def _post(self, mod, args, out):
        self.seconds += time.perf_counter() - self._t; self.calls += 1; self.items += int(args[0].shape[0])
    def snap(self): return (self.calls, self.items, self.seconds)
    def since(self, s0):
        c, i, s = self.calls - s0[0], self.items - s0[1], self.seconds - s0[2]
        return dict(unet_calls=c, unet_items=i, unet_s=round(s, 3), s_per_item=round(s / max(i, 1), 4))
    def close(self):
        for h in self._hooks: h.remove()


KINDS = ('recolor', 'reshape', 'resize', 'add', 'remove', 'move')  # object edits (global edits are scored separately)


def iou(pred, gt) -> float:
    "IoU of two masks thresholded at 0.5."
    p, g = pred > 0.5, gt > 0.5
    return float((p & g).sum() / max(1, (p | g).sum()))


def reed_evaluate(vae, sc, ph) -> dict:
    "REED's evaluation (the ablation, the long runs, the shipped int8 decoder): image metrics after 1/5/15/25 round trips, and with brightness edits between trips."
    from imiebench.reed import roundtrips, edit_roundtrips, brighten, darken
    r = {}
    for name, x in (('scenes', sc), ('photos', ph)):
        r[name] = {str(k): v for k, v in roundtrips(vae, x, 25, (1, 5, 15, 25)).items()}
        r[name + '_edit_brightness'] = {str(k): v for k, v in edit_roundtrips(vae, x[:8], 25, (5, 15, 25), edits=(brighten, darken)).items()}
    return r


def command_line() -> str:
    "The command that is running, as one would type it from the repository root (thread count first)."
    import sys
    return f"OMP_NUM_THREADS={os.environ.get('OMP_NUM_THREADS', '')} .venv/bin/python " + ' '.join(sys.argv)


def update_parts(name: str|Path, parts: dict, command: str|None=None) -> Path:
    """Merge the measured `parts` (part name → result) into result file `name`, keeping the other parts, and record the
    command that measured each one under `commands`."""
    p = result_path(name)
    with _locked(p):
        d = read_json(p, {})
        d.update(parts); d.setdefault('commands', {}).update({k: command or command_line() for k in parts})
        write_json(p, d)
    return p


def heldout_edits(n):
    "The instruction gate's n held-out edits (scene seeds from toy.zoo.HELDOUT_SEED + 60,000)."
    import numpy as np
    from imiebench.toy.world import random_scene, random_edit
    from imiebench.toy.zoo import HELDOUT_SEED
    rng = lambda i: np.random.default_rng(HELDOUT_SEED + i)
    return [random_edit(random_scene(rng(60_000 + i)), rng(70_000 + i)) for i in range(n)]


SCHEDULERS = dict(euler_a='EulerAncestralDiscreteScheduler', euler='EulerDiscreteScheduler', ddim='DDIMScheduler', dpm='DPMSolverMultistepScheduler')

def gate_instruction(n, zoo=None, steps=50, text_cfg=7.5, image_cfg=1.5, batch=50, unet=None, vae=None, scheduler=None):
    "Edit success (with a 95 % bootstrap interval over edits, and each edit's 0/1 for paired comparisons) and PSNR outside the change on n held-out edits; `unet`, `vae`: evaluate these weights instead of the zoo's; `scheduler`: a key of `SCHEDULERS` instead of the zoo's sampler (Euler ancestral)."
    import diffusers
    import numpy as np, torch, PIL.Image
    from imiebench.models import make_scheduler
    from imiebench.toy.oracle import edit_success
    from imiebench.toy.zoo import load_toy
    from imiebench.bench.report import bootstrap_ci
    from imiebench.metrics import psnr
    b = load_toy('ip2p', root=zoo)
    if unet is not None: b.unet = unet
    if vae is not None: b.vae = vae
    pipe = b.pipeline()
    if scheduler is not None: pipe.scheduler = make_scheduler(getattr(diffusers, SCHEDULERS[scheduler]))  # on SD's schedule, as the zoo's
    edits = heldout_edits(n)
    ok, outside, per_kind, per_edit = 0, [], {}, []  # per_edit: 0/1 in held-out order (for paired comparisons)
    for i in range(0, n, batch):
        chunk = edits[i:i + batch]
        ims = pipe([e.instruction for e in chunk], image=[PIL.Image.fromarray(e.source_image) for e in chunk], num_inference_steps=steps,
                   guidance_scale=text_cfg, image_guidance_scale=image_cfg, output_type='np', generator=torch.Generator().manual_seed(i)).images
        for a, e in zip((ims * 255).round().astype(np.uint8), chunk):
            s = edit_success(a, e); ok += s; per_kind.setdefault(e.kind, []).append(s); per_edit.append(int(s))
            keep = e.mask < 0.5
            if keep.any(): outside.append(psnr(a, e.source_image, keep))
    ci = bootstrap_ci({i: [v] for i, v in enumerate(per_edit)})  # over edits
    return dict(n=n, steps=steps, text_cfg=text_cfg, image_cfg=image_cfg, scheduler=type(pipe.scheduler).__name__, edit_success=ok / n, edit_success_ci=[round(ci.lo, 3), round(ci.hi, 3)],
                psnr_outside_mask=float(np.mean(outside)), per_kind={k: float(np.mean(v)) for k, v in sorted(per_kind.items())},
                success_per_edit=''.join(map(str, per_edit)))  # one character (0/1) per held-out edit
