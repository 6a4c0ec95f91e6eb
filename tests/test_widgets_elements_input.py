"Widgets read images as the methods do; widget factories and element edits give a clear error or a defined result on bad input."
import dataclasses
import numpy as np, PIL.Image, pytest, torch

from imiebench.core import to_tensor
from imiebench.models import tiny
from imiebench.diffedit import diffedit, diffedit_mask
from imiebench.elements.partition import partition, grid_partition, from_labels
from imiebench.elements.model import make_elements, encode_elements, batch_elements, ContentEncoder, LightDecoder
from imiebench.elements.edit import move, resize, delete, compose, apply_edits, ElementEdit
from imiebench.elements.decoders import ToyElements, decode_light
from imiebench.widgets.wire import image_array, frontend_message, sent_to_frontend
from imiebench.widgets.brush import MaskBrush
from imiebench.widgets.editor import ElementEditor
from imiebench.widgets.sliders import display_array, slider_view
from imiebench.widgets.explorers import ExplorerCache
from imiebench.widgets.session import rect_mask, session_widget
from imiebench.widgets.elements import element_widget, element_editor
from imiebench.toy.world import Scene, Obj, render

IMG = np.zeros((24, 32, 3), np.uint8); IMG[:, :16] = (250, 30, 10); IMG[8:, :] += 3  # bright values: a [0, 1] misread shows

def forms(a: np.ndarray) -> dict:
    "One image as a uint8 array, a PIL image and a [0, 1] float tensor (diffusers' convention)."
    return dict(array=a, pil=PIL.Image.fromarray(a), float01=torch.from_numpy(a).permute(2, 0, 1).float() / 255)

@pytest.fixture(scope='module')
def scene():
    sc = Scene([Obj('circle', 'red', 'large', 'top left'), Obj('square', 'green', 'small', 'center')], 'blue')
    im = render(sc, 64)
    return im, make_elements(partition(im, 64, beta=16))

@pytest.fixture(scope='module')
def toy_models():
    torch.manual_seed(0)
    return ToyElements(ContentEncoder().eval(), LightDecoder().eval())  # random weights: the plumbing, not the pictures


# ---------------------------------------------------------------- one image convention
@pytest.mark.parametrize('kind', ['array', 'pil', 'float01'])
def test_same_image_same_widget_state(kind):
    x = forms(IMG)[kind]
    np.testing.assert_array_equal(image_array(x), IMG)
    ref = MaskBrush(IMG)
    b = MaskBrush(x)
    np.testing.assert_array_equal(b.image, IMG); assert b.image_url == ref.image_url and b.shape == ref.shape
    b.set_image(x); np.testing.assert_array_equal(b.image, IMG)
    ed = ElementEditor(x, [[3, 4]])
    np.testing.assert_array_equal(ed.image, IMG); assert ed.image_url == ElementEditor(IMG, [[3, 4]]).image_url
    np.testing.assert_array_equal(display_array(x), IMG)
    # what the methods read: the widget shows the image `to_tensor` gives them
    np.testing.assert_array_equal(image_array(x), ((to_tensor(x, multiple=1)[0].permute(1, 2, 0) + 1) * 127.5).round().byte().numpy())

def test_element_widget_reads_every_form(scene):
    im, el = scene
    states = [element_widget(el, f) for f in forms(im).values()]
    for w in states[1:]:
        assert w.image_url == states[0].image_url and w.centroids == states[0].centroids and w.sizes == states[0].sizes

def test_a_minus_one_to_one_tensor_is_read_as_such_with_a_warning():
    t = torch.from_numpy(IMG).permute(2, 0, 1).float() / 127.5 - 1
    with pytest.warns(FutureWarning, match=r'read as \[-1, 1\]'): a = image_array(t)
    np.testing.assert_array_equal(a, IMG)


