"""What the benchmark scripts share: where results go, how a result file is written or updated, a UNet call meter,
and the few measurements that more than one script makes (mask IoU, the instruction gate, REED's evaluation).

A script in `benchmarks/` imports it as `from harness import ...` (Python puts the script's folder on `sys.path`);
a script elsewhere puts `benchmarks/` on `sys.path` first. Nothing here writes into the package.

Every result file written here has one layout (`SCHEMA`):
`{"schema": 1, "command": ..., "commit": ..., "fingerprint": ..., "metrics": ...}` — the command line that measured it,
git HEAD at the time (`-dirty` when tracked files differed), a hash of the weights used (`weights_fingerprint`; null
where no model is used) and the numbers. `write_json` refuses a call without them; `read_metrics` reads the numbers
of a file in this layout or of an older file (written before the layout, kept as they were).
"""
from __future__ import annotations
import contextlib, fcntl, json, os, time
from pathlib import Path

RESULTS = Path(__file__).resolve().parent / 'results'  # every committed result file lives here


def result_path(name: str|Path) -> Path:
    "A bare file name is a file in `benchmarks/results/`; a path with a folder is taken as it is."
    p = Path(name)
    return p if p.parent != Path('.') else RESULTS / p


SCHEMA = 1  # the version of the result-file layout above; files without a `schema` field predate it
_MISSING = object()


def git_commit(root: str|Path|None=None) -> str:
    "git HEAD of the repository at `root` (default: this one), `-dirty` appended when tracked files differ from it; 'unknown' outside git."
    import subprocess
    cwd = Path(root) if root is not None else RESULTS.parent.parent
    run = lambda *a: subprocess.run(['git', *a], cwd=cwd, capture_output=True, text=True)
    head = run('rev-parse', '--short=12', 'HEAD')
    if head.returncode: return 'unknown'
    dirty = run('status', '--porcelain', '--untracked-files=no').stdout.strip()
    return head.stdout.strip() + ('-dirty' if dirty else '')


def _hash_weights(h, w) -> None:
    "Feed one weight source into hash `h` (see `weights_fingerprint`)."
    import torch
    if isinstance(w, (str, Path)):
        p = Path(w)
        if not p.exists(): raise FileNotFoundError(f"weights_fingerprint: {str(p)!r} does not exist; pass a weights file, a folder of them, a torch module or a bundle")
        for f in sorted(x for x in ([p] if p.is_file() else p.rglob('*')) if x.is_file()):
            h.update(str(f.relative_to(p) if p.is_dir() else f.name).encode()); h.update(f.read_bytes())
    elif isinstance(w, torch.nn.Module):
        for k, v in sorted(w.state_dict().items()):
            v = v.detach().cpu().contiguous()
            h.update(f'{k}:{v.dtype}:{tuple(v.shape)}'.encode()); h.update(v.reshape(-1).view(torch.uint8).numpy().tobytes())
    elif all(hasattr(w, a) for a in ('vae', 'unet', 'text_encoder')):  # a Bundle: its models in a fixed order
        for m in (w.vae, w.unet, w.text_encoder, getattr(w, 'text_encoder_2', None)):
            if m is not None: _hash_weights(h, m)
    else: raise TypeError(f"weights_fingerprint: cannot hash a {type(w).__name__}; pass a weights file or folder (str/Path), a torch module or a bundle (vae, unet, text_encoder)")


def weights_fingerprint(*weights) -> str:
    """A result file's model `fingerprint`: the first 16 hex digits of a SHA-256 over each argument in order — a torch
    module: every tensor of its `state_dict()` sorted by name (name, dtype, shape, then its bytes); a bundle: its VAE,
    UNet and text encoder(s) in that order, each as a module; a file or folder: each file's path relative to it and
    its bytes, in sorted order. The same weights give the same fingerprint, in any process."""
    import hashlib
    if not weights: raise TypeError("weights_fingerprint() needs the weights a measurement used (modules, bundles or paths); write fingerprint=None where no model is used")
    h = hashlib.sha256()
    for w in weights: _hash_weights(h, w)
    return h.hexdigest()[:16]


def toy_weights(*names: str, root: str|Path|None=None) -> list[Path]:
    """The toy zoo's folders `names` ('sd', 'ip2p', 'clip', 'reed_vae', 'elements') under `root` (default: the package's
    zoo) that exist; 'ip2p' brings 'sd' first (its VAE and text encoder are sd's, `toy.zoo.share_components`)."""
    from imiebench.toy.zoo import zoo_dir
    base = Path(root) if root is not None else zoo_dir()
    names = dict.fromkeys(n for x in names for n in (('sd', 'ip2p') if x == 'ip2p' else (x,)))
    return [base / n for n in names if (base / n).exists()]


def toy_fingerprint(*names: str, root: str|Path|None=None) -> str:
    "`weights_fingerprint` of the toy zoo's weight files in folders `names` (see `toy_weights`): the fingerprint of a measurement on the toy zoo."
    return weights_fingerprint(*toy_weights(*names, root=root))


