"""Browser-free tests of imiebench.widgets (wire, brush, editor, sliders): the widgets are driven with the comm messages the browser sends
(`frontend_update`, `frontend_message` go through ipywidgets' `_handle_msg`), and the messages they send back
are recorded. tests/test_browser.py checks the JavaScript side in a real browser."""
import base64, io, re

import numpy as np, PIL.Image, pytest, torch
import ipywidgets

from imiebench.widgets.wire import pack_mask, unpack_mask, binary_mask, image_array, frontend_update, frontend_message, sent_to_frontend, ASSETS
from imiebench.widgets.brush import MaskBrush
from imiebench.widgets.editor import ElementEditor, replay_edits
from imiebench.elements.edit import ElementEdit
from imiebench.widgets.sliders import slider_view, SliderView, display_array

IMG = np.zeros((24, 32, 3), np.uint8); IMG[:, :16] = (255, 0, 0)

def states(sent, key):
    return [m['state'][key] for m in sent if m.get('method') == 'update' and key in m.get('state', {})]


# ---------------------------------------------------------------- bad input
BAD = [
    ('grayscale PIL image',  lambda: MaskBrush(PIL.Image.new('L', (8, 8))), ValueError, r"mode 'L'"),
    ('RGBA PIL image',       lambda: MaskBrush(PIL.Image.new('RGBA', (8, 8))), ValueError, r"mode 'RGBA'"),
    ('H×W array',            lambda: MaskBrush(np.zeros((8, 8), np.uint8)), ValueError, r'H×W×3 uint8 array \(RGB\), got ndarray of shape \(8, 8\)'),
    ('H×W×4 array',          lambda: MaskBrush(np.zeros((8, 8, 4), np.uint8)), ValueError, r'shape \(8, 8, 4\)'),
    ('float array image',    lambda: MaskBrush(np.zeros((8, 8, 3), np.float32)), TypeError, r'uint8'),
    ('batch of images',      lambda: MaskBrush(torch.zeros(2, 3, 8, 8)), ValueError, r'batch of 2'),
    ('not an image',         lambda: MaskBrush('cat.png'), TypeError, r'got str'),
    ('mask of another size', lambda: MaskBrush(IMG, mask=np.ones((32, 24), bool)), ValueError, r'mask size 32×24 does not match the image size 24×32'),
    ('soft float mask',      lambda: MaskBrush(IMG, mask=np.full((24, 32), 0.5)), ValueError, r'binary mask .*1 distinct values in \[0.5, 0.5\].*mask > 0.5'),
    ('uint8 mask 0..128',    lambda: MaskBrush(IMG, mask=np.full((24, 32), 128, np.uint8)), ValueError, r'binary mask'),
    ('mask with NaN',        lambda: MaskBrush(IMG, mask=np.full((24, 32), np.nan)), ValueError, r'binary mask'),
    ('RGB mask image',       lambda: MaskBrush(IMG, mask=PIL.Image.new('RGB', (32, 24))), ValueError, r"mode 'L' or '1', got PIL image, mode 'RGB'"),
    ('3-channel mask',       lambda: MaskBrush(IMG, mask=np.zeros((3, 24, 32), bool)), ValueError, r'H×W mask, got ndarray of shape \(3, 24, 32\)'),
    ('mask as a list',       lambda: MaskBrush(IMG, mask=[[0, 1]]), TypeError, r'numpy array, tensor or PIL image, got list'),
    ('string mask',          lambda: MaskBrush(IMG, mask=np.full((24, 32), 'a')), TypeError, r'bool, integer or float mask'),
    ('brush size 0',         lambda: MaskBrush(IMG, brush_size=0), ValueError, r'brush_size must be an int ≥ 1'),
    ('centroids (N, 3)',     lambda: ElementEditor(IMG, np.zeros((2, 3))), ValueError, r'\(N, 2\) array of \(y, x\), got shape \(2, 3\)'),
    ('centroid outside',     lambda: ElementEditor(IMG, [[5, 40]]), ValueError, r'centroid 0 at \(y, x\) = \(5, 40\) is outside the 24×32 image'),
    ('NaN centroid',         lambda: ElementEditor(IMG, [[np.nan, 4]]), ValueError, r'NaN'),
    ('string centroids',     lambda: ElementEditor(IMG, [['a', 'b']]), TypeError, r'numeric centroids'),
    ('sizes mismatch',       lambda: ElementEditor(IMG, [[5, 5], [6, 6]], sizes=[3]), ValueError, r'expected 2 sizes'),
    ('negative size',        lambda: ElementEditor(IMG, [[5, 5]], sizes=[-1]), ValueError, r'sizes > 0'),
    ('element editor image', lambda: ElementEditor(PIL.Image.new('L', (8, 8)), [[1, 1]]), ValueError, r"mode 'L'"),
    ('unknown edit op',      lambda: ElementEdit('rotate', 0), ValueError, r"unknown edit op 'rotate'"),
    ('float edit id',        lambda: ElementEdit('delete', 1.0), TypeError, r'int element id, got float'),
    ('inf move',             lambda: ElementEdit('move', 0, dx=float('inf')), ValueError, r'finite dx'),
    ('resize by 0',          lambda: ElementEdit('resize', 0, scale=0), ValueError, r'scale > 0'),
    ('resize with dx',       lambda: ElementEdit('resize', 0, dx=1, scale=2), ValueError, r"'resize' edit takes no dx/dy"),
    ('edit from a list',     lambda: ElementEdit.from_dict(['move', 0]), TypeError, r'expected a dict'),
    ('slider spec',          lambda: slider_view(lambda a: IMG, a='big'), TypeError, r"slider 'a': expected a widget"),
    ('slider min ≥ max',     lambda: slider_view(lambda a: IMG, a=(3, 1)), ValueError, r"min < max"),
    ('fn not callable',      lambda: slider_view(3, a=(0, 1)), TypeError, r'callable'),
    ('bits of another size', lambda: unpack_mask(pack_mask(np.ones((4, 4), bool)), (4, 8)), ValueError, r'hold 2 bytes; a 4×8 mask needs 4'),
    ('bits not base64',      lambda: unpack_mask('%%%', (4, 4)), ValueError, r'not valid base64'),
]

