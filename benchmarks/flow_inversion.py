"""Flow inversion on the toy scale (not a test): reconstruction error of the plain inverse Euler ODE and FireFlow
(arXiv 2412.07517) on the tiny random-weight SD3 (`flow.tiny_sd3`), over step counts, at equal steps and at equal
model calls. A random-weight velocity field is no trained one, but how far an integrator's round trip lands from its
start is a property of the integrator on that field: the comparison of the solvers is meaningful, the images are not.
Latent PSNR is over the latents' range (data_range = max − min of x₀); image PSNR decodes both with the tiny VAE.
Results: benchmarks/results/flow_inversion.json.

    OMP_NUM_THREADS=1 .venv/bin/python benchmarks/flow_inversion.py
"""
from __future__ import annotations
import math
from harness import write_json, command_line, weights_fingerprint


def main(steps=(2, 4, 8, 16, 28), n_images: int=4):
    import torch
    from imiebench.flow import tiny_sd3
    from imiebench.flow_inversion import flow_invert, flow_reconstruct, SOLVERS
    from imiebench.metrics import psnr
    torch.set_num_threads(1)
    b, g = tiny_sd3(), torch.Generator().manual_seed(0)
    z0 = b.encode(torch.rand(n_images, 3, 32, 32, generator=g))
    x0 = b.decode(z0); rng = float(z0.max() - z0.min())
    rows = []
    for n in steps:
        for s in SOLVERS:
            up = flow_invert(b, z0, 'a red square', n, s)
            rec = flow_reconstruct(b, up.final, 'a red square', n, s)
            mse = float((rec.final - z0).pow(2).mean())
            rows.append(dict(steps=n, solver=s, nfe=up.nfe + rec.nfe, latent_mse=mse, latent_psnr=round(10 * math.log10(rng ** 2 / mse), 2),
                             image_psnr=round(psnr(b.decode(rec.final), x0, data_range=2.), 2)))
            print(rows[-1])
    write_json('flow_inversion.json', command=command_line(), fingerprint=weights_fingerprint(b.transformer, b.vae, *b.text_encoders),
               metrics=dict(model='tiny_sd3 (random weights)', prompt='a red square', guidance_scale=1.0, n_images=n_images, rows=rows))


if __name__ == '__main__':
    main()
