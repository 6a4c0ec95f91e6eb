"REED: loss semantics, bad input, 1- vs 2-process training (accelerate), SIGKILL + resume, mixed sessions."
import json, os, signal, subprocess, sys, time
from pathlib import Path
import numpy as np, pytest, torch
from imiebench.reed import (REEDConfig, reed_loss, draw_noise, train_reed, pixel_edit, roundtrips, edit_roundtrips,
                            image_metrics)
from imiebench.toy.reed import toy_data
from imiebench.emilie import MixedSession
from imiebench.models import tiny

ROOT = Path(__file__).resolve().parents[1]
ENV = os.environ | {'OMP_NUM_THREADS': '1', 'PYTHONPATH': str(ROOT), 'HF_HUB_OFFLINE': '1'}
ACCELERATE = Path(sys.executable).with_name('accelerate')
ARGS = ['--n-train', '16', '--n-val', '4', '--batch-size', '4', '--crop', '16', '--k', '2', '--k-max', '4', '--patience', '1',
        '--val-every', '2', '--lr', '0.05', '--warmup', '2', '--no-progress']

@pytest.fixture(scope='module')
def vae(): return tiny('sd', seed=0).vae

@pytest.mark.parametrize('kw,err', [(dict(k_max=0), ValueError), (dict(patience=0), ValueError), (dict(k=3, k_max=2), ValueError),
                                    (dict(patience=1.5), TypeError), (dict(crop=10), ValueError), (dict(mixed_precision='fp8'), ValueError),
                                    (dict(lambda_lpips=-1.), ValueError)])
def test_config_rejects(kw, err):
    with pytest.raises(err): REEDConfig(**kw)

def test_loss_rejects_bad_input(vae):
    x = torch.zeros(2, 3, 16, 16)
    with pytest.raises(ValueError, match='k must be'): reed_loss(vae, x, 0)
    with pytest.raises(ValueError, match='multiple'): reed_loss(vae, torch.zeros(1, 3, 15, 16), 1)
    with pytest.raises(ValueError, match='N×3×H×W'): reed_loss(vae, torch.zeros(1, 1, 16, 16), 1)
    with pytest.raises(TypeError): reed_loss(vae, np.zeros((1, 3, 16, 16)), 1)
    with pytest.raises(ValueError, match='split'): toy_data(1, 0, 'holdout')
    with pytest.raises(ValueError, match='shapes differ'): image_metrics(torch.zeros(1, 3, 8, 8), torch.zeros(1, 3, 16, 16))
    with pytest.raises(ValueError, match='1..n'): roundtrips(vae, x, 3, (5,))
    with pytest.raises(ValueError, match='n must be'): edit_roundtrips(vae, x, 1, (1,))
    with pytest.raises(TypeError, match='AutoencoderKL'): train_reed(x, x, REEDConfig(), None)
    with pytest.raises(TypeError, match='REEDConfig'): train_reed(x, x, dict(k=2), vae)