@pytest.mark.parametrize('name,fn,exc,match', BAD, ids=[b[0] for b in BAD])
def test_bad_input(name, fn, exc, match):
    with pytest.raises(exc, match=match): fn()


# ---------------------------------------------------------------- mask wire format
@pytest.mark.parametrize('shape', [(1, 1), (3, 5), (24, 32), (17, 31)])
def test_pack_roundtrip_matches_numpy_packbits(shape):
    m = np.random.default_rng(0).random(shape) > 0.5
    bits = pack_mask(m)
    assert base64.b64decode(bits) == np.packbits(m.ravel()).tobytes()  # the documented wire format
    np.testing.assert_array_equal(unpack_mask(bits, shape), m)

def test_binary_mask_forms():
    m = np.zeros((24, 32), bool); m[2:5, 3:9] = True
    for form in (m, m.astype(np.uint8), m.astype(np.uint8) * 255, m.astype(np.float32), torch.from_numpy(m)[None],
                 torch.from_numpy(m).float()[None, None], PIL.Image.fromarray(m), PIL.Image.fromarray(m.astype(np.uint8) * 255)):
        np.testing.assert_array_equal(binary_mask(form, (24, 32)), m)


# ---------------------------------------------------------------- mask brush
def test_brush_state_and_image():
    b = MaskBrush(IMG, brush_size=5)
    assert (b.width, b.height, b.brush_size, b.mode, b.updates) == (32, 24, 5, 'paint', 0)
    assert b.image_url.startswith('data:image/png;base64,')
    shown = np.asarray(PIL.Image.open(io.BytesIO(base64.b64decode(b.image_url.split(',', 1)[1]))))
    np.testing.assert_array_equal(shown, IMG)
    assert not b.mask.any() and b.mask.shape == (24, 32) and b.mask.dtype == bool
    np.testing.assert_array_equal(image_array(torch.from_numpy(IMG).permute(2, 0, 1).float() / 127.5 - 1), IMG)

