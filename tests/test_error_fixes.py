"""Every error message's suggested fix works: each test triggers the error, does literally what the message says (the code
it names, taken from the message text where practical) and checks that the call then succeeds. Fixes that need the hub
are followed as far as runs offline (the folder the download would give, the offline substitute the message names)."""
import os, re, shutil, subprocess, sys, warnings
from pathlib import Path

import numpy as np, PIL.Image, pytest, torch

from imiebench.models import tiny, WeightsNotFoundError


def raised(exc, fn, match=None):
    "The exception `fn()` raises (it must raise `exc`)."
    with pytest.raises(exc, match=match) as e: fn()
    return e.value

def code(err, pattern: str) -> str:
    "The code the message suggests: group 1 of `pattern` in the message."
    m = re.search(pattern, str(err)); assert m, str(err)
    return m.group(1)

def scene(size: int=32) -> np.ndarray:
    "A small image with a few flat shapes."
    a = np.full((size, size, 3), 90, np.uint8); a[2:12, 3:13] = (220, 40, 40); a[18:30, 16:28] = (40, 60, 220)
    return a

# ---------------------------------------------------------------- models (01_models)
def test_missing_pipeline_folder_save_pretrained(tmp_path):
    from imiebench.models import load_sd
    d = tmp_path / 'my-sd'
    e = raised(WeightsNotFoundError, lambda: load_sd(d, device='cpu'))
    pipe = tiny('sd').pipeline()
    eval(code(e, r'`(pipe\.save_pretrained\(dir\))`'), {'pipe': pipe, 'dir': str(d)})
    assert load_sd(d, device='cpu').kind == 'sd'

def test_hub_id_offline_download_folder_and_toy_zoo(tmp_path):
    import imiebench.toy.zoo
    from imiebench.models import load_ip2p, load_sd
    e = raised(WeightsNotFoundError, lambda: load_ip2p('timbrooks/instruct-pix2pix', local_files_only=True))
    cmd = code(e, r'`(hf download timbrooks/instruct-pix2pix --local-dir DIR)`').split()
    hf = Path(sys.executable).parent / cmd[0]  # the command exists here and takes --local-dir (running it needs the hub)
    r = subprocess.run([str(hf), cmd[1], '--help'], capture_output=True, text=True, timeout=60, env=dict(os.environ, NO_COLOR='1'))
    assert r.returncode == 0 and '--local-dir' in r.stdout, r.stdout + r.stderr
    d = tmp_path / 'DIR'; tiny('ip2p').save_pretrained(d)  # the folder a download gives: "pass its path instead of the id"
    assert load_ip2p(d, device='cpu').kind == 'ip2p'
    assert eval(code(e, r'`(imiebench\.toy\.zoo\.load_toy\(\'ip2p\'\))`'), {'imiebench': imiebench}).kind == 'ip2p'
    e = raised(WeightsNotFoundError, lambda: load_sd('some-org/some-model', local_files_only=True))
    assert eval(code(e, r'`(imiebench\.toy\.zoo\.load_toy\(\'sd\'\))`'), {'imiebench': imiebench}).kind == 'sd'

def test_pipeline_wrapped_once():
    from imiebench.models import check_bundle, bundle_from_pipeline
    pipe = tiny('ip2p').pipeline()
    e = raised(TypeError, lambda: check_bundle(pipe, 'ip2p', kind='ip2p'))
    b = eval(code(e, r'`(bundle_from_pipeline\(pipe\))`'), {'bundle_from_pipeline': bundle_from_pipeline, 'pipe': pipe})
    assert check_bundle(b, 'ip2p', kind='ip2p') is b and b.unet is pipe.unet

def test_unknown_words_raise_or_ignore():
    from imiebench.models import embed
    b = tiny('sd'); b.unknown_words = 'warn'
    with pytest.warns(UserWarning) as w: embed(b, 'a red dog')
    msg = str(w[0].message)
    for v in re.findall(r"unknown_words='(\w+)'|or '(\w+)' to silence", msg):
        b.unknown_words = v[0] or v[1]
        if b.unknown_words == 'raise': raised(ValueError, lambda: embed(b, 'a red dog'), "'dog'")
        else:
            with warnings.catch_warnings(): warnings.simplefilter('error'); embed(b, 'a red dog')
    assert b.unknown_words == 'ignore'

