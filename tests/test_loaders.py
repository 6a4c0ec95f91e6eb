"The bench's loaders refuse what they cannot read — naming the file, the field and what was expected — and read what they can exactly."
import io, json, os, shutil, struct, tempfile, zlib
from pathlib import Path

import numpy as np, PIL.Image, pytest
from hypothesis import given, settings, strategies as st

from imiebench.bench.format import (FORMAT, BenchCase, BenchSet, BenchStep, case_stem, image_grey8, image_rgb8, load_bench,
                                    load_editbench, save_bench, save_png)
from imiebench.bench.formats import (decode_magicbrush_mask, decode_pie_mask, demo_magicbrush, demo_pie_bench, load_magicbrush,
                                     load_magicbrush_parquet, load_pie_bench, magicbrush_local_captions, pie_editing_types)


@pytest.fixture(scope='module')
def sets(tmp_path_factory):
    d = tmp_path_factory.mktemp('loaders')
    return dict(mb=demo_magicbrush(d / 'mb', n=2), mbp=demo_magicbrush(d / 'mbp', 'parquet', n=2), pie=demo_pie_bench(d / 'pie', n=3))


def _copy(src: Path, dst: Path) -> Path:
    shutil.copytree(src, dst); return dst


def _png16_rgb(a: np.ndarray, path: Path):
    "Write an H×W×3 uint16 array as a 16-bit-per-channel RGB PNG (PIL cannot write one)."
    h, w, _ = a.shape
    raw = b''.join(b'\x00' + a[y].astype('>u2').tobytes() for y in range(h))
    chunk = lambda t, d: struct.pack('>I', len(d)) + t + d + struct.pack('>I', zlib.crc32(t + d) & 0xffffffff)
    path.write_bytes(b'\x89PNG\r\n\x1a\n' + chunk(b'IHDR', struct.pack('>IIBBBBB', w, h, 16, 2, 0, 0, 0))
                     + chunk(b'IDAT', zlib.compress(raw)) + chunk(b'IEND', b''))


def _mb_first(root: Path) -> tuple[str, list]:
    sess = json.loads((root / 'edit_sessions.json').read_text()); sid = next(iter(sess)); return sid, sess[sid]


def _mp(root: Path) -> dict: return json.loads((root / 'mapping_file.json').read_text())


# ---- images of every mode: converted explicitly, or refused ----

GREY16 = np.array([[0, 255, 256, 32767, 32768, 65535, 100 * 257, 1000]], np.uint16)

def test_16bit_grey_is_scaled_not_clipped():
    im = PIL.Image.fromarray(GREY16); assert im.mode == 'I;16'
    want = (GREY16 >> 8).astype(np.uint8)  # [0, 0, 1, 127, 128, 255, 100, 3]
    assert (image_grey8(im) == want).all() and (image_rgb8(im) == np.dstack([want] * 3)).all()
    assert np.asarray(im.convert('L')).max() == 255 and (np.asarray(im.convert('L')) == 255).sum() > 1  # what PIL alone does


@pytest.mark.parametrize('mode', ['L', 'RGB', 'RGBA', 'LA', 'CMYK', 'YCbCr'])
def test_8bit_modes_read_as_pil_reads_them(mode):
    a = np.random.default_rng(0).integers(0, 256, (8, 8, 3), dtype=np.uint8)
    im = PIL.Image.fromarray(a).convert(mode)
    assert (image_rgb8(im) == np.asarray(im.convert('RGB'))).all() and image_rgb8(im).dtype == np.uint8
    assert (image_grey8(im) == np.asarray(im.convert('L'))).all()


def test_palette_with_transparency_and_1bit():
    pal = PIL.Image.new('P', (4, 4), 1); pal.putpalette([9, 9, 9, 10, 20, 30]); pal.info['transparency'] = 1
    assert image_rgb8(pal)[0, 0].tolist() == [10, 20, 30]  # expanded through RGBA, alpha dropped, colour kept
    bits = PIL.Image.fromarray(np.eye(4, dtype=bool)); assert bits.mode == '1'
    assert (image_grey8(bits) == np.eye(4, dtype=np.uint8) * 255).all()


