"The field's formats (MagicBrush parquet and folder, PIE-Bench) load into BenchSets; the field's metrics behave as their benchmarks define them."
import io, json
import numpy as np, PIL.Image, pytest

from imiebench.bench.format import load_bench, save_bench
from imiebench.bench.formats import (load_magicbrush, load_magicbrush_parquet, load_pie_bench, decode_pie_mask, encode_pie_mask,
                                     decode_magicbrush_mask, demo_magicbrush, demo_pie_bench, pie_editing_types, MB_COLUMNS)
from imiebench.bench import metrics as bm


@pytest.fixture(scope='module')
def sets(tmp_path_factory):
    d = tmp_path_factory.mktemp('formats')
    return dict(folder=demo_magicbrush(d / 'mb'), parquet=demo_magicbrush(d / 'mbp', 'parquet'), pie=demo_pie_bench(d / 'pie'), tmp=d)


def _png(a):
    b = io.BytesIO(); PIL.Image.fromarray(a).save(b, format='PNG'); return b.getvalue()


def test_magicbrush_folder_layout_and_chaining(sets):
    root = sets['folder']
    # the released layout: edit_sessions.json next to images/<img_id>/<img_id>-{input,outputK,maskK}.png
    sess = json.loads((root / 'edit_sessions.json').read_text())
    for sid, turns in sess.items():
        assert (root / 'images' / sid / f"{sid}-input.png").exists()
        assert all((root / 'images' / sid / t[k]).exists() for t in turns for k in ('input', 'output', 'mask'))
    b = load_magicbrush(root)
    assert [c.id for c in b] == list(sess) and [len(c.steps) for c in b] == [len(t) for t in sess.values()]
    for c, turns in zip(b, sess.values()):
        assert c.image.dtype == np.uint8 and c.image.ndim == 3
        for st, t in zip(c.steps, turns):
            tgt = np.asarray(PIL.Image.open(root / 'images' / c.id / t['output']).convert('RGB'))
            assert st.instruction == t['instruction'] and (st.target == tgt).all()
            assert st.mask.dtype == np.float32 and set(np.unique(st.mask)) <= {0., 1.} and (st.change_mask == st.mask).all()
    # loading the parent folder (the zip's top level) finds test/
    (sets['tmp'] / 'zip').mkdir(); (sets['tmp'] / 'zip' / 'test').symlink_to(root, target_is_directory=True)
    assert len(load_magicbrush(sets['tmp'] / 'zip')) == len(b)


def test_magicbrush_parquet_matches_folder(sets):
    import pyarrow.parquet as pq
    files = sorted((sets['parquet'] / 'data').glob('*.parquet'))
    assert len(files) == 2 and tuple(pq.read_schema(files[0]).names) == MB_COLUMNS
    a, b = load_magicbrush(sets['folder']), load_magicbrush_parquet(sets['parquet'])
    assert [c.id for c in a] == [c.id for c in b]
    for c, d in zip(a, b):
        assert (c.image == d.image).all()
        for s, t in zip(c.steps, d.steps):
            assert s.instruction == t.instruction and (s.target == t.target).all() and (s.mask == t.mask).all()
    assert load_magicbrush_parquet(files[0]).cases[0].id == a[0].id
    assert len(load_magicbrush_parquet(sets['parquet'], split='test', max_cases=2)) == 2
    with pytest.raises(FileNotFoundError, match="split 'train'"): load_magicbrush_parquet(sets['parquet'], split='train')
    conv = sets['tmp'] / 'converted' / 'default' / 'partial-test'; conv.mkdir(parents=True)  # the hub's converted layout
    for i, f in enumerate(files): (conv / f"{i:04d}.parquet").write_bytes(f.read_bytes())
    assert [c.id for c in load_magicbrush_parquet(sets['tmp'] / 'converted', split='test')] == [c.id for c in a]
    free = load_magicbrush_parquet(sets['parquet'], masks='free')
    assert all(s.mask is None and s.change_mask is not None for c in free for s in c.steps)
    with pytest.raises(ValueError, match='masks must be one of'): load_magicbrush_parquet(sets['parquet'], masks='yes')