def test_unet_autocast_and_sdxl_text_encoder_2():
    from dataclasses import replace
    from imiebench.models import embed, predict
    b = tiny('sd'); emb = embed(b, 'a red circle'); x = torch.zeros(1, 4, 8, 8)
    b.unet_autocast = 'bf16'
    e = raised(TypeError, lambda: predict(b, x, 10, emb))
    b.unet_autocast = eval(code(e, r'\(e\.g\. (torch\.bfloat16)\)'), {'torch': torch})
    assert predict(b, x, 10, emb).shape == x.shape
    xl = tiny('sdxl'); broken = replace(xl, text_encoder_2=None, tokenizer_2=None)
    raised(ValueError, lambda: embed(broken, 'a red circle'), 'needs `text_encoder_2` and `tokenizer_2`')
    broken.text_encoder_2, broken.tokenizer_2 = xl.text_encoder_2, xl.tokenizer_2  # put them in the bundle
    assert embed(broken, 'a red circle').shape[0] == 1

# ---------------------------------------------------------------- command-line types (89_argtypes) and the CLI (90_cli)
@pytest.mark.skipif(torch.cuda.is_available(), reason='the error is for machines without CUDA')
def test_device_use_cpu():
    import argparse
    from imiebench.argtypes import device
    from imiebench.cli import parser
    for s in ('cuda', 'cuda:0', 'mps'):
        if s == 'mps' and torch.backends.mps.is_available(): continue
        e = raised(argparse.ArgumentTypeError, lambda: device(s))
        assert device(code(e, r"use '(\w+)'")) == 'cpu'
    assert parser(bench=False).parse_args(['demo', '--device', 'cpu']).device == 'cpu'

def test_csv_repeated_items_given_once():
    import argparse
    from imiebench.argtypes import csv_of
    parse = csv_of(('clip', 'vae', 'sd'))
    raised(argparse.ArgumentTypeError, lambda: parse('clip,vae,clip'), "repeated item\\(s\\) 'clip'.*give each once")
    assert parse(','.join(dict.fromkeys('clip,vae,clip'.split(',')))) == ('clip', 'vae')

def test_bench_set_shipped_name_or_folder(tmp_path):
    import contextlib, io
    from imiebench.cli import parser
    p = parser()
    with contextlib.redirect_stderr(io.StringIO()) as err, pytest.raises(SystemExit): p.parse_args(['bench', '--set', str(tmp_path)])
    shipped = code(err.getvalue(), r'expected a shipped set \(([^)]*)\)').split(', ')
    for s in shipped: assert p.parse_args(['bench', '--set', s]).set == s
    from imiebench.bench.format import load_bench, save_bench
    save_bench(load_bench("shapes", max_cases=1), tmp_path / "mine")  # "or a folder with manifest.json"
    assert p.parse_args(['bench', '--set', str(tmp_path / 'mine')]).set == str(tmp_path / 'mine')

# ---------------------------------------------------------------- elements (40, 41, 42)
def test_partition_square_n():
    from imiebench.elements.partition import partition
    e = raised(ValueError, lambda: partition(scene(16), n=10))
    for n in re.search(r'e\.g\. (\d+) or (\d+)', str(e)).groups(): assert partition(scene(16), n=int(n)).n >= 1

def test_vae_provider_and_sam_offline(tmp_path):
    from imiebench.elements.partition import partition, VAEProvider, SamProvider
    from imiebench.toy.zoo import load_toy_vae
    e = raised(TypeError, lambda: VAEProvider(torch.nn.Linear(2, 2)))
    vae = eval(code(e, r"e\.g\. the toy zoo's (load_toy_vae\(\))"), {'load_toy_vae': load_toy_vae})
    assert partition(scene(), n=4, provider=VAEProvider(vae)).n >= 1
    for src in ('facebook/sam-vit-base', str(tmp_path / 'sam')):
        e = raised(WeightsNotFoundError, lambda: SamProvider(src))
        d = tmp_path / 'DIR'; tiny_sam().save_pretrained(d)  # the folder `hf download … --local-dir DIR` (or save_pretrained) gives
        sam = eval(code(e, r"`(SamProvider\('DIR'\))`").replace('DIR', str(d)), {'SamProvider': SamProvider})
        assert partition(scene(), n=4, provider=sam).n >= 1
        for fix in re.findall(r"`provider=([^`]+)`", str(e)):  # the offline providers
            assert partition(scene(), n=4, provider=eval(fix, {'VAEProvider': VAEProvider, 'load_toy_vae': load_toy_vae})).n >= 1

