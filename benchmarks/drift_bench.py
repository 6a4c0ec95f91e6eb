"""Where multi-turn drift comes from on the toy world (`imiebench.bench.drift`): EMILIE's latent vs image iteration, the vanilla
vs the REED decoder, over N chains of T turns; the error of every turn split into the VAE round trip, the sampler's noising and the
editor, and into a low and a high band; the declared endpoints with Bonferroni-corrected bootstrap intervals and the verdict
on FreqEdit and VAE-LFA per configuration.

    OMP_NUM_THREADS=1 .venv/bin/python benchmarks/drift_bench.py [--n 30] [--turns 25] [--steps 10]
        [--configs image-vanilla,latent-vanilla,image-reed,latent-reed] [--out drift.json]
    OMP_NUM_THREADS=1 .venv/bin/python benchmarks/drift_bench.py --swap image-vanilla --n 10 --steps 4

--swap CONFIG: the same chains with each part swapped for its ideal in the chain itself (image iteration only) and
`swap_check`'s gap to the prediction e − A^k: the tolerance to which the parts add up as counterfactual chains.

Chains: held-out scenes from `drift.CONFIRM_SEED`. Each configuration is written to --out (one run per `config`) when it is done.
"""
import argparse, time, warnings
import torch
from harness import upsert_run, command_line, toy_fingerprint
from imiebench.toy.zoo import load_toy
from imiebench.toy.reed import load_toy_reed_vae
from imiebench.emilie import with_vae
from imiebench.emilie_chains import EmilieChains
from imiebench.bench.drift import (CONFIRM_SEED, ENDPOINTS, toy_chains, chain_turn, drift_run, endpoints, verdict, curves, cutoff_sigma,
                                   swap_check, COMPONENTS)

warnings.filterwarnings('ignore')
CONFIGS = ('image-vanilla', 'latent-vanilla', 'image-reed', 'latent-reed')

def run(config, ip, reed, tc, a, level):
    mode, dec = config.split('-')
    b = with_vae(ip, reed if dec == 'reed' else None)
    t0 = time.time(); sigma = cutoff_sigma(b.vae_factor)
    ch = EmilieChains(b, mode, a.steps, a.seed)
    r = drift_run(chain_turn(ch), ch.start(tc.images), tc.x0, tc.targets, tc.masks, tc.instructions, sigma=sigma, progress=True)
    ep = endpoints(r, early=5, level=level)
    return dict(config=config, mode=mode, decoder=dec, n=a.n, turns=a.turns, steps=a.steps, chain_seed=CONFIRM_SEED, noise_seed=a.seed,
                sigma=round(sigma, 4), cutoff_cycles_per_px=1 / (2 * b.vae_factor), level=level, additivity=r.additivity,
                endpoints=ep, verdict=verdict(ep), curves=curves(r), seconds=round(time.time() - t0, 1))

def run_swap(config, ip, reed, tc, a):
    mode, dec = config.split('-')
    if mode != 'image': raise SystemExit(f"--swap needs an image-iteration configuration (a latent chain cannot go on from an image), got {config!r}")
    b = with_vae(ip, reed if dec == 'reed' else None); t0 = time.time(); sigma = cutoff_sigma(b.vae_factor)
    ch = EmilieChains(b, mode, a.steps, a.seed)
    go = lambda ideal: drift_run(chain_turn(ch), ch.start(tc.images), tc.x0, tc.targets, tc.masks, tc.instructions, sigma=sigma, ideal=ideal,
                                 progress=True)
    real = go(()); sw = {c: go((c,)) for c in COMPONENTS}
    return dict(config='swap-' + config, mode=mode, decoder=dec, n=a.n, turns=a.turns, steps=a.steps, chain_seed=CONFIRM_SEED, noise_seed=a.seed,
                real_mse=curves(real)['mse'], swap=swap_check(real, sw), additivity=max(r.additivity for r in [real, *sw.values()]),
                seconds=round(time.time() - t0, 1))

def main():
    p = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    p.add_argument('--n', type=int, default=30); p.add_argument('--turns', type=int, default=25); p.add_argument('--steps', type=int, default=10)
    p.add_argument('--seed', type=int, default=0, help='noise seed of the edits'); p.add_argument('--configs', default=','.join(CONFIGS))
    p.add_argument('--out', default='drift.json'); p.add_argument('--swap', default=None, help='run the swap check of this configuration instead')
    a = p.parse_args(); configs = a.configs.split(',') if a.swap is None else [a.swap]
    bad = [c for c in configs if c not in CONFIGS]
    if bad: p.error(f"--configs: unknown {bad}; choose from {','.join(CONFIGS)}")
    torch.set_num_threads(1)
    ip, reed = load_toy('ip2p'), load_toy_reed_vae()
    tc = toy_chains(a.n, a.turns, seed=CONFIRM_SEED)
    level = 1 - 0.05 / (len(ENDPOINTS) * len(CONFIGS))  # Bonferroni over every endpoint of every configuration
    if a.swap:
        res = run_swap(a.swap, ip, reed, tc, a)
        upsert_run(a.out, res, key='config', fingerprint=toy_fingerprint('ip2p', 'reed_vae'), command=command_line())
        print(f"swap {a.swap}: the swapped chains' error at turn {a.turns} minus the prediction e − A^k, ÷ the real error: "
              + ', '.join(f"{c} {v['gap']}" for c, v in res['swap'].items()) + f"; {res['seconds']} s", flush=True); return
    for c in configs:
        res = run(c, ip, reed, tc, a, level)
        upsert_run(a.out, res, key='config', fingerprint=toy_fingerprint('ip2p', 'reed_vae'), command=command_line())
        ep = res['endpoints']
        print(f"{c}: mse@{a.turns} {res['curves']['mse'][-1]:.4f}, low share {ep['low_share']}, hf ratio {ep['hf_ratio']}, "
              f"editor's low share {ep['edit_low_share']}, VAE low growth {ep['vae_low_growth']}; FreqEdit {res['verdict']['FreqEdit'][0]}, "
              f"VAE-LFA {res['verdict']['VAE_LFA'][0]}; parts add up to {res['additivity']:.1e}; {res['seconds']} s", flush=True)

if __name__ == '__main__': main()