@pytest.mark.parametrize('mode', ['I', 'F', 'RGBa', 'La'])
def test_modes_without_a_byte_range_are_refused(mode):
    with pytest.raises(ValueError, match=f"case 'x' image: cannot read an image of mode '{mode}' as 8-bit") as e:
        image_rgb8(PIL.Image.new(mode, (8, 8)), "case 'x' image")
    assert "16-bit grey" in str(e.value)  # what is expected
    with pytest.raises(ValueError, match=f"mode '{mode}'"): image_grey8(PIL.Image.new(mode, (8, 8)))
    with pytest.raises(TypeError, match='must be a PIL image'): image_rgb8(np.zeros((8, 8, 3), np.uint8))


def test_refused_mode_names_the_file(tmp_path):
    PIL.Image.fromarray(np.zeros((8, 8), np.float32)).save(tmp_path / 'f.tif')
    with pytest.raises(ValueError, match=r"case 'x' image \(f\.tif\): cannot read an image of mode 'F'"):
        image_rgb8(PIL.Image.open(tmp_path / 'f.tif'), "case 'x' image")


def test_magicbrush_folder_16bit_images_and_masks(sets, tmp_path):
    d = _copy(sets['mb'], tmp_path / 'mb'); sid, turns = _mb_first(d)
    PIL.Image.fromarray(np.full((64, 64), 100 * 257, np.uint16)).save(d / 'images' / sid / turns[0]['input'])
    m16 = np.full((64, 64), 100 * 257, np.uint16); m16[8:24, 8:24] = 65535  # dark grey (not "white") and a white square
    PIL.Image.fromarray(m16).save(d / 'images' / sid / turns[0]['mask'])
    c = load_magicbrush(d)[0]
    assert (c.image == 100).all()  # was 255 (clipped) before
    want = np.zeros((64, 64), np.float32); want[8:24, 8:24] = 1
    assert (c.steps[0].mask == want).all()
    PIL.Image.fromarray(np.zeros((64, 64), np.float32)).save(d / 'images' / sid / 'f.tif')  # mode 'F': no 0..255 range
    sess = json.loads((d / 'edit_sessions.json').read_text()); assert len(sess[sid]) == 1
    sess[sid][0]['output'] = 'f.tif'; (d / 'edit_sessions.json').write_text(json.dumps(sess))
    with pytest.raises(ValueError, match=rf"session '{sid}' turn 1 output \(f\.tif\): cannot read an image of mode 'F'") as e: load_magicbrush(d)
    assert str(e.value).startswith(str(d))


def test_magicbrush_parquet_16bit_source(sets, tmp_path):
    import pyarrow as pa, pyarrow.parquet as pq
    f = sorted((sets['mbp'] / 'data').glob('*.parquet'))[0]; t = pq.read_table(f)
    b = io.BytesIO(); PIL.Image.fromarray(np.full((64, 64), 200 * 257, np.uint16)).save(b, format='PNG')
    src = t['source_img'].to_pylist(); src[0] = dict(bytes=b.getvalue(), path=None)
    pq.write_table(t.set_column(t.schema.get_field_index('source_img'), 'source_img', pa.array(src, t.schema.field('source_img').type)), tmp_path / 'x.parquet')
    assert (load_magicbrush_parquet(tmp_path / 'x.parquet')[0].image == 200).all()


def test_pie_16bit_png_and_16bit_rgb(sets, tmp_path):
    d = _copy(sets['pie'], tmp_path / 'pie'); mp = _mp(d); k = next(iter(mp))
    PIL.Image.fromarray(np.full((512, 512), 70 * 256 + 200, np.uint16)).save(d / 'annotation_images' / 'g16.png')
    mp[k]['image_path'] = 'g16.png'; (d / 'mapping_file.json').write_text(json.dumps(mp))
    assert (load_pie_bench(d)[0].image == 70).all()
    rgb = np.random.default_rng(1).integers(0, 65536, (512, 512, 3)).astype(np.uint16)
    _png16_rgb(rgb, d / 'annotation_images' / 'rgb16.png'); mp[k]['image_path'] = 'rgb16.png'; (d / 'mapping_file.json').write_text(json.dumps(mp))
    assert (load_pie_bench(d)[0].image == (rgb >> 8)).all()