def tiny_sam():
    from transformers import SamConfig, SamModel, SamVisionConfig, SamPromptEncoderConfig, SamMaskDecoderConfig
    vc = SamVisionConfig(hidden_size=32, output_channels=16, num_hidden_layers=2, num_attention_heads=2, image_size=64, patch_size=8,
                         global_attn_indexes=[1], mlp_dim=64, num_pos_feats=8)
    cfg = SamConfig(vision_config=vc, prompt_encoder_config=SamPromptEncoderConfig(hidden_size=16, image_size=64, patch_size=8, mask_input_channels=4),
                    mask_decoder_config=SamMaskDecoderConfig(hidden_size=16, mlp_dim=32, num_hidden_layers=1, num_attention_heads=2, iou_head_hidden_dim=16))
    torch.manual_seed(0); return SamModel(cfg).eval()

@pytest.fixture(scope='module')
def els():
    "(encoder, image, partition, encoded elements) of a 32×32 image in a 4×4 grid."
    from imiebench.elements.partition import grid_partition
    from imiebench.elements.model import ContentEncoder, encode_elements
    torch.manual_seed(0); enc, img = ContentEncoder(dim=8, ch=(8, 8, 8)), scene()
    part = grid_partition(img, 16)
    return enc, img, part, encode_elements(enc, img, part)

def test_elements_encode_first(els):
    from imiebench.elements.model import make_elements, batch_elements, encode_elements
    from imiebench.elements.edit import compose
    encoder, image, part, el = els
    e = raised(ValueError, lambda: batch_elements([make_elements(part)]))
    fix = code(e, r'`(encode_elements\(encoder, image, part\))`')
    ns = dict(encode_elements=encode_elements, encoder=encoder, image=image, part=part)
    assert batch_elements([eval(fix, ns)]).feats.shape[:2] == (1, 16)
    e = raised(ValueError, lambda: compose(el, make_elements(part), [0], dy=8))
    assert compose(el, eval(code(e, r'`(encode_elements\(encoder, image, part\))`'), ns), [0], dy=8).n == 17

def test_elements_all_deleted_decode_the_one_before(els):
    from imiebench.elements.model import batch_elements
    from imiebench.elements.edit import delete
    before = els[3]; after = delete(before, range(before.n))
    raised(ValueError, lambda: batch_elements([after]), r'decode the one from before the `delete`')
    assert batch_elements([before]).alive.all()

def test_elements_off_canvas_clip_or_delete(els):
    from imiebench.elements.edit import move, resize, delete, apply_edits
    el = els[3]
    e = raised(ValueError, lambda: move(el, 0, 0, -5))
    kw = dict([code(e, r'pass (clip=True) to cut').split('=')]); kw['clip'] = eval(kw['clip'])
    assert move(el, 0, 0, -5, **kw).boxes()[0, 1] >= -.5
    raised(ValueError, lambda: resize(el, 0, 3.), 'pass clip=True'); resize(el, 0, 3., **kw)
    raised(ValueError, lambda: apply_edits(el, [dict(op='move', id=0, dx=-5)]), 'pass clip=True'); apply_edits(el, [dict(op='move', id=0, dx=-5)], **kw)
    raised(ValueError, lambda: resize(el, 0, 1e-3), r'expected a larger scale \(or delete the element\)')
    assert resize(el, 0, 0.5).sizes[0, 0] == el.sizes[0, 0] / 2 and not delete(el, 0).alive[0]

