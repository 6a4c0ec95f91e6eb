"IMIE-Bench: loaders validate, the runner resumes and splits across processes, the report is complete."
import json, os, subprocess, sys, csv
from pathlib import Path
import numpy as np, PIL.Image, pytest, torch
from imiebench.bench.format import load_bench, load_editbench, BenchSet, BenchCase, BenchStep, FORMAT
from imiebench.bench.methods import BenchConfig, run_method, METHODS
from imiebench.blended import blended_latent
from imiebench.bench.scores import score_case, oracle_caption, toy_scorer
from imiebench.bench.runner import run_bench
from imiebench.models import tiny

ROOT = Path(__file__).parents[1]

def _img(path, size=(64, 64), mode='RGB', value=0):
    path.parent.mkdir(parents=True, exist_ok=True)
    PIL.Image.fromarray(np.full(size + ((3,) if mode == 'RGB' else ()), value, np.uint8), mode).save(path)

@pytest.fixture
def folder(tmp_path):
    _img(tmp_path / 'a.png'); _img(tmp_path / 'm.png', mode='L', value=255)
    return tmp_path

def write(folder, cases, fmt=FORMAT):
    (folder / 'manifest.json').write_text(json.dumps(dict(format=fmt, cases=cases))); return folder

def steps(n, **kw): return [dict(instruction=f'make it {i}', **kw) for i in range(n)]

def test_shipped_sets():
    s, p = load_bench('shapes'), load_bench('photos')
    assert len(s) >= 40 and all(len(c.steps) >= 4 for c in s)
    n, m = sum(len(c.steps) for c in s), sum(len(c.masked) for c in s)
    assert m >= 0.25 * n
    for c in s:  # ground truth is consistent: each step's target is the render of its Edit's target scene
        assert all((st.target == st.edit.target_image).all() and (st.change_mask == st.edit.mask).all() for st in c.steps)
    assert len(p) >= 5 and all(len(c.steps) >= 4 for c in p) and any(c.masked for c in p)

BAD = [
    ('mask of another size', lambda d: (_img(d / 'small.png', (32, 32), 'L', 255), [dict(id='x', image='a.png', steps=steps(4, mask='small.png'))]), 'does not match the image size'),
    ('grey mask', lambda d: (_img(d / 'g.png', mode='L', value=128), [dict(id='x', image='a.png', steps=steps(4, mask='g.png'))]), 'not binary'),
    ('empty mask', lambda d: (_img(d / 'z.png', mode='L', value=0), [dict(id='x', image='a.png', steps=steps(4, mask='z.png'))]), 'all zeros'),
    ('RGBA image', lambda d: (_img(d / 'rgba.png', mode='RGBA') if False else PIL.Image.new('RGBA', (64, 64)).save(d / 'rgba.png'), [dict(id='x', image='rgba.png', steps=steps(4))]), "mode 'RGBA'"),
    ('size not a multiple of 8', lambda d: (_img(d / 'odd.png', (60, 64)), [dict(id='x', image='odd.png', steps=steps(4))]), 'multiple of 8'),
    ('too few instructions', lambda d: (None, [dict(id='x', image='a.png', steps=steps(3))]), 'expected at least 4'),
    ('empty instruction', lambda d: (None, [dict(id='x', image='a.png', steps=steps(3) + [dict(instruction=' ')])]), 'non-empty string'),
    ('missing image', lambda d: (None, [dict(id='x', image='nope.png', steps=steps(4))]), 'does not exist'),
    ('duplicate id', lambda d: (None, [dict(id='x', image='a.png', steps=steps(4))] * 2), 'duplicate id'),
]

@pytest.mark.parametrize('name,make,match', BAD, ids=[b[0] for b in BAD])
def test_bad_manifest(folder, name, make, match):
    _, cases = make(folder)
    with pytest.raises(ValueError, match=match): load_bench(write(folder, cases))

def test_bad_format_and_missing(folder):
    with pytest.raises(ValueError, match="expected 'format'"): load_bench(write(folder, [], fmt='x/1'))
    with pytest.raises(ValueError, match='non-empty list'): load_bench(write(folder, []))
    (folder / 'manifest.json').write_text('{not json')
    with pytest.raises(ValueError, match='not valid JSON'): load_bench(folder)
    with pytest.raises(FileNotFoundError, match='no benchmark manifest'): load_bench(folder / 'nowhere')

