"Editable image elements: bad input gives clear errors, edits keep one element per pixel, SAM plumbing on a tiny random config."
import subprocess, sys
import numpy as np, pytest, torch
from imiebench.elements.partition import (partition, grid_partition, slic_partition, SamProvider, query_grid, boundary_recall,
                                          undersegmentation_error)
from imiebench.elements.model import make_elements, element_patches, encode_elements, ContentEncoder, LightDecoder
from imiebench.elements.edit import move, resize, delete, compose, apply_edits, ElementEdit, pixel_move
from imiebench.elements.decoders import ToyElements, decode_light
from imiebench.models import WeightsNotFoundError
from imiebench.toy.world import Scene, Obj, render, scene_masks, random_scene

@pytest.fixture(scope='module')
def scene():
    sc = Scene([Obj('circle', 'red', 'large', 'top left'), Obj('square', 'green', 'small', 'center')], 'blue')
    im = render(sc, 64)
    return sc, im, make_elements(partition(im, 64, beta=16))

BAD_PARTITION = [
    ('n not a square', dict(n=60), ValueError, r'n = 60 query points is not a square number'),
    ('n not an int', dict(n=64.0), TypeError, r'positive int, got 64.0'),
    ('n zero', dict(n=0), TypeError, r'positive int'),
    ('image too small for n', dict(n=256, image=np.zeros((16, 16, 3), np.uint8)), ValueError, r'16×16 is too small for n = 256'),
    ('image tiny', dict(image=np.zeros((4, 4, 3), np.uint8)), ValueError, r'too small: expected both sides ≥ 8'),
    ('float array', dict(image=np.zeros((64, 64, 3), np.float32)), TypeError, r'uint8'),
    ('a missing file', dict(image='cat.png'), FileNotFoundError, r"image file 'cat.png' does not exist"),
    ('not an image', dict(image=3), TypeError, r'got int'),
    ('unknown provider', dict(provider='sift'), ValueError, r"unknown affinity provider 'sift'"),
    ('provider object without methods', dict(provider=object()), TypeError, r'features\(image\)'),
    ('beta_c out of range', dict(beta_c=1.5), ValueError, r'beta_c must be in \[0, 1\]'),
    ('negative beta', dict(beta=-1), ValueError, r'beta must be ≥ 0'),
    ('iters 0', dict(iters=0), ValueError, r'iters must be an int ≥ 1'),
]

@pytest.mark.parametrize('name,kw,exc,match', BAD_PARTITION, ids=[c[0] for c in BAD_PARTITION])
def test_partition_bad_input(scene, name, kw, exc, match):
    kw = dict(kw); image = kw.pop('image', scene[1])
    with pytest.raises(exc, match=match): partition(image, **({'n': 64} | kw))

def test_baselines_bad_input(scene):
    with pytest.raises(ValueError, match='not a square'): grid_partition(scene[1], 50)
    with pytest.raises(ValueError, match='not a square'): slic_partition(scene[1], 50)
    with pytest.raises(ValueError, match='not a square'): query_grid(10, 64, 64)

BAD_EDITS = [
    ('id out of range', lambda el: move(el, 64, 1, 1), ValueError, r'element id 64 is out of range: expected 0 ≤ id < \d+'),
    ('negative id', lambda el: delete(el, -1), ValueError, r'element id -1 is out of range'),
    ('float id', lambda el: move(el, 1.0, 1, 1), TypeError, r'element id must be an int, got 1.0'),
    ('bool id', lambda el: delete(el, True), TypeError, r'must be an int'),
    ('move off the canvas (down)', lambda el: move(el, 0, 100, 0), ValueError, r'off the 64×64 canvas'),
    ('move off the canvas (left)', lambda el: move(el, 0, 0, -30), ValueError, r'x=-\d+.*off the 64×64 canvas'),
    ('resize off the canvas', lambda el: resize(el, [0, 63], 3.0), ValueError, r'off the 64×64 canvas'),
    ('scale zero', lambda el: resize(el, 0, 0), ValueError, r'scale must be > 0, got 0'),
    ('scale not a number', lambda el: resize(el, 0, '2'), TypeError, r"scale must be a finite number, got '2'"),
    ('dy nan', lambda el: move(el, 0, float('nan'), 0), TypeError, r'dy must be a finite number'),
    ('deleted element moved', lambda el: move(delete(el, 3), 3, 1, 1), ValueError, r'element id 3 was deleted'),
    ('unknown op', lambda el: apply_edits(el, [dict(op='rotate', id=0)]), ValueError, r"unknown op 'rotate'; expected one of \('move', 'resize', 'delete'\)"),
    ('edit record out of range', lambda el: apply_edits(el, [ElementEdit('delete', 999)]), ValueError, r'999 is out of range'),
    ('edit record move off canvas', lambda el: apply_edits(el, [dict(op='move', id=5, dy=0, dx=500)]), ValueError, r'off the'),
    ('select with wrong mask size', lambda el: el.select(np.ones((32, 32))), ValueError, r'does not match the canvas \(64, 64\)'),
    ('compose different canvases', lambda el: compose(el, make_elements(partition(np.zeros((32, 32, 3), np.uint8), 16)), [0]), ValueError, r'canvas sizes differ'),
    ('features of the wrong length', lambda el: make_elements(el.partition, torch.zeros(3, 32)), ValueError, r'3 rows; expected one per element'),
    ('pixel move mask size', lambda el: pixel_move(np.zeros((64, 64, 3), np.uint8), np.ones((8, 8)), 1, 1), ValueError, r'mask shape \(8, 8\)'),
    ('pixel move fill', lambda el: pixel_move(np.zeros((64, 64, 3), np.uint8), np.ones((64, 64)), 1, 1, fill='blur'), ValueError, r"fill must be 'ring' or 'zeros'"),
]