def test_brush_receives_strokes_from_the_frontend():
    b = MaskBrush(IMG)
    got = []
    b.on_mask(lambda m: got.append(m.copy()))
    s1 = np.zeros((24, 32), bool); s1[5:9, 2:20] = True
    frontend_update(b, mask_bits=pack_mask(s1))
    np.testing.assert_array_equal(b.mask, s1)
    s2 = s1.copy(); s2[5:9, 10:20] = False  # an erase stroke
    frontend_update(b, mask_bits=pack_mask(s2))
    np.testing.assert_array_equal(b.mask, s2)
    assert b.updates == 2 and len(got) == 2
    np.testing.assert_array_equal(got[0], s1); np.testing.assert_array_equal(got[1], s2)
    b.mask[:] = True  # `mask` is a copy: the widget's state cannot be changed behind its back
    np.testing.assert_array_equal(b.mask, s2)
    t = b.mask_tensor()
    assert t.shape == (1, 1, 24, 32) and t.dtype == torch.float32 and t.sum().item() == s2.sum()

def test_brush_rejects_bad_frontend_bits_and_keeps_mask():
    b = MaskBrush(IMG)
    s = np.zeros((24, 32), bool); s[0, 0] = True
    frontend_update(b, mask_bits=pack_mask(s))
    frontend_update(b, mask_bits=pack_mask(np.ones((24, 31), bool)))  # wrong length
    frontend_update(b, mask_bits='not base64!')
    np.testing.assert_array_equal(b.mask, s)
    assert b.updates == 1

def test_brush_python_changes_reach_every_view():
    b = MaskBrush(IMG)
    s = np.zeros((24, 32), bool); s[3:7, 3:7] = True
    with sent_to_frontend(b) as sent:
        b.mask = s
        b.clear()
        b.brush_size = 12
        b.mode = 'erase'
    bits = states(sent, 'mask_bits')
    assert len(bits) == 2
    np.testing.assert_array_equal(unpack_mask(bits[0], (24, 32)), s)
    assert not unpack_mask(bits[1], (24, 32)).any()
    assert states(sent, 'brush_size') == [12] and states(sent, 'mode') == ['erase']

def test_brush_mask_survives_rerendering():
    "A new view (re-render, second display) is built from the model state, which holds the mask."
    b = MaskBrush(IMG)
    s = np.zeros((24, 32), bool); s[10:12, :] = True
    frontend_update(b, mask_bits=pack_mask(s))
    state = b.get_state()
    np.testing.assert_array_equal(unpack_mask(state['mask_bits'], (state['height'], state['width'])), s)
    with sent_to_frontend(b) as sent:
        frontend_update(b, mask_bits=pack_mask(s))  # the same stroke again: no change, nothing resent
    assert states(sent, 'mask_bits') == [] and b.updates == 1

def test_brush_set_image():
    b = MaskBrush(IMG)
    s = np.zeros((24, 32), bool); s[1, 1] = True
    b.mask = s
    b.set_image(IMG[::-1].copy())  # same size: mask kept
    np.testing.assert_array_equal(b.mask, s)
    b.set_image(IMG[:8])  # another size: mask cleared to the new size
    assert b.shape == (8, 32) and b.mask.shape == (8, 32) and not b.mask.any()
    with pytest.raises(ValueError, match="mode 'RGBA'"): b.set_image(PIL.Image.new('RGBA', (4, 4)))
    assert b.shape == (8, 32)

def test_assets_are_self_contained_es_modules():
    for name in ('mask_brush.js', 'element_editor.js'):
        src = (ASSETS/name).read_text()
        assert 'export default' in src
        assert not re.search(r'^\s*import\s', src, re.M), f"{name} imports a module (no CDN / network at run time)"
        assert 'http://' not in src.replace('http://www.w3.org/2000/svg', '') and 'https://' not in src
    assert str(MaskBrush._esm) == (ASSETS/'mask_brush.js').read_text()
    assert str(ElementEditor._esm) == (ASSETS/'element_editor.js').read_text()
    assert (ASSETS/'widgets.css').exists()