# ---------------------------------------------------------------- widgets wire (60)
def test_soft_mask_thresholded():
    from imiebench.widgets.wire import binary_mask
    soft = np.zeros((8, 8), np.float32); soft[:, 4:] = .8; soft[0, 0] = .3
    grey = (soft * 255).astype(np.uint8); pil = PIL.Image.fromarray(grey, 'L'); t = torch.from_numpy(soft)
    for mask in (soft, grey, pil, t):
        e = raised(ValueError, lambda: binary_mask(mask, (8, 8)))
        fixed = eval(code(e, r'threshold it first, e\.g\. `([^`]+)`'), {'mask': mask, 'np': np})
        assert (binary_mask(fixed, (8, 8)) == (soft > .5)).all(), str(e)

# ---------------------------------------------------------------- benchmark formats (51)
def test_magicbrush_size(tmp_path):
    from imiebench.bench.formats import demo_magicbrush, load_magicbrush
    root = demo_magicbrush(tmp_path / 'mb', n=1, size=64)
    for f in (root / 'images').rglob('*.png'): PIL.Image.open(f).resize((60, 60), PIL.Image.NEAREST).save(f)
    e = raised(ValueError, lambda: load_magicbrush(root), r'not a multiple of 8 \(pass size= to resize\)')
    size = int(code(e, r'e\.g\. size=(\d+) resizes'))
    s = load_magicbrush(root, size=size)
    assert s.cases[0].image.shape == (size, size, 3) and size % 8 == 0

def test_parquet_file_name_renamed_to_utf8(tmp_path):
    from imiebench.bench.formats import demo_magicbrush, load_magicbrush_parquet
    root = demo_magicbrush(tmp_path / 'mbp', form='parquet', n=1)
    f = next((root / 'data').glob('*.parquet')); bad = os.path.join(os.fsencode(f.parent), b'test-caf\xe9.parquet'); os.rename(f, bad)
    e = raised(ValueError, lambda: load_magicbrush_parquet(root), 'not valid UTF-8')
    frm, to = code(e, r'`convmv -f (\w+) -t utf8`'), 'utf-8'  # what convmv does: the name's bytes read as latin1, written as UTF-8
    os.rename(bad, os.path.join(os.fsencode(f.parent), b'test-caf\xe9.parquet'.decode(frm).encode(to)))
    assert len(load_magicbrush_parquet(root).cases) == 1

def test_pie_editing_types_one_item_list(tmp_path):
    from imiebench.bench.formats import demo_pie_bench, load_pie_bench
    root = demo_pie_bench(tmp_path / 'pie', n=1)
    e = raised(TypeError, lambda: load_pie_bench(root, editing_types='0'))
    assert len(load_pie_bench(root, editing_types=eval(code(e, r'one-item list such as (\[[^\]]*\])')))) == 1

# ---------------------------------------------------------------- benchmark metrics and scores (52, 55)
def test_magicbrush_metric_resize():
    from imiebench.bench.metrics import magicbrush_l1
    out, target = scene(16), scene(24)
    e = raised(ValueError, lambda: magicbrush_l1(out, target))
    k, v = code(e, r'pass (resize=True)').split('=')
    assert 0 <= magicbrush_l1(out, target, **{k: eval(v)}) < 1

def test_lpips_backbone_copied_there(tmp_path, monkeypatch):
    import torchvision, imiebench.bench.metrics as bm
    import imiebench.metrics as im
    monkeypatch.setenv('TORCH_HOME', str(tmp_path / 'th')); monkeypatch.setattr(im, '_LPIPS', {})  # the one LPIPS cache (the core's)
    e = raised(WeightsNotFoundError, lambda: bm.load_lpips('squeeze'))
    f = Path(code(e, r'weights at (\S+) \(the lpips'))
    assert f.parent == tmp_path / 'th' / 'hub' / 'checkpoints' and 'TORCH_HOME' in str(e)
    f.parent.mkdir(parents=True); torch.save(torchvision.models.squeezenet1_1().state_dict(), f)  # "copy the file there"
    assert bm.lpips_distance(scene(), scene(), 'squeeze', bm.load_lpips('squeeze')) == pytest.approx(0, abs=1e-6)

