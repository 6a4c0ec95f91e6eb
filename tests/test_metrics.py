"""The one PSNR, SSIM and LPIPS (`imiebench.metrics`): properties over random images (hypothesis), pinned to scikit-image and to the lpips package."""
import numpy as np
import pytest
import torch
from hypothesis import given, settings, strategies as st
from skimage.metrics import peak_signal_noise_ratio, structural_similarity

from imiebench.metrics import psnr, ssim, PSNR_CAP, load_lpips, lpips_batch, lpips_distance, lpips_backbone_file

pair = st.tuples(st.integers(7, 24), st.integers(7, 24), st.integers(0, 2**32 - 1))

def images(h, w, seed):
    rng = np.random.default_rng(seed)
    a = rng.integers(0, 256, (h, w, 3), dtype=np.uint8)
    b = np.clip(a.astype(int) + rng.integers(-40, 41, a.shape), 0, 255).astype(np.uint8)
    m = rng.random((h, w)) < .5; m[0, 0] = True
    return a, b, m

@settings(max_examples=40, deadline=None)
@given(pair)
def test_psnr_properties(p):
    a, b, m = images(*p)
    v = psnr(a, b)
    assert v == psnr(b, a) and 0 < v <= PSNR_CAP
    if (a != b).any(): np.testing.assert_allclose(v, peak_signal_noise_ratio(a, b, data_range=255), rtol=1e-12)
    assert psnr(a, b, np.ones(a.shape[:2], bool)) == v  # a full mask is no mask
    np.testing.assert_allclose(psnr(a, b, m), psnr(a[m], b[m]), rtol=1e-12)  # masked = the selected pixels
    ta, tb = (torch.from_numpy(x).permute(2, 0, 1).double() / 255 for x in (a, b))
    np.testing.assert_allclose(psnr(ta, tb, data_range=1.), v, rtol=1e-9)  # tensors, channel-first, in [0, 1]

@settings(max_examples=20, deadline=None)
@given(pair)
def test_ssim_properties(p):
    a, b, m = images(*p)
    v = ssim(a, b)
    np.testing.assert_allclose(v, structural_similarity(a, b, channel_axis=2, data_range=255), rtol=1e-12)
    np.testing.assert_allclose(ssim(b, a), v, rtol=1e-9); assert ssim(a, a) == 1.0 and v <= 1
    np.testing.assert_allclose(ssim(a, b, np.ones(a.shape[:2])), v, rtol=1e-12)  # a full mask is no mask
    S = structural_similarity(a, b, channel_axis=2, data_range=255, full=True)[1][3:-3, 3:-3]; k = m[3:-3, 3:-3]
    if k.any(): np.testing.assert_allclose(ssim(a, b, m), S[k].mean(), rtol=1e-12)

@settings(max_examples=20, deadline=None)
@given(st.tuples(st.integers(11, 24), st.integers(11, 24), st.integers(0, 2**32 - 1)))
def test_ssim_gaussian_window(p):
    "window='gaussian' is scikit-image's Gaussian σ = 1.5, population covariances (torchmetrics' and PIE-Bench's SSIM), masked over 11×11 windows inside."
    a, b, m = images(*p)
    kw = dict(channel_axis=2, data_range=255, gaussian_weights=True, sigma=1.5, use_sample_covariance=False)
    np.testing.assert_allclose(ssim(a, b, window='gaussian'), structural_similarity(a, b, **kw), rtol=1e-12)
    G = structural_similarity(a, b, full=True, **kw)[1][5:-5, 5:-5]; k = m[5:-5, 5:-5]
    if k.any(): np.testing.assert_allclose(ssim(a, b, m, window='gaussian'), G[k].mean(), rtol=1e-12)
    np.testing.assert_allclose(ssim(a, b, np.ones(a.shape[:2]), window='gaussian'), ssim(a, b, window='gaussian'), rtol=1e-12)

def test_ssim_bad_window():
    a, b, _ = images(16, 16, 0)
    with pytest.raises(ValueError, match="window must be one of"): ssim(a, b, window='box')
    with pytest.raises(ValueError, match='at least 11×11'): ssim(a[:9, :9], b[:9, :9], window='gaussian')