# ---------------------------------------------------------------- element editor
def editor():
    return ElementEditor(IMG, centroids=np.array([[4., 4.], [12., 20.], [20., 30.]]), sizes=[2, 3, 4])

def test_editor_applies_frontend_edits():
    ed = editor()
    seen = []
    ed.on_edit(seen.append)
    frontend_update(ed, selected=2)
    frontend_message(ed, {'op': 'move', 'id': 2, 'dx': -10.25, 'dy': 3, 'scale': 1})
    frontend_message(ed, {'op': 'resize', 'id': 2, 'dx': 0, 'dy': 0, 'scale': 0.8})
    frontend_message(ed, {'op': 'delete', 'id': 0, 'dx': 0, 'dy': 0, 'scale': 1})
    assert ed.selected == 2
    assert ed.edits == [ElementEdit('move', 2, -10.25, 3.), ElementEdit('resize', 2, scale=0.8), ElementEdit('delete', 0)]
    assert seen == ed.edits
    assert ed.centroids == [[4., 4.], [12., 20.], [23., 19.75]]
    assert ed.sizes == pytest.approx([2, 3, 3.2]) and ed.alive == [False, True, True]
    c, s, alive = replay_edits(ed.initial_centroids, ed.initial_sizes, ed.edits)  # what the elements module replays
    np.testing.assert_allclose(c, ed.centroids); np.testing.assert_allclose(s, ed.sizes); assert alive.tolist() == ed.alive
    assert ed.error == ''

def test_editor_sends_new_state_and_reports_rejected_edits():
    ed = editor()
    with sent_to_frontend(ed) as sent:
        frontend_message(ed, {'op': 'move', 'id': 1, 'dx': 1, 'dy': 1, 'scale': 1})
        frontend_message(ed, {'op': 'move', 'id': 1, 'dx': 100, 'dy': 0, 'scale': 1})  # off the image
        frontend_message(ed, {'op': 'delete', 'id': 7, 'dx': 0, 'dy': 0, 'scale': 1})  # no such element
        frontend_message(ed, {'op': 'explode', 'id': 1})
    assert states(sent, 'centroids') == [[[4., 4.], [13., 21.], [20., 30.]]]
    errors = [m['content']['error'] for m in sent if m.get('method') == 'custom']
    assert len(errors) == 3
    assert 'outside the 24×32 image' in errors[0] and 'id in [0, 2]' in errors[1] and "unknown edit op 'explode'" in errors[2]
    assert len(ed.edits) == 1 and ed.error == errors[2]

def test_editor_deleted_selection_is_cleared_and_undo():
    ed = editor()
    frontend_update(ed, selected=1)
    ed.delete(1)
    assert ed.selected == -1 and ed.alive == [True, False, True]
    with pytest.raises(ValueError, match='was deleted'): ed.resize(1, 2.)
    assert ed.undo() == ElementEdit('delete', 1) and ed.alive == [True] * 3 and ed.edits == []
    assert ed.undo() is None
    ed.move(0, dx=2); ed.resize(0, 2); ed.reset()
    assert ed.edits == [] and ed.centroids == [[4., 4.], [12., 20.], [20., 30.]] and ed.sizes == [2., 3., 4.]

def test_editor_default_sizes_and_tensor_centroids():
    ed = ElementEditor(torch.from_numpy(IMG).permute(2, 0, 1).float() / 127.5 - 1, torch.tensor([[0, 0], [23, 31]]))
    assert ed.sizes == [2., 2.] and ed.centroids == [[0., 0.], [23., 31.]]
    big = ElementEditor(np.zeros((200, 100, 3), np.uint8), [[10, 10]])
    assert big.sizes == [5.]