def test_magicbrush_parquet_problems(tmp_path):
    import pyarrow as pa, pyarrow.parquet as pq
    img = np.zeros((64, 64, 3), np.uint8); m = np.zeros((64, 64), np.uint8); m[8:16, 8:16] = 255
    cell = lambda a: dict(bytes=_png(a), path=None)
    st = pa.struct([('bytes', pa.binary()), ('path', pa.string())])
    schema = pa.schema([('img_id', pa.string()), ('turn_index', pa.int32()), ('source_img', st), ('mask_img', st), ('instruction', pa.string()), ('target_img', st)])
    rows = dict(img_id=['1', '1', '2'], turn_index=[1, 3, 1], source_img=[cell(img)] * 3, mask_img=[cell(m), cell(m), cell(np.zeros_like(m))],
                instruction=['a', 'b', ''], target_img=[cell(img), cell(img), cell(img[:32])])
    pq.write_table(pa.table(rows, schema=schema), tmp_path / 'x.parquet')
    with pytest.raises(ValueError) as e: load_magicbrush_parquet(tmp_path / 'x.parquet')
    msg = str(e.value)
    assert '4 problem(s)' in msg and 'are not 1..2' in msg and 'instruction must be a non-empty string' in msg and 'mask is empty' in msg and 'differs from the input' in msg
    pq.write_table(pa.table({'img_id': ['1'], 'instruction': ['a']}), tmp_path / 'y.parquet')
    with pytest.raises(ValueError, match=r"missing column\(s\) \['turn_index'"): load_magicbrush_parquet(tmp_path / 'y.parquet')


def test_magicbrush_masks_both_encodings():
    m = np.zeros((16, 16), np.float32); m[3:7, 5:12] = 1
    photo = np.full((16, 16, 3), 250, np.uint8)  # a bright photo: the white rule would take all of it
    assert (decode_magicbrush_mask(PIL.Image.fromarray(np.dstack([photo, ((1 - m) * 255).astype(np.uint8)]))) == m).all()
    assert (decode_magicbrush_mask(PIL.Image.fromarray((m * 255).astype(np.uint8))) == m).all()
    with pytest.raises(TypeError): decode_magicbrush_mask(m)


def test_magicbrush_size_option(sets, tmp_path):
    b = load_magicbrush(sets['folder'], size=32)
    assert all(c.image.shape == (32, 32, 3) and all(s.mask.shape == (32, 32) and s.target.shape == (32, 32, 3) for s in c.steps) for c in b)
    # a size that is not a multiple of 8 is reported, with the way out
    d = demo_magicbrush(tmp_path / 'odd', n=1); sid = next(iter(json.loads((d / 'edit_sessions.json').read_text())))
    f = d / 'images' / sid / f"{sid}-input.png"; PIL.Image.open(f).resize((60, 60)).save(f)
    with pytest.raises(ValueError, match='not a multiple of 8 \\(pass size= to resize\\)'): load_magicbrush(d)
    assert load_magicbrush(d, size=64)[0].image.shape == (64, 64, 3)


def test_pie_mask_decoding():
    # PnPInversion's encoding: (start, length) runs in the row-major flattened image, then the border set to 1
    enc = [10, 3, 20, 100]  # the second run goes past the end of a 4×6 image and is clipped
    m = decode_pie_mask(enc, (4, 6))
    flat = np.zeros(24); flat[10:13] = 1; flat[20:] = 1; ref = flat.reshape(4, 6); ref[0] = ref[-1] = 1; ref[:, 0] = ref[:, -1] = 1
    assert (m == ref).all()
    assert decode_pie_mask(enc, (4, 6), border=False).sum() == 3 + 4
    r = np.random.default_rng(0).random((9, 13)) > .6
    assert (decode_pie_mask(encode_pie_mask(r), (9, 13), border=False) == r).all()
    for bad in ([1, 2, 3], [[1, 2]], [1.5, 2.0], [-1, 2], [200, 1]):
        with pytest.raises(ValueError): decode_pie_mask(bad, (4, 6))


def test_pie_bench_folder(sets):
    root = sets['pie']; mp = json.loads((root / 'mapping_file.json').read_text())
    b = load_pie_bench(root)
    assert [c.id for c in b] == list(mp) and all(len(c.steps) == 1 for c in b)
    for c, it in zip(b, mp.values()):
        s = c.steps[0]
        assert c.image.shape == (512, 512, 3) and s.instruction == it['editing_instruction']
        assert s.query_caption == it['editing_prompt'].replace('[', '').replace(']', '') and s.ref_caption == c.caption
        assert s.mask is None and (s.change_mask == decode_pie_mask(it['mask'])).all()
    assert all(c.steps[0].mask is not None for c in load_pie_bench(root / 'mapping_file.json', use_masks=True))
    assert [c.id for c in load_pie_bench(root, editing_types=['2'])] == [k for k, v in mp.items() if v['editing_type_id'] == '2']
    with pytest.raises(ValueError, match='editing_types'): load_pie_bench(root, editing_types=['12'])
    assert pie_editing_types(root)[list(mp)[1]] == 'change object'


