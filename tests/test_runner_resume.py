"""IMIE-Bench's runner: a run's records are always its own. For any sequence of partial runs, kills (the records file cut
at any byte) and resumes with any methods, seeds and cases, the final report equals a clean run of the final configuration,
or the resume was refused; a set of the same name with other content, other settings, a second runner on the folder,
repeated seeds and repeated case ids are refused. Editing and scoring are faked (deterministic in method, seed and case)."""
import contextlib, dataclasses, json, math, os, subprocess, sys, tempfile, zlib
from pathlib import Path

import numpy as np, pytest
from hypothesis import HealthCheck, given, settings, strategies as st

import imiebench.bench.runner as R
from imiebench.bench.format import BenchCase, BenchSet, BenchStep
from imiebench.bench.methods import BenchConfig
from imiebench.bench.records import load_records, unit_key
from imiebench.bench.scores import Scorer

METHODS, SEEDS, IDS = ('emilie', 'ip2p', 'blended'), (0, 1, 2), ('c0', 'c1', 'c2', 'c3')

def tiny_set(name: str='tiny', invert: bool=False) -> BenchSet:
    "Four 8×8 cases of two steps (the second masked); `invert`: a set of the same name and ids whose images differ."
    cases = []
    for i, cid in enumerate(IDS):
        im = np.full((8, 8, 3), 30 * i, np.uint8); im = 255 - im if invert else im
        mask = np.zeros((8, 8), np.float32); mask[:4] = 1
        cases.append(BenchCase(cid, im, f'case {i}', [BenchStep(f'make {cid} red'), BenchStep(f'move {cid}', mask)]))
    return BenchSet(name, cases)

class Crash(Exception): "A run killed part-way."

class Fake:
    "Edits and scores that depend only on (method, seed, case, step); `budget`: units edited before the run is killed."
    def __init__(self): self.budget, self.edited = None, []
    def run_units(self, method, units, cfg, ip2p=None, sd=None):
        if self.budget is not None and len(self.edited) + len(units) > self.budget: raise Crash(method)
        self.edited += [(method, s, c.id) for c, s in units]
        rng = lambda c, s, k: np.random.default_rng(zlib.crc32(f"{method}/{s}/{c.id}/{k}".encode()))
        return [[rng(c, s, k).integers(0, 256, c.image.shape, dtype=np.uint8) for k in range(len(c.steps))] for c, s in units]
    @staticmethod
    def score_case(case, images, scorer=None):
        steps = []
        for k, (stp, im) in enumerate(zip(case.steps, images)):
            v = float(im.mean()) / 255
            steps.append(dict(step=k + 1, masked=stp.mask is not None, success=float(v > .5), psnr_input=10 + 20 * v, ssim_input=v,
                              psnr_prev=30 * v, kind=('colour', 'move')[k % 2], clip_instruction=v / 2)
                         | (dict(psnr_outside_user_mask=40 * v, preserved=float(im[0, 0, 0] > 127)) if stp.mask is not None else {}))
        return dict(steps=steps, retained=[float(images[-1][0, k, 0] > 127) for k in range(len(images))])

@contextlib.contextmanager
def faked():
    "The runner with fake editing and scoring, no weights loaded and no figures drawn."
    import imiebench.bench.metrics as metrics, imiebench.bench.report as report, imiebench.toy.zoo as zoo
    fake = Fake()
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(R, 'run_units', fake.run_units); mp.setattr(R, 'score_case', Fake.score_case)
        mp.setattr(R, '_zoo_stamp', lambda name: 'fake'); mp.setattr(zoo, 'load_toy', lambda *a, **k: None)
        mp.setattr(metrics, 'metric_availability', lambda scorer=None: {}); mp.setattr(report, 'report_figures', lambda *a, **k: {})
        yield fake

SCORER = Scorer('fake', None, None, notes='fake scores')

def run(fake, out, bench, cfg, budget=None):
    fake.budget, fake.edited = budget, []
    return R.run_bench(bench, out, cfg, scorer=SCORER, device='cpu', progress=False)

def stats(rep: dict) -> str:
    "The report's statistics, without the timings (canonical JSON: NaN == NaN)."
    rep = {k: v for k, v in rep.items() if k != 'markdown'}
    rep['methods'] = {m: {c: v for c, v in d.items() if c != 'seconds_per_edit'} for m, d in rep['methods'].items()}
    return json.dumps(rep, sort_keys=True, default=float)

def config(methods, seeds, cases, batch=2) -> tuple[BenchSet, BenchConfig]:
    "A configuration: a subset of the set's cases (a set of the same name) and of its methods and seeds."
    b = tiny_set(); b = BenchSet(b.name, [c for c in b.cases if c.id in cases])
    return b, BenchConfig(methods=tuple(methods), seeds=tuple(seeds), steps=2, save_images=False, batch=batch)

def files(out: Path) -> dict:
    return {p.name: p.read_bytes() for p in sorted(out.iterdir()) if p.is_file() and p.name != '.lock'}