def test_load_bench_16bit(tmp_path):
    "imie-bench/1 images are RGB (16-bit RGB PNGs read by >> 8); a 16-bit grey image or mask is refused naming file and mode."
    rgb = np.random.default_rng(2).integers(0, 65536, (16, 16, 3)).astype(np.uint16); _png16_rgb(rgb, tmp_path / 'rgb16.png')
    PIL.Image.fromarray(np.full((16, 16), 300, np.uint16)).save(tmp_path / 'g16.png')
    PIL.Image.fromarray(np.full((16, 16), 65535, np.uint16)).save(tmp_path / 'm16.png')
    write = lambda cases: (tmp_path / 'manifest.json').write_text(json.dumps(dict(format=FORMAT, cases=cases)))
    write([dict(id='a', image='rgb16.png', steps=[dict(instruction='e')])])
    assert (load_bench(tmp_path, min_steps=1)[0].image == (rgb >> 8)).all()
    write([dict(id='a', image='g16.png', steps=[dict(instruction='e', mask='m16.png')]),
           dict(id='b', image='rgb16.png', steps=[dict(instruction='e', mask='m16.png')])])
    with pytest.raises(ValueError) as e: load_bench(tmp_path, min_steps=1)
    msg = str(e.value)
    assert msg.startswith(str(tmp_path / 'manifest.json'))
    assert "case 'a' image: expected an RGB image, got mode 'I;16' (g16.png); a 16-bit image must be saved as 8 bits" in msg
    assert "case 'b' step 1 mask: expected a mask of mode 'L' or '1', got 'I;16' (m16.png)" in msg


def test_save_png_refuses_16bit_and_misshapen(tmp_path):
    with pytest.raises(TypeError, match='dtype uint16.*scale a 16-bit image'): save_png(np.zeros((8, 8, 3), np.uint16), tmp_path / 'a.png')
    with pytest.raises(ValueError, match='must be H×W, got shape \\(8, 8, 3\\)'): save_png(np.zeros((8, 8, 3), np.float32), tmp_path / 'a.png')
    with pytest.raises(ValueError, match='H×W×3 \\(or H×W\\), got shape \\(8, 8, 4\\)'): save_png(np.zeros((8, 8, 4), np.uint8), tmp_path / 'a.png')
    save_png(np.full((8, 8, 3), 7, np.uint8), str(tmp_path / 'ok.png'))  # a str path is fine
    assert (np.asarray(PIL.Image.open(tmp_path / 'ok.png')) == 7).all()


# ---- arguments ----

LOADERS = {'folder': lambda s, **kw: load_magicbrush(s['mb'], **kw), 'parquet': lambda s, **kw: load_magicbrush_parquet(s['mbp'], **kw),
           'pie': lambda s, **kw: load_pie_bench(s['pie'], **kw), 'imie': lambda s, **kw: load_bench('shipped:shapes', **kw)}

@pytest.mark.parametrize('loader', list(LOADERS))
@pytest.mark.parametrize('bad,err,part', [(-1, ValueError, '≥ 1, got -1'), (0, ValueError, '≥ 1, got 0'), (True, TypeError, 'got True (bool)'),
                                          (1.5, TypeError, 'got 1.5 (float)'), ('2', TypeError, "got '2' (str)")])
def test_max_cases(sets, loader, bad, err, part):
    with pytest.raises(err) as e: LOADERS[loader](sets, max_cases=bad)
    assert str(e.value).startswith('max_cases') and part in str(e.value)


@pytest.mark.parametrize('loader', ['folder', 'parquet', 'pie'])
def test_max_cases_valid(sets, loader):
    full = LOADERS[loader](sets)
    assert [c.id for c in LOADERS[loader](sets, max_cases=1)] == [full[0].id]
    assert [c.id for c in LOADERS[loader](sets, max_cases=len(full) + 5)] == [c.id for c in full]  # more than there are: all


