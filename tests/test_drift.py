"bench.drift: the error split adds up, the bands add up, swapped chains match the prediction when parts do not interact, EMILIE chains, bad input."
import numpy as np, pytest, torch
from imiebench.bench.drift import (COMPONENTS, TurnImages, make_turn, drift_run, band_inner, low_response, cutoff_sigma, ideal_output,
                                   swap_check, endpoints, verdict, interval, curves, with_vae, chain_turn, toy_chains)
from imiebench.emilie_chains import EmilieChains
from imiebench.models import tiny, tiny_vae

def linear_chain(N=3, T=6, H=8, seed=0, feedback=0.):
    "Parts with known content: the VAE adds a constant, the noise a checkerboard, the editor pastes the target (+ `feedback` × its input's error)."
    g = np.random.default_rng(seed)
    tg = [np.tanh(g.normal(size=(N, 3, H, H))) for _ in range(T + 1)]
    ms = [(g.random((N, 1, H, H)) > .5).astype(float) for _ in range(T)]
    chk = (np.indices((H, H)).sum(0) % 2 * 2. - 1) * .01
    def turn(x, ins, t):
        k = x + .02; n = k + chk; err = x - tg[t]
        out = n + ms[t] * (tg[t + 1] - x) + .03 + feedback * err
        return TurnImages(torch.tensor(k), torch.tensor(n), torch.tensor(out), out)
    turn.restate = lambda st, x: (x.numpy(), x)
    return turn, tg[0], tg[1:], ms, [['x'] * N] * T

def test_parts_add_up_to_the_error_per_turn_and_band():
    turn, x0, tg, ms, ins = linear_chain()
    r = drift_run(turn, x0, x0, tg, ms, ins, progress=False)
    assert r.additivity < 1e-12
    np.testing.assert_allclose(r.share.sum((2, 3)), r.mse, atol=1e-12)
    np.testing.assert_allclose(r.band.sum(2), r.mse, atol=1e-12)
    assert (r.mse[:, -1] > r.mse[:, 0]).all()  # the offsets accumulate outside the masks

def test_a_part_that_is_changed_moves_only_its_share():
    turn, x0, tg, ms, ins = linear_chain()
    def louder(x, ins, t):  # the same chain with twice the VAE offset
        ti = turn(x, ins, t); return TurnImages(ti.kept + .02, ti.null + .02, ti.out + .02, ti.state + .02)
    a, b = (drift_run(f, x0, x0, tg, ms, ins, progress=False) for f in (turn, louder))
    v = COMPONENTS.index('vae')
    np.testing.assert_allclose(b.alone[:, :, v].sum(-1), 4 * a.alone[:, :, v].sum(-1), rtol=1e-9)  # twice the part, four times its energy
    for k in (1, 2): np.testing.assert_allclose(b.alone[:, :, k], a.alone[:, :, k], atol=1e-12)

def test_swapped_chains_match_the_prediction_only_without_feedback():
    for fb, exact in ((0., True), (.5, False)):
        turn, x0, tg, ms, ins = linear_chain(feedback=fb)
        real = drift_run(turn, x0, x0, tg, ms, ins, progress=False)
        chk = swap_check(real, {c: drift_run(turn, x0, x0, tg, ms, ins, ideal=(c,), progress=False) for c in COMPONENTS})
        gaps = np.array([chk[c]['gap'][0] for c in COMPONENTS])
        assert (np.abs(gaps).max() < 1e-9) == exact, gaps
    assert drift_run(turn, x0, x0, tg, ms, ins, ideal=COMPONENTS, progress=False).mse.max() < 1e-20

def test_bands():
    w = low_response((64, 64), cutoff_sigma(4))
    assert abs(w[0, 8] - .5) < 1e-9 and w[0, 0] == 1
    x = np.random.default_rng(1).normal(size=(2, 3, 64, 64))
    np.testing.assert_allclose(band_inner(x, x, w).sum(1), (x ** 2).mean((1, 2, 3)), rtol=1e-10)
    ramp = np.broadcast_to(np.linspace(-1, 1, 64), (1, 3, 64, 64)).copy()
    assert band_inner(ramp - ramp.mean(), ramp - ramp.mean(), w)[0, 0] > band_inner(ramp, ramp, w)[0, 1]  # a smooth ramp is mostly low band

def test_ideal_output_keeps_the_error_outside_the_edit():
    x_in, src, tgt = np.full((1, 3, 4, 4), .3), np.zeros((1, 3, 4, 4)), np.ones((1, 3, 4, 4))
    m = np.zeros((1, 1, 4, 4)); m[..., 0, :] = 1
    out = ideal_output(x_in, src, tgt, m)
    assert (out[..., 0, :] == 1).all() and np.allclose(out[..., 1:, :], 1.3)

