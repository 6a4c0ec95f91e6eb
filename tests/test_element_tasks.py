"Element edits of the toy world (tasks with ground truth), the canvas decoder, and the bad inputs of element editing: each a clear error or a defined result."
import numpy as np, pytest, torch
from imiebench.elements.partition import partition
from imiebench.elements.model import make_elements, encode_elements, ContentEncoder, LightDecoder
from imiebench.elements.edit import move, resize, delete
from imiebench.elements.decoders import ToyElements, CanvasDecoder, paint_elements, decode_canvas
from imiebench.toy.world import Scene, Obj, render
from imiebench.toy.zoo import HELDOUT_SEED
from imiebench.toy.elements import (ELEMENT_TASKS, TASK_FACTOR, feasible_tasks, random_task, task_elements, task_score, pixel_task,
                                    object_elements, scaled_render, task_pool)

@pytest.fixture(scope='module')
def setup():
    torch.manual_seed(0); m = ToyElements(ContentEncoder().eval(), LightDecoder(), canvas=CanvasDecoder().eval())
    sc = Scene([Obj('circle', 'red', 'large', 'top left'), Obj('square', 'green', 'small', 'center'), Obj('triangle', 'yellow', 'large', 'bottom right')], 'blue')
    return m, sc, encode_elements(m.encoder, render(sc))

@pytest.mark.parametrize('kind', ELEMENT_TASKS)
def test_ground_truth_passes_and_the_source_fails(setup, kind):
    t = random_task(setup[1], kind, np.random.default_rng(3))
    assert task_score(t.target_image, t) == (True, True)
    if kind != 'recon': assert not task_score(t.source_image, t)[0]
    assert not task_score(np.zeros_like(t.source_image), t)[1]  # a black image preserves nothing (a delete's 'not found' alone is no result)

@pytest.mark.parametrize('kind', ['shrink', 'grow'])
def test_resize_success_needs_the_factor(setup, kind):
    t = random_task(setup[1], kind, np.random.default_rng(0))
    wrong = scaled_render(t.source, {t.obj: TASK_FACTOR[kind] ** 2})  # resized, but by f² instead of f
    assert not task_score(wrong, t)[0] and task_score(t.target_image, t)[0]

def test_task_elements_edit_the_object(setup):
    m, sc, el = setup; rng = np.random.default_rng(0)
    t = random_task(sc, 'move', rng); ids = object_elements(el, sc.objects[t.obj]); e2 = task_elements(el, t)
    np.testing.assert_allclose(e2.centroids[ids], el.centroids[ids] + np.array(t.offset()))
    t = random_task(sc, 'delete', rng); e2 = task_elements(el, t); assert not e2.alive[object_elements(el, sc.objects[t.obj])].any()
    t = random_task(sc, 'shrink', rng); ids = object_elements(el, sc.objects[t.obj])
    np.testing.assert_allclose(task_elements(el, t).sizes[ids], el.sizes[ids] * t.factor)
    t = random_task(sc, 'overlap', rng); e2 = task_elements(el, t)
    assert not e2.alive[object_elements(el, sc.objects[t.other])].any()  # collision deletion removes the object below
    assert task_elements(el, random_task(sc, 'recon', rng)) is el

def test_pixel_baseline_carries_out_a_move(setup):
    t = random_task(setup[1], 'move', np.random.default_rng(0)); assert task_score(pixel_task(t), t) == (True, True)

def test_feasible_tasks_and_bad_kind():
    one = Scene([Obj('circle', 'red', 'small', 'top')], 'blue')
    assert feasible_tasks(one) == ['recon', 'move', 'grow']
    with pytest.raises(ValueError, match=r"task 'overlap' does not apply"): random_task(one, 'overlap', np.random.default_rng(0))

def test_training_pool_never_uses_heldout_scenes(setup):
    with pytest.raises(ValueError, match='reach HELDOUT_SEED'): task_pool(setup[0].encoder, 10, seed=HELDOUT_SEED - 5, progress=False)

def test_canvas_paints_moved_elements_where_they_are(setup):
    "Translation: an element moved by whole pixels carries the same features, at its new place."
    m, sc, el = setup; ids = object_elements(el, sc.objects[1])
    e2 = move(el, ids, 0, 10)  # collision deletion: nothing lies on top of it
    a, b = paint_elements([el])[0], paint_elements([e2])[0]
    fp = el.footprints(ids).any(0)
    ys, xs = np.nonzero(fp)
    torch.testing.assert_close(b[:-1, ys, xs + 10], a[:-1, ys, xs])  # features and in-box coordinates travel with the element
    assert (b[-1][torch.from_numpy(fp & ~np.roll(fp, 10, 1))] == 1).all()  # the vacated pixels are holes

# Bad input (the list): each a clear error or a defined, tested result
def test_move_off_canvas_is_an_error_or_cut(setup):
    m, sc, el = setup; ids = object_elements(el, sc.objects[0])
    with pytest.raises(ValueError, match='off the 64×64 canvas'): move(el, ids, -40, 0)
    with pytest.raises(ValueError, match='entirely off'): move(el, ids, -80, 0, clip=True)
    e2 = move(el, ids, -4, 0, clip=True)  # cut at the edge: every remaining pixel on the canvas
    assert (e2.boxes()[ids][:, 0] >= -0.5).all() and decode_canvas(m, e2).shape == (1, 3, 64, 64)

def test_resize_to_zero_or_whole_canvas(setup):
    m, sc, el = setup; ids = object_elements(el, sc.objects[1])
    with pytest.raises(ValueError, match='scale must be > 0'): resize(el, ids, 0)
    with pytest.raises(ValueError, match='smaller than a pixel'): resize(el, ids, 1e-3)
    with pytest.raises(ValueError, match='partly off'): resize(el, ids, 20)
    big = resize(el, ids, 20, clip=True)  # the whole canvas: the element covers it and every other element is deleted
    assert big.alive.sum() == len(ids) and (big.label_map() >= 0).all()
    assert torch.isfinite(decode_canvas(m, big)).all()

def test_delete_every_element_and_empty_sets(setup):
    m, sc, el = setup
    with pytest.raises(ValueError, match='all deleted'): decode_canvas(m, delete(el, range(el.n)))
    assert (paint_elements([delete(el, range(el.n))])[0, -1] == 1).all()  # every pixel a hole
    with pytest.raises(TypeError, match='non-empty list'): decode_canvas(m, [])
    p = partition(np.zeros((64, 64, 3), np.uint8), 64, beta=16.)
    empty = type(p)(-np.ones((64, 64), np.int64), np.zeros((0, 2)), np.zeros((0, 2)), np.zeros((0, 4), int), 64, 1.)
    with pytest.raises(ValueError, match='has no element'): make_elements(empty)

def test_blank_image_partition_is_the_grid(setup):
    "A blank image has no colour edge: its partition is the √N×√N grid of the query points, and it decodes."
    m = setup[0]; p = partition(np.zeros((64, 64, 3), np.uint8), 64, beta=16.)
    assert p.n == 64 and (p.sizes == 8).all() and p.dropped == 0
    assert torch.isfinite(decode_canvas(m, encode_elements(m.encoder, np.zeros((64, 64, 3), np.uint8), p))).all()

def test_heldout_scene_range():
    import sys, pathlib; sys.path.insert(0, str(pathlib.Path(__file__).parents[1] / 'benchmarks'))
    from elements_bench import TASK_SEED, wilson
    assert TASK_SEED >= HELDOUT_SEED
    w = wilson(80, 100); assert w['lo'] < 0.8 < w['hi'] and 0.70 < w['lo'] and w['hi'] < 0.88