@pytest.mark.parametrize('loader', ['folder', 'parquet', 'pie'])
@pytest.mark.parametrize('bad,err,part', [(0, ValueError, '≥ 8, got 0'), (-8, ValueError, '≥ 8, got -8'), (60, ValueError, 'multiple of 8'),
                                          (True, TypeError, 'got True (bool)'), (64.0, TypeError, 'got 64.0 (float)')])
def test_size(sets, loader, bad, err, part):
    with pytest.raises(err) as e: LOADERS[loader](sets, size=bad)
    assert str(e.value).startswith('size') and part in str(e.value)


@pytest.mark.parametrize('bad', [3, 3.5, b'/tmp', None, ['a']])
def test_paths_must_be_paths(sets, tmp_path, bad):
    b = load_magicbrush(sets['mb'], max_cases=1)
    calls = {'root': lambda: load_magicbrush(bad), 'src': lambda: load_pie_bench(bad), 'csv_path': lambda: load_editbench(bad),
             'out': lambda: save_bench(b, bad), 'path': lambda: save_png(np.zeros((8, 8, 3), np.uint8), bad),
             'root ': lambda: magicbrush_local_captions(bad), 'src ': lambda: pie_editing_types(bad)}
    if not isinstance(bad, list): calls['src (a parquet file'] = lambda: load_magicbrush_parquet(bad)
    for name, f in calls.items():
        with pytest.raises(TypeError) as e: f()
        assert str(e.value).startswith(name.strip()) and 'must be a path (str or pathlib.Path)' in str(e.value) and type(bad).__name__ in str(e.value), (name, e.value)
    with pytest.raises(TypeError, match=r'src\[1\] must be a path'): load_magicbrush_parquet([sets['mbp'] / 'x.parquet', 3])
    with pytest.raises(TypeError, match='src must be a folder/manifest path'): load_bench(3)


def test_other_arguments(sets):
    with pytest.raises(TypeError, match='use_masks must be True or False'): load_pie_bench(sets['pie'], use_masks='yes')
    with pytest.raises(ValueError, match='masks must be one of'): load_magicbrush(sets['mb'], masks=['provided'])
    with pytest.raises(TypeError, match='split must be None or a split name'): load_magicbrush_parquet(sets['mbp'], split=1)
    with pytest.raises(ValueError, match='src is an empty list'): load_magicbrush_parquet([])


# ---- ids ----

def _parquet_with(sets, tmp_path, name, col, values, typ=None):
    import pyarrow as pa, pyarrow.parquet as pq
    f = sorted((sets['mbp'] / 'data').glob('*.parquet'))[0]; t = pq.read_table(f)
    vals = values(t[col].to_pylist())
    pq.write_table(t.set_column(t.schema.get_field_index(col), col, pa.array(vals, typ or t.schema.field(col).type)), tmp_path / name)
    return tmp_path / name, t


@pytest.mark.parametrize('name,vals,typ,part', [
    ('null', lambda v: v[:1] + [None] + v[2:], None, "null.parquet row 1: img_id must be a non-empty string, got None (NoneType)"),
    ('empty', lambda v: [''] + v[1:], None, "empty.parquet row 0: img_id must be a non-empty string, got ''"),
    ('list', lambda v: [[x] for x in v], 'list', "list.parquet row 0: img_id must be a non-empty string, got ['"),
    ('int', lambda v: list(range(len(v))), 'int', "int.parquet row 0: img_id must be a non-empty string, got 0 (int)")])
def test_parquet_bad_ids(sets, tmp_path, name, vals, typ, part):
    import pyarrow as pa
    f, _ = _parquet_with(sets, tmp_path, f"{name}.parquet", 'img_id', vals, {'list': pa.list_(pa.string()), 'int': pa.int64()}.get(typ))
    with pytest.raises(ValueError) as e: load_magicbrush_parquet(f)
    assert str(e.value).startswith(str(f)) and part in str(e.value), str(e.value)