def test_pie_bench_non_square_image_read_as_pnpinversion_does(sets, tmp_path):
    import shutil
    d = tmp_path / 'pie'; shutil.copytree(sets['pie'], d)
    mp = json.loads((d / 'mapping_file.json').read_text()); k, it = next(iter(mp.items()))
    a = np.zeros((300, 400, 3), np.uint8); a[:, 50:350] = 200  # load_512: centre square, resized to 512
    PIL.Image.fromarray(a).save(d / 'annotation_images' / it['image_path'], quality=95)
    img = load_pie_bench(d)[0].image
    assert img.shape == (512, 512, 3) and img.mean() > 190
    it['mask'] = [0, 5, 262143, 9]; it['editing_instruction'] = ' '; mp[k] = it
    (d / 'mapping_file.json').write_text(json.dumps(mp))
    with pytest.raises(ValueError, match='editing_instruction must be a non-empty string'): load_pie_bench(d)


def test_converted_sets_round_trip_through_imie_bench_format(sets):
    for b in (load_magicbrush(sets['folder']), load_pie_bench(sets['pie'], size=64)):
        back = load_bench(save_bench(b, sets['tmp'] / f"conv-{b.name}"), min_steps=1)
        assert (back.name, len(back)) == (b.name, len(b))
        for c, d in zip(b, back):
            assert (c.image == d.image).all() and len(c.steps) == len(d.steps)
            for s, t in zip(c.steps, d.steps):
                for f in ('instruction', 'ref_caption', 'query_caption'): assert getattr(s, f) == getattr(t, f)
                for f in ('mask', 'target', 'change_mask'):
                    assert (getattr(s, f) is None) == (getattr(t, f) is None) and (getattr(s, f) is None or (getattr(s, f) == getattr(t, f)).all())


def test_field_metrics_definitions():
    rng = np.random.default_rng(1)
    x = rng.integers(0, 256, (32, 32, 3), dtype=np.uint8); m = np.zeros((32, 32)); m[4:20, 4:20] = 1
    y = x.copy(); y[4:20, 4:20] = 0
    assert bm.l1_distance(x, x) == 0 and bm.psnr_unedited(x, y, m) == 100. and bm.mse_unedited(x, y, m) == 0
    z = y.copy(); z[28:] = 255 - z[28:]
    # PIE-Bench's MSE of the unedited part averages over the whole image (the zeroed part included)
    out = (np.abs(x.astype(float) - z) / 255) ** 2
    assert bm.mse_unedited(x, z, m) == pytest.approx((out * (m < .5)[..., None]).mean())
    assert bm.l2_distance(x, z) == pytest.approx(out.mean())
    r = bm.field_metrics(x, z, target=x, mask=m)
    assert set(r) >= {'l1', 'l2', 'psnr_unedited', 'ssim_unedited', 'mse_unedited'} and all(np.isfinite(v) for v in r.values())
    assert not {'clip_i', 'clip_t'} & set(r)  # no scorer: no CLIP numbers, and metric_availability says why
    av = bm.metric_availability(None)
    assert av['clip_i'] == 'not available: no scorer given' and set(av) == set(bm.FIELD_METRICS)
    if not bm.lpips_backbone_file('squeeze').exists(): assert av['lpips_unedited'].startswith('not available: ') and 'lpips_unedited' not in r
    with pytest.raises(TypeError, match='uint8'): bm.field_metrics(x.astype(float), x)
    with pytest.raises(ValueError, match='same size'): bm.field_metrics(x, x[:16, :16])


def test_real_clip_embedder_code_path(tmp_path):
    "real_clip_embedder on a CLIP folder (the toy CLIP with an image processor config): unit vectors, CLIP-I of an image with itself 1."
    import shutil
    from transformers import CLIPImageProcessor
    from imiebench.toy.zoo import zoo_dir
    d = tmp_path / 'clip'; shutil.copytree(zoo_dir() / 'clip', d)
    CLIPImageProcessor(size={'shortest_edge': 64}, crop_size={'height': 64, 'width': 64}).save_pretrained(d)
    emb = bm.real_clip_embedder(str(d))
    x = np.random.default_rng(2).integers(0, 256, (64, 64, 3), dtype=np.uint8)
    assert bm.clip_i(x, x, emb) == pytest.approx(1, abs=1e-5) and -1 <= bm.clip_t(x, 'a small red circle', emb) <= 1
    assert np.allclose(np.linalg.norm(emb.text(['a', 'a blue square']), axis=1), 1, atol=1e-5)
    with pytest.raises(OSError, match='could not load CLIP'): bm.real_clip_embedder(str(tmp_path / 'none'))