def test_gradient_through_last_iteration_only(vae):
    v = tiny('sd', seed=0).vae; v.encoder.requires_grad_(False)
    x = torch.rand(2, 3, 16, 16, generator=torch.Generator().manual_seed(0)) * 2 - 1
    f = 2 ** (len(v.config.block_out_channels) - 1)
    noise = draw_noise(3, (2, v.config.latent_channels, 16 // f, 16 // f), torch.Generator().manual_seed(1))
    grads = {}
    for full in (False, True):
        v.zero_grad(); l, _ = reed_loss(v, x, 3, noise, full_backprop=full); l.backward()
        grads[full] = torch.cat([p.grad.flatten() for p in v.decoder.parameters()])
        assert all(p.grad is None for p in v.encoder.parameters())
    assert not torch.allclose(grads[False], grads[True])
    # first-step loss: target is x_1, so k=1 with and without FSL are the same loss, k=2 differ
    a, b = reed_loss(v, x, 1, None, first_step=True)[0], reed_loss(v, x, 1, None, first_step=False)[0]
    assert a.item() == b.item()
    a, b = reed_loss(v, x, 2, None, first_step=True)[0], reed_loss(v, x, 2, None, first_step=False)[0]
    assert a.item() != b.item()

def test_same_seed_same_training():
    tr, va = toy_data(4, 0, 'train'), toy_data(2, 0, 'val')
    cfg = REEDConfig(k=2, k_max=3, patience=1, val_every=2, steps=4, batch_size=2, crop=16, warmup=1)
    v0 = tiny('sd', seed=0).vae
    r1, r2 = train_reed(tr, va, cfg, vae=v0, progress=False), train_reed(tr, va, cfg, vae=v0, progress=False)
    assert r1.losses == r2.losses and r1.ks == r2.ks
    assert all(torch.equal(a, b) for a, b in zip(r1.vae.parameters(), r2.vae.parameters()))

def test_pixel_ops_and_session_arguments():
    img = np.random.default_rng(0).integers(0, 255, (16, 16, 3), dtype=np.uint8)
    with pytest.raises(ValueError, match='unknown pixel op'): pixel_edit(img, 'swirl')
    with pytest.raises(ValueError, match='outside'): pixel_edit(img, 'paste_image', other=img, box=(0, 0, 17, 8))
    with pytest.raises(TypeError, match='blur'): pixel_edit(img, 'blur', radius=2)
    out = pixel_edit(img, 'crop_paste', src=(0, 0, 4, 4), dst=(8, 8)); assert (out[8:12, 8:12] == img[:4, :4]).all()
    assert pixel_edit(img, 'brightness', delta=0.1).astype(int).sum() > img.astype(int).sum()
    b = tiny('ip2p', seed=0)
    with pytest.raises(TypeError, match='AutoencoderKL'): MixedSession(b, img, vae='reed')
    s = MixedSession(b, img, vae=tiny('sd', seed=3).vae, num_inference_steps=2, progress=False)
    assert s.b.vae is not b.vae and s.b.unet is b.unet
    s.pixel('blur', sigma=1.0); s.edit('make it blue'); s.pixel('contrast', factor=1.3)
    assert len(s) == 3 and s.history[0].instruction.startswith('[pixel] blur')
    assert torch.allclose(s.history[2].latents, s.b.encode(s.history[2].image).cpu(), atol=1e-5)

def _run(args, **kw):
    return subprocess.run(args, env=ENV, cwd=ROOT, capture_output=True, text=True, timeout=300, **kw)

def test_two_processes_match_one(tmp_path):
    "Same global batch: the 2-process loss curve equals the 1-process one to rel 1e-3 (float summation order differs)."
    common = ARGS + ['--steps', '6']
    p1 = _run([sys.executable, '-m', 'imiebench.toy.reed', *common, '--losses', str(tmp_path / 'one.json')])
    assert p1.returncode == 0, p1.stderr[-3000:]
    p2 = _run([str(ACCELERATE), 'launch', '--multi_gpu', '--num_processes', '2', '--num_machines', '1', '--main_process_port', '0', '--mixed_precision', 'no',
               '--dynamo_backend', 'no', '-m', 'imiebench.toy.reed', *common, '--losses', str(tmp_path / 'two.json')])
    assert p2.returncode == 0, p2.stderr[-3000:]
    one, two = (json.loads((tmp_path / f).read_text()) for f in ('one.json', 'two.json'))
    assert (one['num_processes'], two['num_processes']) == (1, 2)  # (`--cpu --num_processes 2` would start only one)
    assert len(one['losses']) == len(two['losses']) == 6 and one['ks'] == two['ks']
    np.testing.assert_allclose(two['losses'], one['losses'], rtol=1e-3)

def test_sigkill_resumes_from_checkpoint(tmp_path):
    common = ARGS + ['--steps', '24', '--ckpt-every', '2']
    ref = _run([sys.executable, '-m', 'imiebench.toy.reed', *common, '--out', str(tmp_path / 'ref'), '--losses', str(tmp_path / 'ref.json')])
    assert ref.returncode == 0, ref.stderr[-3000:]
    ck = tmp_path / 'ck'
    cmd = [sys.executable, '-m', 'imiebench.toy.reed', *common, '--ckpt-dir', str(ck), '--out', str(tmp_path / 'out'), '--losses', str(tmp_path / 'l.json')]
    p = subprocess.Popen(cmd, env=ENV, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    t0 = time.time()
    while not (ck / 'last.pt').exists() and time.time() - t0 < 120 and p.poll() is None: time.sleep(0.05)
    time.sleep(0.3); os.kill(p.pid, signal.SIGKILL); p.wait()
    killed_at = torch.load(ck / 'last.pt', weights_only=False)['step']
    assert 0 < killed_at < 24, killed_at
    again = _run(cmd); assert again.returncode == 0, again.stderr[-3000:]
    d = json.loads((tmp_path / 'l.json').read_text())
    r = json.loads((tmp_path / 'ref.json').read_text())  # DI may stop before 24 steps (k passes k_max)
    assert d['resumed_from'] == killed_at and d['steps'] == r['steps'] > killed_at and d['ks'] == r['ks']
    np.testing.assert_array_equal(d['losses'], r['losses'])
    from diffusers import AutoencoderKL
    a, b = AutoencoderKL.from_pretrained(tmp_path / 'ref'), AutoencoderKL.from_pretrained(tmp_path / 'out')
    assert all(torch.equal(x, y) for x, y in zip(a.state_dict().values(), b.state_dict().values()))

def test_ema_and_initial_fsl_target_resume_exactly(tmp_path):
    "With an EMA of the decoder and FSL against the starting decoder's x_1, a run cut at a checkpoint and resumed equals one straight run."
    tr, va = toy_data(4, 0, 'train'), toy_data(2, 0, 'val')
    kw = dict(k=2, k_max=3, patience=1, val_every=2, ckpt_every=2, batch_size=2, crop=16, warmup=1, lr=0.05, ema_decay=0.9, fsl_target='initial')
    v0 = tiny('sd', seed=0).vae
    full = train_reed(tr, va, REEDConfig(steps=6, **kw), vae=v0, progress=False)
    train_reed(tr, va, REEDConfig(steps=4, **kw), vae=v0, ckpt_dir=tmp_path, progress=False)
    with pytest.warns(UserWarning, match='another config'):
        again = train_reed(tr, va, REEDConfig(steps=6, **kw), vae=v0, ckpt_dir=tmp_path, progress=False)
    assert again.resumed_from == 4 and again.losses == full.losses and again.ks == full.ks
    assert all(torch.equal(a, b) for a, b in zip(full.vae.parameters(), again.vae.parameters()))
    # the returned weights are the average, not the last step's
    last = torch.load(tmp_path / 'last.pt', weights_only=False)['model']
    assert not torch.equal(last['decoder.conv_out.weight'], full.vae.decoder.conv_out.weight)
    assert torch.equal(last['encoder.conv_in.weight'], full.vae.encoder.conv_in.weight)
    with pytest.raises(ValueError, match='ema_decay'): REEDConfig(ema_decay=1.0)
    with pytest.raises(ValueError, match='fsl_target'): REEDConfig(fsl_target='x0')

def test_time_box_counts_across_resumes(tmp_path):
    "A time-boxed run that finished does not train again when re-run; its checkpoint records the seconds spent."
    tr, va = toy_data(4, 0, 'train'), toy_data(2, 0, 'val')
    cfg = REEDConfig(k=2, dynamic=False, val_every=2, ckpt_every=2, steps=10**6, batch_size=2, crop=16, warmup=1, time_budget=1.0)
    r = train_reed(tr, va, cfg, vae=tiny('sd', seed=0).vae, ckpt_dir=tmp_path, progress=False)
    assert r.stopped == 'time' and r.steps > 0
    assert torch.load(tmp_path / 'last.pt', weights_only=False)['seconds'] >= 1.0
    again = train_reed(tr, va, cfg, vae=tiny('sd', seed=0).vae, ckpt_dir=tmp_path, progress=False)
    assert again.resumed_from == r.steps and again.steps == r.steps and again.stopped == 'time'