def test_parquet_bad_turn_index_and_repeated_turn(sets, tmp_path):
    import pyarrow as pa, pyarrow.parquet as pq
    f, t = _parquet_with(sets, tmp_path, 'nullturn.parquet', 'turn_index', lambda v: [None] + v[1:])
    with pytest.raises(ValueError, match="nullturn.parquet row 0: turn_index must be an integer, got None"): load_magicbrush_parquet(f)
    pq.write_table(pa.concat_tables([t, t.slice(1, 1)]), tmp_path / 'twice.parquet')
    sid, k = t['img_id'][1].as_py(), t['turn_index'][1].as_py()
    with pytest.raises(ValueError, match=rf"twice.parquet row {t.num_rows}: session '{sid}' turn_index {k} again \(first in twice.parquet row 1\)"):
        load_magicbrush_parquet(tmp_path / 'twice.parquet')


def test_parquet_bad_image_cell_names_the_row(sets, tmp_path):
    f, _ = _parquet_with(sets, tmp_path, 'cell.parquet', 'target_img', lambda v: [dict(bytes=None, path=None)] + v[1:])
    with pytest.raises(ValueError, match=r"turn 1 \(cell.parquet row 0\) target_img: no image \(the cell is empty\)"): load_magicbrush_parquet(f)


def test_parquet_no_rows(sets, tmp_path):
    import pyarrow.parquet as pq
    t = pq.read_table(sorted((sets['mbp'] / 'data').glob('*.parquet'))[0]); pq.write_table(t.slice(0, 0), tmp_path / 'none.parquet')
    with pytest.raises(ValueError, match=r'none.parquet: no rows'): load_magicbrush_parquet(tmp_path / 'none.parquet')


@pytest.mark.parametrize('cid,part', [(None, "case #0: id must be a string (or absent, for '#0'), got None"),
                                      ([1], "case #0: id must be a string (or absent, for '#0'), got [1] (list)"),
                                      (3, "case #0: id must be a string (or absent, for '#0'), got 3 (int)")])
def test_load_bench_bad_ids(tmp_path, cid, part):
    PIL.Image.fromarray(np.zeros((8, 8, 3), np.uint8)).save(tmp_path / 'a.png')
    (tmp_path / 'manifest.json').write_text(json.dumps(dict(format=FORMAT, cases=[dict(id=cid, image='a.png', steps=[dict(instruction='e')])])))
    with pytest.raises(ValueError) as e: load_bench(tmp_path, min_steps=1)
    assert str(e.value).startswith(str(tmp_path / 'manifest.json')) and part in str(e.value)


def test_load_bench_duplicate_and_default_ids(tmp_path):
    PIL.Image.fromarray(np.zeros((8, 8, 3), np.uint8)).save(tmp_path / 'a.png'); one = [dict(instruction='e')]
    (tmp_path / 'manifest.json').write_text(json.dumps(dict(format=FORMAT, cases=[dict(image='a.png', steps=one), dict(id='#0', image='a.png', steps=one)])))
    with pytest.raises(ValueError, match=r"case '#0': duplicate id \(cases #0 and #1\)"): load_bench(tmp_path, min_steps=1)
    (tmp_path / 'manifest.json').write_text(json.dumps(dict(format=FORMAT, cases=[dict(image='a.png', steps=one), dict(id='', image='a.png', steps=one)])))
    assert [c.id for c in load_bench(tmp_path, min_steps=1)] == ['#0', '']  # absent: '#index'; any string, '' too, is an id


def test_load_bench_bad_fields(tmp_path):
    PIL.Image.fromarray(np.zeros((8, 8, 3), np.uint8)).save(tmp_path / 'a.png')
    (tmp_path / 'manifest.json').write_text(json.dumps(dict(format=FORMAT, cases=[
        dict(id='a', image=5, steps=[dict(instruction='e')]), dict(id='b', image='a.png', steps={'instruction': 'e'}),
        dict(id='c', image='a.png', caption=[1], steps=[dict(instruction='e', target=1.5, mask=['m.png'])]),
        dict(id='d', image='a.png', steps=[dict(instruction='e', edit={'kind': 'x'})])])))
    with pytest.raises(ValueError) as e: load_bench(tmp_path, min_steps=1)
    for part in ["case 'a': image must be a path relative to the manifest (a string), got 5 (int)", "case 'b': steps must be a list of objects, got dict",
                 "case 'c': caption must be a string, got [1]", "case 'c' step 1: mask must be a path relative to the manifest (a string), got ['m.png'] (list)",
                 "case 'c' step 1: target must be a path relative to the manifest (a string), got 1.5 (float)",
                 "case 'd' step 1: edit is not a shapes-world Edit record"]:
        assert part in str(e.value), (part, str(e.value))