def test_clip_local_folder_and_toy(tmp_path):
    import imiebench.bench.metrics as bm
    from transformers import AutoTokenizer, CLIPImageProcessor, CLIPModel, CLIPProcessor
    from imiebench.toy.zoo import zoo_dir
    e = raised(WeightsNotFoundError, lambda: bm.real_clip_embedder('some-org/clip-x', local_files_only=True))
    d = tmp_path / 'clip-x'  # "a folder where CLIPModel.save_pretrained and CLIPProcessor.save_pretrained wrote" it
    assert 'CLIPModel.save_pretrained and CLIPProcessor.save_pretrained' in str(e)
    CLIPModel.from_pretrained(zoo_dir() / 'clip').save_pretrained(d)
    CLIPProcessor(image_processor=CLIPImageProcessor(size={'shortest_edge': 64}, crop_size={'height': 64, 'width': 64}),
                  tokenizer=AutoTokenizer.from_pretrained(zoo_dir() / 'clip')).save_pretrained(d)
    fix = code(e, r"(real_clip_embedder\('/path/to/clip-x'\))").replace('/path/to/clip-x', str(d))
    for emb in (eval(fix, {'real_clip_embedder': bm.real_clip_embedder}), eval(code(e, r'Offline without it: (toy_clip_embedder\(\))'),
                                                                                vars(sys.modules[bm.real_clip_embedder.__module__]))):  # where the message is written
        assert bm.clip_i(scene(64), scene(64), emb) == pytest.approx(1, abs=1e-5)

def test_real_scorer_offline_toy_scorer_and_local_captions(tmp_path):
    import imiebench.bench.scores as sc
    from imiebench.bench.formats import demo_magicbrush, load_magicbrush, magicbrush_local_captions
    e = raised(WeightsNotFoundError, lambda: sc.real_scorer(local_files_only=True))
    scorer = eval(code(e, r'Offline, use (toy_scorer\(\))'), vars(sc))
    root = demo_magicbrush(tmp_path / 'mb', n=1); case = load_magicbrush(root).cases[0]; images = [s.target for s in case.steps]
    e = raised(ValueError, lambda: sc.score_case(case, images, scorer, local_captions='a red circle'))
    local = eval(code(e, r'e\.g\. (magicbrush_local_captions\(root\)\[case\.id\])'), dict(magicbrush_local_captions=magicbrush_local_captions, root=root, case=case))
    r = sc.score_case(case, images, scorer, local_captions=local)
    assert len(r['steps']) == len(case.steps) and np.isfinite(r['steps'][0]['clip_t'])

# ---------------------------------------------------------------- the runner (57)
@pytest.fixture(scope='module')
def tb():
    "A one-case, one-step 16×16 set and a config that edits it in about a second."
    from imiebench.bench.format import load_bench, BenchSet, BenchCase, BenchStep
    from imiebench.bench.methods import BenchConfig
    c = load_bench('shapes', max_cases=1).cases[0]; sm = lambda a: np.asarray(PIL.Image.fromarray(a).resize((16, 16), PIL.Image.NEAREST))
    s = BenchSet('tiny', [BenchCase(c.id, sm(c.image), c.caption, [BenchStep(c.steps[0].instruction)])])
    return s, BenchConfig(steps=1, seeds=(0,), methods=('ip2p',), save_images=False), tiny('ip2p')

def run(tb, out, **kw):
    from imiebench.bench.runner import run_bench
    s, cfg, ip = tb; kw = dict(cfg=cfg) | kw
    return run_bench(s, out, kw.pop('cfg'), ip2p=ip, progress=False, **kw)

@pytest.mark.skipif(torch.cuda.is_available(), reason='the error is for machines without CUDA')
def test_runner_device_and_scorer(tb, tmp_path):
    from imiebench.bench.scores import toy_scorer
    e = raised(ValueError, lambda: run(tb, tmp_path, device='cuda'))
    for dev in code(e, r"use ('cpu' or None)").split(' or '): assert run(tb, tmp_path, device=eval(dev))['n_cases'] == 1
    e = raised(TypeError, lambda: run(tb, tmp_path / 'b', scorer='toy'))
    assert run(tb, tmp_path / 'b', scorer=eval(code(e, r'e\.g\. (toy_scorer\(\))'), {'toy_scorer': toy_scorer}))['n_cases'] == 1