# ---------------------------------------------------------------- widget factories validate their arguments
BAD_WIDGETS = [
    ('brush display width 0', lambda: MaskBrush(IMG, display_width=0), ValueError, r'display_width must be an int ≥ 1, got 0'),
    ('editor canvas', lambda: ElementEditor(IMG, [[1, 1]], canvas=(0, 5)), ValueError, r'canvas H must be an int ≥ 1, got 0'),
    ('editor replay', lambda: ElementEditor(IMG, [[1, 1]], replay=3), TypeError, r'replay must be a callable'),
    ('slider width', lambda: slider_view(lambda a: IMG, width=-1, a=(0, 1)), ValueError, r'width must be an int ≥ 1'),
    ('rect mask range', lambda: rect_mask((4, 4), (0, 9), (0, 4)), ValueError, r'ys stop must be an int in 0..4, got 9'),
    ('rect mask size', lambda: rect_mask(4, (0, 1), (0, 1)), TypeError, r'size must be an \(H, W\) pair'),
    ('session widget', lambda: session_widget(None), TypeError, r's must be an EditSession, got NoneType'),
]

@pytest.mark.parametrize('name,fn,exc,match', BAD_WIDGETS, ids=[c[0] for c in BAD_WIDGETS])
def test_widget_bad_input(name, fn, exc, match):
    with pytest.raises(exc, match=match): fn()

@pytest.fixture(scope='module')
def sd():
    return tiny('sd')

@pytest.mark.parametrize('kw,exc,match', [
    (dict(memo=0), ValueError, r'memo \(decoded results kept\) must be an int ≥ 1, got 0'),
    (dict(memo=1.5), TypeError, r'memo'),
    (dict(steps=0), ValueError, r'steps must be an int ≥ 1'),
    (dict(n=0), ValueError, r'n \(noise draws\)'),
    (dict(seed=-3), ValueError, r'seed'),
])
def test_explorer_cache_bad_input(sd, kw, exc, match):
    with pytest.raises(exc, match=match): ExplorerCache(sd, np.zeros((16, 16, 3), np.uint8), 'a red circle', **kw)

def test_explorer_cache_memo_one_keeps_the_latest(sd):
    c = ExplorerCache(sd, np.zeros((16, 16, 3), np.uint8), 'a red circle', steps=2, n=1, memo=1)
    first = c.edit(r=1.0, strength=1.0, guidance_scale=3.0).image
    c.edit(r=1.0, strength=1.0, guidance_scale=4.0)
    again = c.edit(r=1.0, strength=1.0, guidance_scale=3.0).image  # evicted, decoded again: the same result
    assert len(c._decoded) == 1 and c.counts['decode'] == 3 and torch.allclose(first, again, atol=1e-5)


# ---------------------------------------------------------------- element_widget's scale
@pytest.mark.parametrize('hw', [(64, 64), (128, 128), (96, 160), (32, 48)])
def test_element_widget_draws_centroids_at_the_image_scale(scene, hw):
    im, el = scene
    big = np.asarray(PIL.Image.fromarray(im).resize(hw[::-1], PIL.Image.NEAREST))
    w = element_widget(el, big)
    sy, sx = hw[0] / 64, hw[1] / 64
    assert w.scale == (sy, sx) and w.canvas == (64, 64)
    np.testing.assert_allclose(np.array(w.centroids) + .5, el.centroids * [sy, sx])  # continuous coordinates scale exactly
    np.testing.assert_allclose(w.sizes, el.sizes.max(1) / 2 * np.sqrt(sy * sx))
    k = int(np.flatnonzero(el.alive)[20])
    frontend_message(w, {'op': 'move', 'id': k, 'dx': 4 * sx, 'dy': -2 * sy, 'scale': 1})  # a drag in view pixels
    assert w.edits == [ElementEdit('move', k, dx=4., dy=-2.)], w.error  # recorded in the elements' canvas pixels
    np.testing.assert_allclose(np.array(w.centroids[k]) + .5, apply_edits(el, w.edits).centroids[k] * [sy, sx])