def test_duplicate_keys_in_json_are_refused(sets, tmp_path):
    d = _copy(sets['mb'], tmp_path / 'mb'); sid, turns = _mb_first(d)
    text = (d / 'edit_sessions.json').read_text(); dup = text.rstrip()[:-1] + f', "{sid}": {json.dumps(turns)}}}'
    (d / 'edit_sessions.json').write_text(dup)
    with pytest.raises(ValueError, match=rf"edit_sessions.json: duplicate key\(s\) \['{sid}'\]: each id may occur once"): load_magicbrush(d)
    p = _copy(sets['pie'], tmp_path / 'pie'); mp = _mp(p); k = next(iter(mp))
    (p / 'mapping_file.json').write_text(json.dumps(mp)[:-1] + f', "{k}": {json.dumps(mp[k])}}}')
    with pytest.raises(ValueError, match=rf"mapping_file.json: duplicate key\(s\) \['{k}'\]"): load_pie_bench(p)


def test_magicbrush_folder_bad_fields(sets, tmp_path):
    d = _copy(sets['mb'], tmp_path / 'mb'); sess = json.loads((d / 'edit_sessions.json').read_text()); a, b = list(sess)
    sess[a][0]['mask'] = 5; sess[b] = ['not a turn']
    (d / 'edit_sessions.json').write_text(json.dumps(sess))
    with pytest.raises(ValueError) as e: load_magicbrush(d)
    assert f"session '{a}' turn 1: mask must be a file name (a string), got 5" in str(e.value)
    assert f"session '{b}' turn 1: expected an object {{input, mask, output, instruction}}, got str" in str(e.value)
    (d / 'global_descriptions.json').write_text(json.dumps({a: 'not an object'}))
    with pytest.raises(ValueError, match=r"global_descriptions.json: expected an object img_id -> \{file name: caption\}"): load_magicbrush(d)


# ---- PIE-Bench: RLE masks and editing types ----

@pytest.mark.parametrize('enc,part', [([], 'encoded mask is empty ([]): PIE-Bench defines no empty mask'),
                                      ([10, 0, 20, 0], 'marks no pixel: all 2 run(s) have length 0'),
                                      ([0, 5, 262144, 3], 'run 2 (start 262144, length 3) is outside a (512, 512) image'),
                                      ([-1, 5], 'run 1 (start -1, length 5) is outside'), ([7, -2], 'run 1 (start 7, length -2)'),
                                      ([1.5, 2], 'flat list of integer (start, length) pairs'), ('0 5', 'got str'), ([1, 2, 3], 'pairs')])
def test_pie_bad_rle(sets, tmp_path, enc, part):
    with pytest.raises(ValueError) as e: decode_pie_mask(enc)
    assert part in str(e.value)
    d = _copy(sets['pie'], tmp_path / 'pie'); mp = _mp(d); k = next(iter(mp)); mp[k]['mask'] = enc
    (d / 'mapping_file.json').write_text(json.dumps(mp))
    with pytest.raises(ValueError) as e: load_pie_bench(d)
    assert str(e.value).startswith(str(d / 'mapping_file.json')) and f"case '{k}' mask: " in str(e.value) and part in str(e.value)


def test_pie_rle_valid():
    m = decode_pie_mask([0, 3, 10, 100], (4, 6), border=False)  # a run past the end is clipped, as PnPInversion's decoder does
    want = np.zeros(24); want[:3] = 1; want[10:] = 1
    assert (m == want.reshape(4, 6)).all()
    big = np.iinfo(np.int64).max
    assert decode_pie_mask([5, big], (4, 6), border=False).sum() == 19  # no overflow in start + length
    with pytest.raises(ValueError, match='shape must be'): decode_pie_mask([0, 1], (4, 0))