def write_json(name: str|Path, # a bare file name goes to `benchmarks/results/`
               obj=_MISSING, # refused: the layout before `SCHEMA` (pass `metrics=`)
               *, command: str=_MISSING, # the exact command line that measured it (`command_line()`)
               fingerprint: str|None=_MISSING, # `weights_fingerprint(...)` of the weights used, or None where no model is used
               metrics=_MISSING, # the numbers (JSON-able)
               parts: dict|None=None, # per-part provenance (command, commit, fingerprint), as `update_parts` keeps it
               default=None, # json's `default` for values it cannot write (e.g. `str`)
              ) -> Path:
    "Write one result file in the `SCHEMA` layout (atomically: a reader never sees half a file); returns the path."
    missing = [k for k, v in dict(command=command, fingerprint=fingerprint, metrics=metrics).items() if v is _MISSING]
    if obj is not _MISSING or missing:
        raise TypeError(f"write_json({str(name)!r}): missing {', '.join(missing) or 'nothing'}{'; a positional result object is the old form' if obj is not _MISSING else ''}. "
                        "Every result file carries command, commit, fingerprint and metrics: call write_json(name, command=command_line(), "
                        "fingerprint=weights_fingerprint(<weights used>) or None (no model), metrics=<the numbers>); the commit is added here")
    if not isinstance(command, str) or not command.strip(): raise TypeError(f"write_json: command must be the command line as a non-empty str, got {command!r}; pass command=command_line()")
    if fingerprint is not None and not isinstance(fingerprint, str): raise TypeError(f"write_json: fingerprint must be a str from weights_fingerprint(...) or None, got {type(fingerprint).__name__}")
    doc = dict(schema=SCHEMA, command=command, commit=git_commit(), fingerprint=fingerprint, metrics=metrics) | ({'parts': parts} if parts else {})
    p = result_path(name); p.parent.mkdir(parents=True, exist_ok=True)
    tmp = p.with_name(p.name + f'.tmp{os.getpid()}')
    tmp.write_text(json.dumps(doc, indent=1, default=default)); tmp.replace(p)
    return p


def read_json(name: str|Path, default=None):
    "The JSON in a result file (the whole file, in whichever layout), or `default` when there is none."
    p = result_path(name)
    return json.loads(p.read_text()) if p.exists() else default


def read_metrics(name: str|Path, default=None):
    "The numbers in a result file: its `metrics` in the `SCHEMA` layout, the whole file for one written before it; `default` when there is none."
    d = read_json(name, _MISSING)
    if d is _MISSING: return default
    return d['metrics'] if isinstance(d, dict) and 'schema' in d and 'metrics' in d else d


@contextlib.contextmanager
def _locked(p: Path):
    "An exclusive lock for result file `p`, held in a lock file outside the repository (kept: removing it would race)."
    import hashlib, tempfile
    lock = Path(tempfile.gettempdir()) / f"imiebench-results-{hashlib.sha1(str(p.resolve()).encode()).hexdigest()[:12]}.lock"
    with open(lock, 'w') as f:
        fcntl.flock(f, fcntl.LOCK_EX)
        try: yield
        finally: fcntl.flock(f, fcntl.LOCK_UN)


def upsert_run(name: str|Path, entry: dict, key: str='key', *, fingerprint: str|None=_MISSING, command: str|None=None) -> Path:
    """Add `entry` to the list of runs in result file `name` (its `metrics`), replacing the run with the same `entry[key]`
    (order kept). Safe when several processes finish at once (they take turns on one lock). `fingerprint`: of the weights
    this entry measured (the file's fields are the last write's)."""
    p = result_path(name)
    with _locked(p):
        runs = read_metrics(p, [])
        i = next((j for j, r in enumerate(runs) if r.get(key) == entry[key]), None)
        if i is None: runs.append(entry)
        else: runs[i] = entry
        write_json(p, command=command or command_line(), fingerprint=fingerprint, metrics=runs)
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


def update_parts(name: str|Path, parts: dict, command: str|None=None, *, fingerprint: str|None=_MISSING) -> Path:
    """Merge the measured `parts` (part name → result) into result file `name`'s `metrics`, keeping the other parts; the
    file's `parts` records each part's command, commit and weights `fingerprint` (a file from before `SCHEMA`: its
    `commands` are carried over)."""
    p = result_path(name)
    command = command or command_line()
    with _locked(p):
        d = read_json(p, {})
        if 'schema' in d: metrics, prov = d['metrics'], d.get('parts', {})
        else: prov = {k: dict(command=c) for k, c in d.pop('commands', {}).items()}; metrics = d
        metrics.update(parts)
        commit = git_commit()
        prov.update({k: dict(command=command, commit=commit, fingerprint=None if fingerprint is _MISSING else fingerprint) for k in parts})
        write_json(p, command=command, fingerprint=fingerprint, metrics=metrics, parts=prov)
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
