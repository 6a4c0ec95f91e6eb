"""The one PSNR and SSIM (`imiebench.metrics`): properties over random images (hypothesis), pinned to scikit-image."""
import numpy as np
import torch
from hypothesis import given, settings, strategies as st
from skimage.metrics import peak_signal_noise_ratio, structural_similarity

from imiebench.metrics import psnr, ssim, PSNR_CAP

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