@pytest.mark.parametrize('bad,err,part', [('12', TypeError, "got the string '12': a string is not split into ids"),
                                          ('1', TypeError, "got the string '1'"), (1, TypeError, 'got int'),
                                          ({'1'}, TypeError, 'got set'), ([], ValueError, 'editing_types is empty'),
                                          ([True], TypeError, 'editing_types holds [True]'), ([None], TypeError, 'holds [None]'),
                                          (['12'], ValueError, "must be among ['0', '1'"), ([10], ValueError, 'got [10]')])
def test_pie_editing_types_bad(sets, bad, err, part):
    with pytest.raises(err) as e: load_pie_bench(sets['pie'], editing_types=bad)
    assert str(e.value).startswith('editing_types') and part in str(e.value), str(e.value)


def test_pie_editing_types_valid(sets):
    mp = _mp(sets['pie']); want = [k for k, v in mp.items() if v['editing_type_id'] in ('1', '2')]
    for types in (['1', '2'], ('2', '1'), [1, 2], ['1', 2, '2']):
        assert [c.id for c in load_pie_bench(sets['pie'], editing_types=types)] == want
    with pytest.raises(ValueError, match=r"no case of editing_types \['7'\]"): load_pie_bench(sets['pie'], editing_types=['7'])


def test_pie_bad_fields(sets, tmp_path):
    d = _copy(sets['pie'], tmp_path / 'pie'); mp = _mp(d); k0, k1 = list(mp)[:2]
    mp[k0]['image_path'] = 7; (d / 'mapping_file.json').write_text(json.dumps(mp))
    with pytest.raises(ValueError, match=rf"case '{k0}': image_path must be a path relative to annotation_images/ \(a string\), got 7"): load_pie_bench(d)
    mp[k1] = ['x']; (d / 'mapping_file.json').write_text(json.dumps(mp))
    with pytest.raises(ValueError, match=rf"mapping_file.json: case\(s\) \['{k1}'\] are not objects"): load_pie_bench(d)
    with pytest.raises(ValueError, match='are not objects'): pie_editing_types(d)


# ---- file names that are not UTF-8 ----

def test_non_utf8_parquet_name_names_the_folder(sets, tmp_path):
    f = sorted((sets['mbp'] / 'data').glob('*.parquet'))[0]
    d = tmp_path / 'shards'; d.mkdir(); (d / 'test-0.parquet').write_bytes(f.read_bytes())
    bad = Path(os.fsdecode(os.fsencode(d) + b'/test-caf\xe9.parquet')); bad.write_bytes(f.read_bytes())
    with pytest.raises(ValueError) as e: load_magicbrush_parquet(d)
    assert str(e.value).startswith(f"{d}: the file name b'test-caf\\xe9.parquet' is not valid UTF-8") and 'rename it' in str(e.value)
    with pytest.raises(ValueError, match='is not valid UTF-8'): load_magicbrush_parquet([bad])
    assert [c.id for c in load_magicbrush_parquet(d / 'test-0.parquet')] == [c.id for c in load_magicbrush_parquet(f)]  # the UTF-8 one reads


def test_non_utf8_json_names_the_file(sets, tmp_path):
    d = _copy(sets['pie'], tmp_path / 'pie'); (d / 'mapping_file.json').write_bytes(b'{"a": "caf\xe9"}')
    with pytest.raises(ValueError, match=r'mapping_file.json is not valid UTF-8 JSON'): load_pie_bench(d)


# ---- save_bench: distinct ids, distinct files; ids come back ----

def _set(ids, value=0):
    img = lambda n: np.full((8, 8, 3), (value + n) % 256, np.uint8)
    m = np.zeros((8, 8), np.float32); m[2:5, 1:6] = 1
    return BenchSet('ids', [BenchCase(i, img(n), f'caption {n}', [BenchStep(f'edit {n}', mask=m, target=img(n + 1))]) for n, i in enumerate(ids)])