def test_editbench_csv(folder):
    (folder / 'eb.csv').write_text('image,mask,prompt\na.png,m.png,a red apple\n')
    s = load_editbench(folder / 'eb.csv')
    assert len(s) == 1 and s[0].steps[0].instruction == 'a red apple' and s[0].steps[0].mask.all()
    (folder / 'bad.csv').write_text('image,prompt\na.png,x\n')
    with pytest.raises(ValueError, match='expected columns'): load_editbench(folder / 'bad.csv')
    (folder / 'bad2.csv').write_text('image,mask,prompt\na.png,m.png,\n')
    with pytest.raises(ValueError, match='non-empty string'): load_editbench(folder / 'bad2.csv')

def tiny_set(n=2):
    s = load_bench('shapes', max_cases=n); sm = lambda a: np.asarray(PIL.Image.fromarray(a).resize((16, 16), PIL.Image.NEAREST))
    return BenchSet('tiny', [BenchCase(c.id, sm(c.image), c.caption, [BenchStep(st.instruction, None if st.mask is None else sm(st.mask),
                     st.ref_caption, st.query_caption) for st in c.steps]) for c in s.cases])

def test_every_method_runs_and_is_seeded():
    tb, cfg, ip, sd = tiny_set(1), BenchConfig(steps=2), tiny('ip2p'), tiny('sd')
    for m in [m for m in METHODS if m != 'elements']:  # element editing reads a shapes-world object edit: test_elements_method_in_the_bench
        a, b = run_method(m, tb[0], 0, cfg, ip, sd), run_method(m, tb[0], 0, cfg, ip, sd)
        assert len(a) == 4 and all(x.shape == (16, 16, 3) and x.dtype == np.uint8 for x in a)
        assert all((x == y).all() for x, y in zip(a, b)), m
    with pytest.raises(ValueError, match='one of'): run_method('paint', tb[0], 0, cfg, ip, sd)
    with pytest.raises(ValueError, match='needs a caption'): run_method('diffedit', tb[0], 0, cfg, ip, None)

def test_blended_keeps_outside_and_rejects_bad_input():
    sd = tiny('sd'); img = np.random.default_rng(0).integers(0, 255, (16, 16, 3), dtype=np.uint8)
    m = np.zeros((16, 16), np.float32); m[:8] = 1
    out = blended_latent(sd, img, 'a red circle', m, 3, generator=torch.Generator().manual_seed(0), progress=False).image
    full = blended_latent(sd, img, 'a red circle', None, 3, generator=torch.Generator().manual_seed(0), progress=False).image
    rec = sd.decode(sd.encode(img))
    assert (out - rec)[..., 12:, :].abs().max() < (full - rec)[..., 12:, :].abs().max()
    with pytest.raises(ValueError, match='empty'): blended_latent(sd, img, '', m, 2)

def test_scores_on_ground_truth():
    "Scoring the ground-truth targets themselves: every step succeeds and every edit is retained."
    c = load_bench('shapes', max_cases=3)
    for case in c.cases:
        r = score_case(case, [st.target for st in case.steps], toy_scorer())
        assert all(s['success'] == 1 for s in r['steps']) and all(v in (1.0, None) for v in r['retained'])
        assert all(s.get('psnr_outside_change', 99) > 40 for s in r['steps'])
        assert oracle_caption(case.steps[-1].target, case.steps[-1].edit.target) == case.steps[-1].query_caption

def test_resume_and_report(tmp_path):
    tb, cfg = tiny_set(2), BenchConfig(steps=2, seeds=(0,), methods=('emilie', 'blended'), mask_n=2)
    rep = run_bench(tb, tmp_path, cfg, ip2p=tiny('ip2p'), sd=tiny('sd'), progress=False)
    assert set(rep['methods']) == {'emilie', 'blended'} and all(v['seconds_per_edit']['n'] == 2 for v in rep['methods'].values())
    assert 'emilie' in (tmp_path / 'report.md').read_text()
    rows = list(csv.DictReader((tmp_path / 'steps.csv').open())); assert len(rows) == 2 * 2 * 4
    before = (tmp_path / 'records.0.jsonl').read_text()
    run_bench(tb, tmp_path, cfg, ip2p=tiny('ip2p'), sd=tiny('sd'), progress=False)  # all done: nothing is redone
    assert (tmp_path / 'records.0.jsonl').read_text() == before
    with pytest.raises(ValueError, match='unknown method'): run_bench(tb, tmp_path, BenchConfig(methods=('paint',)))