subset = lambda xs: st.lists(st.sampled_from(xs), min_size=1, max_size=len(xs), unique=True)
op = st.fixed_dictionaries(dict(methods=subset(METHODS), seeds=subset(SEEDS), cases=subset(IDS), batch=st.integers(1, 3),
                                budget=st.none() | st.integers(0, 12), cut=st.none() | st.floats(0, 1),
                                variant=st.sampled_from(['same'] * 6 + ['other set', 'other settings'])))

@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(ops=st.lists(op, min_size=1, max_size=4), final=op)
def test_resume_equals_clean_run(ops, final):
    with faked() as fake, tempfile.TemporaryDirectory() as d:
        out, recorded, home = Path(d) / 'run', set(), None  # case ids and variant of the accepted starts (run.json)
        for o in ops + [dict(final, budget=None, cut=None)]:
            b, cfg = config(o['methods'], o['seeds'], o['cases'], o['batch'])
            if o['variant'] == 'other set': b = BenchSet(b.name, [dataclasses.replace(c, image=255 - c.image) for c in b.cases])
            if o['variant'] == 'other settings': cfg = dataclasses.replace(cfg, steps=3)
            refused = bool(recorded) and (o['variant'] != home or not recorded & set(o['cases']))
            home = home or (None if refused else o['variant'])
            before = files(out) if out.exists() else {}
            try: rep = run(fake, out, b, cfg, o['budget'])
            except ValueError as e:
                assert refused, e
                assert files(out) == before  # a refused resume writes nothing
                rep = None
            except Crash: assert not refused; recorded |= set(o['cases']); rep = None
            else:
                assert not refused; recorded |= set(o['cases'])
                assert len(fake.edited) == len(set(fake.edited))  # no unit is edited twice in a run
            if o['cut'] is not None and (f := out / 'records.0.jsonl').exists():  # killed: the file ends anywhere
                data = f.read_bytes(); f.write_bytes(data[:math.floor(o['cut'] * len(data))])
        if rep is None: return  # the final resume was refused (or every start was)
        units = {(m, s, c) for m in cfg.methods for s in cfg.seeds for c in o['cases']}
        assert {unit_key(r) for r in load_records(out)} == units
        lines = (out / 'records.0.jsonl').read_text().splitlines()
        assert all(unit_key(json.loads(line)) for line in lines)  # every line is one whole record: nothing glued to a fragment
        with tempfile.TemporaryDirectory() as d2: clean = run(fake, Path(d2), b, cfg)
        assert stats(rep) == stats(clean)
        again = run(fake, out, b, cfg); assert fake.edited == [] and stats(again) == stats(clean)  # all done: nothing is redone

def test_fewer_seeds_and_cases_report_only_those(tmp_path):
    "Resumed with fewer seeds and cases, the run edits nothing and its report equals a clean run of that configuration."
    with faked() as fake:
        run(fake, tmp_path, *config(METHODS, SEEDS, IDS))
        b, cfg = config(('ip2p', 'emilie'), (0,), ('c0', 'c1'))
        rep = run(fake, tmp_path, b, cfg)
        assert fake.edited == [] and rep['n_cases'] == 2 and rep['seeds'] == [0] and set(rep['methods']) == {'ip2p', 'emilie'}
        assert all(v['final_success']['n'] == 2 for v in rep['methods'].values())
        clean = run(fake, tmp_path / 'clean', b, cfg); assert stats(rep) == stats(clean)
        assert len(load_records(tmp_path, select=False)) == 3 * 3 * 4  # the other records stay on disk for a later run

def test_half_written_record_is_not_glued(tmp_path):
    "A crash mid-write: the fragment is cut before the next record is appended, and every finished unit is reported."
    with faked() as fake:
        b, cfg = config(('ip2p',), (0,), IDS, batch=1)
        with pytest.raises(Crash): run(fake, tmp_path, b, cfg, budget=2)
        f = tmp_path / 'records.0.jsonl'; data = f.read_bytes()
        f.write_bytes(data[:-20])  # the second record half written
        rep = run(fake, tmp_path, b, cfg)
        assert fake.edited == [('ip2p', 0, 'c1'), ('ip2p', 0, 'c2'), ('ip2p', 0, 'c3')]
        assert [unit_key(json.loads(line)) for line in f.read_text().splitlines()] == [('ip2p', 0, c) for c in IDS]
        assert rep['methods']['ip2p']['final_success']['n'] == 4

@pytest.mark.parametrize('change, match', [('other set', 'another set of the same name'), ('steps', r'settings differ \(steps: 2 → 3\)'),
                                           ('other ids', "none of this set's 2 case ids")])