def test_save_bench_slug_collisions(tmp_path):
    ids = ['a/b', 'a_b', 'a b', 'A_B', 'a_b~0', '', '.', '..', 'shapes-000']
    assert len({case_stem(i) for i in ids}) == len(ids) and case_stem('shapes-000') == 'shapes-000'
    b = _set(ids); back = load_bench(save_bench(b, tmp_path / 'out'), min_steps=1)
    assert [c.id for c in back] == ids
    assert len(list((tmp_path / 'out' / 'images').iterdir())) == len(ids) and len(list((tmp_path / 'out' / 'masks').iterdir())) == len(ids)
    for c, d in zip(b, back):
        assert (c.image == d.image).all() and (c.steps[0].target == d.steps[0].target).all() and (c.steps[0].mask == d.steps[0].mask).all()


def test_save_bench_refuses(tmp_path):
    with pytest.raises(ValueError, match=r"cases #0 and #1 share the id 'x': ids must be unique"): save_bench(_set(['x', 'x']), tmp_path / 'a')
    with pytest.raises(TypeError, match=r'case #1: id must be a str, got 5 \(int\)'): save_bench(_set(['x', 5]), tmp_path / 'b')
    with pytest.raises(TypeError, match='bench must be a BenchSet'): save_bench([], tmp_path / 'c')
    b = _set(['x']); b.cases[0].image = b.cases[0].image.astype(np.uint16)
    with pytest.raises(ValueError, match=r"case 'x' image must be an H×W×3 uint8 image, got uint16"): save_bench(b, tmp_path / 'd')
    with pytest.raises(TypeError, match='a case id must be a str'): case_stem(None)


@settings(max_examples=50, deadline=None)
@given(st.lists(st.text(), min_size=1, max_size=6, unique=True))
def test_save_bench_round_trips_any_ids(ids):
    with tempfile.TemporaryDirectory() as d:
        back = load_bench(save_bench(_set(ids, 3), Path(d) / 'out'), min_steps=1)
        assert [c.id for c in back] == ids
        assert [int(c.image[0, 0, 0]) for c in back] == [(3 + n) % 256 for n in range(len(ids))]  # no case's file overwrote another's
        assert len(list((Path(d) / 'out' / 'images').iterdir())) == len(ids)


# ---- valid inputs load as before ----

def test_valid_sets_load_as_pil_reads_them(sets):
    b = load_magicbrush(sets['mb'])
    for c in b:
        d = sets['mb'] / 'images' / c.id
        assert (c.image == np.asarray(PIL.Image.open(d / f"{c.id}-input.png").convert('RGB'))).all()
        for k, s in enumerate(c.steps):
            assert (s.target == np.asarray(PIL.Image.open(d / f"{c.id}-output{k + 1}.png").convert('RGB'))).all()
            assert (s.mask == (np.asarray(PIL.Image.open(d / f"{c.id}-mask{k + 1}.png").convert('L')) > 127)).all()
    p = load_magicbrush_parquet(sets['mbp'])
    assert [c.id for c in p] == [c.id for c in b] and all((x.image == y.image).all() for x, y in zip(b, p))
    mp = _mp(sets['pie']); pie = load_pie_bench(sets['pie'])
    for c, (k, it) in zip(pie, mp.items()):
        assert c.id == k and (c.image == np.asarray(PIL.Image.open(sets['pie'] / 'annotation_images' / it['image_path']).convert('RGB'))).all()
        assert (c.steps[0].change_mask == decode_pie_mask(it['mask'])).all()
    s = load_bench('shipped:shapes', max_cases=2)
    assert [c.id for c in s] == ['shapes-000', 'shapes-001'] and all(c.image.dtype == np.uint8 for c in s)


def test_decode_magicbrush_mask_8bit_unchanged():
    m = np.zeros((8, 8), np.float32); m[2:5, 3:7] = 1
    for im in (PIL.Image.fromarray((m * 255).astype(np.uint8)), PIL.Image.fromarray((m * 255).astype(np.uint8)).convert('RGB'),
               PIL.Image.fromarray(m > .5), PIL.Image.fromarray(np.dstack([np.full((8, 8, 3), 250, np.uint8), ((1 - m) * 255).astype(np.uint8)]))):
        assert (decode_magicbrush_mask(im) == m).all(), im.mode
