"""Per-call time of the toy caption UNet (one thread, 16×16 latents) under the usual inference switches: how much of DiffEdit's
speed goal could come from call overhead rather than fewer calls. Median of 60 calls each.

    OMP_NUM_THREADS=1 .venv/bin/python benchmarks/unet_call_overheads.py

Writes benchmarks/results/unet_call_overheads.json.
"""
import torch, time, copy
from harness import write_json, command_line, toy_fingerprint
from imiebench.toy.zoo import load_toy
torch.set_num_threads(1)
b = load_toy('sd'); u = b.unet.eval()
z = torch.randn(1, 4, 16, 16); e = b.text_encoder(b.tokenizer(['a red circle'], padding='max_length', max_length=b.tokenizer.model_max_length, return_tensors='pt').input_ids)[0].detach()
t = torch.tensor([500])
def bench(fn, n=60):
    for _ in range(5): fn()
    ts = []
    for _ in range(n):
        t0 = time.perf_counter(); fn(); ts.append(time.perf_counter() - t0)
    ts.sort(); return 1000 * ts[len(ts) // 2]
res = dict(command=command_line(), median_of=60, batch={})
for bs in (1, 2):
    zz, ee = z.repeat(bs, 1, 1, 1), e.repeat(bs, 1, 1)
    with torch.no_grad(): a = bench(lambda: u(zz, t, encoder_hidden_states=ee))
    with torch.inference_mode(): c = bench(lambda: u(zz, t, encoder_hidden_states=ee))
    with torch.no_grad(): d = bench(lambda: u(zz, t, encoder_hidden_states=ee, return_dict=False))
    print(f"batch {bs}: no_grad {a:.1f} ms, inference_mode {c:.1f} ms, return_dict=False {d:.1f}")
    res['batch'][str(bs)] = dict(no_grad_ms=round(a, 1), inference_mode_ms=round(c, 1), return_dict_false_ms=round(d, 1))
u2 = copy.deepcopy(u); u2.fuse_qkv_projections()
with torch.inference_mode(): res['fused_qkv_inference_mode_b1_ms'] = round(bench(lambda: u2(z, t, encoder_hidden_states=e)), 1)
print('fused qkv, inference_mode b1', res['fused_qkv_inference_mode_b1_ms'])
u3 = copy.deepcopy(u).to(memory_format=torch.channels_last)
with torch.inference_mode(): res['channels_last_b1_ms'] = round(bench(lambda: u3(z.contiguous(memory_format=torch.channels_last), t, encoder_hidden_states=e)), 1)
print('channels_last b1', res['channels_last_b1_ms']); write_json('unet_call_overheads.json', command=command_line(), fingerprint=toy_fingerprint('sd'), metrics=res)
print(u.config.block_out_channels, u.config.down_block_types, sum(p.numel() for p in u.parameters()))