def test_runner_another_run_start_fresh(tb, tmp_path):
    from dataclasses import replace
    from filelock import FileLock
    out = tmp_path / 'out'; run(tb, out); other = replace(tb[1], steps=2)
    e = raised(ValueError, lambda: run(tb, out, cfg=other), 'holds the records of another run')
    assert 'give this run another output folder, or delete ' + str(out) in str(e)
    assert run(tb, tmp_path / 'another', cfg=other)['steps'] == 2
    shutil.rmtree(out); assert run(tb, out, cfg=other)['steps'] == 2
    with FileLock(out / '.lock', timeout=0):  # another run holds the folder
        e = raised(RuntimeError, lambda: run(tb, out, cfg=other), 'Wait for that run to end, or give this one another output folder')
        assert run(tb, tmp_path / 'another2', cfg=other)['steps'] == 2
    assert run(tb, out, cfg=other)['steps'] == 2  # that run ended

def test_runner_case_ids_unique(tb):
    from dataclasses import replace
    from imiebench.bench.format import BenchSet
    from imiebench.bench.runner import check_cases
    c = tb[0].cases[0]; s = BenchSet('dup', [c, replace(c)])
    raised(ValueError, lambda: check_cases(s), 'give every case its own id')
    assert len(check_cases(BenchSet('dup', [replace(x, id=f"{x.id}-{i}") for i, x in enumerate(s.cases)]))) == 2

def test_bench_command_names_the_files_it_wrote(tmp_path, capsys):
    "`imiebench bench`'s last line lists what the report wrote: every file it names exists, and every figure is named."
    from imiebench.cli import main
    main(['bench', '--set', 'shapes', '--n-cases', '1', '--methods', 'ip2p', '--steps', '1', '--seeds', '0', '--no-images',
          '--out', str(tmp_path), '--device', 'cpu'])
    line = capsys.readouterr().out.strip().splitlines()[-1]
    m = re.fullmatch(rf"bench: wrote {re.escape(str(tmp_path))}/(.*) in \d+ s", line); assert m, line
    names = m.group(1).split(', ')
    assert all((tmp_path / f).is_file() for f in names), names
    assert {p.name for p in tmp_path.glob('*.png')} <= set(names) and 'gallery.png' in names


# ---------------------------------------------------------------- ddim, diffedit, emilie (10, 11, 20)
def test_ddim_too_few_steps_either_fix_works():
    from diffusers import DDIMScheduler
    from imiebench.ddim import decode_timesteps
    sch = DDIMScheduler()
    for steps, r in ((3, 0.2), (7, 0.1), (1, 0.5), (50, 0.015)):
        e = raised(ValueError, lambda: decode_timesteps(sch, steps, r))
        r2 = float(code(e, r'use r ≥ ([0-9.]+)')); n2 = int(code(e, r'num_inference_steps ≥ (\d+)'))
        assert len(decode_timesteps(sch, steps, r2)) >= 1 and len(decode_timesteps(sch, n2, r)) >= 1

def test_diffedit_too_few_steps_either_fix_works():
    from imiebench.diffedit import diffedit
    sd, img = tiny('sd'), scene(16)
    e = raised(ValueError, lambda: diffedit(sd, img, 'a red circle', num_inference_steps=3, mask_encode_strength=0.3, n=2, progress=False))
    n2, s2 = int(code(e, r'use num_inference_steps ≥ (\d+)')), float(code(e, r'mask_encode_strength ≥ ([0-9.]+)'))
    assert diffedit(sd, img, 'a red circle', num_inference_steps=n2, mask_encode_strength=0.3, n=2, progress=False).image.shape == (1, 3, 16, 16)
    assert diffedit(sd, img, 'a red circle', num_inference_steps=3, mask_encode_strength=s2, n=2, progress=False).image.shape == (1, 3, 16, 16)

def test_renamed_argument_both_given():
    from imiebench.ddim import ddim_encode
    sd = tiny('sd'); z0 = sd.encode(scene(16))
    e = raised(TypeError, lambda: ddim_encode(sd, z0, num_inference_steps=3, steps=4, progress=False))
    name = code(e, r'pass `(\w+)=` only')
    assert len(ddim_encode(sd, z0, **{name: 4}, r=0.5, progress=False).timesteps) == 2
