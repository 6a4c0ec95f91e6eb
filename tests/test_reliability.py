"Reliability: read-only session history, a verifiable session file, full-weights fingerprints, re-entrant calls, bad numbers."
import json, threading
import numpy as np, pytest, torch
from diffusers import EulerDiscreteScheduler, DDIMScheduler
from imiebench.models import tiny, as_pipeline, make_scheduler
from imiebench.emilie import EditSession, ip2p_edit, weights_fingerprint

IMG = np.random.default_rng(0).integers(0, 255, (16, 16, 3), dtype=np.uint8)

@pytest.fixture(scope='module')
def b(): return tiny('ip2p')

@pytest.fixture()
def session(b):
    s = EditSession(b, IMG, num_inference_steps=2, progress=False)
    s.edit('make it blue'); s.edit('make it red', mask=np.pad(np.ones((8, 8)), 4)); return s

def test_history_is_read_only(session):
    before = session.image.copy()
    for a in (session.image, session.images[0], session.images[-1], session.history[-1].image, session.history[-1].mask, session.original):
        with pytest.raises(ValueError, match='read-only'): a[0, 0] = 0
    np.testing.assert_array_equal(session.image, before)
    assert session.image.copy().flags.writeable  # a copy is the caller's to change

def test_save_is_safetensors_with_checksum(session, tmp_path):
    from safetensors import safe_open
    p = session.save(tmp_path / 's.session')
    with safe_open(str(p), 'pt') as f: meta = f.metadata()
    assert len(meta['sha256']) == 64
    m = json.loads(meta['imiebench'])
    assert m['scheduler']['cls'] == 'EulerAncestralDiscreteScheduler' and m['weights']['dtype'] == 'torch.float32'
    assert not (tmp_path / 's.session.tmp').exists()