# ---------------------------------------------------------------- LPIPS: one loader, one call, used by REED and the bench
def _u8(seed, h=32, w=32):
    return np.random.default_rng(seed).integers(0, 256, (h, w, 3), dtype=np.uint8)

def test_lpips_one_call_pinned_to_the_package():
    "lpips_distance = the lpips package's LPIPS on 2x − 1; lpips_batch = one distance per image, differentiable."
    torch.manual_seed(0); lp = load_lpips('alex', random_backbone=True)
    assert load_lpips('alex', random_backbone=True) is lp and not any(q.requires_grad for q in lp.parameters())
    a, b, c = _u8(1), _u8(2), _u8(3)
    t = lambda x: torch.from_numpy(x).permute(2, 0, 1)[None].float() / 127.5 - 1
    with torch.no_grad(): ref = [lp(t(a), t(y)).item() for y in (b, c)]
    assert lpips_distance(a, b, model=lp) == pytest.approx(ref[0], abs=1e-6) and lpips_distance(a, c, model=lp) == pytest.approx(ref[1], abs=1e-6)
    assert lpips_distance(a, a, model=lp) == 0
    x = torch.cat([t(a), t(a)]).requires_grad_(); d = lpips_batch(x, torch.cat([t(b), t(c)]), lp)
    np.testing.assert_allclose(d.detach().numpy(), ref, atol=1e-6); d.sum().backward(); assert x.grad.abs().sum() > 0
    with pytest.raises(ValueError, match='N×3×H×W'): lpips_batch(t(a)[0], t(b)[0], lp)
    with pytest.raises(TypeError, match='uint8'): lpips_distance(a.astype(float), b, model=lp)

def test_lpips_loader_refuses_to_download(tmp_path, monkeypatch):
    "No backbone file: the core raises FileNotFoundError naming where it goes, the bench says WeightsNotFoundError, REED falls back to its proxy."
    import imiebench.metrics as M, imiebench.bench.metrics as bm, imiebench.reed as reed
    from imiebench.models import WeightsNotFoundError
    monkeypatch.setenv('TORCH_HOME', str(tmp_path))
    f = lpips_backbone_file('alex'); assert f.parent == tmp_path / 'hub' / 'checkpoints' and not f.exists()
    with pytest.raises(FileNotFoundError, match=str(f).replace('\\', '\\\\')): M.load_lpips('alex')
    with pytest.raises(WeightsNotFoundError, match='TORCH_HOME'): bm.load_lpips('alex')
    assert not reed.lpips_available()
    x, y = torch.rand(2, 3, 16, 16) * 2 - 1, torch.rand(2, 3, 16, 16) * 2 - 1
    assert torch.equal(reed.perceptual_loss(x, y), reed.gradient_proxy(x, y))
    with pytest.raises(ValueError, match='net must be one of'): M.load_lpips('resnet')

def test_every_caller_uses_the_one_lpips(monkeypatch):
    "The bench's names are the core's; REED's perceptual loss is `lpips_batch` on the loader's network when it loads."
    import imiebench.metrics as M, imiebench.bench.metrics as bm, imiebench.reed as reed
    assert bm.lpips_distance is M.lpips_distance and bm.lpips_backbone_file is M.lpips_backbone_file
    torch.manual_seed(0); lp = load_lpips('alex', random_backbone=True)
    calls = []
    monkeypatch.setattr(reed, 'load_lpips', lambda net='alex', random_backbone=False, device='cpu': calls.append((net, str(device))) or lp)
    x, y = torch.rand(2, 3, 32, 32) * 2 - 1, torch.rand(2, 3, 32, 32) * 2 - 1
    assert reed.lpips_available()
    with torch.no_grad(): torch.testing.assert_close(reed.perceptual_loss(x, y), lp(x, y).flatten())
    assert ('alex', 'cpu') in calls
    a, b = _u8(4), _u8(5)
    assert bm.pie_lpips_unedited(a, b, np.zeros((32, 32)), model=lp) == pytest.approx(lpips_distance(a, b, model=lp), abs=1e-6)  # no mask: the whole image