def test_edit_records_roundtrip():
    for e in (ElementEdit('move', 3, dx=1.5, dy=-2), ElementEdit('resize', 0, scale=1.25), ElementEdit('delete', np.int64(4))):
        assert ElementEdit.from_dict(e.to_dict()) == e
    assert ElementEdit('delete', np.int64(4)).id == 4 and type(ElementEdit('delete', np.int64(4)).id) is int


# ---------------------------------------------------------------- slider_view
def png_pixel(view, y, x):
    return np.asarray(PIL.Image.open(io.BytesIO(view.image.value)))[y, x].tolist()

def test_slider_view_updates_one_image_in_place_and_shows_computing():
    seen_status, view = [], None
    def fn2(level, color):
        if view is not None: seen_status.append(view.status.value)  # the status while fn runs
        a = np.zeros((8, 8, 3), np.uint8); a[..., {'r': 0, 'g': 1}[color]] = level
        return a
    view = slider_view(fn2, level=(0, 255, 5, 100), color=['r', 'g'], run=False)
    assert isinstance(view, SliderView) and view.image.value == b''
    assert all(s.continuous_update is False for s in view.sliders.values() if 'continuous_update' in s.trait_names())
    assert isinstance(view.sliders['level'], ipywidgets.IntSlider) and view.sliders['level'].value == 100
    image = view.image
    seen_status.clear()
    with sent_to_frontend(view.status) as status_msgs:
        view.update()
        frontend_update(view.sliders['level'], value=200)  # the browser releases the slider
        frontend_update(view.sliders['color'], index=1)
    assert view.image is image and view.calls == 3
    assert png_pixel(view, 0, 0) == [0, 200, 0]
    assert len(seen_status) == 3 and all('computing…' in s for s in seen_status)  # fn ran while the status said computing…
    sent = states(status_msgs, 'value')
    assert sent[0::2] == ['<span class="imie-busy">computing…</span>'] * 3 and all('done in' in s for s in sent[1::2])

def test_slider_view_float_slider_and_widget_sliders():
    w = ipywidgets.FloatSlider(min=0, max=1, value=0.25, continuous_update=True)
    view = slider_view(lambda t, r: np.full((4, 4), t) > 0.5, t=w, r=(0., 1.))
    assert w.continuous_update is False and view.sliders['t'] is w and w.description == 't'
    assert isinstance(view.sliders['r'], ipywidgets.FloatSlider) and view.sliders['r'].value == 0.5
    assert png_pixel(view, 0, 0) == 0  # a mask is shown in gray
    w.value = 0.75
    assert png_pixel(view, 0, 0) == 255

def test_slider_view_shows_errors_and_keeps_last_image():
    def fn(k):
        if k == 3: raise RuntimeError("k=3 is not allowed <here>")
        if k == 4: return None
        return np.full((4, 4, 3), 10 * k, np.uint8)
    view = slider_view(fn, k=(0, 5, 1, 1))
    before = view.image.value
    view.sliders['k'].value = 3
    assert isinstance(view.error, RuntimeError) and view.result is not None
    assert 'RuntimeError' in view.status.value and 'k=3 is not allowed &lt;here&gt;' in view.status.value
    assert 'Traceback' in view.status.value and 'in fn' in view.status.value
    assert view.image.value == before and view.calls == 1
    view.sliders['k'].value = 4  # a bad return value is an error too
    assert isinstance(view.error, TypeError) and 'got NoneType' in view.status.value
    view.sliders['k'].value = 2
    assert view.error is None and 'done in' in view.status.value and png_pixel(view, 0, 0) == [20, 20, 20]

def test_display_array_forms():
    assert display_array(np.eye(3, dtype=bool)).tolist() == [[255, 0, 0], [0, 255, 0], [0, 0, 255]]
    assert display_array(torch.full((1, 1, 2, 2), 0.5)).tolist() == [[128, 128], [128, 128]]
    assert display_array(PIL.Image.new('L', (2, 2), 7)).tolist() == [[7, 7], [7, 7]]
    np.testing.assert_array_equal(display_array(IMG), IMG)
    with pytest.raises(ValueError, match=r'\[0, 1\]'): display_array(np.full((2, 2), 3.))