def test_element_editor_without_selection_is_a_message(toy_models, scene):
    im, _ = scene
    ed = element_editor(toy_models, im)
    assert ed.decode() is not None
    for k in np.flatnonzero(ed.state['el'].alive):
        ed.controls['id'].value = int(k); assert ed.apply('delete') is not None
    assert ed.controls['id'].value is None and not ed.state['el'].alive.any()
    n = len(ed.state['edits'])
    for op in ('move', 'resize', 'delete'):
        assert ed.apply(op) is None and f'no element to {op}: every element is deleted' in ed.children[-1].value
        ed.buttons[op].click()  # the button's handler, as a click runs it
    assert ed.decode() is None and 'no alive element' in ed.children[-1].value
    assert len(ed.state['edits']) == n
    ed.reset(); assert ed.state['el'].alive.all() and ed.controls['id'].value == 0

def test_element_editor_moves_partly_off_the_canvas_are_cut(toy_models, scene):
    im, _ = scene
    ed = element_editor(toy_models, im)
    ed.controls['id'].value = 0; ed.controls['dx'].value = -6  # element 0 sits in the top-left corner
    rec = ed.apply('move'); assert rec is not None
    assert ed.state['el'].boxes()[0, 1] >= 0  # cut at the left edge
    ed.controls['dx'].value = -32; ed.controls['id'].value = 1
    before = len(ed.state['edits'])
    assert ed.apply('move') is None and 'entirely off the 64×64 canvas' in ed.children[-1].value and len(ed.state['edits']) == before

def test_element_widget_no_selection_and_all_deleted(scene):
    im, el = scene
    w = element_widget(el, im)
    frontend_message(w, {'op': 'move', 'id': -1, 'dx': 1, 'dy': 0, 'scale': 1})
    assert 'no element is selected' in w.error and w.edits == []
    for k in np.flatnonzero(el.alive): w.delete(int(k))
    with sent_to_frontend(w) as sent:
        frontend_message(w, {'op': 'resize', 'id': -1, 'dx': 0, 'dy': 0, 'scale': 2})
    assert 'every element is deleted' in w.error and sent[0]['content'] == {'error': w.error}
    assert not any(w.alive)


# ---------------------------------------------------------------- element edits: bad input has a defined result
def test_move_entirely_off_the_canvas_names_element_and_canvas(scene):
    _, el = scene
    for clip in (False, True):
        with pytest.raises(ValueError, match=r'moving by \(dy=0, dx=80\) puts element 5 \(centroid .*\) entirely off the 64×64 canvas'):
            move(el, 5, 0, 80, clip=clip)

def test_move_partly_off_the_canvas_clips_only_when_asked(scene):
    _, el = scene
    k = 0; x0 = el.boxes()[k, 1]
    with pytest.raises(ValueError, match=r'element 0 .*partly off the 64×64 canvas; pass clip=True'): move(el, k, 0, -x0 - 3)
    out = move(el, k, 0, -x0 - 3, clip=True)
    fp = out.footprints([k])[0]
    assert out.boxes()[k, 1] == 0 and fp[:, 0].any()  # cut at the edge, still there
    assert out.sizes[k, 1] == el.sizes[k, 1] - 3 and 0 <= out.centroids[k, 1] < 64
    ys, xs = np.nonzero(fp); np.testing.assert_allclose(out.centroids[k], [ys.mean() + .5, xs.mean() + .5])
    np.testing.assert_array_equal(el.centroids, scene[1].centroids)  # the input is unchanged

@pytest.mark.parametrize('scale,match', [(0, 'scale must be > 0'), (-1.5, 'scale must be > 0'), (float('nan'), 'scale must be a finite'),
                                         (float('inf'), 'scale must be a finite'), (np.float64('-inf'), 'scale must be a finite'),
                                         (1e-6, 'smaller than a pixel')])
def test_resize_factor_bad(scene, scale, match):
    with pytest.raises(ValueError, match=match): resize(scene[1], 10, scale)
    with pytest.raises(ValueError, match=match): resize(scene[1], 10, scale, clip=True)

