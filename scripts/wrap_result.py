"""Put result files written before the result layout (`benchmarks/harness.py`, `SCHEMA`) into it, numbers unchanged:

    .venv/bin/python scripts/wrap_result.py                 # every such file in benchmarks/results/
    .venv/bin/python scripts/wrap_result.py FILE [FILE ...] # e.g. a bench run's report.json copied into benchmarks/results/

A file already in the layout is left as it is. The numbers become `metrics`, unchanged (the whole old file but `commands`:
a reader finds every other key where it was, under `metrics`). `command`: the file's own `command` (or `evaluation_command`,
`training_command`) where it recorded one; a file that recorded one command per part (`commands`) has them moved to
`parts` (`harness.update_parts`' provenance); otherwise it says that none was recorded. `commit`: the file's own `commit` where it
recorded one, else the last commit that changed the file (`git log`; the measurement was made at or before it).
`fingerprint`: null — these files did not record the weights they measured; `weights` or `machine` fields, where a
file had them, stay in `metrics`.
"""
import json, subprocess, sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / 'benchmarks'))
from harness import RESULTS, SCHEMA  # noqa: E402

NOT_RECORDED = "not recorded (the file predates the result layout; benchmarks/README.md names the script that writes it)"


def last_commit(p: Path) -> str:
    "The last commit that changed `p` (12 hex digits), or 'unknown' outside git or for an uncommitted file."
    r = subprocess.run(['git', 'log', '-1', '--format=%h', '--abbrev=12', '--', str(p)], cwd=ROOT, capture_output=True, text=True)
    return r.stdout.strip() or 'unknown'


def wrapped(d, p: Path) -> dict:
    "Result file `p`'s content `d` (written before the layout) in the `SCHEMA` layout."
    own = d if isinstance(d, dict) else {}
    if isinstance(own.get('commands'), dict): d = {k: v for k, v in d.items() if k != 'commands'}  # they become `parts`, as `harness.update_parts` keeps them
    command = next((own[k] for k in ('command', 'evaluation_command', 'training_command') if isinstance(own.get(k), str)), None)
    parts = {k: dict(command=c) for k, c in own['commands'].items()} if isinstance(own.get('commands'), dict) else None
    if command is None: command = 'several: see parts' if parts else NOT_RECORDED
    commit = own['commit'] if isinstance(own.get('commit'), str) else last_commit(p)
    return dict(schema=SCHEMA, command=command, commit=commit, fingerprint=None, metrics=d) | ({'parts': parts} if parts else {})


def wrap(p: Path) -> bool:
    "Rewrite result file `p` in the layout; False (and nothing written) when it is in it already."
    d = json.loads(p.read_text())
    if isinstance(d, dict) and 'schema' in d: return False
    p.write_text(json.dumps(wrapped(d, p), indent=1) + '\n'); return True


if __name__ == '__main__':
    files = [Path(f) for f in sys.argv[1:]] or sorted(RESULTS.glob('*.json'))
    if bad := [str(f) for f in files if not f.is_file()]: raise SystemExit(f"no such result file: {', '.join(bad)}")
    done = [f.name for f in files if wrap(f)]
    print(f"wrapped {len(done)} of {len(files)} files: {', '.join(done) or 'none (all in the layout already)'}")
