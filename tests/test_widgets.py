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
    ('not an image',         lambda: MaskBrush(3), TypeError, r'or an image file path, got int'),
    ('missing image file',   lambda: MaskBrush('no/such/cat.png'), FileNotFoundError, r"image file 'no/such/cat.png' does not exist"),
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


# ---------------------------------------------------------------- previews that follow the hand
import asyncio
from imiebench.widgets.wire import frontend_update as _fu

def _level(level):  # the exact fn: a gray square at `level`
    return np.full((8, 8, 3), level, np.uint8)

def _rough(level):  # its preview: the level rounded to tens, and a note
    return np.full((8, 8, 3), level // 10 * 10, np.uint8), 'tens'

def _labels(sent):
    return [m['state']['value'] for m in sent if 'value' in m.get('state', {})]

def test_preview_then_exact_without_an_event_loop():
    "A script or a test runner has no running loop: each change shows the preview, then the exact result at once."
    view = slider_view(_level, preview=_rough, level=(0, 255, 1, 100))
    assert view.sliders['level'].continuous_update is True
    assert view.label in view.children[1].children  # label beside the status line
    assert (view.calls, view.previews, view.shown, view.label.value) == (1, 0, 'exact', 'exact')
    with sent_to_frontend(view.label) as sent:
        _fu(view.sliders['level'], value=57)
    assert _labels(sent) == ['preview (tens)', 'exact']
    assert (view.calls, view.previews, view.pending, view.shown) == (2, 1, False, 'exact')
    np.testing.assert_array_equal(view.preview_result, _rough(57)[0])
    assert png_pixel(view, 0, 0) == [57, 57, 57] and view.preview_seconds >= 0
    view.settle()  # nothing pending: nothing runs
    assert view.calls == 2

def test_exact_waits_for_the_quiet_period_in_an_event_loop():
    "In a kernel the exact result waits until no change came for `quiet` seconds; each change cancels the pending run."
    async def drag():
        view = slider_view(_level, preview=_rough, quiet=0.05, level=(0, 255, 1, 100))
        view.sliders['level'].value = 30
        first = view._timer
        assert (view.shown, view.pending, view.calls, view.label.value) == ('preview', True, 1, 'preview (tens)')
        assert png_pixel(view, 0, 0) == [30, 30, 30]
        view.sliders['level'].value = 47  # the hand moves on before the pause
        assert first.cancelled() and view._timer is not first and view.previews == 2 and view.calls == 1
        assert png_pixel(view, 0, 0) == [40, 40, 40]
        await asyncio.sleep(0.4)  # the hand rests
        assert (view.shown, view.pending, view.calls, view.label.value) == ('exact', False, 2, 'exact')
        assert png_pixel(view, 0, 0) == [47, 47, 47] and view._timer is None
        view.sliders['level'].value = 80; view.settle()  # settle: the exact result now, and the timer is dropped
        assert (view.calls, view.shown, view._timer) == (3, 'exact', None)
        await asyncio.sleep(0.2)
        assert view.calls == 3  # the cancelled timer did not run it again
    asyncio.run(drag())

def test_without_preview_nothing_changes():
    view = slider_view(_level, level=(0, 255, 1, 100))
    assert view.preview is None and view.label not in view.children and view.sliders['level'].continuous_update is False
    view.sliders['level'].value = 3
    assert (view.calls, view.previews, view.shown, view.pending) == (2, 0, 'exact', False)

def test_preview_errors_are_shown_and_the_exact_result_still_follows():
    def bad_preview(level):
        if level == 3: raise RuntimeError('no preview at 3')
        if level == 4: return None
        return _rough(level)
    view = slider_view(_level, preview=bad_preview, level=(0, 255, 1, 100))
    with sent_to_frontend(view.status) as status:
        view.sliders['level'].value = 3
    assert isinstance(view.preview_error, RuntimeError) and any('no preview at 3' in s for s in _labels(status))
    assert view.error is None and view.shown == 'exact' and png_pixel(view, 0, 0) == [3, 3, 3]
    view.sliders['level'].value = 4
    assert isinstance(view.preview_error, TypeError) and view.calls == 3 and png_pixel(view, 0, 0) == [4, 4, 4]

def test_a_preview_without_a_note_and_changed_from_python():
    view = slider_view(_level, preview=lambda level: _level(level // 2), level=(0, 255, 1, 100))
    with sent_to_frontend(view.label) as sent:
        view.changed()  # another input of fn changed (e.g. a painted mask)
    assert _labels(sent) == ['preview', 'exact'] and view.previews == 1 and view.calls == 2

PREVIEW_BAD = [
    ('preview not callable', lambda: slider_view(_level, preview='fast', level=(0, 9)), TypeError, r'preview must be a callable .* got str'),
    ('preview a number',     lambda: slider_view(_level, preview=3, level=(0, 9)), TypeError, r'preview must be a callable'),
    ('quiet negative',       lambda: slider_view(_level, preview=_rough, quiet=-0.1, level=(0, 9)), ValueError, r'quiet .* must be .*\[0, 60\]'),
    ('quiet a string',       lambda: slider_view(_level, preview=_rough, quiet='0.3', level=(0, 9)), TypeError, r'quiet .* must be a number'),
    ('quiet NaN',            lambda: slider_view(_level, preview=_rough, quiet=float('nan'), level=(0, 9)), ValueError, r'quiet .* finite'),
]

@pytest.mark.parametrize('name,fn,exc,match', PREVIEW_BAD, ids=[b[0] for b in PREVIEW_BAD])
def test_preview_bad_input(name, fn, exc, match):
    with pytest.raises(exc, match=match): fn()


# ---------------------------------------------------------------- the explorers' previews (tiny random weights)
@pytest.fixture(scope='module')
def tiny_sd():
    from imiebench.models import tiny
    return tiny('sd')

SRC = np.random.default_rng(0).integers(0, 255, (16, 16, 3), dtype=np.uint8)

def test_edit_explorer_previews_then_equals_diffedit(tiny_sd):
    from imiebench.widgets.explorers import edit_explorer
    from imiebench.diffedit import diffedit
    ex = edit_explorer(tiny_sd, SRC, 'a red circle', 'a blue circle', steps=6)
    assert all(s.continuous_update for s in ex.sliders.values()) and ex.shown == 'exact'
    with sent_to_frontend(ex.label) as sent:
        _fu(ex.sliders['threshold'], value=0.3)
        p = ex.last_preview
        assert p.image is None and p.note == 'mask only'
        torch.testing.assert_close(p.mask.mask, (ex.cache._soft[0.5].soft > 0.3).float())
        _fu(ex.sliders['guidance_scale'], value=8.0)
        assert ex.last_preview.note == '1 of 4 decoding steps' and ex.last_preview.image.shape == (1, 3, 16, 16)
        _fu(ex.sliders['strength'], value=0.7)
        assert ex.last_preview.note == 'mask only, mask from 2 of 10 draws' and ex.cache.preview_counts['mask'] == 1
        ex.settle()
    labels = _labels(sent)
    assert labels[0] == 'preview (mask only)' and labels[-1] == 'exact' and ex.shown == 'exact'
    ref = diffedit(tiny_sd, SRC, 'a red circle', 'a blue circle', num_inference_steps=6, r=0.7, threshold=0.3, mask_encode_strength=0.7, guidance_scale=8.0,
                   generator=torch.Generator().manual_seed(0), progress=False)
    torch.testing.assert_close(ex.last.image, ref.image, atol=1e-5, rtol=0)
    assert ex.cache.counts['encode'] == 1 and ex.cache.preview_counts['encode'] == 1  # one exact and one coarse inversion

def test_edit_explorer_brush_replaces_the_inferred_mask(tiny_sd):
    from imiebench.widgets.explorers import edit_explorer
    from imiebench.diffedit import diffedit
    ex = edit_explorer(tiny_sd, SRC, 'a red circle', steps=6, brush=True)
    assert ex.brush in ex.children and ex.brush.shape == (16, 16)
    m = np.zeros((16, 16), bool); m[2:10, 4:12] = True
    _fu(ex.brush, mask_bits=pack_mask(m)); ex.settle()
    assert ex.last_preview.note == 'mask only, painted mask'
    np.testing.assert_array_equal(ex.last.mask.mask_image[0, 0].numpy() > 0.5, m)
    ref = diffedit(tiny_sd, SRC, 'a red circle', num_inference_steps=6, r=0.7, mask=m, generator=torch.Generator().manual_seed(0), progress=False)
    torch.testing.assert_close(ex.last.image, ref.image, atol=1e-5, rtol=0)
    ex.brush.clear(); ex.settle()
    torch.testing.assert_close(ex.last.mask.mask, ex.cache.mask(0.5, 0.5).mask)  # erased: the inferred mask again

def test_edit_explorer_without_preview_and_bad_input(tiny_sd):
    from imiebench.widgets.explorers import edit_explorer, ExplorerCache
    ex = edit_explorer(tiny_sd, SRC, 'a red circle', steps=4, preview=False)
    assert ex.preview is None and not any(s.continuous_update for s in ex.sliders.values())
    with pytest.raises(TypeError, match=r'preview must be True or False, got 1'): edit_explorer(tiny_sd, SRC, 'a red circle', preview=1)
    with pytest.raises(TypeError, match=r'brush must be True or False'): edit_explorer(tiny_sd, SRC, 'a red circle', brush='yes')
    with pytest.raises(ValueError, match=r'preview_steps .* must be an int ≥ 1, got 0'): ExplorerCache(tiny_sd, SRC, 'a', preview_steps=0)
    with pytest.raises(ValueError, match=r'preview_n .* must be an int ≥ 1'): ExplorerCache(tiny_sd, SRC, 'a', preview_n=0)
    c = ExplorerCache(tiny_sd, SRC, 'a red circle', steps=4)
    with pytest.raises(ValueError, match=r'matches neither the image \(16, 16\) nor the latents'): c.user_mask(np.ones((5, 5), bool))
    with pytest.raises(TypeError, match=r'decode must be True or False'): c.preview(decode='no')

def test_roundtrip_explorer_caches_trips(tiny_sd):
    from imiebench.widgets.explorers import roundtrip_explorer, RoundTripCache
    from imiebench.reed import vae_roundtrip
    vae = tiny_sd.vae
    rt = roundtrip_explorer({'a': vae}, SRC, k_max=5)
    from imiebench.metrics import PSNR_CAP
    assert (rt.k, rt.cache.computed, rt.psnr['a'], rt.cache.counts['trips']) == (0, 0, PSNR_CAP, 0)
    with sent_to_frontend(rt.label) as sent:
        _fu(rt.sliders['k'], value=3); rt.settle()
    assert _labels(sent) == ['preview (k = 0, the nearest computed)', 'exact'] and (rt.k, rt.cache.counts['trips']) == (3, 3)
    y = rt.cache.x
    for _ in range(3): y = vae_roundtrip(vae, y)
    torch.testing.assert_close(rt.cache.image('a', 3), y)
    _fu(rt.sliders['k'], value=1)
    assert rt.label.value == 'exact' and rt.k == 1 and rt.cache.counts['trips'] == 3  # back: kept, nothing computed
    assert 'a 1' not in rt.caption.value and 'after 1 round trip;' in rt.caption.value
    with pytest.raises(TypeError, match=r'vaes must be a non-empty dict'): RoundTripCache({}, SRC)
    with pytest.raises(TypeError, match=r"vaes\['x'\] must be a diffusers AutoencoderKL, got str"): RoundTripCache({'x': 'vae'}, SRC)
    with pytest.raises(ValueError, match=r'k \(start\) must be an int'): roundtrip_explorer({'a': vae}, SRC, k=7, k_max=5)
    with pytest.raises(ValueError, match=r'k_max must be an int ≥ 1'): roundtrip_explorer({'a': vae}, SRC, k_max=0)
    with pytest.raises(ValueError, match=r'one image, got a batch of 2'): RoundTripCache({'a': vae}, [SRC, SRC])
    with pytest.raises(KeyError, match=r"no VAE named 'b'"): rt.cache.image('b', 1)

def test_a_continuous_sliders_echo_is_no_change():
    "On render a continuous FloatSlider sends its value back through noUiSlider's step arithmetic (5.0 → 5.000000000000001): nothing runs."
    view = slider_view(lambda g: np.full((4, 4, 3), int(g * 20), np.uint8), preview=lambda g: np.zeros((4, 4, 3), np.uint8), g=(1.0, 12.0, 0.5, 5.0))
    _fu(view.sliders['g'], value=5.000000000000001)
    assert (view.calls, view.previews, view.values) == (1, 0, {'g': 5.0})
    _fu(view.sliders['g'], value=5.5)
    assert (view.calls, view.previews, png_pixel(view, 0, 0)) == (2, 1, [110, 110, 110])