def test_resize_over_the_whole_canvas(scene):
    _, el = scene
    k = int(np.flatnonzero(el.alive)[27])
    with pytest.raises(ValueError, match='partly off the 64×64 canvas'): resize(el, k, 50)
    out = resize(el, k, 50, clip=True)
    assert np.flatnonzero(out.alive).tolist() == [k]  # every other element collides
    assert out.footprints([k])[0].all() and (out.label_map() == k).all() and out.sizes[k].tolist() == [64., 64.]
    assert apply_edits(el, [ElementEdit('resize', k, scale=50)], clip=True).alive.sum() == 1

def test_delete_every_element_is_an_empty_set_that_cannot_be_decoded(scene, toy_models):
    im, _ = scene
    el = encode_elements(toy_models.encoder, im)
    none = delete(el, np.arange(el.n))
    assert none.n == el.n and not none.alive.any() and (none.label_map() == -1).all() and none.footprints().shape == (0, 64, 64)
    with pytest.raises(ValueError, match=r'element set 0 has no alive element .*nothing to decode'): decode_light(toy_models, none)
    with pytest.raises(ValueError, match='was deleted'): apply_edits(none, [ElementEdit('move', 0, dx=1)])
    assert decode_light(toy_models, el).shape == (1, 3, 64, 64)

def test_empty_element_set_is_a_value_error(scene, toy_models):
    im, _ = scene
    empty = from_labels(-np.ones((64, 64), int))
    assert empty.n == 0
    with pytest.raises(ValueError, match='has no element'): make_elements(empty)
    with pytest.raises(ValueError, match='nothing to encode'): encode_elements(toy_models.encoder, im, empty)
    el = encode_elements(toy_models.encoder, im, n=16)
    gone = dataclasses.replace(el, alive=np.zeros(el.n, bool))
    with pytest.raises(ValueError, match=r'element set 1 has no alive element'): batch_elements([el, gone])
    with pytest.raises(ValueError, match='no alive element'): element_widget(delete(scene[1], np.arange(scene[1].n)), im)

def test_compose_off_the_canvas(scene):
    _, el = scene
    with pytest.raises(ValueError, match='entirely off the 64×64 canvas'): compose(el, el, [5], 0, 90)
    with pytest.raises(ValueError, match='partly off'): compose(el, el, [0], 0, -el.boxes()[0, 1] - 2)
    assert compose(el, el, [0], 0, -el.boxes()[0, 1] - 2, clip=True).boxes()[-1, 1] == 0

@pytest.mark.parametrize('hw,n,beta,colour', [((64, 64), 64, 16., 0), ((64, 64), 64, 0., 255), ((48, 80), 16, 64., 90), ((40, 40), 100, 8., 1)])
def test_partition_of_a_blank_image_is_the_grid(hw, n, beta, colour):
    blank = np.full((*hw, 3), colour, np.uint8)
    p = partition(blank, n, beta=beta)
    assert p.n == n and p.settings['uniform'] and p.dropped == 0
    np.testing.assert_array_equal(p.labels, grid_partition(blank, n).labels)
    el = make_elements(p); assert el.n == n and (el.label_map() == p.labels).all()


# ---------------------------------------------------------------- DiffEdit: too few steps names the cause
def test_diffedit_steps_one_names_strength(sd):
    img = np.zeros((16, 16, 3), np.uint8)
    with pytest.raises(ValueError, match=r"mask noise `mask_encode_strength`=0.5 gives int\(0.5·1\) = 0 timesteps.*use num_inference_steps ≥ 2, or mask_encode_strength ≥ 1"):
        diffedit_mask(sd, img, 'a red circle', num_inference_steps=1)
    with pytest.raises(ValueError, match=r"num_inference_steps=1 is too few for mask_encode_strength:"):
        diffedit(sd, img, 'a red circle', num_inference_steps=1, r=1.0, progress=False)
    with pytest.raises(ValueError, match=r"too few for r and mask_encode_strength"):
        diffedit(sd, img, 'a red circle', num_inference_steps=1, progress=False)
    assert diffedit(sd, img, 'a red circle', num_inference_steps=1, r=1.0, mask_encode_strength=1.0, n=1, progress=False).image.shape == (1, 3, 16, 16)