def test_endpoints_and_verdict():
    turn, x0, tg, ms, ins = linear_chain(N=5)
    ep = endpoints(drift_run(turn, x0, x0, tg, ms, ins, progress=False), early=2)
    assert all(lo <= est <= hi for est, lo, hi in ep.values())
    vd = verdict(dict(low_share=[.2, .1, .3], hf_ratio=[.5, .4, .6], edit_low_share=[.9, .8, 1.], vae_low_growth=[3., 2.5, 4.]))
    assert vd['FreqEdit'][0] == 'holds' and vd['VAE_LFA'][0] == 'does not hold'
    assert interval(np.arange(6.), np.full(6, 2.))[0] == 1.25

@pytest.mark.parametrize('call,msg', [
    (lambda: cutoff_sigma(0), 'vae_factor must be a positive int'),
    (lambda: low_response((8, 8), 0), 'sigma must be a positive'),
    (lambda: interval([1.]), '≥ 2 chains'),
    (lambda: make_turn(None, None), 'must be callables'),
    (lambda: with_vae(tiny('ip2p'), tiny_vae(latent_channels=16)), '16 latent channels'),
    (lambda: EmilieChains(tiny('ip2p'), 'concat'), 'mode'),
    (lambda: EmilieChains(tiny('sd')), 'ip2p'),
    (lambda: chain_turn(object()), 'must have edit'),
    (lambda: EmilieChains(tiny('ip2p'), 'latent').restate(None, None), 'latent chain'),
])
def test_bad_input(call, msg):
    with pytest.raises((ValueError, TypeError), match=msg): call()

def test_wrong_shapes_and_unswappable_chains():
    turn, x0, tg, ms, ins = linear_chain()
    with pytest.raises(ValueError, match='masks must be T masks'): drift_run(turn, x0, x0, tg, ms[:-1], ins, progress=False)
    with pytest.raises(ValueError, match='instructions must be T'): drift_run(turn, x0, x0, tg, ms, ins[:-1], progress=False)
    with pytest.raises(ValueError, match='restate'): drift_run(chain_turn(EmilieChains(tiny('ip2p'), 'latent')), None, x0, tg, ms, ins, ideal=('vae',), progress=False)

@pytest.fixture(scope='module')
def small():
    return tiny('ip2p'), toy_chains(2, turns=2, seed=3, size=32)

@pytest.mark.parametrize('mode', ['image', 'latent'])
def test_emilie_chains(small, mode):
    b, tc = small
    ch = EmilieChains(b, mode, num_inference_steps=2)
    r = drift_run(chain_turn(ch), ch.start(tc.images), tc.x0, tc.targets, tc.masks, tc.instructions, sigma=cutoff_sigma(b.vae_factor), progress=False)
    assert r.additivity < 1e-9 and np.isfinite(r.mse).all()
    np.testing.assert_allclose(r.share.sum((2, 3)), r.mse, atol=1e-9)
    c = curves(r); assert len(c['mse']) == 2
    if mode == 'latent':  # after the first turn the latent chain makes no VAE round trip: its VAE part only carries over
        assert np.all(r.alone[:, 1, 0].sum(-1) <= r.alone[:, 0, 0].sum(-1) + 1e-12)

def test_moved_names_warn_and_run_the_same_chains(small):
    "bench.drift's emilie_start / emilie_turn moved to the method (emilie_chains): one release with a FutureWarning, the same chains."
    import imiebench.bench.drift as drift
    b, tc = small
    with pytest.warns(FutureWarning, match='emilie_chains'): start = drift.emilie_start
    with pytest.warns(FutureWarning, match='EmilieChains'): turn = drift.emilie_turn
    ch = EmilieChains(b, 'image', num_inference_steps=2, seed=4)
    old = drift_run(turn(b, 'image', num_inference_steps=2, seed=4), start(b, tc.images), tc.x0, tc.targets, tc.masks, tc.instructions, progress=False)
    new = drift_run(chain_turn(ch), ch.start(tc.images), tc.x0, tc.targets, tc.masks, tc.instructions, progress=False)
    np.testing.assert_array_equal(old.mse, new.mse); np.testing.assert_array_equal(old.share, new.share)
    assert hasattr(turn(b, 'image'), 'restate') and not hasattr(turn(b, 'latent'), 'restate')
    with pytest.raises(AttributeError, match='no_such_name'): drift.no_such_name