def test_elements_method_in_the_bench(tmp_path):
    """Element editing beside instruction editing on the object edits both can do (move, resize, remove), scored by the same
    oracle; the element models' weights join the run's identity; on the main set (other edit kinds) it is skipped unit by unit."""
    from imiebench.bench.sets import make_shapes_set
    from imiebench.toy.elements import REGION_KINDS
    ob = load_bench(make_shapes_set(tmp_path / 'set', n=2, kinds=REGION_KINDS, name='shapes_objects'))
    cfg = BenchConfig(steps=2, seeds=(0,), methods=('elements', 'emilie'), mask_n=2, save_images=False)
    rep = run_bench(ob, tmp_path / 'out', cfg, progress=False)  # the toy zoo's models
    assert set(rep['methods']) == {'elements', 'emilie'} and rep['methods']['elements']['skipped'] == 0
    recs = [json.loads(x) for x in (tmp_path / 'out' / 'records.0.jsonl').read_text().splitlines()]
    el = [r for r in recs if r['method'] == 'elements']
    assert len(el) == 2 and all(len(r['steps']) == 4 and {'success', 'preserved'} <= set(r['steps'][0]) for r in el)
    assert json.loads((tmp_path / 'out' / 'run.json').read_text())['weights']['elements'].startswith('toy zoo ')
    again = run_bench(ob, tmp_path / 'out', cfg, progress=False)  # resumed: nothing redone, same report
    assert again['methods']['elements'] == rep['methods']['elements']
    main = load_bench('shapes', max_cases=1).cases[0]; main = BenchCase('main-000', main.image, main.caption, main.steps)
    mixed = BenchSet('mixed', [ob.cases[0], main], ob.root, 'an object-edit case and a main-set case')
    rep = run_bench(mixed, tmp_path / 'mixed', BenchConfig(methods=('elements',), save_images=False), progress=False)
    assert rep['methods']['elements']['skipped'] == 1  # the main set's case (a recolor or another non-object edit) is not applicable
    recs = {r['case']: r for r in map(json.loads, (tmp_path / 'mixed' / 'records.0.jsonl').read_text().splitlines())}
    assert 'not an element edit' in recs['main-000']['skipped'] and recs[ob.cases[0].id]['steps'] == el[0]['steps']
    only = BenchSet('skipped', [main], ob.root, 'a case no method of the run can edit')
    rep = run_bench(only, tmp_path / 'none', BenchConfig(methods=('elements',), save_images=False), progress=False)
    assert rep['methods'] == {} and 'No case of this run was scored' in (tmp_path / 'none' / 'report.md').read_text()  # a report, no crash

def test_two_processes_split_the_cases(tmp_path):
    "Under `accelerate launch --multi_gpu --num_processes 2` (gloo on CPU) each unit runs once, in one of two processes."
    env = dict(os.environ, OMP_NUM_THREADS='1', PYTHONPATH=str(ROOT))
    acc = Path(sys.executable).parent / 'accelerate'
    r = subprocess.run([str(acc), 'launch', '--multi_gpu', '--num_processes', '2', '--num_machines', '1', '--main_process_port', '0', '--mixed_precision', 'no',
                        '--dynamo_backend', 'no', '-m', 'imiebench.cli', 'bench', '--n-cases', '2', '--seeds', '0', '--methods', 'emilie,ip2p',
                        '--steps', '2', '--no-images', '--out', str(tmp_path), '--device', 'cpu'], env=env, capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr[-3000:]
    keys = [(d['method'], d['case']) for f in ('records.0.jsonl', 'records.1.jsonl') for d in map(json.loads, (tmp_path / f).read_text().splitlines())]
    assert sorted(keys) == sorted({(m, c) for m in ('emilie', 'ip2p') for c in ('shapes-000', 'shapes-001')})
    assert (tmp_path / 'records.0.jsonl').read_text() and (tmp_path / 'records.1.jsonl').read_text()
    assert (tmp_path / 'report.md').exists() and '| emilie |' in r.stdout