def test_another_run_is_refused(tmp_path, change, match):
    "Another set of the same name (other content, or no shared case id) or other settings: refused, naming the difference and the way out."
    with faked() as fake:
        b, cfg = config(('ip2p',), (0,), ('c0', 'c1'))
        run(fake, tmp_path, b, cfg); before = files(tmp_path)
        if change == 'other set': b = BenchSet('tiny', [dataclasses.replace(c, image=255 - c.image) for c in b.cases])
        if change == 'steps': cfg = dataclasses.replace(cfg, steps=3)
        if change == 'other ids': b = config(('ip2p',), (0,), ('c2', 'c3'))[0]
        with pytest.raises(ValueError, match=match) as e: run(fake, tmp_path, b, cfg)
        assert 'another output folder, or delete' in str(e.value) and fake.edited == [] and files(tmp_path) == before

def test_repeats_are_refused(tmp_path):
    "A seed or method given twice, or two cases with one id, are refused before anything is written."
    with faked() as fake:
        b, cfg = config(('ip2p',), (0, 1), IDS)
        cfg.seeds = (0, 0)  # (BenchConfig refuses it when made; the runner checks again)
        with pytest.raises(ValueError, match=r'seeds must be distinct, got seeds=\(0, 0\)'): run(fake, tmp_path / 'a', b, cfg)
        cfg.seeds, cfg.methods = (0,), ('ip2p', 'ip2p')
        with pytest.raises(ValueError, match='methods must be distinct'): run(fake, tmp_path / 'b', b, cfg)
        cfg.methods = ('ip2p',); dup = BenchSet('tiny', b.cases + [dataclasses.replace(b.cases[1], caption='another')])
        with pytest.raises(ValueError, match=r"case ids must be unique within a set, got \['c1'\] more than once"): run(fake, tmp_path / 'c', dup, cfg)
        assert not any(tmp_path.iterdir())

def test_second_runner_is_stopped(tmp_path):
    "While another process holds the folder's lock, a run there is refused at once; once released, it runs."
    holder = subprocess.Popen([sys.executable, '-c', 'import sys, filelock; l = filelock.FileLock(sys.argv[1]); l.acquire(); '
                               'print("held", flush=True); sys.stdin.read()', str(tmp_path / '.lock')],
                              stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == 'held'
        with faked() as fake:
            b, cfg = config(('ip2p',), (0,), IDS)
            with pytest.raises(RuntimeError, match='in use by another run') as e: run(fake, tmp_path, b, cfg)
            assert 'another output folder' in str(e.value) and fake.edited == [] and not (tmp_path / 'records.0.jsonl').exists()
            holder.stdin.close(); holder.wait(30)
            assert run(fake, tmp_path, b, cfg)['methods']['ip2p']['final_success']['n'] == 4
    finally:
        if holder.poll() is None: holder.kill()

def test_a_crashed_run_releases_its_lock(tmp_path):
    "A run that fails part-way releases the folder: the next run resumes it."
    with faked() as fake:
        b, cfg = config(('ip2p',), (0,), IDS, batch=1)
        with pytest.raises(Crash): run(fake, tmp_path, b, cfg, budget=1)
        run(fake, tmp_path, b, cfg); assert len(fake.edited) == 3

TWO = '''import sys, json
from pathlib import Path
from test_runner_resume import faked, config, run, IDS
with faked() as fake:
    try: rep = run(fake, Path(sys.argv[1]), *config(('ip2p', 'emilie'), (0,), IDS))
    except RuntimeError as e: print('refused:', e, flush=True); sys.exit(3)
    print('edited', json.dumps(fake.edited), flush=True)
'''

def test_processes_of_one_run_share_the_lock(tmp_path):
    "Under `accelerate launch` (2 processes, gloo on CPU) one run's processes share the lock and split the units; a second run is refused in every process, without hanging."
    root = Path(__file__).parents[1]
    (tmp_path / 'two.py').write_text(TWO)
    env = dict(os.environ, OMP_NUM_THREADS='1', PYTHONPATH=f"{root}{os.pathsep}{root / 'tests'}")
    acc = [str(Path(sys.executable).parent / 'accelerate'), 'launch', '--multi_gpu', '--num_processes', '2', '--num_machines', '1', '--main_process_port', '0',
           '--mixed_precision', 'no', '--dynamo_backend', 'no', str(tmp_path / 'two.py'), str(tmp_path / 'out')]
    r = subprocess.run(acc, env=env, capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr[-3000:]
    edited = [tuple(u) for line in r.stdout.splitlines() if line.startswith('edited') for u in json.loads(line[7:])]
    assert sorted(edited) == sorted((m, 0, c) for m in ('ip2p', 'emilie') for c in IDS)  # every unit once, in one of the two
    assert all((tmp_path / 'out' / f'records.{i}.jsonl').read_text() for i in (0, 1))
    from filelock import FileLock
    with FileLock(tmp_path / 'out' / '.lock'):  # another run holds the folder
        r = subprocess.run(acc, env=env, capture_output=True, text=True, timeout=300)
    assert r.returncode != 0 and r.stdout.count('refused:') == 2 and 'in use by another run' in r.stdout, (r.stdout, r.stderr[-2000:])