def _variants(p, tmp_path, b):
    "The corrupted-file table: (name, path, exception or None for a warning, message)."
    raw = p.read_bytes()
    def put(name, data):
        q = tmp_path / name; q.write_bytes(data); return q
    n = int.from_bytes(raw[:8], 'little')
    flip_data = bytearray(raw); flip_data[8 + n + 100] ^= 0x10  # a byte of tensor data
    flip_head = bytearray(raw); k = raw.index(b'"mode'); flip_head[k + 3] ^= 0x01  # a byte of the metadata
    import PIL.Image, io
    png = io.BytesIO(); PIL.Image.fromarray(IMG).save(png, format='PNG')
    from safetensors.torch import save_file
    save_file({k: v.contiguous() for k, v in list(b.vae.state_dict().items())[:3]}, tmp_path / 'weights.safetensors')
    return [('truncated', put('trunc', raw[:len(raw) // 2]), ValueError, 'truncated'),
            ('header only', put('trunc2', raw[:8 + n]), ValueError, 'truncated or corrupted'),
            ('flipped data byte', put('flip', bytes(flip_data)), ValueError, 'checksum'),
            ('flipped metadata byte', put('fliph', bytes(flip_head)), ValueError, 'checksum|corrupted'),
            ('empty', put('empty', b''), ValueError, 'empty'),
            ('JSON file', put('j.json', json.dumps({'mode': 'latent'}).encode()), ValueError, 'JSON'),
            ('PNG file', put('i.png', png.getvalue()), ValueError, 'PNG'),
            ('model weights', tmp_path / 'weights.safetensors', ValueError, 'model weights'),
            ('torch pickle of something else', None, ValueError, 'not a saved EditSession')]

def test_corrupted_files_fail_clearly(session, tmp_path, b):
    p = session.save(tmp_path / 's.session')
    torch.save({'something': 1}, tmp_path / 'other.pt')
    for name, q, exc, match in _variants(p, tmp_path, b):
        q = q or tmp_path / 'other.pt'
        with pytest.raises(exc, match=match) as e: EditSession.load(q, b, progress=False)
        assert 'weights_only' not in str(e.value), name

def test_other_weights_warn_middle_layer_and_dtype(session, tmp_path, b):
    p = session.save(tmp_path / 's.session')
    fp = weights_fingerprint(b)
    b2 = tiny('ip2p')
    mid = list(b2.unet.state_dict().values()); t = mid[len(mid) // 2]
    with torch.no_grad(): t.add_(1e-3)  # a merged LoRA in a middle layer, changed in place
    assert weights_fingerprint(b2) != fp
    with pytest.warns(UserWarning, match='other weights'): EditSession.load(p, b2, progress=False)
    b3 = tiny('ip2p').to(dtype=torch.float64)
    with pytest.warns(UserWarning, match='dtype'): EditSession.load(p, b3, progress=False)
    assert weights_fingerprint(tiny('ip2p')) == fp  # same weights, same fingerprint

def test_scheduler_saved_and_restored_bit_exact(b, tmp_path):
    sch = make_scheduler(EulerDiscreteScheduler)
    s = EditSession(b, IMG, num_inference_steps=2, progress=False, scheduler=sch); s.edit('make it blue')
    s2 = EditSession.load(s.save(tmp_path / 's.session'), b, progress=False)  # no scheduler passed: the saved one
    assert type(s2.scheduler) is EulerDiscreteScheduler
    assert torch.equal(s.edit('make it red').latents, s2.edit('make it red').latents)
    with pytest.warns(UserWarning, match='scheduler'): EditSession.load(tmp_path / 's.session', b, scheduler=make_scheduler(DDIMScheduler), progress=False)

def test_generator_given_is_saved(b, tmp_path):
    s = EditSession(b, IMG, num_inference_steps=2, progress=False); s.edit('make it blue', generator=torch.Generator().manual_seed(5)); s.edit('add a square', generator=7)
    s2 = EditSession.load(s.save(tmp_path / 's.session'), b, progress=False)
    assert torch.equal(s2.history[0].settings['generator_state'], s.history[0].settings['generator_state'])
    assert s2.history[1].settings['seed'] == 7

def test_legacy_session_file_loads(session, tmp_path, b):
    d = dict(format='imiebench.EditSession', version=1, fingerprint='0' * 16, original=torch.from_numpy(np.array(session.original)),
             mode='latent', rescale='global', seed=0, defaults=session.defaults,
             steps=[dict(instruction=s.instruction, prompt=s.prompt, mask=None if s.mask is None else torch.from_numpy(np.array(s.mask)),
                         latents=s.latents, cond=s.cond, image=torch.from_numpy(np.array(s.image)), settings=s.settings) for s in session.history])
    torch.save(d, tmp_path / 'v1.pt')
    with pytest.warns(UserWarning, match='version-1'): s2 = EditSession.load(tmp_path / 'v1.pt', b, progress=False)
    np.testing.assert_array_equal(s2.image, session.image)

def test_concurrent_edits_match_sequential(b):
    kw = dict(steps=3, progress=False)
    seq = [ip2p_edit(b, IMG, 'make it blue', generator=i, **kw).latents for i in range(4)]
    out, errs = [None] * 4, []
    def run(i):
        try: out[i] = ip2p_edit(b, IMG, 'make it blue', generator=i, **kw).latents
        except Exception as e: errs.append(e)
    ts = [threading.Thread(target=run, args=(i,)) for i in range(4)]
    for t in ts: t.start()
    for t in ts: t.join()
    assert not errs, errs
    for a, c in zip(seq, out): assert torch.equal(a, c)
    assert b.scheduler.num_inference_steps is None  # the bundle's scheduler was never set up by a call

@pytest.mark.parametrize('kw,match', [
    (dict(guidance_scale=float('nan')), 'guidance_scale must be a finite number'),
    (dict(image_guidance_scale=float('inf')), 'image_guidance_scale must be a finite number'),
    (dict(steps=0), 'steps must be an int ≥ 1'), (dict(steps=-3), 'steps must be an int ≥ 1'),
    (dict(steps=2.5), 'steps must be an int'), (dict(steps=None), 'steps must be an int'),
    (dict(generator=np.random.default_rng(0)), 'generator must be a torch.Generator'),
    (dict(mask=np.ones((2, 1, 16, 16))), 'batch of 2'),
    (dict(control='x'), 'control must be one of'),
])
def test_ip2p_bad_numbers(b, kw, match):
    with pytest.raises((ValueError, TypeError), match=match): ip2p_edit(b, IMG, 'make it blue', progress=False, **({'steps': 2} | kw))

def test_session_rejects_bad_settings_before_recording(b):
    s = EditSession(b, IMG, num_inference_steps=2, progress=False)
    for kw in (dict(guidance_scale=float('nan')), dict(steps=0), dict(image_guidance_scale=float('-inf'))):
        with pytest.raises(ValueError): s.edit('make it blue', **kw)
    assert len(s) == 0
    with pytest.raises(ValueError, match='steps'): EditSession(b, IMG, num_inference_steps=0)

def test_pipeline_instead_of_bundle(b):
    with pytest.raises(TypeError, match='bundle_from_pipeline'): ip2p_edit(as_pipeline(b), IMG, 'make it blue', num_inference_steps=2, progress=False)
    with pytest.raises(TypeError, match='bundle_from_pipeline'): EditSession(as_pipeline(b), IMG)

def test_numpy_scalars_accepted(b):
    r = ip2p_edit(b, IMG, 'make it blue', num_inference_steps=np.int64(2), guidance_scale=np.float32(3.5), progress=False, generator=0)
    assert torch.isfinite(r.image).all()

def test_load_bench_names_and_paths(tmp_path, monkeypatch):
    "'shipped:NAME' is the shipped set; an existing folder wins over a bare name (with a warning); a Path is a path."
    from imiebench.bench.format import load_bench, bench_dir
    import shutil
    ship = load_bench('shipped:shapes', max_cases=2)
    mine = tmp_path / 'shapes'; shutil.copytree(bench_dir() / 'shapes', mine)
    man = json.loads((mine / 'manifest.json').read_text()); man['cases'] = man['cases'][5:7]
    (mine / 'manifest.json').write_text(json.dumps(man))
    monkeypatch.chdir(tmp_path)
    with pytest.warns(UserWarning, match="shipped:shapes"): own = load_bench('shapes')
    assert [c.id for c in own.cases] == [c['id'] for c in man['cases']] != [c.id for c in ship.cases]
    from pathlib import Path
    assert [c.id for c in load_bench(Path('shapes')).cases] == [c.id for c in own.cases]
    assert [c.id for c in load_bench('shipped:shapes', max_cases=2).cases] == [c.id for c in ship.cases]
    with pytest.raises(ValueError, match="no shipped benchmark set 'nope'"): load_bench('shipped:nope')
    with pytest.raises(TypeError, match='src must be'): load_bench(3)
    with pytest.raises(TypeError, match='max_cases must be an int'): load_bench('shipped:shapes', max_cases=1.5)
    man['cases'] = [1, {'id': 'x', 'image': 'nope.png', 'steps': ['a']}]; (mine / 'manifest.json').write_text(json.dumps(man))
    with pytest.raises(ValueError, match='expected an object'): load_bench(Path('shapes'))

def test_fingerprint_cache_sees_in_place_changes():
    "The cached full-weights fingerprint follows in-place changes, through `.data` too (which bumps no version counter)."
    b = tiny('ip2p'); fp = weights_fingerprint(b)
    assert weights_fingerprint(b) == fp  # cached
    p = list(b.unet.parameters())[7]
    p.data.add_(1e-3); fp2 = weights_fingerprint(b); assert fp2 != fp
    with torch.no_grad(): p.sub_(1e-3)
    assert weights_fingerprint(b) != fp2

# --- surfaces probed by `benchmarks/reliability_probes.py --probes surfaces`: each fix's regression test ---

def _set(ids=('c0',), size=16, n_steps=1):
    from imiebench.bench.format import BenchCase, BenchSet, BenchStep
    rng = np.random.default_rng(0)
    return BenchSet('t', [BenchCase(i, rng.integers(0, 255, (size, size, 3), dtype=np.uint8), '', [BenchStep('make it blue') for _ in range(n_steps)])
                          for i in ids])

def _cfg(**kw):
    from imiebench.bench.methods import BenchConfig
    return BenchConfig(**(dict(methods=('ip2p',), seeds=(0,), steps=1, mask_n=2, save_images=False, precision='float32') | kw))

@pytest.fixture(scope='module')
def bundles(): return dict(ip2p=tiny('ip2p'), sd=tiny('sd'))

def test_runner_image_names_stay_in_the_output_folder(tmp_path, bundles):
    "Image files are named by `case_stem`: an id with '..', '/', an absolute path or 300 characters never writes outside `out` nor overwrites another unit's image."
    from imiebench.bench.runner import run_bench
    from imiebench.bench.format import case_stem
    ids = ('../x', '../../../../../../y', str(tmp_path / 'abs'), 'a/b', 'a_b', 'z' * 300)
    out = tmp_path / 'deep' / 'out'
    run_bench(_set(ids), out, _cfg(seeds=(0, 1), save_images=True), progress=False, **bundles)
    written = [p for p in tmp_path.rglob('*') if p.is_file()]
    assert all(out in p.parents for p in written), [p for p in written if out not in p.parents]
    for s in (0, 1):
        for i in ids: assert (out / 'images' / 'ip2p' / f"s{s}" / f"{case_stem(i)}-1.png").exists(), i
    assert len(list((out / 'images').rglob('*.png'))) == 2 * len(ids)

def test_runner_refuses_bad_arguments(tmp_path, bundles):
    from imiebench.bench.runner import run_bench
    run = lambda **kw: run_bench(**(dict(bench=_set(), out=tmp_path / 'o', cfg=_cfg(), progress=False) | bundles | kw))
    with pytest.raises(TypeError, match='cfg must be a BenchConfig'): run(cfg=dict(seeds=(0,)))
    with pytest.raises(TypeError, match='bench must be a BenchSet'): run(bench=3)
    with pytest.raises(TypeError, match='scorer must be'): run(scorer='toy')
    with pytest.raises(ValueError, match="device must be a torch device"): run(device='gpu9')
    with pytest.raises(ValueError, match="'ip2p' bundle"): run(ip2p=bundles['sd'])
    f = tmp_path / 'file'; f.write_text('x')
    for out in (f, f / 'sub'):
        with pytest.raises(ValueError, match='out=.*existing file'): run(out=out)

@pytest.mark.parametrize('what, exc, match', [
    ('no steps', ValueError, 'steps must be a non-empty'), ('float image', TypeError, 'H×W×3 uint8'), ('grey image', TypeError, 'H×W×3 uint8'),
    ('instruction None', TypeError, 'instruction must be a string'), ('mask 8×8', ValueError, 'mask must be an array of shape'),
    ('mask zeros', ValueError, 'mask is all zeros'), ('mask NaN', ValueError, 'NaN')])
def test_runner_checks_hand_built_cases(tmp_path, bundles, what, exc, match):
    "A set built by hand skips `load_bench`'s checks: a case that cannot be edited is refused before anything runs, naming it."
    from imiebench.bench.runner import run_bench
    b = _set(n_steps=2); c = b.cases[0]
    if what == 'no steps': c.steps = []
    elif what == 'float image': c.image = c.image / 255
    elif what == 'grey image': c.image = c.image[..., 0]
    elif what == 'instruction None': c.steps[1].instruction = None
    elif what == 'mask 8×8': c.steps[0].mask = np.ones((8, 8), np.float32)
    elif what == 'mask zeros': c.steps[0].mask = np.zeros((16, 16), np.float32)
    else: c.steps[0].mask = np.full((16, 16), np.nan, np.float32)
    with pytest.raises(exc, match=f"case 'c0' of set 't': .*{match}"): run_bench(b, tmp_path / 'o', _cfg(), progress=False, **bundles)
    assert not (tmp_path / 'o').exists()

def test_bench_seeds_a_generator_takes(tmp_path, bundles):
    "A unit's generators are seeded with 1000·seed + step: seeds above 2**53 are refused (they overflowed torch.Generator mid-run)."
    from imiebench.bench.methods import BenchConfig, SEED_MAX, run_method
    from imiebench.bench.runner import check_config, run_bench
    with pytest.raises(ValueError, match='seeds must be integers in 0..'): BenchConfig(seeds=(2 ** 62,))
    cfg = _cfg(); cfg.seeds = (SEED_MAX + 1,)
    with pytest.raises(ValueError, match='seeds must be integers in 0..'): check_config(cfg)
    with pytest.raises(ValueError, match='seed must be an int in 0..'): run_method('ip2p', _set().cases[0], 2 ** 62, _cfg(), bundles['ip2p'])
    rep = run_bench(_set(), tmp_path / 'o', _cfg(seeds=(SEED_MAX,)), progress=False, **bundles)
    assert rep['seeds'] == [SEED_MAX] and rep['methods']['ip2p']['psnr_prev']['n'] == 1

def _usage(argv) -> str:
    import contextlib, io
    from imiebench.cli import main
    with contextlib.redirect_stderr(io.StringIO()) as err:
        with pytest.raises(SystemExit) as e: main(argv)
    assert e.value.code == 2 and err.getvalue().startswith('usage:'), err.getvalue()
    return err.getvalue()

def test_cli_refuses_before_the_work(tmp_path):
    "Values that passed argparse and failed only after the work (or in a traceback) are usage errors now."
    f = tmp_path / 'file'; f.write_text('x')
    for cmd in ('demo', 'bench', 'train-zoo', 'train-reed'): assert 'lies under' in _usage([cmd, '--out', str(f / 'sub')])
    assert 'argument --losses' in _usage(['train-reed', '--losses', str(f / 'x.json')])
    assert 'argument --seeds' in _usage(['bench', '--seeds', str(2 ** 62)])
    assert 'argument --seeds' in _usage(['bench', '--seeds', str(10 ** 30)])
    assert 'argument --seed' in _usage(['demo', '--seed', str(10 ** 30)])
    assert 'argument --seed' in _usage(['train-reed', '--seed', str(10 ** 30)])
    from imiebench.cli import demo
    with pytest.raises(ValueError, match='seed must be an int in 0..'): demo(tmp_path / 'd', seed=2 ** 64)

def test_session_save_and_load_paths(b, tmp_path):
    s = EditSession(b, IMG, num_inference_steps=1, progress=False); s.edit('make it blue')
    with pytest.raises(ValueError, match='existing folder'): s.save(tmp_path)
    with pytest.raises(FileNotFoundError, match='does not exist'): s.save(tmp_path / 'missing' / 'a.session')
    with pytest.raises(TypeError, match='path must be a file path'): s.save(5)
    with pytest.raises(ValueError, match='is a folder'): EditSession.load(tmp_path, b)
    assert not list(tmp_path.iterdir())  # nothing written by the refused saves

def test_save_bench_into_a_file(tmp_path):
    from imiebench.bench.format import save_bench
    f = tmp_path / 'file'; f.write_text('x')
    for out in (f, f / 'sub'):
        with pytest.raises(ValueError, match='out=.*existing file'): save_bench(_set(), out)

def test_mask_brush_size_checked():
    from imiebench.widgets.brush import MaskBrush
    with pytest.raises(ValueError, match='brush_size'): MaskBrush(IMG, brush_size=0)
    with pytest.raises(TypeError, match='brush_size'): MaskBrush(IMG, brush_size=2.5)
    assert MaskBrush(IMG, brush_size=np.int64(3)).brush_size == 3

def test_session_widget_redo_with_shared_noise(b):
    "An undo followed by the same edit puts back the step computed before, with shared noise too (its key used seed + i)."
    from imiebench.widgets.session import session_widget
    for noise in ('fresh', 'shared'):
        s = EditSession(b, IMG, num_inference_steps=1, noise=noise, progress=False); w = session_widget(s); c = w.controls
        for t in ('make it blue', 'make it red'): c['text'].value = t; c['run'].click()
        kept = s.history[-1]; c['undo'].click(); c['run'].click()
        assert w.counts == dict(edits=2, redone=1, strips=w.counts['strips']) and s.history[-1] is kept, (noise, w.counts)

def test_blended_latent_checks_its_arguments():
    from imiebench.blended import blended_latent
    sd = tiny('sd'); g = lambda: torch.Generator().manual_seed(0)
    with pytest.raises(ValueError, match='num_inference_steps must be an int'): blended_latent(sd, IMG, 'a red circle', num_inference_steps=0, progress=False)
    with pytest.raises(ValueError, match='guidance_scale'): blended_latent(sd, IMG, 'a red circle', None, 2, guidance_scale=float('nan'), progress=False)
    with pytest.raises(ValueError, match='3 generators for a batch of 1'): blended_latent(sd, IMG, 'a red circle', None, 2, generator=[g(), g(), g()], progress=False)
    x = blended_latent(sd, IMG, 'a red circle', np.zeros((16, 16)), 2, generator=g(), progress=False).image  # nothing regenerated
    torch.testing.assert_close(x, sd.decode(sd.encode(IMG)), atol=1e-5, rtol=0)


def test_reed_config_refuses_a_seed_its_generators_cannot_take():
    from imiebench.reed import REEDConfig
    with pytest.raises(ValueError, match=r'REEDConfig.seed must be an int in 0\.\.'): REEDConfig(seed=2**50)
    assert REEDConfig(seed=2**44).seed == 2**44
