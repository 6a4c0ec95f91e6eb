"The EMILIE session widget: redo, the layout, the brush after an edit, the preview then the exact edit; the results' reprs."
import html, io
import numpy as np, torch, pytest, PIL.Image
from imiebench.models import tiny
from imiebench.emilie import EditSession, IP2PResult, ip2p_edit, preview_steps, image_png, display_scale
from imiebench.widgets.session import session_widget, strip_image

IMG = np.random.default_rng(1).integers(0, 255, (16, 16, 3), dtype=np.uint8)
M = np.zeros((16, 16), bool); M[4:12, 2:9] = True

@pytest.fixture(scope='module')
def b(): return tiny('ip2p', seed=5)

def widget(b, steps=10, **kw):
    w = session_widget(EditSession(b, IMG, num_inference_steps=steps, progress=False), **kw); return w, w.controls, w.session

def edit(c, text, mask_from='none'):
    c['text'].value, c['mask_from'].value = text, mask_from; c['run'].click()

def shown(w): return {k: v.layout.display != 'none' for k, v in w.panels.items()}

def test_redo_button_puts_back_the_undone_step(b):
    w, c, s = widget(b)
    assert (c['undo'].disabled, c['redo'].disabled) == (True, True)
    edit(c, 'make it blue'); edit(c, 'make it red'); a, r = s.history
    c['undo'].click(); assert len(s) == 1 and not c['redo'].disabled and 'redo available' in c['status'].value
    c['undo'].click(); assert len(s) == 0 and c['undo'].disabled
    c['redo'].click(); c['redo'].click()
    assert s.history == [a, r] and s.history[0] is a and s.history[1] is r and c['redo'].disabled
    assert w.counts == dict(edits=2, redone=0, strips=w.counts['strips'])  # nothing recomputed
    c['redo'].click(); assert 'nothing to redo' in c['status'].value and len(s) == 2
    c['undo'].click(); edit(c, 'make it green')  # a new edit clears what can be redone
    assert s.redoable is None and c['redo'].disabled

def test_same_edit_after_undo_is_the_sessions_redo(b):
    "The widget's re-use memo and EditSession.redo agree: the same edit again after undo is a redo, and what was undone after it stays redoable."
    w, c, s = widget(b)
    edit(c, 'make it blue'); edit(c, 'make it red'); a, r = s.history
    c['undo'].click(); c['undo'].click()
    edit(c, 'make it blue')  # the same edit as the first: put back, no recomputation
    assert s.history[0] is a and w.counts['redone'] == 1 and w.counts['edits'] == 2
    assert s.redoable is r and not c['redo'].disabled  # as after EditSession.redo: the second edit can still be redone
    c['redo'].click(); assert s.history == [a, r] and s.history[1] is r
    # an undone step asked again once the redo stack holds another one: put back, and the redo stack is cleared as by a new edit
    c['undo'].click(); c['undo'].click(); edit(c, 'make it green'); c['undo'].click()
    edit(c, 'make it blue'); assert s.history[0] is a and s.redoable is None and c['redo'].disabled

@pytest.mark.parametrize('src, rect, brush', [('none', False, False), ('rectangle', True, False), ('brush', False, True)])
def test_layout_shows_only_what_applies(b, src, rect, brush):
    w, c, s = widget(b, steps=2)
    assert shown(w) == dict(rectangle=False, brush=False, strip=False)  # before any edit: the image alone
    c['mask_from'].value = src; assert shown(w) == dict(rectangle=rect, brush=brush, strip=False)
    if src == 'brush': c['brush'].mask = M
    edit(c, 'make it blue', src); assert len(s) == 1 and shown(w) == dict(rectangle=rect, brush=brush, strip=True)
    c['undo'].click(); assert not shown(w)['strip']  # no history, no strip
    assert c['result'].value == image_png(IMG, display_scale(IMG.shape))  # the current image, magnified

