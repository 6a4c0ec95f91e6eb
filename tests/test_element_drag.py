"Element edits given as a selected region and a drag (elements.drag, the bench's 'elements' method): the bad inputs of element editing at this layer, each a clear error or a defined result."
import numpy as np, pytest, torch
from imiebench.elements.model import encode_elements, ContentEncoder, LightDecoder
from imiebench.elements.decoders import ToyElements, CanvasDecoder
from imiebench.elements.drag import RegionEdit, region_ids, apply_region_edit, edit_regions
from imiebench.toy.world import Scene, Obj, render, object_mask, make_edit
from imiebench.toy.elements import region_edit

@pytest.fixture(scope='module')
def setup():
    torch.manual_seed(0); m = ToyElements(ContentEncoder().eval(), LightDecoder(), canvas=CanvasDecoder().eval(), info=dict(partition=dict(n=64, beta=16.)))
    sc = Scene([Obj('circle', 'red', 'large', 'top left'), Obj('square', 'green', 'small', 'center')], 'blue')
    img = render(sc); el = encode_elements(m.encoder, img, n=64, beta=16.)
    return m, sc, img, el, object_mask(sc.objects[0], 64) > .5

def test_region_must_select_something_on_this_canvas(setup):
    m, sc, img, el, reg = setup
    with pytest.raises(ValueError, match='selects nothing'): RegionEdit('delete', np.zeros((64, 64)))
    with pytest.raises(ValueError, match='H×W mask'): RegionEdit('delete', np.ones(64, bool))
    with pytest.raises(ValueError, match='does not match the canvas'): apply_region_edit(el, RegionEdit('delete', np.ones((32, 32), bool)))
    with pytest.raises(TypeError, match='RegionEdit'): apply_region_edit(el, dict(op='delete'))

def test_drag_off_the_canvas(setup):
    m, sc, img, el, reg = setup; ids = region_ids(el, reg)
    with pytest.raises(ValueError, match='entirely off'): apply_region_edit(el, RegionEdit('move', reg, dy=-64))
    with pytest.raises(ValueError, match='partly off'): apply_region_edit(el, RegionEdit('move', reg, dy=-8), clip=False)
    cut = apply_region_edit(el, RegionEdit('move', reg, dy=-8))  # clip (the default): cut at the edge, still decodable
    assert (cut.boxes()[ids][:, 0] >= -.5).all() and cut.footprints(ids).any(0).sum() < el.footprints(ids).any(0).sum()
    assert edit_regions(m, img, [[RegionEdit('move', reg, dy=-8)]])[0][0].shape == (64, 64, 3)

def test_resize_to_zero_or_to_the_whole_canvas(setup):
    m, sc, img, el, reg = setup
    with pytest.raises(ValueError, match='scale must be > 0'): RegionEdit('resize', reg, scale=0)
    with pytest.raises(ValueError, match='finite'): RegionEdit('resize', reg, scale=float('inf'))
    with pytest.raises(ValueError, match='smaller than a pixel'): apply_region_edit(el, RegionEdit('resize', reg, scale=1e-3))
    mid = object_mask(sc.objects[1], 64) > .5; big = RegionEdit('resize', mid, scale=20)  # the centre square, about its centroid
    whole = apply_region_edit(el, big); sel = region_ids(el, mid)  # cut to the canvas; every element it overlaps is deleted
    fp = whole.footprints(sel).any(0); rest = np.setdiff1d(np.flatnonzero(whole.alive), sel)
    assert fp.mean() > .5 and not (whole.footprints(rest) & fp).any() and len(rest) < el.alive.sum() - len(sel)
    assert edit_regions(m, img, [[big]])[0][0].shape == (64, 64, 3)
    with pytest.raises(ValueError, match='entirely off'): apply_region_edit(el, RegionEdit('resize', reg, scale=20, center=(32, 32)))  # scaled away from the centre: off the canvas

def test_delete_every_element_and_regions_with_no_element(setup):
    m, sc, img, el, reg = setup
    everything = RegionEdit('delete', np.ones((64, 64), bool))
    assert not apply_region_edit(el, everything).alive.any()
    with pytest.raises(ValueError, match='no alive element'): edit_regions(m, img, [[everything]])
    gone = apply_region_edit(el, RegionEdit('delete', reg))  # a region over deleted elements selects nothing: the edit does nothing
    assert len(region_ids(gone, reg)) == 0 and apply_region_edit(gone, RegionEdit('move', reg, dx=20)) is gone

def test_blank_image_and_empty_inputs(setup):
    m = setup[0]; blank = np.full((64, 64, 3), 90, np.uint8); sq = np.zeros((64, 64), bool); sq[:16, :16] = True
    el = encode_elements(m.encoder, blank, n=64, beta=16.)
    assert el.n == 64 and len(region_ids(el, sq)) == 4  # a blank image is the 8×8 grid: the 16×16 corner is 4 elements
    out = edit_regions(m, blank, [[RegionEdit('move', sq, dy=16, dx=16)], [RegionEdit('delete', sq)]])
    assert len(out[0]) == 2 and all(a.shape == (64, 64, 3) and a.dtype == np.uint8 for a in out[0])
    assert edit_regions(m, np.zeros((0, 64, 64, 3), np.uint8), []) == []  # no image, no step: nothing to edit
    with pytest.raises(ValueError, match='one RegionEdit per image'): edit_regions(m, blank, [[]])
    with pytest.raises(ValueError, match='N×H×W×3 uint8'): edit_regions(m, blank[..., 0], [[RegionEdit('delete', sq)]])

def test_only_object_edits_are_element_edits(setup):
    sc = setup[1]
    r = region_edit(make_edit(sc, 'move', 0, pos='bottom right')); assert (r.op, r.dy, r.dx) == ('move', 43., 43.)
    assert region_edit(make_edit(sc, 'resize', 1)).scale == 2. and region_edit(make_edit(sc, 'resize', 0)).scale == .5
    for kind, kw in (('recolor', dict(color='yellow')), ('background', dict(color='white')), ('add', dict(shape='circle', color='yellow', size='small', pos='top'))):
        with pytest.raises(ValueError, match='element edits'): region_edit(make_edit(sc, kind, 0 if kind == 'recolor' else None, **kw))
