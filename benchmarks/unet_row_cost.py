"""Cost of one toy-UNet call per image row against the batch size, on the latents the bench uses (64×64 images →
16×16 latents), one thread, float32 and bfloat16 autocast.

    OMP_NUM_THREADS=1 .venv/bin/python benchmarks/unet_row_cost.py [--batches 3,6,18,60,180] [--reps 5]

Writes benchmarks/results/unet_row_cost.json (best of `reps` calls per batch size).
"""
import argparse, os, time, torch
from imiebench.toy.zoo import load_toy
from harness import write_json, command_line, toy_fingerprint

p = argparse.ArgumentParser(); p.add_argument('--batches', default='3,6,18,60,180'); p.add_argument('--reps', type=int, default=5)
a = p.parse_args(); torch.set_grad_enabled(False)
ip = load_toy('ip2p'); u = ip.unet
out = dict(command=command_line(), threads=torch.get_num_threads(), omp_num_threads=os.environ.get('OMP_NUM_THREADS'), model='toy ip2p UNet', latents='8×16×16', rows={})
for prec in ('float32', 'bfloat16'):
    for n in (int(b) for b in a.batches.split(',')):
        x = torch.randn(n, 8, 16, 16, generator=torch.Generator().manual_seed(0)); e = ip.embed('make the red circle blue').expand(n, -1, -1)
        with torch.autocast('cpu', dtype=torch.bfloat16, enabled=prec == 'bfloat16'):
            u(x, 500, encoder_hidden_states=e); best = float('inf')
            for _ in range(a.reps):
                t = time.perf_counter(); u(x, 500, encoder_hidden_states=e); best = min(best, time.perf_counter() - t)
        out['rows'].setdefault(prec, {})[n] = round(best / n * 1000, 2)
        print(prec, n, f"{best / n * 1000:.2f} ms per row", flush=True)
write_json('unet_row_cost.json', command=command_line(), fingerprint=toy_fingerprint('ip2p'), metrics=out)