def test_rectangle_view_drawn_only_while_shown(b):
    w, c, s = widget(b, steps=2)
    assert c['rect_view'].value == b''  # never drawn while hidden
    c['mask_from'].value = 'rectangle'; c['xs'].value = (2, 8)
    im = np.asarray(PIL.Image.open(io.BytesIO(c['rect_view'].value)))
    assert im.shape[:2] == (192, 192) and (im[:, 2 * 12] == 255).any()  # magnified 12×, the rectangle's left edge in white

def test_brush_clears_after_an_edit_unless_pinned(b):
    w, c, s = widget(b, steps=2)
    c['mask_from'].value = 'brush'; c['brush'].mask = M; edit(c, 'make it blue', 'brush')
    assert (s.history[-1].mask == M).all() and not c['brush'].mask.any()
    c['undo'].click(); assert (c['brush'].mask == M).all()  # undo puts the undone edit's mask back on the empty brush
    edit(c, 'make it blue', 'brush'); assert w.counts['redone'] == 1  # ... so the same edit again is re-used
    other = np.zeros((16, 16), bool); other[0:3, 0:3] = True
    c['brush'].mask = other; c['undo'].click(); assert (c['brush'].mask == other).all()  # a fresh stroke is kept
    c['pin'].value = True; c['brush'].mask = M; edit(c, 'make it red', 'brush'); edit(c, 'make it green', 'brush')
    assert (c['brush'].mask == M).all() and len(s) == 2 and all((st.mask == M).all() for st in s.history)
    c['pin'].value = False; c['brush'].clear(); edit(c, 'make it blue', 'brush')  # an empty brush: an error, the session unchanged
    assert len(s) == 2 and 'all zeros' in c['status'].value and 'color:#b00' in c['status'].value

def test_preview_then_exact(b):
    w, c, s = widget(b, steps=10)
    quick = s.preview('make it blue', num_inference_steps=preview_steps(10)).image
    edit(c, 'make it blue')
    assert [f[0] for f in w.frames] == ['preview', 'exact'] and w.frames[0][2] <= w.frames[1][2]
    assert np.array_equal(w.frames[0][1], quick) and np.array_equal(w.frames[1][1], s.image)
    assert 'exact' in c['shown'].value and html.escape("'make it blue'") in c['shown'].value
    assert s.history[-1].settings['steps'] == 10 and w.counts['edits'] == 1
    c['undo'].click(); assert [f[0] for f in w.frames] == ['original']
    edit(c, 'make it blue'); assert [f[0] for f in w.frames] == ['exact']  # re-used: nothing to preview
    edit(c, 'a ' * 40)  # the preview fails first: the error is shown, the current image stays
    assert 'tokenizer limit' in c['status'].value and len(s) == 1 and np.array_equal(w.frames[-1][1], s.image)

@pytest.mark.parametrize('steps, kw, kinds', [(10, dict(preview_steps=0), ['exact']), (3, {}, ['exact']), (10, dict(preview_steps=2), ['preview', 'exact'])])
def test_preview_steps(b, steps, kw, kinds):
    w, c, s = widget(b, steps=steps, **kw); quick = s.preview('make it blue', num_inference_steps=2).image
    edit(c, 'make it blue'); assert [f[0] for f in w.frames] == kinds
    if 'preview' in kinds: assert np.array_equal(w.frames[0][1], quick)  # preview_steps=2: the same edit with 2 steps

def test_widget_arguments_checked(b):
    s = EditSession(b, IMG, num_inference_steps=2, progress=False)
    with pytest.raises(ValueError, match='preview_steps must be an int ≥ 0, got -1'): session_widget(s, preview_steps=-1)
    with pytest.raises(TypeError, match='s must be an EditSession, got object'): session_widget(object())

