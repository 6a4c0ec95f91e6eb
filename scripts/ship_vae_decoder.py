"""Ship a finetuned toy-VAE decoder (benchmarks/finetune_vae_decoder.py) into the zoo, keeping the REED VAE's weights.

    .venv/bin/python scripts/ship_vae_decoder.py runs/vae_decoder/vae

Writes the VAE (float16, like the rest of the zoo) into the `sd` and `ip2p` folders, checks that the encoder is
bit-identical (the latent space every UNet was trained on), re-expresses the shipped REED decoder as an int8 delta
to the new base (same weights up to int8 rounding; its PSNR before/after is printed) and records the recipe in zoo.json.
"""
import json, sys, torch
from pathlib import Path
from diffusers import AutoencoderKL
from imiebench.toy.zoo import zoo_dir, load_toy_vae
from imiebench.reed import roundtrips
from imiebench.toy.reed import load_toy_reed_vae, save_toy_reed_vae, toy_data

src = Path(sys.argv[1]); new = AutoencoderKL.from_pretrained(src).eval()
old = load_toy_vae(); reed = load_toy_reed_vae()
for k, v in old.state_dict().items():
    if k.startswith(('encoder.', 'quant_conv.')): assert torch.equal(v, new.state_dict()[k].half().float()), f"encoder changed: {k}"
x = toy_data(48, 16, 'val')
before = {k: round(v['psnr'], 3) for k, v in roundtrips(reed, x, 25, (1, 25)).items()}
for name in ('sd', 'ip2p'): new.to(torch.float16).save_pretrained(zoo_dir() / name / 'vae')
save_toy_reed_vae(reed)
after = {k: round(v['psnr'], 3) for k, v in roundtrips(load_toy_reed_vae(), x, 25, (1, 25)).items()}
print('REED PSNR (1, 25 trips) before / after re-basing:', before, after)
man = json.loads((zoo_dir() / 'zoo.json').read_text())
man['vae_decoder'] = json.loads((src / 'recipe.json').read_text()) | dict(
    note='decoder-only finetuning of the VAE above on the posterior mode (encoder frozen: the UNets\' latent space is unchanged): '
         'benchmarks/finetune_vae_decoder.py, CPU, then scripts/ship_vae_decoder.py (REED delta re-based)')
(zoo_dir() / 'zoo.json').write_text(json.dumps(man, indent=1))