@pytest.mark.parametrize('name,fn,exc,match', BAD_EDITS, ids=[c[0] for c in BAD_EDITS])
def test_edit_bad_input(scene, name, fn, exc, match):
    with pytest.raises(exc, match=match): fn(scene[2])

def test_failed_edit_leaves_elements_unchanged(scene):
    el = scene[2]; c, a = el.centroids.copy(), el.alive.copy()
    with pytest.raises(ValueError): move(el, 0, 500, 0)
    assert np.array_equal(el.centroids, c) and np.array_equal(el.alive, a)

def test_move_collision_one_element_per_pixel(scene):
    sc, im, el = scene
    ids = el.select(scene_masks(sc, 64)[0]); assert len(ids)
    out = move(el, ids, 21, 21)  # onto the green square's cell
    fp = out.footprints(); assert fp.sum(0).max() <= 1  # a pixel is covered by at most one element
    assert np.allclose(out.centroids[ids], el.centroids[ids] + 21)
    assert (~out.alive).sum() > 0 and out.alive[ids].all()
    same = apply_edits(el, [ElementEdit('move', int(i), dx=21, dy=21) for i in ids])
    assert np.allclose(same.centroids, out.centroids)

def test_resize_and_compose(scene):
    sc, im, el = scene
    ids = el.select(scene_masks(sc, 64)[1]); r = resize(el, ids, 2.0)
    assert np.allclose(r.sizes[ids], 2 * el.sizes[ids]) and r.footprints().sum(0).max() <= 1
    other = make_elements(partition(render(random_scene(np.random.default_rng(4)), 64), 64))
    c = compose(el, other, [0, 1, 2], 20, 20)
    assert c.n == el.n + 3 and c.footprints().sum(0).max() <= 1

def test_partition_is_deterministic_and_contiguous(scene):
    from skimage.measure import label
    a, b = partition(scene[1], 64), partition(scene[1], 64)
    assert np.array_equal(a.labels, b.labels)
    assert all(label(a.labels == k, connectivity=1).max() == 1 for k in range(a.n))
    p = make_elements(a); pt, m = element_patches(scene[1], a)
    assert pt.shape == (a.n, 3, 32, 32) and np.array_equal(p.shapes, m[:, 0].numpy() > 0)

def tiny_sam():
    from transformers import SamConfig, SamModel, SamVisionConfig, SamPromptEncoderConfig, SamMaskDecoderConfig
    vc = SamVisionConfig(hidden_size=32, output_channels=16, num_hidden_layers=2, num_attention_heads=2, image_size=64, patch_size=8,
                         window_size=4, global_attn_indexes=[1], mlp_dim=64, num_pos_feats=8)
    cfg = SamConfig(vision_config=vc, prompt_encoder_config=SamPromptEncoderConfig(hidden_size=16, image_size=64, patch_size=8, mask_input_channels=4),
                    mask_decoder_config=SamMaskDecoderConfig(hidden_size=16, mlp_dim=32, num_hidden_layers=1, num_attention_heads=2, iou_head_hidden_dim=16))
    torch.manual_seed(0); return SamModel(cfg).eval()

def test_sam_provider_tiny_random(scene):
    sam = SamProvider(tiny_sam(), prompt_batch=7)  # prompt batches that do not divide N
    im = np.ascontiguousarray(scene[1][:, :48])  # non-square: resized longest side + padding
    p = partition(im, 16, provider=sam, beta=16)
    assert p.labels.shape == (64, 48) and 0 < p.n <= 16 and p.settings['provider'] == 'sam'
    f = sam.features(im); a = sam.affinity(f, query_grid(16, 64, 48))
    s = a.scores(torch.zeros(64 * 48, 2, dtype=torch.long)); assert ((s >= 0) & (s <= 1)).all()

def test_sam_provider_offline_error():
    with pytest.raises(WeightsNotFoundError, match='could not load SAM weights'): SamProvider('/nonexistent/sam-folder')
    with pytest.raises(TypeError, match='expected a SamModel'): SamProvider(torch.nn.Linear(2, 2))

def test_metrics():
    lab = np.zeros((8, 8), int); lab[:, 4:] = 1
    assert boundary_recall(lab, lab) == 1 and undersegmentation_error(lab, lab) == 0
    assert boundary_recall(np.zeros((8, 8), int), lab) == 0 and undersegmentation_error(np.zeros((8, 8), int), lab) == 1

def test_decoders_accept_edited_and_composed_elements(scene):
    torch.manual_seed(0); m = ToyElements(ContentEncoder(), LightDecoder())
    el = encode_elements(m.encoder, scene[1]); el2 = compose(delete(el, [1, 2]), el, [5], 10, 0)
    x = decode_light(m, [el, el2]); assert x.shape == (2, 3, 64, 64) and torch.isfinite(x).all()
    with pytest.raises(ValueError, match='not encoded'): decode_light(m, make_elements(el.partition))

def test_fresh_process_import():
    code = ("import sys, imiebench.elements.partition as p, imiebench.elements.edit as e, imiebench.elements.decoders as d, imiebench.elements.train as t; "
            "ours = sorted(m for m in sys.modules if m.startswith(('imiebench.toy', 'imiebench.widgets', 'imiebench.bench', 'anywidget', 'ipywidgets'))); "
            "assert not ours, ours; print(p.partition.__name__, e.move.__name__, d.decode_diffusion.__name__, t.train_elements.__name__)")
    r = subprocess.run([sys.executable, '-c', code], capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr
