"""Ship a finetuned toy VAE (benchmarks/finetune_vae_decoder.py) into the zoo, keeping the REED VAE's decoder.

    .venv/bin/python scripts/ship_vae_decoder.py runs/vae_decoder/vae

Writes the VAE (float16, like the rest of the zoo) into the `sd` folder (the `ip2p` folder shares it: `ip2p/shared.json`). The UNets were trained in the
shipped encoder's latent space, so the encoder must be bit-identical (decoder-only finetuning) or, trained with
`--latent-anchor`, keep the latents of the REED validation images (world renders and photo crops) within
`MAX_DRIFT` of the shipped encoder's (`toy.zoo.latent_drift`, RMS in the UNets' units, where the latents' std is 1);
the scaling factor must be the same. The drift is measured against the VAE being replaced, and
benchmarks/results/zoo_history.json keeps every replaced entry (`vae_decoder_earlier`), so the sum of their `latent_drift`s bounds how far the latents are from those the
UNets were trained on. Re-expresses the shipped REED decoder as an int8 delta to the new base (same
decoder up to int8 rounding, the new encoder; its PSNR before/after is printed) and records the recipe in zoo.json.
"""
import json, sys, torch
from pathlib import Path
from diffusers import AutoencoderKL
from imiebench.toy.zoo import zoo_dir, load_toy_vae, latent_drift
from imiebench.reed import roundtrips
from imiebench.toy.reed import load_toy_reed_vae, save_toy_reed_vae, toy_data

MAX_DRIFT = 0.02

src = Path(sys.argv[1]); new = AutoencoderKL.from_pretrained(src).eval()
old = load_toy_vae().float(); reed = load_toy_reed_vae()
x = toy_data(48, 16, 'val')
same_encoder = all(torch.equal(v, new.state_dict()[k].half().float()) for k, v in old.state_dict().items()
                   if k.startswith(('encoder.', 'quant_conv.')))
drift = 0.0 if same_encoder else latent_drift(new, old, x)
if new.config.scaling_factor != old.config.scaling_factor: raise SystemExit(f"scaling factor changed: {old.config.scaling_factor} → {new.config.scaling_factor}")
if drift > MAX_DRIFT: raise SystemExit(f"the encoder moved the latents by {drift:.4f} (RMS, > {MAX_DRIFT}): the UNets would need retraining")
print(f"encoder {'bit-identical' if same_encoder else f'retrained, latent drift {drift:.4f}'}")
before = {k: round(v['psnr'], 3) for k, v in roundtrips(reed, x, 25, (1, 25)).items()}
new.to(torch.float16).save_pretrained(zoo_dir() / 'sd' / 'vae')  # ip2p shares it (toy.zoo.SHARED)
save_toy_reed_vae(reed)
after = {k: round(v['psnr'], 3) for k, v in roundtrips(load_toy_reed_vae(), x, 25, (1, 25)).items()}
print('REED PSNR (1, 25 trips) before / after re-basing:', before, after)
man = json.loads((zoo_dir() / 'zoo.json').read_text())
if 'vae_decoder' in man:  # what it replaces goes to the history (the package's zoo.json describes only what ships)
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / 'benchmarks')); from harness import read_metrics, write_json, command_line  # noqa: E402
    hist = read_metrics('zoo_history.json', {}); hist.setdefault('vae_decoder_earlier', []).append(man.pop('vae_decoder'))
    write_json('zoo_history.json', command=command_line(), fingerprint=None, metrics=hist)  # the replaced entries' records, no measurement
man['vae_decoder'] = json.loads((src / 'recipe.json').read_text()) | dict(
    latent_drift=round(drift, 5), reed_psnr_before_after=[before, after],
    note=('decoder-only finetuning of the VAE above on the posterior mode (encoder frozen: the UNets\' latent space is unchanged)'
          if same_encoder else 'finetuning of the VAE above with render variation, the encoder held to its latents of the world\'s renders '
          'and photos (latent_anchor; latent_drift: RMS on the REED validation images, UNet units)')
         + ': benchmarks/finetune_vae_decoder.py, CPU, then scripts/ship_vae_decoder.py (REED delta re-based)')
(zoo_dir() / 'zoo.json').write_text(json.dumps(man, indent=1))