def test_strip_is_crisp(b):
    w, c, s = widget(b, steps=2); c['mask_from'].value = 'brush'; c['brush'].mask = M; edit(c, 'make it blue', 'brush')
    im = np.asarray(PIL.Image.open(io.BytesIO(c['strip'].value)).convert('RGB'))
    k = 128 // 16
    assert np.array_equal(im[:16 * k, :16 * k], IMG.repeat(k, 0).repeat(k, 1))  # nearest neighbour: every pixel a k×k block
    assert c['strip'].layout.width == f"{im.shape[1]}px"  # shown at its own size, never rescaled by the browser
    with pytest.raises(ValueError, match='expected images and as many titles'): strip_image([IMG], ['a', 'b'])

def test_session_preview(b):
    s = EditSession(b, IMG, num_inference_steps=5, progress=False); s.edit('make it blue')
    p = s.preview('make it red', mask=M); assert len(s) == 1 and p.settings['steps'] == preview_steps(5) == 3
    assert np.array_equal(p.image, s.edit('make it red', mask=M, steps=3).image)
    assert [preview_steps(n) for n in (1, 2, 3, 10, 20, 40)] == [1, 2, 3, 3, 3, 6]
    with pytest.raises(ValueError, match='all zeros'): s.preview('make it red', mask=np.zeros((16, 16)))
    with pytest.raises(ValueError, match='steps must be an int'): preview_steps(0)

@pytest.mark.parametrize('mode', ['latent', 'image'])
def test_next_condition_follows_the_history(b, mode):
    "The conditioning kept for a preview and its edit follows undo, redo and new edits: the next edit is what a session with that history gives."
    s = EditSession(b, IMG, num_inference_steps=3, mode=mode, progress=False); s.edit('make it blue'); s.preview('make it red'); s.edit('make it red')
    s.undo(); c = s.edit('make it green')  # conditioned on the first edit again
    t = EditSession(b, IMG, num_inference_steps=3, mode=mode, progress=False); t.edit('make it blue'); d = t.edit('make it green')
    assert np.array_equal(c.image, d.image) and torch.equal(c.cond, d.cond)
    s.undo(); s.undo(); e = s.edit('make it green')
    u = EditSession(b, IMG, num_inference_steps=3, mode=mode, progress=False); assert torch.equal(e.cond, u._condition()[0])


def png_size(data: bytes): return PIL.Image.open(io.BytesIO(data)).size

def test_reprs_show_the_image_and_one_line(b):
    s = EditSession(b, IMG, num_inference_steps=2, progress=False); step = s.edit('make it blue', mask=M)
    r = ip2p_edit(b, IMG, 'make it blue', num_inference_steps=2, generator=torch.Generator().manual_seed(0), progress=False)
    assert isinstance(r, IP2PResult)
    for x, line in ((r, r.summary()), (step, repr(step)), (s, s.summary())):
        h = x._repr_html_()
        assert h.count('<img') == 1 and html.escape(line) in h and 'tensor(' not in h and '\n' not in line
        assert png_size(x._repr_png_()) == (16 * 16, 16 * 16)  # magnified to DISPLAY_SIDE
    assert "'make it blue'" in r.summary() and '2 steps' in r.summary() and 'no mask' in r.summary()
    assert s.summary() == "EditSession (latent mode): 1 edit(s), the last 'make it blue'"
    assert len(repr(r)) < 300 and len(repr(step)) < 120 and len(repr(s)) < 120
    big = np.asarray(PIL.Image.open(io.BytesIO(step._repr_png_())).convert('RGB'))
    assert np.array_equal(big, step.image.repeat(16, 0).repeat(16, 1))
    s.undo(); assert s.summary().endswith('(the original image); redo available')
    two = IP2PResult(torch.zeros(2, 3, 16, 16), torch.zeros(2, 4, 2, 2), dict(instruction='x', steps=1))
    assert png_size(two._repr_png_()) == ((16 + 2 + 16) * 16, 16 * 16)
    with pytest.raises(ValueError, match='uint8 array, got float64'): image_png(np.zeros((4, 4, 3)))
